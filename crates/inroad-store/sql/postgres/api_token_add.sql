INSERT INTO api_tokens (name, token_hash, created_at) VALUES ($1, $2, $3)
RETURNING id

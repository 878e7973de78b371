SELECT id, name, created_at, last_used FROM api_tokens WHERE token_hash = $1

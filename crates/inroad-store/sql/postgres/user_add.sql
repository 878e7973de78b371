INSERT INTO users (name, password_hash, created_at) VALUES ($1, $2, $3)
RETURNING id

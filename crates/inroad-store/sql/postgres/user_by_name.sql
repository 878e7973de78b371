SELECT id, name, password_hash, created_at FROM users WHERE name = $1

SELECT id, name, password_hash, created_at FROM users ORDER BY name COLLATE "C"

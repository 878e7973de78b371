INSERT INTO sessions (id_hash, user_id, created_at, last_seen, expires_at) VALUES ($1, $2, $3, $3, $4)

INSERT INTO suppressions (value, reason, created_at) VALUES ($1, $2, $3)
ON CONFLICT (value) DO NOTHING

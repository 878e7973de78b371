-- A worker's heartbeat ($2: the database's clock).
INSERT INTO workers (id, seen_at) VALUES ($1, $2)
ON CONFLICT (id) DO UPDATE SET seen_at = EXCLUDED.seen_at

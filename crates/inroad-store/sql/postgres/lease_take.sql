-- Takes resource $2 of kind $1 for worker $3 at $4 until $5: a new lease, or one that
-- expired. Re-checked against the latest row, so a lease another worker took meanwhile
-- is never overwritten (nothing is returned then).
INSERT INTO leases (kind, resource_id, owner, acquired_at, expires_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (kind, resource_id) DO UPDATE
SET owner = EXCLUDED.owner, acquired_at = EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at
WHERE leases.expires_at <= EXCLUDED.acquired_at
RETURNING resource_id

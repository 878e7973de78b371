INSERT INTO campaigns (name, status, spec, created_at) VALUES ($1, 'draft', $2, $3)
RETURNING id

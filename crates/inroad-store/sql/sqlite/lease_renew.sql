-- Renews every lease of kind ?1 that worker ?2 holds. One that expired but was not taken
-- over is still its own: nobody else has touched that sender's sends meanwhile.
UPDATE leases SET expires_at = ?3 WHERE kind = ?1 AND owner = ?2
RETURNING resource_id

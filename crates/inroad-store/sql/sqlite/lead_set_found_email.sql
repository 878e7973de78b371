-- Only a lead still without an email; an address another lead holds is skipped
-- (the unique index refuses it and OR IGNORE makes that a no-op).
UPDATE OR IGNORE leads
SET email = ?2, email_status = ?3, email_source = 'found', updated_at = ?4
WHERE id = ?1 AND email IS NULL

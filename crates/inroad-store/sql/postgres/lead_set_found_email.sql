-- Only a lead still without an email, and only an address no other lead holds (the
-- unique index would refuse it anyway: a race with another writer is a no-op too).
UPDATE leads
SET email = $2, email_status = $3, email_source = 'found', updated_at = $4
WHERE id = $1 AND email IS NULL
  AND NOT EXISTS (SELECT 1 FROM leads other WHERE other.email = $2)

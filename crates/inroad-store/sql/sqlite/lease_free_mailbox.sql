-- Up to ?2 mailboxes nobody holds a live lease on at ?1 (the claim runs under BEGIN
-- IMMEDIATE: one claimer at a time).
SELECT m.id FROM mailboxes m
WHERE NOT EXISTS (SELECT 1 FROM leases l
                  WHERE l.kind = 'mailbox' AND l.resource_id = m.id AND l.expires_at > ?1)
ORDER BY m.id
LIMIT ?2

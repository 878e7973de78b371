-- Up to $2 mailboxes nobody holds a live lease on at $1, locked so that two workers
-- claiming at once get different ones (SKIP LOCKED: another worker is claiming those).
-- NO KEY UPDATE leaves the key-share locks of concurrent sends on the mailbox alone.
SELECT m.id FROM mailboxes m
WHERE NOT EXISTS (SELECT 1 FROM leases l
                  WHERE l.kind = 'mailbox' AND l.resource_id = m.id AND l.expires_at > $1)
ORDER BY m.id
LIMIT $2
FOR NO KEY UPDATE OF m SKIP LOCKED

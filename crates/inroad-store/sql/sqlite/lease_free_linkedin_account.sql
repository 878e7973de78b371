-- Up to ?2 LinkedIn accounts nobody holds a live lease on at ?1.
SELECT a.id FROM linkedin_accounts a
WHERE NOT EXISTS (SELECT 1 FROM leases l
                  WHERE l.kind = 'linkedin_account' AND l.resource_id = a.id AND l.expires_at > ?1)
ORDER BY a.id
LIMIT ?2

-- Only forward, and only within the same UIDVALIDITY.
INSERT INTO imap_folders (mailbox_id, folder, uidvalidity, last_uid) VALUES ($1, $2, $3, $4)
ON CONFLICT (mailbox_id, folder) DO UPDATE SET last_uid = greatest(imap_folders.last_uid, excluded.last_uid)
WHERE imap_folders.uidvalidity = excluded.uidvalidity

INSERT INTO imap_folders (mailbox_id, folder, uidvalidity, last_uid) VALUES ($1, $2, $3, $4)
ON CONFLICT (mailbox_id, folder) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid

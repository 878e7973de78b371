SELECT uidvalidity, last_uid FROM imap_folders WHERE mailbox_id = $1 AND folder = $2

SELECT EXISTS (SELECT 1 FROM events WHERE mailbox_id = $1 AND message_id = $2)

UPDATE mailboxes SET paused_reason = $2 WHERE name = $1

-- Sends of mailbox $2 a dead worker had planned but not begun DATA for: nothing can have
-- been delivered, so they fail like a refused connection and are tried again.
UPDATE sends SET state = 'failed', smtp_reply = 'interrupted before DATA', updated_at = $1
WHERE state = 'planned' AND mailbox_id = $2

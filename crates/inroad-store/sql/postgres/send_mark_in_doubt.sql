-- Sends of mailbox $2 left 'sending' by a worker that died: the message may or may not
-- have gone. Only the mailbox's new lease holder calls this, so no live worker is
-- sending from it.
UPDATE sends SET state = 'in_doubt', updated_at = $1 WHERE state = 'sending' AND mailbox_id = $2

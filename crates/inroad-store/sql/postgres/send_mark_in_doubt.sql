-- Sends left 'sending' by a worker that died: the message may or may not have gone.
UPDATE sends SET state = 'in_doubt', updated_at = $1 WHERE state = 'sending'

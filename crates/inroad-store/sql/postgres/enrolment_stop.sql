-- A reply, bounce or unsubscribe ends the sequence; a finished one is marked too, so
-- reports count the reply.
UPDATE enrolments SET state = $2, reason = $3, next_due = NULL
WHERE id = $1 AND state IN ('active', 'linkedin', 'paused', 'needs_attention', 'finished')

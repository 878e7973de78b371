-- Only an enrolment still active moves on: one stopped while its send was in flight
-- (an unsubscribe click, a reply) stays stopped.
UPDATE enrolments SET mailbox_id = $2, next_step = $3, next_due = $4, state = $5
WHERE id = $1 AND state = 'active'

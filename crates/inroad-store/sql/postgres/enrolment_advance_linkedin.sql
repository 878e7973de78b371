-- A LinkedIn step done (or skipped): the enrolment moves on, if still waiting on it.
UPDATE enrolments SET next_step = $2, next_due = $3, state = $4
WHERE id = $1 AND state = 'linkedin'

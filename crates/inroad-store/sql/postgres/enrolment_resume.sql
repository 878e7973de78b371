UPDATE enrolments SET next_step = $2, next_due = $3, state = $4, reason = NULL WHERE id = $1

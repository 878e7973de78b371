UPDATE enrolments SET state = $2, reason = $3, next_due = NULL WHERE id = $1

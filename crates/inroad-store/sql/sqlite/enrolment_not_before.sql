UPDATE enrolments SET next_due = max(next_due, ?2) WHERE id = ?1 AND state = 'active'

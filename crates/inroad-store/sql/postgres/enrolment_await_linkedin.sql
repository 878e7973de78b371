UPDATE enrolments SET state = 'linkedin' WHERE id = $1 AND state = 'active'

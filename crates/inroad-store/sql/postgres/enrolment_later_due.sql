SELECT min(next_due) FROM enrolments WHERE state = 'active' AND next_due > $1

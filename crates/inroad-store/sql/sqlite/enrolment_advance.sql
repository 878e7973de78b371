UPDATE enrolments SET mailbox_id = ?2, next_step = ?3, next_due = ?4, state = ?5 WHERE id = ?1

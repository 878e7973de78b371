-- Binds enrolment ?1's step ?2 to mailbox ?3 before its send is planned: it must still
-- be active at that step, with no mailbox yet or this one. From here on its
-- conversation belongs to the mailbox, so no other worker plans it.
UPDATE enrolments SET mailbox_id = ?3
WHERE id = ?1 AND state = 'active' AND next_step = ?2 AND (mailbox_id IS NULL OR mailbox_id = ?3)

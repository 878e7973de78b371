-- Binds enrolment $1's step $2 to mailbox $3 before its send is planned: it must still
-- be active at that step, with no mailbox yet or this one, and not being planned by
-- another worker's transaction right now (SKIP LOCKED: that worker has it). From here
-- on its conversation belongs to the mailbox, so no other worker plans it.
UPDATE enrolments SET mailbox_id = $3
WHERE id = (SELECT id FROM enrolments
            WHERE id = $1 AND state = 'active' AND next_step = $2
              AND (mailbox_id IS NULL OR mailbox_id = $3)
            FOR NO KEY UPDATE SKIP LOCKED)
RETURNING id

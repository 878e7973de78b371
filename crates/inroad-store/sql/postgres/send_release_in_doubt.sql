-- The user checked an in-doubt send: it went ($3 = 'sent') or it did not ('failed',
-- so the next pass sends it again, as the same message). No row: it was settled
-- meanwhile.
UPDATE sends SET state = $3, smtp_reply = 'released by hand', updated_at = $4
WHERE state = 'in_doubt' AND enrolment_id = $1 AND step = $2

-- A step whose last attempt failed before DATA (4xx, timeout) may be tried again; its
-- Message-ID stays, so the message is the same message.
UPDATE sends SET state = 'planned', mailbox_id = $3, planned_at = $4, updated_at = $5
WHERE enrolment_id = $1 AND step = $2 AND state = 'failed'
RETURNING id

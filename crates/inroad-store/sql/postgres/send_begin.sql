INSERT INTO sends (enrolment_id, step, mailbox_id, state, message_id, recipient, planned_at, updated_at)
VALUES ($1, $2, $3, 'planned', $4, $5, $6, $7)
ON CONFLICT (enrolment_id, step) DO NOTHING
RETURNING id

INSERT INTO linkedin_tasks (account_id, enrolment_id, campaign_id, lead_id, step, kind, note,
                            subject, body, why_no_note, state, due, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open', $11, $12)
ON CONFLICT (enrolment_id, step, kind) DO NOTHING
RETURNING id

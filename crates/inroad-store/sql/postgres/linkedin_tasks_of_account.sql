SELECT id, account_id, enrolment_id, campaign_id, lead_id, step, kind, note, subject, body, why_no_note, state, due,
       created_at, done_at, accepted_at, declined
FROM linkedin_tasks
WHERE account_id = $1 AND (state = 'open' OR done_at >= $2) ORDER BY id

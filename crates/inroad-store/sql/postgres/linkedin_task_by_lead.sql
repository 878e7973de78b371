-- A lead's LinkedIn tasks, for its timeline.
SELECT id, account_id, enrolment_id, campaign_id, lead_id, step, kind, note, subject, body, why_no_note, state, due,
       created_at, done_at, accepted_at, declined
FROM linkedin_tasks
WHERE lead_id = $1 ORDER BY id

-- A lead's sends in every campaign, for its timeline.
SELECT e.campaign_id, c.name, s.step, s.state, s.recipient, s.updated_at
FROM enrolments e
JOIN campaigns c ON c.id = e.campaign_id
JOIN sends s ON s.enrolment_id = e.id
WHERE e.lead_id = $1
ORDER BY s.updated_at, s.id

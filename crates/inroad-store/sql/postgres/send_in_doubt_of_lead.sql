-- A lead's in-doubt send in a campaign, before the user's verdict settles it (the
-- caller works out where the enrolment goes from its step).
SELECT s.enrolment_id, s.step
FROM sends s JOIN enrolments e ON e.id = s.enrolment_id
WHERE s.state = 'in_doubt' AND e.campaign_id = $1 AND e.lead_id = $2
ORDER BY s.id
LIMIT 1

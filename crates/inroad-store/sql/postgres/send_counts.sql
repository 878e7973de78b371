SELECT s.state, count(*) FROM sends s JOIN enrolments e ON e.id = s.enrolment_id
WHERE e.campaign_id = $1 GROUP BY s.state

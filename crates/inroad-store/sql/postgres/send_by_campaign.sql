SELECT e.lead_id, s.step, s.state FROM sends s JOIN enrolments e ON e.id = s.enrolment_id
WHERE e.campaign_id = $1
ORDER BY s.id

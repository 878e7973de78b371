-- First touches of a campaign in [$2, $3).
SELECT count(*) FROM sends s JOIN enrolments e ON e.id = s.enrolment_id
WHERE e.campaign_id = $1 AND s.step = 0 AND s.planned_at >= $2 AND s.planned_at < $3
  AND s.state <> 'failed'

-- The queue: active enrolments of active campaigns due by ?1 (metrics).
SELECT count(*) FROM enrolments e JOIN campaigns c ON c.id = e.campaign_id
WHERE e.state = 'active' AND e.next_due <= ?1 AND c.status = 'active'

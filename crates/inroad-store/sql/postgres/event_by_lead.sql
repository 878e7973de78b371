SELECT e.id, e.lead_id, e.campaign_id, s.step, e.kind, e.detail, e.subject, e.at
FROM events e LEFT JOIN sends s ON s.id = e.send_id
WHERE e.lead_id = $1
ORDER BY e.at, e.id

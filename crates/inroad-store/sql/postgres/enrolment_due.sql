-- Active enrolments of active campaigns due by $1, in due order (the partial index
-- on next_due keeps this proportional to what is due).
SELECT e.id, e.campaign_id, e.lead_id, e.mailbox_id, e.next_step, e.next_due, l.email, l.timezone
FROM enrolments e
JOIN campaigns c ON c.id = e.campaign_id
JOIN leads l ON l.id = e.lead_id
WHERE e.state = 'active' AND e.next_due <= $1 AND c.status = 'active'
ORDER BY e.next_due, e.id
LIMIT $2

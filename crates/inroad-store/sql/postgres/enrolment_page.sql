-- A campaign's enrolments after a cursor, optionally in one state, with the lead's email.
SELECT e.id, e.lead_id, l.email, e.state, e.reason, e.next_step
FROM enrolments e
JOIN leads l ON l.id = e.lead_id
WHERE e.campaign_id = $1 AND ($2::text IS NULL OR e.state = $2) AND e.id > $3
ORDER BY e.id
LIMIT $4

-- Replies a person has not marked handled, newest first, from id $1 down (keyset), with
-- the lead and campaign beside them.
SELECT ev.id, ev.lead_id, l.email, l.first_name, l.last_name, ev.campaign_id, c.name,
       ev.from_address, ev.subject, ev.snippet, ev.at
FROM events ev
LEFT JOIN leads l ON l.id = ev.lead_id
LEFT JOIN campaigns c ON c.id = ev.campaign_id
WHERE ev.kind = 'reply' AND ev.handled_at IS NULL AND ev.id < $1
ORDER BY ev.id DESC
LIMIT $2

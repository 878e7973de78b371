-- The first send with this Message-ID (one, as SQLite's query_row takes; a retried
-- send keeps its row and its Message-ID).
SELECT s.id, s.enrolment_id, e.lead_id, e.campaign_id, s.mailbox_id, s.step, s.recipient, s.state
FROM sends s JOIN enrolments e ON e.id = s.enrolment_id
WHERE s.message_id = $1
ORDER BY s.id
LIMIT 1

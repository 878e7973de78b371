SELECT s.id, s.enrolment_id, e.lead_id, e.campaign_id, s.mailbox_id, s.step, s.recipient, s.state
FROM sends s JOIN enrolments e ON e.id = s.enrolment_id
WHERE s.message_id = $1

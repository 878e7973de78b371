-- Leads waiting for a LinkedIn step, without a task for it yet, in due order.
SELECT e.id, e.campaign_id, e.lead_id, e.next_step, e.next_due, e.linkedin_account_id
FROM enrolments e
JOIN campaigns c ON c.id = e.campaign_id
WHERE e.state = 'linkedin' AND e.next_due <= $1 AND c.status = 'active'
  AND NOT EXISTS (SELECT 1 FROM linkedin_tasks t WHERE t.enrolment_id = e.id AND t.step = e.next_step)
ORDER BY e.next_due, e.id
LIMIT $2

-- Leads a campaign started in [$2, $3): sends that were their enrolment's first email
-- (no earlier step of it went out), whatever step that was — a sequence may open on
-- LinkedIn. This is what the planner counts as a new lead (one without a mailbox yet).
SELECT count(*) FROM sends s JOIN enrolments e ON e.id = s.enrolment_id
WHERE e.campaign_id = $1 AND s.planned_at >= $2 AND s.planned_at < $3
  AND s.state <> 'failed'
  AND NOT EXISTS (
      SELECT 1 FROM sends earlier
      WHERE earlier.enrolment_id = s.enrolment_id AND earlier.step < s.step
        AND earlier.state <> 'failed'
  )

-- Enrolments still in their sequence, with the lead's email, zone and suppression (a
-- forecast starts from all of them at once). Two EXISTS rather than one with an OR:
-- SQLite runs the OR as a multi-index lookup per row, which took a third of the time.
SELECT e.id, e.campaign_id, e.lead_id, e.state, e.next_step, e.next_due, e.mailbox_id,
       e.linkedin_account_id, l.email, l.timezone,
       EXISTS (SELECT 1 FROM suppressions s WHERE s.value = l.email)
       OR EXISTS (SELECT 1 FROM suppressions s
                  WHERE s.value = '@' || substr(l.email, instr(l.email, '@') + 1)) AS suppressed
FROM enrolments e
JOIN leads l ON l.id = e.lead_id
WHERE e.state IN ('active', 'linkedin')
ORDER BY e.id

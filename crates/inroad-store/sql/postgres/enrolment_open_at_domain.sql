-- Leads of one company: the same email domain.
SELECT e.id FROM enrolments e JOIN leads l ON l.id = e.lead_id
WHERE e.campaign_id = $1 AND e.state IN ('active', 'linkedin', 'paused', 'needs_attention')
  AND substr(l.email, strpos(l.email, '@') + 1) = $2
ORDER BY e.id

SELECT id, campaign_id FROM enrolments
WHERE lead_id = $1 AND state IN ('active', 'linkedin', 'paused', 'needs_attention')
ORDER BY id

SELECT EXISTS (SELECT 1 FROM enrolments WHERE lead_id = $1 AND campaign_id <> $2 AND state IN ('active', 'linkedin'))

SELECT state, count(*) FROM enrolments WHERE campaign_id = $1 GROUP BY state

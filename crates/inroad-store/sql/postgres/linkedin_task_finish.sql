UPDATE linkedin_tasks SET state = $2, done_at = $3 WHERE id = $1 AND state = 'open'

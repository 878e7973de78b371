SELECT max(done_at) FROM linkedin_tasks WHERE lead_id = $1 AND kind = 'withdraw' AND state = 'done'

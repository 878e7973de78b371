UPDATE linkedin_accounts SET guard_resumed_at = $2 WHERE name = $1

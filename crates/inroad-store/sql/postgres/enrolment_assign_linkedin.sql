UPDATE enrolments SET linkedin_account_id = $2 WHERE id = $1 AND linkedin_account_id IS NULL

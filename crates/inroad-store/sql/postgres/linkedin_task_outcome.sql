UPDATE linkedin_tasks SET accepted_at = coalesce(accepted_at, $2), declined = $3 WHERE id = $1

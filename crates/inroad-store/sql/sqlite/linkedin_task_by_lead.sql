-- A lead's LinkedIn tasks, for its timeline (linkedin_task_columns precedes this).
WHERE lead_id = ?1 ORDER BY id

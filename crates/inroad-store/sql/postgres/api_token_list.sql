SELECT id, name, created_at, last_used FROM api_tokens ORDER BY name COLLATE "C"

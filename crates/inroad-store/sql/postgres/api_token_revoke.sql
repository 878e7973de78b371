DELETE FROM api_tokens WHERE name = $1

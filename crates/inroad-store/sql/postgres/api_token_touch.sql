UPDATE api_tokens SET last_used = $2 WHERE id = $1

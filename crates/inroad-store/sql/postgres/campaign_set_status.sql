UPDATE campaigns SET status = $2 WHERE id = $1

DELETE FROM users WHERE name = $1

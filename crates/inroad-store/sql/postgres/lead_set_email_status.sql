UPDATE leads SET email_status = $2 WHERE email = $1

SELECT id FROM leads WHERE email = $1

SELECT email, first_name, last_name, full_name, title, company, domain, linkedin_slug,
       location, timezone, phone, custom
FROM leads WHERE id = $1

SELECT id, email, linkedin_slug, first_name, last_name, domain, company FROM leads ORDER BY id

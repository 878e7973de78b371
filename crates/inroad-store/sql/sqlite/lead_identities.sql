SELECT id, email, linkedin_url, first_name, last_name, domain FROM leads

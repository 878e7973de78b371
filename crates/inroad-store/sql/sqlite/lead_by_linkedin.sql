SELECT id FROM leads WHERE linkedin_url = ?1

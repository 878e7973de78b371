SELECT id FROM leads WHERE linkedin_slug = $1

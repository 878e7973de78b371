-- The first lead with this profile (no unique index: imports deduplicate profiles).
SELECT id FROM leads WHERE linkedin_slug = $1 ORDER BY id LIMIT 1

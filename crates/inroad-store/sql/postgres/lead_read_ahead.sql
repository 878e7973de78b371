-- Stored leads from id $1 on, for an import's reads of its duplicates: a re-import
-- meets them in about the order they were stored, so one round trip serves many.
SELECT id, email, first_name, last_name, full_name, title, company, domain, linkedin_slug,
       location, timezone, phone, custom
FROM leads WHERE id >= $1 ORDER BY id LIMIT $2

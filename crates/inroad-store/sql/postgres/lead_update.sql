UPDATE leads
SET email = $2, first_name = $3, last_name = $4, full_name = $5, title = $6, company = $7,
    domain = $8, linkedin_slug = $9, location = $10, timezone = $11, phone = $12,
    custom = $13, updated_at = $14
WHERE id = $1

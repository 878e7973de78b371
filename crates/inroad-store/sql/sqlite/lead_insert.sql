INSERT INTO leads (email, first_name, last_name, full_name, title, company, domain,
                   linkedin_slug, location, timezone, phone, custom, notes, created_at, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)

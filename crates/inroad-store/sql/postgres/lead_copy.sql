-- An import's new leads, in blocks, with the ids the import handed out (binary COPY:
-- no per-row statement, no text parsing).
COPY leads (id, email, first_name, last_name, full_name, title, company, domain, linkedin_slug,
            location, timezone, phone, custom, notes, created_at, updated_at)
FROM STDIN (FORMAT binary)

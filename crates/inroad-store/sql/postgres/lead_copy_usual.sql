-- lead_copy.sql without the columns most files never fill: a full name other than
-- the first and last names, a timezone, a phone, custom fields. Each would be a NULL
-- the server reads and stores for every row; the four together cost a fifteenth of
-- its CPU time in a COPY of the benchmark's million rows from a file. An import
-- starts with this and turns to lead_copy.sql at the first lead that has one of them.
COPY leads (id, email, first_name, last_name, title, company, domain, linkedin_slug,
            location, notes, created_at, updated_at)
FROM STDIN (FORMAT binary)

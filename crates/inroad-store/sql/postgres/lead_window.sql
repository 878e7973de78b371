-- The leads of one id window that pass the filters (lead_filter.sql follows WHERE), in
-- id order, with the same columns as lead_page.
SELECT l.id, l.email, l.first_name, l.last_name, l.full_name, l.title, l.company, l.domain,
       l.linkedin_slug, l.location, l.timezone, l.phone, l.custom, l.notes,
       to_char(to_timestamp(l.created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at,
       EXISTS (SELECT 1 FROM suppressions s
               WHERE s.value = l.email
                  OR s.value = '@' || substr(l.email, strpos(l.email, '@') + 1)) AS suppressed,
       l.email_status, l.email_source
FROM leads l
WHERE

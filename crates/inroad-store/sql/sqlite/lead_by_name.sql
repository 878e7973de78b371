SELECT id FROM leads
WHERE lower(first_name) = ?1 AND lower(last_name) = ?2 AND domain = ?3
ORDER BY id LIMIT 1

-- Suppressions whose value starts with ?1 (LIKE pattern), in value order after ?2.
SELECT value, reason, created_at FROM suppressions
WHERE value LIKE ?1 ESCAPE '\' AND value > ?2
ORDER BY value
LIMIT ?3

-- Suppressions whose value contains $1 (an ILIKE pattern: SQLite's LIKE ignores case
-- too), in value order after $2. Compared and sorted in byte order (COLLATE "C"), as
-- SQLite does and suppression_list.sql sorts, so the keyset walk matches the listing.
SELECT value, reason, created_at FROM suppressions
WHERE value ILIKE $1 ESCAPE '\' AND value COLLATE "C" > $2
ORDER BY value COLLATE "C"
LIMIT $3

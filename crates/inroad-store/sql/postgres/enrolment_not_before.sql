-- greatest() skips NULLs where SQLite's max() returns NULL: the CASE keeps SQLite's.
UPDATE enrolments SET next_due = CASE WHEN next_due IS NULL THEN NULL ELSE greatest(next_due, $2) END
WHERE id = $1 AND state = 'active'

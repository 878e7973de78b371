SELECT value, reason, created_at FROM suppressions ORDER BY value COLLATE "C"

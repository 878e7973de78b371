-- An import's dedup index is seeded from the stored leads, so no one else may add or
-- change leads until it commits (SQLite's BEGIN IMMEDIATE); readers go on reading.
LOCK TABLE leads IN EXCLUSIVE MODE

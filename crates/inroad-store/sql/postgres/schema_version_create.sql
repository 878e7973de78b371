-- The schema version: the number of migrations applied (SQLite keeps it in
-- PRAGMA user_version), in a table of at most one row. The advisory lock serialises
-- concurrent opens of a fresh database, so it is migrated once.
SELECT pg_advisory_xact_lock(7283716);
CREATE TABLE IF NOT EXISTS inroad_schema (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    version bigint NOT NULL
);

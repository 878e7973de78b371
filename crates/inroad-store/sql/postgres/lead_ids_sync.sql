-- After an import: the next lead id follows the last one it used, as in SQLite
-- (a reserved block's unused ids are not skipped).
SELECT setval(pg_get_serial_sequence('leads', 'id'), $1)

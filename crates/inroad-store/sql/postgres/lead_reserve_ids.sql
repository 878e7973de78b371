-- Hands out $1 consecutive lead ids at once and returns the last: the import holds
-- the leads table's write lock, so no other session draws from the sequence between.
SELECT setval(pg_get_serial_sequence('leads', 'id'),
              nextval(pg_get_serial_sequence('leads', 'id')) + $1 - 1)

-- The first large import into an empty table builds the primary key once, by
-- sorting, instead of a B-tree insert per row (a third of the server's time in the
-- COPY). The foreign keys that need it go too, as the catalog lists them now, saved
-- for import_restore_primary_key.sql in a table this transaction drops. Only into an
-- empty table: every lead the import reads back or changes is then one of its own,
-- which it answers itself (no lookup by id, which would scan the table), and changes
-- of those wait for the primary key's return.
CREATE TEMP TABLE import_deferred_foreign_keys ON COMMIT DROP AS
    SELECT conrelid::regclass::text AS referencing, quote_ident(conname) AS name,
           pg_get_constraintdef(oid) AS definition
    FROM pg_constraint
    WHERE confrelid = 'leads'::regclass AND contype = 'f';
DO $$
DECLARE
    fk record;
BEGIN
    FOR fk IN SELECT * FROM import_deferred_foreign_keys LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %s', fk.referencing, fk.name);
    END LOOP;
END
$$;
ALTER TABLE leads DROP CONSTRAINT leads_pkey

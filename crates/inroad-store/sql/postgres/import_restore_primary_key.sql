-- Before the import commits, or once it has too many changes waiting (see
-- import_defer_primary_key.sql): the primary key by one sort, in memory (for this
-- transaction only), then the foreign keys as they were, checked again.
SET LOCAL maintenance_work_mem = '256MB';
ALTER TABLE leads ADD CONSTRAINT leads_pkey PRIMARY KEY (id);
DO $$
DECLARE
    fk record;
BEGIN
    FOR fk IN SELECT * FROM import_deferred_foreign_keys LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %s %s', fk.referencing, fk.name, fk.definition);
    END LOOP;
END
$$;
DROP TABLE import_deferred_foreign_keys

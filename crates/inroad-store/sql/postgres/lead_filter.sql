-- The leads page's filters, each off when its parameter is NULL. Only ever evaluated on
-- the leads of one id window (l.id >= $1 AND l.id < $2), so none needs its own index.
-- $3 is a prefix pattern matched with ILIKE: SQLite's LIKE ignores case as well (the
-- email in the database's collation, whose case folding goes beyond ASCII, not in its
-- own bytewise one). The casts type the parameters a bare "IS NULL" cannot.
    l.id >= $1 AND l.id < $2
AND ($3::text IS NULL
     OR l.email COLLATE "default" ILIKE $3 ESCAPE '\' OR l.first_name ILIKE $3 ESCAPE '\'
     OR l.last_name ILIKE $3 ESCAPE '\' OR l.company ILIKE $3 ESCAPE '\'
     OR l.domain ILIKE $3 ESCAPE '\')
AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM list_members m JOIN lists ls ON ls.id = m.list_id
                                 WHERE ls.name = $4 AND m.lead_id = l.id))
AND ($5::text IS NULL OR coalesce(l.email_status, 'unchecked') = $5)
AND ($6::bigint IS NULL OR EXISTS (SELECT 1 FROM enrolments e
                                   WHERE e.campaign_id = $6 AND e.lead_id = l.id))
AND ($7::boolean IS NULL OR $7 = EXISTS (
        SELECT 1 FROM suppressions s
        WHERE s.value = l.email OR s.value = '@' || substr(l.email, strpos(l.email, '@') + 1)))

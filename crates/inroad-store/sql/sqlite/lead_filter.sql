-- The leads page's filters, each off when its parameter is NULL. Only ever evaluated on
-- the leads of one id window (l.id BETWEEN :from AND :to), so none needs its own index.
    l.id >= :from AND l.id < :to
AND (:search IS NULL
     OR l.email LIKE :search ESCAPE '\' OR l.first_name LIKE :search ESCAPE '\'
     OR l.last_name LIKE :search ESCAPE '\' OR l.company LIKE :search ESCAPE '\'
     OR l.domain LIKE :search ESCAPE '\')
AND (:list IS NULL OR EXISTS (SELECT 1 FROM list_members m JOIN lists ls ON ls.id = m.list_id
                              WHERE ls.name = :list AND m.lead_id = l.id))
AND (:status IS NULL OR coalesce(l.email_status, 'unchecked') = :status)
AND (:campaign IS NULL OR EXISTS (SELECT 1 FROM enrolments e
                                  WHERE e.campaign_id = :campaign AND e.lead_id = l.id))
AND (:suppressed IS NULL OR :suppressed = EXISTS (
        SELECT 1 FROM suppressions s
        WHERE s.value = l.email OR s.value = '@' || substr(l.email, instr(l.email, '@') + 1)))

SELECT count(*) FROM leads l
WHERE ($1::text IS NULL OR l.id IN (SELECT m.lead_id FROM list_members m
                              JOIN lists ls ON ls.id = m.list_id WHERE ls.name = $1))

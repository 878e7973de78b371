-- Leads needing a person and sends left in doubt, each counted from its partial index.
SELECT (SELECT count(*) FROM enrolments WHERE state = 'needs_attention'),
       (SELECT count(*) FROM sends WHERE state = 'in_doubt')

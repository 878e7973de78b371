-- The sort behind the index, in memory rather than in temporary files (a million
-- addresses take some 100 MB); for this transaction only.
SET LOCAL maintenance_work_mem = '256MB';
CREATE UNIQUE INDEX leads_email ON leads (email) WHERE email IS NOT NULL;

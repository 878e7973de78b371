CREATE UNIQUE INDEX leads_email ON leads (email) WHERE email IS NOT NULL;

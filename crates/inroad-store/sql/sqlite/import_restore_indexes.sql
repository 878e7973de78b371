CREATE UNIQUE INDEX leads_email ON leads (email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX leads_linkedin_url ON leads (linkedin_url) WHERE linkedin_url IS NOT NULL;

-- A large import builds the identity indexes once, by sorting, instead of
-- updating them a row at a time (random B-tree inserts that thrash the page
-- cache). They are rebuilt before the transaction commits, and their UNIQUE
-- constraint then checks the import's deduplication.
DROP INDEX leads_email;
DROP INDEX leads_linkedin_url;

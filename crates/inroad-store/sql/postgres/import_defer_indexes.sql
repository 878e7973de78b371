-- A large import builds the email index once, by sorting, instead of updating it a
-- row at a time (random B-tree inserts: most of the server's time in the COPY). It
-- is rebuilt before the transaction commits, and its UNIQUE constraint then checks
-- the import's deduplication. Until then readers of leads wait (the lock DROP INDEX
-- takes), which is why only an import large next to what is stored does this.
DROP INDEX leads_email

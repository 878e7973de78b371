-- A large import builds the email index once, by sorting, instead of updating it a
-- row at a time (random B-tree inserts that thrash the page cache). It is rebuilt
-- before the transaction commits, and its UNIQUE constraint then checks the
-- import's deduplication.
DROP INDEX leads_email;

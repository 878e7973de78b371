-- Lease expiry is judged by the database's clock (see the PostgreSQL file): here the
-- machine's, which every process on it shares.
SELECT unixepoch()

-- The whole ledger by state (metrics).
SELECT state, count(*) FROM sends GROUP BY state

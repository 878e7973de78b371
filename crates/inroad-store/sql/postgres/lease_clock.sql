-- Lease expiry is judged by the database's clock, the one clock every worker shares
-- (a worker's `--now` moves its schedule, not the clock its liveness is measured by).
SELECT floor(extract(epoch FROM now()))::bigint

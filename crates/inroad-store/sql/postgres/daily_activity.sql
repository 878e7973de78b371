-- Sends, replies and bounces per UTC day in [$1, $2) (days since the epoch): a few rows
-- of the rollup the triggers keep, never a count over the ledger.
SELECT day, sent, replies, bounces FROM daily_activity WHERE day >= $1 AND day < $2 ORDER BY day

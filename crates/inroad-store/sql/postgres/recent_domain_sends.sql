-- Sends handed over since $1, per recipient domain, with the earliest of them.
SELECT lower(substr(recipient, strpos(recipient, '@') + 1)), count(*), min(planned_at)
FROM sends WHERE planned_at >= $1 AND state <> 'failed'
GROUP BY 1
ORDER BY 1

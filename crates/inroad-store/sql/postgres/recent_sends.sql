-- Each send handed over since $1: its recipient's domain and when, earliest first (a
-- forecast replays the per-domain hourly limit send by send).
SELECT lower(substr(recipient, strpos(recipient, '@') + 1)), planned_at
FROM sends WHERE planned_at >= $1 AND state <> 'failed'
ORDER BY planned_at, id

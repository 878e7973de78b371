-- How the mailbox's last $2 handed-over sends ended: (how many, how many bounced).
-- Newest first by planned time, so the (mailbox_id, planned_at, state) index answers it
-- without reading or sorting the mailbox's older sends.
SELECT count(*), count(*) FILTER (WHERE state = 'bounced') FROM (
    SELECT state FROM sends WHERE mailbox_id = $1 AND state IN ('sent', 'bounced', 'in_doubt')
    ORDER BY planned_at DESC LIMIT $2
) AS recent

-- How the mailbox's last $2 handed-over sends ended: (how many, how many bounced).
SELECT count(*), count(*) FILTER (WHERE state = 'bounced') FROM (
    SELECT state FROM sends WHERE mailbox_id = $1 AND state IN ('sent', 'bounced', 'in_doubt')
    ORDER BY id DESC LIMIT $2
) AS recent

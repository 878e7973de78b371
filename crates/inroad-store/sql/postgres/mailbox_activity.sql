-- What a mailbox has sent: in [$2, $3) (its day), its last send, its first send ever.
-- A send that failed before DATA sent nothing and does not count. The last and first
-- sends walk the (mailbox_id, planned_at, state) index from either end and stop at the
-- first that counts: min()/max() with the state condition would read every send instead.
SELECT (SELECT count(*) FROM sends WHERE mailbox_id = $1 AND planned_at >= $2 AND planned_at < $3
                                     AND state <> 'failed'),
       (SELECT planned_at FROM sends WHERE mailbox_id = $1 AND state <> 'failed'
        ORDER BY planned_at DESC LIMIT 1),
       (SELECT planned_at FROM sends WHERE mailbox_id = $1 AND state <> 'failed'
        ORDER BY planned_at LIMIT 1)

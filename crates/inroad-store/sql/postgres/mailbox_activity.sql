-- What a mailbox has sent: in [$2, $3) (its day), its last send, its first send ever.
-- A send that failed before DATA sent nothing and does not count.
SELECT (SELECT count(*) FROM sends WHERE mailbox_id = $1 AND planned_at >= $2 AND planned_at < $3
                                     AND state <> 'failed'),
       (SELECT max(planned_at) FROM sends WHERE mailbox_id = $1 AND state <> 'failed'),
       (SELECT min(planned_at) FROM sends WHERE mailbox_id = $1 AND state <> 'failed')

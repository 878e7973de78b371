SELECT mailbox_id, count(*) FILTER (WHERE state IN ('sent', 'bounced', 'in_doubt')),
       count(*) FILTER (WHERE state = 'bounced')
FROM sends GROUP BY mailbox_id ORDER BY mailbox_id

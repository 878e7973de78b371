SELECT mailbox_id, sum(state IN ('sent', 'bounced', 'in_doubt')), sum(state = 'bounced')
FROM sends GROUP BY mailbox_id ORDER BY mailbox_id

-- A bounce report for a message the server had accepted.
UPDATE sends SET state = 'bounced', smtp_reply = $2, updated_at = $3
WHERE id = $1 AND state IN ('sent', 'in_doubt')

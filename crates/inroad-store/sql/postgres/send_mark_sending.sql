-- Right before SMTP DATA: from here on the server may have the message.
UPDATE sends SET state = 'sending', updated_at = $2 WHERE id = $1 AND state = 'planned'

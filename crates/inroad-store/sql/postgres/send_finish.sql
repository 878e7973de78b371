UPDATE sends SET state = $2, smtp_reply = $3, updated_at = $4
WHERE id = $1 AND state IN ('planned', 'sending')

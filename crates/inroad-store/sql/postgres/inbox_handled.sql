UPDATE events SET handled_at = $2 WHERE id = $1 AND kind = 'reply' AND handled_at IS NULL

UPDATE sessions SET last_seen = $2 WHERE id_hash = $1

SELECT s.user_id, u.name, s.created_at, s.last_seen, s.expires_at
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.id_hash = $1

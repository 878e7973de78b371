DELETE FROM sessions WHERE expires_at <= $1 OR last_seen <= $2

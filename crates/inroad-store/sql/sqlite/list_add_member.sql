INSERT OR IGNORE INTO list_members (list_id, lead_id) VALUES (?1, ?2)

INSERT INTO list_members (list_id, lead_id)
SELECT DISTINCT list_id, lead_id FROM import_members
ON CONFLICT (list_id, lead_id) DO NOTHING

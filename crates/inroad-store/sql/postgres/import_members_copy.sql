COPY import_members (list_id, lead_id) FROM STDIN (FORMAT binary)

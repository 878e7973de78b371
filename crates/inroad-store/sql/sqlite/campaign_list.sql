SELECT id, name, status, spec, strftime('%Y-%m-%dT%H:%M:%SZ', created_at, 'unixepoch')
FROM campaigns ORDER BY id

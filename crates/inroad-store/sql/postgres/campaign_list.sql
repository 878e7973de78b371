SELECT id, name, status, spec,
       to_char(to_timestamp(created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
FROM campaigns ORDER BY id

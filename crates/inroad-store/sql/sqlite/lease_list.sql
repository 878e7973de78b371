SELECT kind, resource_id, owner, acquired_at, expires_at FROM leases ORDER BY kind, resource_id

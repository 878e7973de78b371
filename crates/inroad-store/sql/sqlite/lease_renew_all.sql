-- The heartbeat timer: renews every lease worker ?1 holds.
UPDATE leases SET expires_at = ?2 WHERE owner = ?1

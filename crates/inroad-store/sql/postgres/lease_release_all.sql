-- A clean shutdown: the worker's senders are free at once, not after the lease time.
DELETE FROM leases WHERE owner = $1

-- Gives up one lease (a worker holding more than its share).
DELETE FROM leases WHERE kind = $1 AND resource_id = $2 AND owner = $3

-- Workers that sent a heartbeat after ?1.
SELECT count(*) FROM workers WHERE seen_at > ?1

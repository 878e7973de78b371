INSERT INTO inroad_schema (version) VALUES ($1)
ON CONFLICT (one) DO UPDATE SET version = excluded.version

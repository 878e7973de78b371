SELECT coalesce(max(version), 0) FROM inroad_schema

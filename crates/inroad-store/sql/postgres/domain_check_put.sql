INSERT INTO domain_checks (domain, catch_all, checked_at) VALUES ($1, $2, $3)
ON CONFLICT (domain) DO UPDATE SET catch_all = excluded.catch_all, checked_at = excluded.checked_at

SELECT catch_all FROM domain_checks WHERE domain = $1 AND checked_at >= $2

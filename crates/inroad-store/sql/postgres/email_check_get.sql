SELECT email, status, reason, mx, smtp_code, enhanced_code, catch_all, disposable, role, free,
       confidence, checked_at
FROM email_checks WHERE email = $1 AND checked_at >= $2

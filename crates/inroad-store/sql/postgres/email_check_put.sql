INSERT INTO email_checks (email, status, reason, mx, smtp_code, enhanced_code, catch_all, disposable,
                          role, free, confidence, checked_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (email) DO UPDATE SET
    status = excluded.status, reason = excluded.reason, mx = excluded.mx,
    smtp_code = excluded.smtp_code, enhanced_code = excluded.enhanced_code,
    catch_all = excluded.catch_all, disposable = excluded.disposable, role = excluded.role,
    free = excluded.free, confidence = excluded.confidence, checked_at = excluded.checked_at

INSERT INTO mailboxes (name, from_name, from_address, smtp_host, smtp_port, smtp_tls, smtp_user,
                       password_env, daily_cap, warmup_start, warmup_step, gap_min_secs, gap_max_secs,
                       timezone, dkim_selector, dkim_key_file, dkim_domain, imap_host, imap_port,
                       imap_tls, imap_user, created_at, sealed_secret, imap_junk_folder)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)
RETURNING id

SELECT id, name, from_name, from_address, smtp_host, smtp_port, smtp_tls, smtp_user, password_env,
       daily_cap, warmup_start, warmup_step, gap_min_secs, gap_max_secs, timezone, dkim_selector,
       dkim_key_file, dkim_domain, imap_host, imap_port, imap_tls, imap_user, paused_reason,
       sealed_secret, imap_junk_folder
FROM mailboxes ORDER BY name COLLATE "C"

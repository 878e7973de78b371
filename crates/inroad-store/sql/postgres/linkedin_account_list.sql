SELECT id, name, plan, invitations_per_week, messages_per_week, timezone, guard_resumed_at,
       inmail_credits, created_at FROM linkedin_accounts ORDER BY name COLLATE "C"

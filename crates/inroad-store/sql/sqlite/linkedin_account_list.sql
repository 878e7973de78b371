SELECT id, name, plan, invitations_per_week, messages_per_week, timezone FROM linkedin_accounts ORDER BY name

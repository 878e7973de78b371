INSERT INTO linkedin_accounts (name, plan, invitations_per_week, messages_per_week, timezone, created_at,
                               inmail_credits)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id

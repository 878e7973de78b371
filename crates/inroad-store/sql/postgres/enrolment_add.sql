INSERT INTO enrolments (campaign_id, lead_id, state, next_step, next_due, enrolled_at)
VALUES ($1, $2, 'active', 0, $3, $3)
ON CONFLICT (campaign_id, lead_id) DO NOTHING

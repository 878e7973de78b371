-- What the dashboard reads on every page view, kept cheap however large the history.
-- The same schema as migrations/sqlite/0009_dashboard.sql (read its comments for the
-- why); SQLite's trigger bodies become PL/pgSQL trigger functions here.

-- Sends, replies and bounces per UTC day (day = unix seconds / 86400).
CREATE TABLE daily_activity (
    day     bigint PRIMARY KEY,
    sent    bigint NOT NULL DEFAULT 0,   -- sends handed to a server (sent or bounced)
    replies bigint NOT NULL DEFAULT 0,   -- events of kind 'reply'
    bounces bigint NOT NULL DEFAULT 0    -- events of kind 'bounce_hard'
);

INSERT INTO daily_activity (day, sent, replies, bounces)
SELECT day, sum(sent), sum(replies), sum(bounces) FROM (
    SELECT updated_at / 86400 AS day, 1 AS sent, 0 AS replies, 0 AS bounces
    FROM sends WHERE state IN ('sent', 'bounced')
    UNION ALL
    SELECT at / 86400, 0, (kind = 'reply')::int, (kind = 'bounce_hard')::int
    FROM events WHERE kind IN ('reply', 'bounce_hard')
) AS activity
GROUP BY day;

-- A send counts once, on the day it was handed over: a later 'sent' → 'bounced' (the
-- bounce message came back) is not a second send.
CREATE FUNCTION sends_daily_activity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO daily_activity (day, sent) VALUES (NEW.updated_at / 86400, 1)
    ON CONFLICT (day) DO UPDATE SET sent = daily_activity.sent + 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER sends_daily_activity AFTER UPDATE OF state ON sends
FOR EACH ROW
WHEN (NEW.state IN ('sent', 'bounced') AND OLD.state NOT IN ('sent', 'bounced'))
EXECUTE FUNCTION sends_daily_activity();

CREATE FUNCTION events_daily_activity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO daily_activity (day, replies, bounces)
    VALUES (NEW.at / 86400, (NEW.kind = 'reply')::int, (NEW.kind = 'bounce_hard')::int)
    ON CONFLICT (day) DO UPDATE SET replies = daily_activity.replies + excluded.replies,
                                    bounces = daily_activity.bounces + excluded.bounces;
    RETURN NULL;
END
$$;
CREATE TRIGGER events_daily_activity AFTER INSERT ON events
FOR EACH ROW
WHEN (NEW.kind IN ('reply', 'bounce_hard'))
EXECUTE FUNCTION events_daily_activity();

-- The inbox: a person's reply waits for a human until one marks it handled.
ALTER TABLE events ADD COLUMN handled_at bigint;
CREATE INDEX events_inbox ON events (id) WHERE kind = 'reply' AND handled_at IS NULL;

-- "Needs attention" at a glance: counted from small partial indexes, not the tables.
CREATE INDEX enrolments_attention ON enrolments (campaign_id) WHERE state = 'needs_attention';
CREATE INDEX sends_in_doubt ON sends (enrolment_id) WHERE state = 'in_doubt';

-- A mailbox's day at a glance (sends today, first and last send) by an index-only
-- scan: with the state in it, no send row is read.
DROP INDEX sends_mailbox_time;
CREATE INDEX sends_mailbox_time ON sends (mailbox_id, planned_at, state);

-- A lead's timeline: its sends (through its enrolments) and LinkedIn tasks.
CREATE INDEX enrolments_lead ON enrolments (lead_id);

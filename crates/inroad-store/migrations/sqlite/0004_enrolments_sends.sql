-- Leads in campaigns, and the send ledger.

CREATE TABLE enrolments (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    lead_id     INTEGER NOT NULL REFERENCES leads (id),
    -- active | needs_attention | finished | replied | bounced | unsubscribed | paused
    state       TEXT NOT NULL,
    reason      TEXT,                 -- why it needs attention or is paused
    mailbox_id  INTEGER REFERENCES mailboxes (id), -- one mailbox per conversation
    next_step   INTEGER NOT NULL DEFAULT 0,
    next_due    INTEGER,              -- unix seconds; NULL unless active
    enrolled_at INTEGER NOT NULL,
    UNIQUE (campaign_id, lead_id)
);
-- The worker reads what is due, in due order: its cost follows the due rows only.
CREATE INDEX enrolments_due ON enrolments (next_due) WHERE state = 'active';

-- One row per (enrolment, step), ever: the UNIQUE constraint is what makes a second
-- send of a step impossible, whatever crashed in between. A row is written as
-- 'planned' before the SMTP session, 'sending' right before DATA and 'sent' after the
-- 250; a 'sending' row found by a later worker is 'in_doubt' and is never retried
-- automatically (a 'planned' one is 'failed', and retried).
CREATE TABLE sends (
    id           INTEGER PRIMARY KEY,
    enrolment_id INTEGER NOT NULL REFERENCES enrolments (id),
    step         INTEGER NOT NULL,
    mailbox_id   INTEGER NOT NULL REFERENCES mailboxes (id),
    state        TEXT NOT NULL,       -- planned | sending | sent | failed | bounced | in_doubt
    message_id   TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    planned_at   INTEGER NOT NULL,    -- the instant the planner acted at (--now aware)
    updated_at   INTEGER NOT NULL,
    smtp_reply   TEXT,
    UNIQUE (enrolment_id, step)
);
CREATE INDEX sends_mailbox_time ON sends (mailbox_id, planned_at);

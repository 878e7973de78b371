-- LinkedIn accounts and the tasks a person does on them (Inroad never automates
-- LinkedIn). Budgets are computed from the tasks done: an invitation counts when its
-- task is done.

CREATE TABLE linkedin_accounts (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT NOT NULL UNIQUE,
    plan                 TEXT NOT NULL,       -- free | premium-career | premium-business | sales-navigator
    invitations_per_week INTEGER,             -- NULL: the default (100)
    messages_per_week    INTEGER,             -- NULL: the plan's
    timezone             TEXT NOT NULL,
    -- The acceptance guard ignores invitations sent before the user resumed them.
    guard_resumed_at     INTEGER,
    -- The InMail credits LinkedIn showed when the account was added (their ages are not
    -- shown: taken as granted then); monthly grants follow on the 1st.
    inmail_credits       INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL
);

-- A lead sticks to one account for the whole conversation.
ALTER TABLE enrolments ADD COLUMN linkedin_account_id INTEGER REFERENCES linkedin_accounts (id);

CREATE TABLE linkedin_tasks (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES linkedin_accounts (id),
    enrolment_id INTEGER NOT NULL REFERENCES enrolments (id),
    campaign_id  INTEGER NOT NULL REFERENCES campaigns (id),
    lead_id      INTEGER NOT NULL REFERENCES leads (id),
    step         INTEGER NOT NULL,
    kind         TEXT NOT NULL,               -- connect | message | inmail | withdraw
    note         TEXT,
    subject      TEXT,
    body         TEXT,
    why_no_note  TEXT,                        -- the invitation goes without its note, and why
    state        TEXT NOT NULL,               -- open | done | skipped
    due          INTEGER NOT NULL,            -- when the step became due
    created_at   INTEGER NOT NULL,            -- handed out
    done_at      INTEGER,
    accepted_at  INTEGER,                     -- connect: the invitation was accepted
    declined     INTEGER NOT NULL DEFAULT 0,
    -- A step is handed out once; until done it is the same task every day. A withdraw
    -- task names the invitation (connect step) it takes back.
    UNIQUE (enrolment_id, step, kind)
);
CREATE INDEX linkedin_tasks_account ON linkedin_tasks (account_id, kind, done_at);
CREATE INDEX linkedin_tasks_lead ON linkedin_tasks (lead_id, kind);

-- Inbox sync and the lead timeline.

-- Besides INBOX, a mailbox's spam folder is read when named: replies land there too.
ALTER TABLE mailboxes ADD COLUMN imap_junk_folder TEXT;

-- Where each mailbox's IMAP sync stands, per folder. A message's actions and the move
-- of last_uid past it are one transaction, so a restart never handles a message twice;
-- a new UIDVALIDITY voids last_uid (the server renumbered the folder).
CREATE TABLE imap_folders (
    mailbox_id  INTEGER NOT NULL REFERENCES mailboxes (id),
    folder      TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    last_uid    INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, folder)
);

-- What happened to a lead besides sends (those are in `sends`): replies, bounces,
-- auto-replies, unsubscribes. One row per inbound message or one-click request.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    lead_id      INTEGER REFERENCES leads (id),
    campaign_id  INTEGER REFERENCES campaigns (id),
    enrolment_id INTEGER REFERENCES enrolments (id),
    send_id      INTEGER REFERENCES sends (id), -- the send it answers, when known
    mailbox_id   INTEGER REFERENCES mailboxes (id),
    -- reply | bounce_hard | bounce_soft | auto_reply | unsubscribe | other
    kind         TEXT NOT NULL,
    detail       TEXT,                -- why it was read so (status, return date, …)
    message_id   TEXT,                -- the inbound message's own Message-ID
    from_address TEXT,
    subject      TEXT,
    snippet      TEXT,                -- the start of a person's reply, for the inbox
    at           INTEGER NOT NULL     -- unix seconds
);
CREATE INDEX events_lead ON events (lead_id, at);
CREATE INDEX events_campaign ON events (campaign_id, kind);
CREATE INDEX events_time ON events (at);
-- After a UIDVALIDITY change a folder is read again: messages already handled are
-- known by their Message-ID.
CREATE INDEX events_message ON events (mailbox_id, message_id);

-- Replies and bounces name our mail by Message-ID.
CREATE INDEX sends_message_id ON sends (message_id);

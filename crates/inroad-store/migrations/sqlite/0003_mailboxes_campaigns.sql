-- Sending mailboxes and campaigns. No secret is ever stored here: a mailbox names
-- the environment variable that holds its password (or OAuth token).

CREATE TABLE mailboxes (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    from_name     TEXT,
    from_address  TEXT NOT NULL,
    smtp_host     TEXT NOT NULL,
    smtp_port     INTEGER NOT NULL,
    smtp_tls      TEXT NOT NULL,      -- none | starttls | tls
    smtp_user     TEXT,
    password_env  TEXT,               -- the NAME of the variable, never its value
    daily_cap     INTEGER NOT NULL,
    warmup_start  INTEGER,
    warmup_step   INTEGER,
    gap_min_secs  INTEGER NOT NULL,
    gap_max_secs  INTEGER NOT NULL,
    timezone      TEXT NOT NULL,
    dkim_selector TEXT,
    dkim_key_file TEXT,               -- a path; the key stays in its file
    dkim_domain   TEXT,
    imap_host     TEXT,
    imap_port     INTEGER,
    imap_tls      TEXT,
    imap_user     TEXT,
    paused_reason TEXT,
    created_at    INTEGER NOT NULL
);

CREATE TABLE campaigns (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    status     TEXT NOT NULL,         -- draft | active | paused | stopped
    spec       TEXT NOT NULL,         -- the campaign file as given (TOML)
    created_at INTEGER NOT NULL
);

-- Results of email verification, reused until they are older than the TTL.

CREATE TABLE email_checks (
    email         TEXT PRIMARY KEY,
    status        TEXT NOT NULL,   -- deliverable | undeliverable | risky | unknown
    reason        TEXT NOT NULL,
    mx            TEXT,
    smtp_code     INTEGER,
    enhanced_code TEXT,
    catch_all     INTEGER,         -- 1, 0, or NULL when unknown
    disposable    INTEGER NOT NULL,
    role          INTEGER NOT NULL,
    free          INTEGER NOT NULL,
    confidence    REAL NOT NULL,
    checked_at    INTEGER NOT NULL -- unix seconds, UTC
) WITHOUT ROWID;

-- Whether a domain accepts any local part, learned once per domain.
CREATE TABLE domain_checks (
    domain     TEXT PRIMARY KEY,
    catch_all  INTEGER,            -- 1, 0, or NULL when it could not be learned
    checked_at INTEGER NOT NULL
) WITHOUT ROWID;

-- The status of the lead's email (as last verified or found), and where the
-- email came from: NULL for an imported one (most leads), 'found' for the finder's.
ALTER TABLE leads ADD COLUMN email_status TEXT;
ALTER TABLE leads ADD COLUMN email_source TEXT;

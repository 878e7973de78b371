-- Results of email verification, reused until they are older than the TTL.

CREATE TABLE email_checks (
    email         text PRIMARY KEY,
    status        text NOT NULL,   -- deliverable | undeliverable | risky | unknown
    reason        text NOT NULL,
    mx            text,
    smtp_code     bigint,
    enhanced_code text,
    catch_all     boolean,         -- NULL when unknown
    disposable    boolean NOT NULL,
    role          boolean NOT NULL,
    free          boolean NOT NULL,
    confidence    double precision NOT NULL,
    checked_at    bigint NOT NULL  -- unix seconds, UTC
);

-- Whether a domain accepts any local part, learned once per domain.
CREATE TABLE domain_checks (
    domain     text PRIMARY KEY,
    catch_all  boolean,            -- NULL when it could not be learned
    checked_at bigint NOT NULL
);

-- The status of the lead's email, and where it came from (NULL: imported; 'found').
ALTER TABLE leads ADD COLUMN email_status text;
ALTER TABLE leads ADD COLUMN email_source text;

-- Several workers (`inroad run` on several processes or machines, one database): who
-- is alive, and which worker owns each mailbox and LinkedIn account for now. A sender's
-- caps, gaps and inbox sync have one owner at a time; a lease its owner stopped
-- renewing (expires_at passed, by the database's clock) may be taken over. Instants
-- are unix seconds.

CREATE TABLE workers (
    id      TEXT PRIMARY KEY,                 -- --worker-id (default host:pid)
    seen_at INTEGER NOT NULL                  -- its last heartbeat
);

CREATE TABLE leases (
    kind        TEXT NOT NULL,                -- mailbox | linkedin_account
    resource_id INTEGER NOT NULL,             -- mailboxes.id or linkedin_accounts.id
    owner       TEXT NOT NULL,                -- workers.id
    acquired_at INTEGER NOT NULL,             -- when this owner took it
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (kind, resource_id)
);

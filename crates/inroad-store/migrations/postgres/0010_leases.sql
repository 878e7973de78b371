-- Several workers: who is alive and which worker owns each mailbox and LinkedIn
-- account for now (see the SQLite migration).

CREATE TABLE workers (
    id      text PRIMARY KEY,
    seen_at bigint NOT NULL
);

CREATE TABLE leases (
    kind        text NOT NULL,
    resource_id bigint NOT NULL,
    owner       text NOT NULL,
    acquired_at bigint NOT NULL,
    expires_at  bigint NOT NULL,
    PRIMARY KEY (kind, resource_id)
);

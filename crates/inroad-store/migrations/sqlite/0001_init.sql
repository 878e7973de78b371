-- Leads, named lists, and the global suppression list.

CREATE TABLE leads (
    id           INTEGER PRIMARY KEY,
    email        TEXT,
    first_name   TEXT,
    last_name    TEXT,
    -- NULL when it is just first_name || ' ' || last_name (derived on reading).
    full_name    TEXT,
    title        TEXT,
    company      TEXT,
    domain       TEXT,
    -- The profile's slug: the URL is https://www.linkedin.com/in/<slug>, and keeping
    -- the constant part out of the row and its index saves ~60 bytes a lead.
    linkedin_slug TEXT,
    location     TEXT,
    timezone     TEXT,
    phone        TEXT,
    -- Columns of the source file that map to no canonical field: a JSON object,
    -- NULL when there are none.
    custom       TEXT,
    -- What the import dropped from this lead and why (an invalid email, say).
    notes        TEXT,
    -- Unix seconds, UTC: a million leads carry these, so they are kept compact.
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX leads_email ON leads (email) WHERE email IS NOT NULL;
-- No index on linkedin_slug: imports deduplicate through an in-memory index of every
-- lead's keys (inroad-core's identity module), so nothing looks a lead up by profile
-- but the rare hash-collision path, and a million-entry text index costs ~25 MB and a
-- second on every bulk import.

CREATE TABLE lists (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE list_members (
    list_id INTEGER NOT NULL REFERENCES lists (id),
    lead_id INTEGER NOT NULL REFERENCES leads (id),
    PRIMARY KEY (list_id, lead_id)
) WITHOUT ROWID;

-- An address ("jo@acme.com") or a whole domain ("@acme.com"). Global: it is kept
-- when the leads it names are deleted, and checked against every send.
CREATE TABLE suppressions (
    value      TEXT PRIMARY KEY,
    reason     TEXT,
    created_at TEXT NOT NULL
) WITHOUT ROWID;

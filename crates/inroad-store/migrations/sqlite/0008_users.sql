-- Who may use the dashboard and the JSON API. Nothing here lets a copy of the database
-- log in: passwords are argon2id hashes, and sessions and API tokens are stored as the
-- SHA-256 of their value (256 random bits each: there is nothing to brute-force, so a
-- fast hash is enough). A session's CSRF token is derived from its id, so it needs no
-- column either.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,              -- argon2id PHC string
    created_at    INTEGER NOT NULL
);

-- Removing a user ends their sessions.
CREATE TABLE sessions (
    id_hash    BLOB PRIMARY KEY,              -- SHA-256 of the session id in the cookie
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,              -- idle expiry counts from here
    expires_at INTEGER NOT NULL               -- absolute expiry, however active
);
CREATE INDEX sessions_user ON sessions (user_id);

-- API tokens belong to the install, not to a user: scripts outlive the people who set
-- them up. Revoking deletes the row.
CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    token_hash BLOB NOT NULL UNIQUE,          -- SHA-256 of the token
    created_at INTEGER NOT NULL,
    last_used  INTEGER
);

-- A mailbox's password (or OAuth token) may be stored, but only sealed: AES-256-GCM
-- under a key derived from the install key, which lives in a file outside the
-- database (`--key-file`). A copy of the database alone reveals no password.

ALTER TABLE mailboxes ADD COLUMN sealed_secret TEXT; -- `v1:` + base64(nonce ‖ ciphertext ‖ tag)

-- A mailbox's password may be stored, but only sealed with the install key (a file
-- outside the database): `v1:` + base64(nonce ‖ ciphertext ‖ tag).
ALTER TABLE mailboxes ADD COLUMN sealed_secret text;

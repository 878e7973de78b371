-- One source of the password at a time: setting either clears the other.
UPDATE mailboxes SET password_env = $2, sealed_secret = $3 WHERE name = $1

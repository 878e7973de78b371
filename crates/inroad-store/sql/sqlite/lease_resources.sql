-- How many resources of each kind there are to share.
SELECT (SELECT count(*) FROM mailboxes), (SELECT count(*) FROM linkedin_accounts)

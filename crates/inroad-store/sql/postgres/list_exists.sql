SELECT count(*) FROM lists WHERE name = $1

SELECT EXISTS (SELECT 1 FROM suppressions WHERE value = $1 OR value = $2)

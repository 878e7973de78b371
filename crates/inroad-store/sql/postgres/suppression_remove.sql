DELETE FROM suppressions WHERE value = $1

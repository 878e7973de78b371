-- How many leads of one id window pass the filters (lead_filter.sql follows WHERE).
SELECT count(*) FROM leads l WHERE

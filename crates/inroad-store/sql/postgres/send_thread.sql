-- Message-IDs of what the enrolment was sent so far, in step order (for threading).
SELECT message_id FROM sends WHERE enrolment_id = $1 AND state IN ('sent', 'in_doubt') ORDER BY step

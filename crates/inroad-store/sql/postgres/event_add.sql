INSERT INTO events (lead_id, campaign_id, enrolment_id, send_id, mailbox_id, kind, detail, message_id,
                    from_address, subject, snippet, at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)

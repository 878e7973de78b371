//! The SQLite backend (the embedded default): one file, WAL journal, and every
//! write of an import inside one transaction so a killed import leaves no trace.

use std::collections::HashMap;

use inroad_core::identity::{name_key, KeyKind};
use inroad_core::normalize::LINKEDIN_PROFILE_PREFIX;
use inroad_core::verdict::EmailStatus;
use inroad_core::Lead;
use rusqlite::{named_params, params, Connection, OptionalExtension, Row, Statement, TransactionBehavior};

use crate::encoding::{
    custom_from_json, custom_json, escape_like, like_prefix, restore_full_name, slug, stored_full_name,
    unix_now, url_from_slug,
};
use crate::{
    fair_share, Advance, ApiToken, AttentionCounts, Begun, CampaignCounts, CampaignRecord, DailyActivity,
    DueRow, EmailCheck, EnrolmentRow, EventRow, InboundEffects, InboxItem, LeadFilter, LeadImport, LeadQuery,
    LeadSend, Lease, LeaseKind, LinkedinAccount, LinkedinDue, LinkedinTask, Mailbox, MailboxActivity,
    MailboxSends, Migrated, NewEvent, NewSend, NewSession, Result, SendOutcome, SendRef, SequenceRow,
    Session, StepSend, Store, StoreError, StoredLead, Suppression, User,
};

/// Migrations in order; the schema version is their count (`PRAGMA user_version`).
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/sqlite/0001_init.sql"),
    include_str!("../migrations/sqlite/0002_email_checks.sql"),
    include_str!("../migrations/sqlite/0003_mailboxes_campaigns.sql"),
    include_str!("../migrations/sqlite/0004_enrolments_sends.sql"),
    include_str!("../migrations/sqlite/0005_mailbox_secrets.sql"),
    include_str!("../migrations/sqlite/0006_inbox.sql"),
    include_str!("../migrations/sqlite/0007_linkedin.sql"),
    include_str!("../migrations/sqlite/0008_users.sql"),
    include_str!("../migrations/sqlite/0009_dashboard.sql"),
    include_str!("../migrations/sqlite/0010_leases.sql"),
    include_str!("../migrations/sqlite/0011_email_bytewise.sql"),
];

macro_rules! sql {
    ($name:literal) => {
        include_str!(concat!("../sql/sqlite/", $name, ".sql"))
    };
}

pub struct SqliteStore {
    conn: Connection,
    migrated: Migrated,
}

/// The current instant as stored in text columns (RFC 3339, UTC, whole seconds).
pub fn now() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

impl SqliteStore {
    /// Opens or creates the database file and applies pending migrations.
    pub fn open(path: &str) -> Result<SqliteStore> {
        if path.is_empty() {
            return Err(StoreError::Usage(
                "--db is empty: give a database file path".into(),
            ));
        }
        let mut conn = Connection::open(path).map_err(|e| {
            StoreError::Usage(format!(
                "cannot open database {path:?}: {e} (does its directory exist?)"
            ))
        })?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let migrated = migrate(&mut conn)?;
        Ok(SqliteStore { conn, migrated })
    }
}

fn migrate(conn: &mut Connection) -> Result<Migrated> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let from: u32 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let to = MIGRATIONS.len() as u32;
    if from > to {
        return Err(StoreError::Usage(format!(
            "the database has schema version {from}, newer than this inroad knows ({to}): upgrade inroad"
        )));
    }
    for migration in &MIGRATIONS[from as usize..] {
        tx.execute_batch(migration)?;
    }
    tx.pragma_update(None, "user_version", to)?;
    tx.commit()?;
    Ok(Migrated { from, to })
}

/// Reads a lead from columns `first..first+12` (email … phone, custom), undoing the
/// storage encodings (slug, derived full name, NULL custom fields).
fn lead_from_row(row: &Row<'_>, first: usize) -> Result<Lead> {
    let mut lead = Lead {
        email: row.get(first)?,
        first_name: row.get(first + 1)?,
        last_name: row.get(first + 2)?,
        full_name: row.get(first + 3)?,
        title: row.get(first + 4)?,
        company: row.get(first + 5)?,
        domain: row.get(first + 6)?,
        linkedin_url: row.get::<_, Option<String>>(first + 7)?.map(url_from_slug),
        location: row.get(first + 8)?,
        timezone: row.get(first + 9)?,
        phone: row.get(first + 10)?,
        custom: custom_from_json(row.get(first + 11)?)?,
    };
    restore_full_name(&mut lead);
    Ok(lead)
}

impl Store for SqliteStore {
    fn migrated(&self) -> Migrated {
        self.migrated
    }

    fn begin_import(&mut self, expected_rows: u64) -> Result<Box<dyn LeadImport + '_>> {
        SqliteImport::begin(&self.conn, expected_rows).map(|import| Box::new(import) as Box<dyn LeadImport>)
    }

    fn count_leads(&self, list: Option<&str>) -> Result<u64> {
        let n: i64 = self
            .conn
            .prepare_cached(sql!("lead_count"))?
            .query_row([list], |r| r.get(0))?;
        Ok(n.unsigned_abs())
    }

    fn leads(&self, query: &LeadQuery<'_>) -> Result<Vec<StoredLead>> {
        let mut stmt = self.conn.prepare_cached(sql!("lead_page"))?;
        let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
        let mut rows = stmt.query(params![query.after, query.list, limit])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(stored_lead(row)?);
        }
        Ok(out)
    }

    fn list_exists(&self, name: &str) -> Result<bool> {
        let n: i64 = self
            .conn
            .prepare_cached(sql!("list_exists"))?
            .query_row([name], |r| r.get(0))?;
        Ok(n > 0)
    }

    fn add_suppressions(&mut self, entries: &[Suppression]) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let mut added = 0;
        {
            let mut stmt = tx.prepare_cached(sql!("suppression_add"))?;
            for e in entries {
                added += stmt.execute(params![e.value, e.reason, e.created_at])?;
            }
        }
        tx.commit()?;
        Ok(added)
    }

    fn remove_suppressions(&mut self, values: &[String]) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let mut removed = 0;
        {
            let mut stmt = tx.prepare_cached(sql!("suppression_remove"))?;
            for v in values {
                removed += stmt.execute([v])?;
            }
        }
        tx.commit()?;
        Ok(removed)
    }

    fn suppressions(&self) -> Result<Vec<Suppression>> {
        let mut stmt = self.conn.prepare_cached(sql!("suppression_list"))?;
        let rows = stmt.query_map([], |r| {
            Ok(Suppression {
                value: r.get(0)?,
                reason: r.get(1)?,
                created_at: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn is_suppressed(&self, email: &str) -> Result<bool> {
        let domain = email
            .rsplit_once('@')
            .map(|(_, d)| format!("@{d}"))
            .unwrap_or_default();
        Ok(self
            .conn
            .prepare_cached(sql!("suppression_check"))?
            .query_row([email, &domain], |r| r.get(0))?)
    }

    fn email_check(&self, email: &str, fresh_after: i64) -> Result<Option<EmailCheck>> {
        let mut stmt = self.conn.prepare_cached(sql!("email_check_get"))?;
        let check = stmt
            .query_row(params![email, fresh_after], |r| {
                let status: String = r.get(1)?;
                Ok((
                    status,
                    EmailCheck {
                        email: r.get(0)?,
                        status: EmailStatus::Unknown,
                        reason: r.get(2)?,
                        mx: r.get(3)?,
                        smtp_code: r.get(4)?,
                        enhanced_code: r.get(5)?,
                        catch_all: r.get(6)?,
                        disposable: r.get(7)?,
                        role: r.get(8)?,
                        free: r.get(9)?,
                        confidence: r.get(10)?,
                        checked_at: r.get(11)?,
                    },
                ))
            })
            .optional()?;
        check
            .map(|(status, check)| match EmailStatus::parse(&status) {
                Some(status) => Ok(EmailCheck { status, ..check }),
                None => Err(StoreError::Corrupt(format!("email check status {status:?}"))),
            })
            .transpose()
    }

    fn save_email_checks(&mut self, checks: &[EmailCheck]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut put = tx.prepare_cached(sql!("email_check_put"))?;
            let mut status = tx.prepare_cached(sql!("lead_set_email_status"))?;
            for c in checks {
                put.execute(params![
                    c.email,
                    c.status.as_str(),
                    c.reason,
                    c.mx,
                    c.smtp_code,
                    c.enhanced_code,
                    c.catch_all,
                    c.disposable,
                    c.role,
                    c.free,
                    c.confidence,
                    c.checked_at,
                ])?;
                status.execute(params![c.email, c.status.as_str()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn domain_catch_all(&self, domain: &str, fresh_after: i64) -> Result<Option<Option<bool>>> {
        let mut stmt = self.conn.prepare_cached(sql!("domain_check_get"))?;
        Ok(stmt
            .query_row(params![domain, fresh_after], |r| r.get::<_, Option<bool>>(0))
            .optional()?)
    }

    fn save_domain_catch_all(
        &mut self,
        domain: &str,
        catch_all: Option<bool>,
        checked_at: i64,
    ) -> Result<()> {
        self.conn
            .prepare_cached(sql!("domain_check_put"))?
            .execute(params![domain, catch_all, checked_at])?;
        Ok(())
    }

    fn set_found_email(&mut self, lead_id: i64, email: &str, status: EmailStatus) -> Result<bool> {
        let changed = self
            .conn
            .prepare_cached(sql!("lead_set_found_email"))?
            .execute(params![lead_id, email, status.as_str(), unix_now()])?;
        Ok(changed == 1)
    }

    fn add_mailbox(&mut self, m: &Mailbox) -> Result<i64> {
        let added = self.conn.prepare_cached(sql!("mailbox_add"))?.execute(params![
            m.name,
            m.from_name,
            m.from_address,
            m.smtp_host,
            m.smtp_port,
            m.smtp_tls,
            m.smtp_user,
            m.password_env,
            m.daily_cap,
            m.warmup.map(|w| w.0),
            m.warmup.map(|w| w.1),
            m.gap_secs.0,
            m.gap_secs.1,
            m.timezone,
            m.dkim_selector,
            m.dkim_key_file,
            m.dkim_domain,
            m.imap_host,
            m.imap_port,
            m.imap_tls,
            m.imap_user,
            unix_now(),
            m.sealed_secret,
            m.imap_junk_folder,
        ]);
        match added {
            Ok(_) => Ok(self.conn.last_insert_rowid()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Usage(format!(
                "a mailbox named {:?} exists already",
                m.name
            ))),
            Err(e) => Err(e.into()),
        }
    }

    fn mailboxes(&self) -> Result<Vec<Mailbox>> {
        let mut stmt = self.conn.prepare_cached(sql!("mailbox_list"))?;
        let rows = stmt.query_map([], |r| {
            let warmup = match (r.get::<_, Option<u32>>(10)?, r.get::<_, Option<u32>>(11)?) {
                (Some(start), Some(step)) => Some((start, step)),
                _ => None,
            };
            Ok(Mailbox {
                id: r.get(0)?,
                name: r.get(1)?,
                from_name: r.get(2)?,
                from_address: r.get(3)?,
                smtp_host: r.get(4)?,
                smtp_port: r.get(5)?,
                smtp_tls: r.get(6)?,
                smtp_user: r.get(7)?,
                password_env: r.get(8)?,
                sealed_secret: r.get(23)?,
                daily_cap: r.get(9)?,
                warmup,
                gap_secs: (r.get(12)?, r.get(13)?),
                timezone: r.get(14)?,
                dkim_selector: r.get(15)?,
                dkim_key_file: r.get(16)?,
                dkim_domain: r.get(17)?,
                imap_host: r.get(18)?,
                imap_port: r.get(19)?,
                imap_tls: r.get(20)?,
                imap_user: r.get(21)?,
                imap_junk_folder: r.get(24)?,
                paused_reason: r.get(22)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn create_campaign(&mut self, name: &str, spec: &str) -> Result<i64> {
        match self
            .conn
            .prepare_cached(sql!("campaign_create"))?
            .execute(params![name, spec, unix_now()])
        {
            Ok(_) => Ok(self.conn.last_insert_rowid()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Usage(format!(
                "a campaign named {name:?} exists already"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    fn campaigns(&self) -> Result<Vec<CampaignRecord>> {
        let mut stmt = self.conn.prepare_cached(sql!("campaign_list"))?;
        let rows = stmt.query_map([], |r| {
            Ok(CampaignRecord {
                id: r.get(0)?,
                name: r.get(1)?,
                status: r.get(2)?,
                spec: r.get(3)?,
                created_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn set_campaign_status(&mut self, campaign_id: i64, status: &str) -> Result<()> {
        self.conn
            .prepare_cached(sql!("campaign_set_status"))?
            .execute(params![campaign_id, status])?;
        Ok(())
    }

    fn enroll(&mut self, campaign_id: i64, lead_ids: &[i64], now: i64) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let mut added = 0;
        {
            let mut stmt = tx.prepare_cached(sql!("enrolment_add"))?;
            for lead_id in lead_ids {
                added += stmt.execute(params![campaign_id, lead_id, now])?;
            }
        }
        tx.commit()?;
        Ok(added)
    }

    fn active_elsewhere(&self, lead_id: i64, campaign_id: i64) -> Result<bool> {
        let mut stmt = self.conn.prepare_cached(sql!("enrolment_active_elsewhere"))?;
        Ok(stmt.query_row(params![lead_id, campaign_id], |r| r.get(0))?)
    }

    fn campaign_counts(&self, campaign_id: i64) -> Result<CampaignCounts> {
        let mut counts = CampaignCounts::default();
        for (query, into) in [
            (sql!("enrolment_counts"), &mut counts.enrolments),
            (sql!("send_counts"), &mut counts.sends),
        ] {
            let mut stmt = self.conn.prepare_cached(query)?;
            let rows = stmt.query_map([campaign_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?;
            for row in rows {
                let (state, n) = row?;
                into.insert(state, n.unsigned_abs());
            }
        }
        Ok(counts)
    }

    fn begin_sends(&mut self, sends: &[NewSend]) -> Result<Vec<Begun>> {
        let now = unix_now();
        let tx = self.conn.transaction()?;
        let mut begun = Vec::with_capacity(sends.len());
        for send in sends {
            let claimed = tx.prepare_cached(sql!("enrolment_claim"))?.execute(params![
                send.enrolment_id,
                send.step,
                send.mailbox_id
            ])?;
            if claimed == 0 {
                begun.push(Begun::Elsewhere);
                continue;
            }
            let inserted = tx.prepare_cached(sql!("send_begin"))?.execute(params![
                send.enrolment_id,
                send.step,
                send.mailbox_id,
                send.message_id,
                send.recipient,
                send.planned_at,
                now
            ])?;
            let id = if inserted == 1 {
                Some(tx.last_insert_rowid())
            } else {
                tx.prepare_cached(sql!("send_retry"))?
                    .query_row(
                        params![
                            send.enrolment_id,
                            send.step,
                            send.mailbox_id,
                            send.planned_at,
                            now
                        ],
                        |r| r.get(0),
                    )
                    .optional()?
            };
            begun.push(id.map_or(Begun::AlreadySent, Begun::Planned));
        }
        tx.commit()?;
        Ok(begun)
    }

    fn campaign_enrolments(
        &self,
        campaign_id: i64,
        state: Option<&str>,
        after: i64,
        limit: usize,
    ) -> Result<Vec<EnrolmentRow>> {
        let mut stmt = self.conn.prepare_cached(sql!("enrolment_page"))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![campaign_id, state, after, limit], |r| {
            Ok(EnrolmentRow {
                id: r.get(0)?,
                lead_id: r.get(1)?,
                email: r.get(2)?,
                state: r.get(3)?,
                reason: r.get(4)?,
                next_step: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn campaign_sends(&self, campaign_id: i64) -> Result<Vec<StepSend>> {
        let mut stmt = self.conn.prepare_cached(sql!("send_by_campaign"))?;
        let rows = stmt.query_map([campaign_id], |r| {
            Ok(StepSend {
                lead_id: r.get(0)?,
                step: r.get(1)?,
                state: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn release_in_doubt(
        &mut self,
        campaign_id: i64,
        lead_id: i64,
        delivered: bool,
        next_due: &dyn Fn(u32) -> Option<i64>,
        now: i64,
    ) -> Result<bool> {
        let tx = self.conn.transaction()?;
        let released: Option<(i64, u32)> = tx
            .prepare_cached(sql!("send_release_in_doubt"))?
            .query_row(
                params![
                    campaign_id,
                    lead_id,
                    if delivered { "sent" } else { "failed" },
                    now
                ],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((enrolment_id, step)) = released else {
            return Ok(false);
        };
        let (next_step, next_due, state) = match delivered.then(|| next_due(step + 1)) {
            Some(Some(due)) => (step + 1, Some(due), "active"),
            Some(None) => (step + 1, None, "finished"),
            None => (step, Some(now), "active"),
        };
        tx.prepare_cached(sql!("enrolment_resume"))?.execute(params![
            enrolment_id,
            next_step,
            next_due,
            state
        ])?;
        tx.commit()?;
        Ok(true)
    }

    fn imap_folder(&self, mailbox_id: i64, folder: &str) -> Result<Option<(u32, u32)>> {
        Ok(self
            .conn
            .prepare_cached(sql!("imap_folder_get"))?
            .query_row(params![mailbox_id, folder], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    fn set_imap_folder(
        &mut self,
        mailbox_id: i64,
        folder: &str,
        uidvalidity: u32,
        last_uid: u32,
    ) -> Result<()> {
        self.conn
            .prepare_cached(sql!("imap_folder_put"))?
            .execute(params![mailbox_id, folder, uidvalidity, last_uid])?;
        Ok(())
    }

    fn apply_inbound(
        &mut self,
        mailbox_id: i64,
        folder: &str,
        uidvalidity: u32,
        uid: u32,
        effects: &InboundEffects,
    ) -> Result<()> {
        let now = unix_now();
        let tx = self.conn.transaction()?;
        if let Some(event) = &effects.event {
            insert_event(&tx, event)?;
        }
        for (enrolment_id, state, reason) in &effects.stop {
            tx.prepare_cached(sql!("enrolment_stop"))?
                .execute(params![enrolment_id, state, reason])?;
        }
        if let Some(s) = &effects.suppress {
            tx.prepare_cached(sql!("suppression_add"))?
                .execute(params![s.value, s.reason, s.created_at])?;
        }
        if let Some((send_id, why)) = &effects.bounced_send {
            tx.prepare_cached(sql!("send_mark_bounced"))?
                .execute(params![send_id, why, now])?;
        }
        if let Some((enrolment_id, not_before)) = effects.not_before {
            tx.prepare_cached(sql!("enrolment_not_before"))?
                .execute(params![enrolment_id, not_before])?;
        }
        tx.prepare_cached(sql!("imap_folder_advance"))?.execute(params![
            mailbox_id,
            folder,
            uidvalidity,
            uid
        ])?;
        tx.commit()?;
        Ok(())
    }

    fn inbound_seen(&self, mailbox_id: i64, message_id: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(sql!("event_seen"))?
            .query_row(params![mailbox_id, message_id], |r| r.get(0))?)
    }

    fn send_by_message_ids(&self, message_ids: &[String]) -> Result<Option<SendRef>> {
        let mut stmt = self.conn.prepare_cached(sql!("send_by_message_id"))?;
        let mut found: Option<SendRef> = None;
        for id in message_ids {
            let send = stmt
                .query_row([id], |r| {
                    Ok(SendRef {
                        send_id: r.get(0)?,
                        enrolment_id: r.get(1)?,
                        lead_id: r.get(2)?,
                        campaign_id: r.get(3)?,
                        mailbox_id: r.get(4)?,
                        step: r.get(5)?,
                        recipient: r.get(6)?,
                        state: r.get(7)?,
                    })
                })
                .optional()?;
            if let Some(send) = send {
                if found.as_ref().is_none_or(|f| send.step > f.step) {
                    found = Some(send);
                }
            }
        }
        Ok(found)
    }

    fn lead_id_by_email(&self, email: &str) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached(sql!("lead_by_email"))?
            .query_row([email], |r| r.get(0))
            .optional()?)
    }

    fn lead_id_by_linkedin(&self, profile_url: &str) -> Result<Option<i64>> {
        let Some(slug) = profile_url.strip_prefix(LINKEDIN_PROFILE_PREFIX) else {
            return Ok(None);
        };
        Ok(self
            .conn
            .prepare_cached(sql!("lead_by_linkedin"))?
            .query_row([slug], |r| r.get(0))
            .optional()?)
    }

    fn open_enrolments(&self, lead_id: i64) -> Result<Vec<(i64, i64)>> {
        let mut stmt = self.conn.prepare_cached(sql!("enrolment_open_by_lead"))?;
        let rows = stmt.query_map([lead_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn open_enrolments_at_domain(&self, campaign_id: i64, domain: &str) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare_cached(sql!("enrolment_open_at_domain"))?;
        let rows = stmt.query_map(params![campaign_id, domain], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn add_event(&mut self, event: &NewEvent) -> Result<()> {
        insert_event(&self.conn, event)
    }

    fn lead_events(&self, lead_id: i64) -> Result<Vec<EventRow>> {
        let mut stmt = self.conn.prepare_cached(sql!("event_by_lead"))?;
        let rows = stmt.query_map([lead_id], event_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn campaign_events(&self, campaign_id: i64) -> Result<Vec<EventRow>> {
        let mut stmt = self.conn.prepare_cached(sql!("event_by_campaign"))?;
        let rows = stmt.query_map([campaign_id], event_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn mailbox_sends(&self) -> Result<Vec<MailboxSends>> {
        let mut stmt = self.conn.prepare_cached(sql!("mailbox_sends"))?;
        let rows = stmt.query_map([], |r| {
            Ok(MailboxSends {
                mailbox_id: r.get(0)?,
                sent: r.get::<_, i64>(1)?.unsigned_abs(),
                bounced: r.get::<_, i64>(2)?.unsigned_abs(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn mark_sending(&mut self, send_id: i64, now: i64) -> Result<()> {
        let changed = self
            .conn
            .prepare_cached(sql!("send_mark_sending"))?
            .execute(params![send_id, now])?;
        if changed == 0 {
            return Err(StoreError::Corrupt(format!("send {send_id} is not planned")));
        }
        Ok(())
    }

    fn finish_send(
        &mut self,
        send_id: i64,
        outcome: SendOutcome,
        reply: Option<&str>,
        now: i64,
        advance: Option<&Advance>,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        let changed = tx.prepare_cached(sql!("send_finish"))?.execute(params![
            send_id,
            outcome.as_str(),
            reply,
            now
        ])?;
        if changed == 0 {
            return Err(StoreError::Corrupt(format!("send {send_id} is not in progress")));
        }
        if let Some(a) = advance {
            tx.prepare_cached(sql!("enrolment_advance"))?.execute(params![
                a.enrolment_id,
                a.mailbox_id,
                a.next_step,
                a.next_due,
                a.state
            ])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn mark_interrupted_sends(&mut self, now: i64, mailbox_ids: &[i64]) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let mut in_doubt = 0;
        for mailbox_id in mailbox_ids {
            in_doubt += tx
                .prepare_cached(sql!("send_mark_in_doubt"))?
                .execute(params![now, mailbox_id])?;
            tx.prepare_cached(sql!("send_release_planned"))?
                .execute(params![now, mailbox_id])?;
        }
        tx.commit()?;
        Ok(in_doubt)
    }

    fn claim_leases(&mut self, kind: LeaseKind, worker: &str, lease_secs: u32) -> Result<Vec<i64>> {
        // IMMEDIATE: the write lock first, so two claimers never read the same free row.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now: i64 = tx
            .prepare_cached(sql!("lease_clock"))?
            .query_row([], |r| r.get(0))?;
        let until = now + i64::from(lease_secs);
        tx.prepare_cached(sql!("worker_seen"))?
            .execute(params![worker, now])?;
        let mut held: Vec<i64> = tx
            .prepare_cached(sql!("lease_renew"))?
            .query_map(params![kind.as_str(), worker, until], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        held.sort_unstable();
        let alive: i64 = tx
            .prepare_cached(sql!("workers_alive"))?
            .query_row([now - i64::from(lease_secs)], |r| r.get(0))?;
        let (mailboxes, accounts): (i64, i64) = tx
            .prepare_cached(sql!("lease_resources"))?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let total = match kind {
            LeaseKind::Mailbox => mailboxes,
            LeaseKind::LinkedinAccount => accounts,
        };
        let share = fair_share(total, alive);
        while held.len() > share {
            let id = held.pop().expect("more than the share");
            tx.prepare_cached(sql!("lease_drop"))?
                .execute(params![kind.as_str(), id, worker])?;
        }
        if held.len() < share {
            let free: Vec<i64> = match kind {
                LeaseKind::Mailbox => tx.prepare_cached(sql!("lease_free_mailbox"))?,
                LeaseKind::LinkedinAccount => tx.prepare_cached(sql!("lease_free_linkedin_account"))?,
            }
            .query_map(params![now, (share - held.len()) as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
            for id in free {
                let taken: Option<i64> = tx
                    .prepare_cached(sql!("lease_take"))?
                    .query_row(params![kind.as_str(), id, worker, now, until], |r| r.get(0))
                    .optional()?;
                held.extend(taken);
            }
            held.sort_unstable();
        }
        tx.commit()?;
        Ok(held)
    }

    fn renew_leases(&mut self, worker: &str, lease_secs: u32) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now: i64 = tx
            .prepare_cached(sql!("lease_clock"))?
            .query_row([], |r| r.get(0))?;
        tx.prepare_cached(sql!("worker_seen"))?
            .execute(params![worker, now])?;
        tx.prepare_cached(sql!("lease_renew_all"))?
            .execute(params![worker, now + i64::from(lease_secs)])?;
        tx.commit()?;
        Ok(())
    }

    fn release_leases(&mut self, worker: &str) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.prepare_cached(sql!("lease_release_all"))?.execute([worker])?;
        tx.prepare_cached(sql!("worker_remove"))?.execute([worker])?;
        tx.commit()?;
        Ok(())
    }

    fn leases(&self) -> Result<Vec<Lease>> {
        let mut stmt = self.conn.prepare_cached(sql!("lease_list"))?;
        let leases = stmt
            .query_map([], |r| {
                Ok(Lease {
                    kind: r.get(0)?,
                    resource_id: r.get(1)?,
                    owner: r.get(2)?,
                    acquired_at: r.get(3)?,
                    expires_at: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(leases)
    }

    fn send_totals(&self) -> Result<std::collections::BTreeMap<String, u64>> {
        let mut stmt = self.conn.prepare_cached(sql!("send_totals"))?;
        let totals = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(totals)
    }

    fn due_count(&self, now: i64) -> Result<u64> {
        let mut stmt = self.conn.prepare_cached(sql!("enrolment_due_count"))?;
        Ok(stmt.query_row([now], |r| r.get::<_, i64>(0))? as u64)
    }

    fn due_enrolments(&self, now: i64, limit: usize) -> Result<Vec<DueRow>> {
        let mut stmt = self.conn.prepare_cached(sql!("enrolment_due"))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![now, limit], |r| {
            Ok(DueRow {
                enrolment_id: r.get(0)?,
                campaign_id: r.get(1)?,
                lead_id: r.get(2)?,
                mailbox_id: r.get(3)?,
                step: r.get(4)?,
                due: r.get(5)?,
                email: r.get(6)?,
                timezone: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn later_due(&self, now: i64) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached(sql!("enrolment_later_due"))?
            .query_row([now], |r| r.get(0))?)
    }

    fn mailbox_activity(&self, mailbox_id: i64, from: i64, to: i64) -> Result<MailboxActivity> {
        let mut stmt = self.conn.prepare_cached(sql!("mailbox_activity"))?;
        Ok(stmt.query_row(params![mailbox_id, from, to], |r| {
            Ok(MailboxActivity {
                sent_in_range: r.get(0)?,
                last_send: r.get(1)?,
                first_send: r.get(2)?,
            })
        })?)
    }

    fn campaign_new_leads(&self, campaign_id: i64, from: i64, to: i64) -> Result<u32> {
        let mut stmt = self.conn.prepare_cached(sql!("campaign_new_leads"))?;
        Ok(stmt.query_row(params![campaign_id, from, to], |r| r.get(0))?)
    }

    fn thread(&self, enrolment_id: i64) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(sql!("send_thread"))?;
        let rows = stmt.query_map([enrolment_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn add_linkedin_account(&mut self, a: &LinkedinAccount) -> Result<i64> {
        let added = self
            .conn
            .prepare_cached(sql!("linkedin_account_add"))?
            .execute(params![
                a.name,
                a.plan,
                a.invitations_per_week,
                a.messages_per_week,
                a.timezone,
                if a.created_at > 0 {
                    a.created_at
                } else {
                    unix_now()
                },
                a.inmail_credits
            ]);
        match added {
            Ok(_) => Ok(self.conn.last_insert_rowid()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(StoreError::Usage(format!(
                    "a LinkedIn account named {:?} already exists",
                    a.name
                )))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn linkedin_accounts(&self) -> Result<Vec<LinkedinAccount>> {
        let mut stmt = self.conn.prepare_cached(sql!("linkedin_account_list"))?;
        let rows = stmt.query_map([], |r| {
            Ok(LinkedinAccount {
                id: r.get(0)?,
                name: r.get(1)?,
                plan: r.get(2)?,
                invitations_per_week: r.get(3)?,
                messages_per_week: r.get(4)?,
                timezone: r.get(5)?,
                guard_resumed_at: r.get(6)?,
                inmail_credits: r.get(7)?,
                created_at: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn linkedin_tasks(&self, account_id: i64, since: i64) -> Result<Vec<LinkedinTask>> {
        let sql = format!(
            "{} WHERE account_id = ?1 AND (state = 'open' OR done_at >= ?2) ORDER BY id",
            sql!("linkedin_task_columns")
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![account_id, since], linkedin_task_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn linkedin_task(&self, task_id: i64) -> Result<Option<LinkedinTask>> {
        let sql = format!("{} WHERE id = ?1", sql!("linkedin_task_columns"));
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row([task_id], linkedin_task_row)
            .optional()?)
    }

    fn linkedin_connect_of_lead(&self, lead_id: i64) -> Result<Option<LinkedinTask>> {
        let sql = format!(
            "{} WHERE lead_id = ?1 AND kind = 'connect' ORDER BY id DESC LIMIT 1",
            sql!("linkedin_task_columns")
        );
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row([lead_id], linkedin_task_row)
            .optional()?)
    }

    fn linkedin_due(&self, now: i64, limit: usize) -> Result<Vec<LinkedinDue>> {
        let mut stmt = self.conn.prepare_cached(sql!("linkedin_due"))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![now, limit], |r| {
            Ok(LinkedinDue {
                enrolment_id: r.get(0)?,
                campaign_id: r.get(1)?,
                lead_id: r.get(2)?,
                step: r.get(3)?,
                due: r.get(4)?,
                account_id: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn assign_linkedin_account(&mut self, enrolment_id: i64, account_id: i64) -> Result<()> {
        self.conn
            .prepare_cached(sql!("enrolment_assign_linkedin"))?
            .execute(params![enrolment_id, account_id])?;
        Ok(())
    }

    fn add_linkedin_task(&mut self, t: &LinkedinTask) -> Result<Option<i64>> {
        let added = self
            .conn
            .prepare_cached(sql!("linkedin_task_add"))?
            .execute(params![
                t.account_id,
                t.enrolment_id,
                t.campaign_id,
                t.lead_id,
                t.step,
                t.kind,
                t.note,
                t.subject,
                t.body,
                t.why_no_note,
                t.due,
                t.created_at
            ])?;
        Ok((added == 1).then(|| self.conn.last_insert_rowid()))
    }

    fn finish_linkedin_task(
        &mut self,
        task_id: i64,
        state: &str,
        now: i64,
        a: Option<&Advance>,
    ) -> Result<bool> {
        let tx = self.conn.transaction()?;
        let closed = tx
            .prepare_cached(sql!("linkedin_task_finish"))?
            .execute(params![task_id, state, now])?;
        if let (1, Some(a)) = (closed, a) {
            tx.prepare_cached(sql!("enrolment_advance_linkedin"))?
                .execute(params![a.enrolment_id, a.next_step, a.next_due, a.state])?;
        }
        tx.commit()?;
        Ok(closed == 1)
    }

    fn linkedin_withdrawn_at(&self, lead_id: i64) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached(sql!("linkedin_withdrawn_at"))?
            .query_row([lead_id], |r| r.get(0))?)
    }

    fn resume_linkedin_invitations(&mut self, name: &str, now: i64) -> Result<bool> {
        let changed = self
            .conn
            .prepare_cached(sql!("linkedin_account_resume"))?
            .execute(params![name, now])?;
        Ok(changed == 1)
    }

    fn set_invitation_outcome(
        &mut self,
        task_id: i64,
        accepted_at: Option<i64>,
        declined: bool,
    ) -> Result<()> {
        self.conn
            .prepare_cached(sql!("linkedin_task_outcome"))?
            .execute(params![task_id, accepted_at, declined])?;
        Ok(())
    }

    fn advance_linkedin(&mut self, a: &Advance) -> Result<()> {
        self.conn
            .prepare_cached(sql!("enrolment_advance_linkedin"))?
            .execute(params![a.enrolment_id, a.next_step, a.next_due, a.state])?;
        Ok(())
    }

    fn await_linkedin(&mut self, enrolment_id: i64) -> Result<()> {
        self.conn
            .prepare_cached(sql!("enrolment_await_linkedin"))?
            .execute([enrolment_id])?;
        Ok(())
    }

    fn park_enrolment(&mut self, enrolment_id: i64, state: &str, reason: &str) -> Result<()> {
        self.conn
            .prepare_cached(sql!("enrolment_park"))?
            .execute(params![enrolment_id, state, reason])?;
        Ok(())
    }

    fn lead(&self, lead_id: i64) -> Result<Option<StoredLead>> {
        let mut stmt = self.conn.prepare_cached(sql!("lead_by_id"))?;
        let mut rows = stmt.query([lead_id])?;
        rows.next()?.map(stored_lead).transpose()
    }

    fn mailbox_recent_outcomes(&self, mailbox_id: i64, last: u32) -> Result<(u32, u32)> {
        let mut stmt = self.conn.prepare_cached(sql!("mailbox_recent_outcomes"))?;
        Ok(stmt.query_row(params![mailbox_id, last], |r| Ok((r.get(0)?, r.get(1)?)))?)
    }

    fn recent_domain_sends(&self, since: i64) -> Result<Vec<(String, u32, i64)>> {
        let mut stmt = self.conn.prepare_cached(sql!("recent_domain_sends"))?;
        let rows = stmt.query_map([since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn recent_sends(&self, since: i64) -> Result<Vec<(String, i64)>> {
        let mut stmt = self.conn.prepare_cached(sql!("recent_sends"))?;
        let rows = stmt.query_map([since], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn sequence_enrolments(&self) -> Result<Vec<SequenceRow>> {
        let mut stmt = self.conn.prepare_cached(sql!("enrolment_in_sequence"))?;
        let rows = stmt.query_map([], |r| {
            Ok(SequenceRow {
                enrolment_id: r.get(0)?,
                campaign_id: r.get(1)?,
                lead_id: r.get(2)?,
                state: r.get(3)?,
                step: r.get(4)?,
                due: r.get(5)?,
                mailbox_id: r.get(6)?,
                linkedin_account_id: r.get(7)?,
                email: r.get(8)?,
                timezone: r.get(9)?,
                suppressed: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn set_mailbox_paused(&mut self, name: &str, reason: Option<&str>) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(sql!("mailbox_set_paused"))?
            .execute(params![name, reason])?
            == 1)
    }

    fn set_mailbox_secret(
        &mut self,
        name: &str,
        password_env: Option<&str>,
        sealed: Option<&str>,
    ) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(sql!("mailbox_set_secret"))?
            .execute(params![name, password_env, sealed])?
            == 1)
    }

    fn add_user(&mut self, name: &str, password_hash: &str, now: i64) -> Result<i64> {
        match self
            .conn
            .prepare_cached(sql!("user_add"))?
            .execute(params![name, password_hash, now])
        {
            Ok(_) => Ok(self.conn.last_insert_rowid()),
            Err(e) if is_unique_violation(&e) => {
                Err(StoreError::Usage(format!("a user named {name:?} exists already")))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn users(&self) -> Result<Vec<User>> {
        let mut stmt = self.conn.prepare_cached(sql!("user_list"))?;
        let rows = stmt.query_map([], user_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        Ok(self
            .conn
            .prepare_cached(sql!("user_by_name"))?
            .query_row([name], user_row)
            .optional()?)
    }

    fn remove_user(&mut self, name: &str) -> Result<bool> {
        // The sessions go with it: ON DELETE CASCADE (foreign keys are on).
        Ok(self.conn.prepare_cached(sql!("user_remove"))?.execute([name])? == 1)
    }

    fn add_session(&mut self, s: &NewSession) -> Result<()> {
        self.conn.prepare_cached(sql!("session_add"))?.execute(params![
            &s.id_hash[..],
            s.user_id,
            s.created_at,
            s.expires_at
        ])?;
        Ok(())
    }

    fn session(&self, id_hash: &[u8; 32]) -> Result<Option<Session>> {
        Ok(self
            .conn
            .prepare_cached(sql!("session_get"))?
            .query_row([&id_hash[..]], |r| {
                Ok(Session {
                    user_id: r.get(0)?,
                    user_name: r.get(1)?,
                    created_at: r.get(2)?,
                    last_seen: r.get(3)?,
                    expires_at: r.get(4)?,
                })
            })
            .optional()?)
    }

    fn touch_session(&mut self, id_hash: &[u8; 32], now: i64) -> Result<()> {
        self.conn
            .prepare_cached(sql!("session_touch"))?
            .execute(params![&id_hash[..], now])?;
        Ok(())
    }

    fn remove_session(&mut self, id_hash: &[u8; 32]) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(sql!("session_remove"))?
            .execute([&id_hash[..]])?
            == 1)
    }

    fn purge_sessions(&mut self, now: i64, idle_since: i64) -> Result<usize> {
        Ok(self
            .conn
            .prepare_cached(sql!("session_purge"))?
            .execute(params![now, idle_since])?)
    }

    fn add_api_token(&mut self, name: &str, token_hash: &[u8; 32], now: i64) -> Result<i64> {
        match self
            .conn
            .prepare_cached(sql!("api_token_add"))?
            .execute(params![name, &token_hash[..], now])
        {
            Ok(_) => Ok(self.conn.last_insert_rowid()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Usage(format!(
                "an API token named {name:?} exists already"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        let mut stmt = self.conn.prepare_cached(sql!("api_token_list"))?;
        let rows = stmt.query_map([], api_token_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn api_token_by_hash(&self, token_hash: &[u8; 32]) -> Result<Option<ApiToken>> {
        Ok(self
            .conn
            .prepare_cached(sql!("api_token_by_hash"))?
            .query_row([&token_hash[..]], api_token_row)
            .optional()?)
    }

    fn touch_api_token(&mut self, token_id: i64, now: i64) -> Result<()> {
        self.conn
            .prepare_cached(sql!("api_token_touch"))?
            .execute(params![token_id, now])?;
        Ok(())
    }

    fn revoke_api_token(&mut self, name: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(sql!("api_token_revoke"))?
            .execute([name])?
            == 1)
    }

    fn daily_activity(&self, from_day: i64, to_day: i64) -> Result<Vec<DailyActivity>> {
        let mut stmt = self.conn.prepare_cached(sql!("daily_activity"))?;
        let rows = stmt.query_map(params![from_day, to_day], |r| {
            Ok(DailyActivity {
                day: r.get(0)?,
                sent: r.get::<_, i64>(1)?.unsigned_abs(),
                replies: r.get::<_, i64>(2)?.unsigned_abs(),
                bounces: r.get::<_, i64>(3)?.unsigned_abs(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn attention_counts(&self) -> Result<AttentionCounts> {
        Ok(self
            .conn
            .prepare_cached(sql!("attention_counts"))?
            .query_row([], |r| {
                Ok(AttentionCounts {
                    needs_attention: r.get::<_, i64>(0)?.unsigned_abs(),
                    in_doubt: r.get::<_, i64>(1)?.unsigned_abs(),
                })
            })?)
    }

    fn max_lead_id(&self) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached(sql!("lead_max_id"))?
            .query_row([], |r| r.get(0))?)
    }

    fn lead_window(
        &self,
        filter: &LeadFilter,
        from_id: i64,
        to_id: i64,
        limit: usize,
    ) -> Result<Vec<StoredLead>> {
        let sql = concat!(
            sql!("lead_window"),
            sql!("lead_filter"),
            "ORDER BY l.id LIMIT :limit"
        );
        let mut stmt = self.conn.prepare_cached(sql)?;
        let search = filter.search.as_deref().map(like_prefix);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut rows = stmt.query(named_params! {
            ":from": from_id,
            ":to": to_id,
            ":search": search,
            ":list": filter.list,
            ":status": filter.email_status,
            ":campaign": filter.campaign_id,
            ":suppressed": filter.suppressed,
            ":limit": limit,
        })?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(stored_lead(row)?);
        }
        Ok(out)
    }

    fn count_lead_window(&self, filter: &LeadFilter, from_id: i64, to_id: i64) -> Result<u64> {
        let sql = concat!(sql!("lead_window_count"), sql!("lead_filter"));
        let search = filter.search.as_deref().map(like_prefix);
        let n: i64 = self.conn.prepare_cached(sql)?.query_row(
            named_params! {
                ":from": from_id,
                ":to": to_id,
                ":search": search,
                ":list": filter.list,
                ":status": filter.email_status,
                ":campaign": filter.campaign_id,
                ":suppressed": filter.suppressed,
            },
            |r| r.get(0),
        )?;
        Ok(n.unsigned_abs())
    }

    fn lead_sends(&self, lead_id: i64) -> Result<Vec<LeadSend>> {
        let mut stmt = self.conn.prepare_cached(sql!("lead_sends"))?;
        let rows = stmt.query_map([lead_id], |r| {
            Ok(LeadSend {
                campaign_id: r.get(0)?,
                campaign: r.get(1)?,
                step: r.get(2)?,
                state: r.get(3)?,
                recipient: r.get(4)?,
                at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn lead_linkedin_tasks(&self, lead_id: i64) -> Result<Vec<LinkedinTask>> {
        let sql = concat!(sql!("linkedin_task_columns"), " ", sql!("linkedin_task_by_lead"));
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([lead_id], linkedin_task_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn inbox(&self, before_id: i64, limit: usize) -> Result<Vec<InboxItem>> {
        let mut stmt = self.conn.prepare_cached(sql!("inbox"))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![before_id, limit], |r| {
            Ok(InboxItem {
                event_id: r.get(0)?,
                lead_id: r.get(1)?,
                email: r.get(2)?,
                first_name: r.get(3)?,
                last_name: r.get(4)?,
                campaign_id: r.get(5)?,
                campaign: r.get(6)?,
                from_address: r.get(7)?,
                subject: r.get(8)?,
                snippet: r.get(9)?,
                at: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn mark_reply_handled(&mut self, event_id: i64, now: i64) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(sql!("inbox_handled"))?
            .execute(params![event_id, now])?
            == 1)
    }

    fn suppression_page(&self, search: &str, after: &str, limit: usize) -> Result<Vec<Suppression>> {
        let pattern = format!("%{}%", escape_like(&search.to_lowercase()));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(sql!("suppression_page"))?;
        let rows = stmt.query_map(params![pattern, after, limit], |r| {
            Ok(Suppression {
                value: r.get(0)?,
                reason: r.get(1)?,
                created_at: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        password_hash: r.get(2)?,
        created_at: r.get(3)?,
    })
}

fn api_token_row(r: &Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        id: r.get(0)?,
        name: r.get(1)?,
        created_at: r.get(2)?,
        last_used: r.get(3)?,
    })
}

/// Page cache of an import that keeps the email index live (negative: KiB): room
/// for the index pages that random inserts touch.
const LIVE_INDEX_CACHE_KIB: i64 = -16 * 1024;
/// Page cache of an import with the index deferred: inserts only append to the
/// table, so a small cache does, and leaves memory to the dedup index.
const DEFERRED_INDEX_CACHE_KIB: i64 = -4 * 1024;

/// An import transaction. It holds its prepared statements for its whole life
/// (a million rows, one statement lookup each, adds up) and rolls back on drop
/// unless committed.
struct SqliteImport<'c> {
    conn: &'c Connection,
    insert: Statement<'c>,
    update: Statement<'c>,
    get: Statement<'c>,
    add_member: Statement<'c>,
    /// Unix seconds of the import, for every row it touches.
    now: i64,
    lists: HashMap<String, i64>,
    defer_indexes: bool,
    committed: bool,
}

impl<'c> SqliteImport<'c> {
    fn begin(conn: &'c Connection, expected_rows: u64) -> Result<SqliteImport<'c>> {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let mut import = SqliteImport {
            conn,
            insert: conn.prepare(sql!("lead_insert"))?,
            update: conn.prepare(sql!("lead_update"))?,
            get: conn.prepare(sql!("lead_get"))?,
            add_member: conn.prepare(sql!("list_add_member"))?,
            now: unix_now(),
            lists: HashMap::new(),
            defer_indexes: false,
            committed: false,
        };
        let stored: i64 = conn.query_row("SELECT coalesce(max(id), 0) FROM leads", [], |r| r.get(0))?;
        // Rebuilding costs a sort of the whole table: worth it when the import is
        // large both in itself and next to what is stored.
        import.defer_indexes =
            expected_rows >= 20_000 && expected_rows.saturating_mul(2) >= stored.unsigned_abs();
        if import.defer_indexes {
            conn.execute_batch(sql!("import_defer_indexes"))?;
            conn.pragma_update(None, "cache_size", DEFERRED_INDEX_CACHE_KIB)?;
        } else {
            conn.pragma_update(None, "cache_size", LIVE_INDEX_CACHE_KIB)?;
        }
        Ok(import)
    }
}

fn linkedin_task_row(r: &Row<'_>) -> rusqlite::Result<LinkedinTask> {
    Ok(LinkedinTask {
        id: r.get(0)?,
        account_id: r.get(1)?,
        enrolment_id: r.get(2)?,
        campaign_id: r.get(3)?,
        lead_id: r.get(4)?,
        step: r.get(5)?,
        kind: r.get(6)?,
        note: r.get(7)?,
        subject: r.get(8)?,
        body: r.get(9)?,
        why_no_note: r.get(10)?,
        state: r.get(11)?,
        due: r.get(12)?,
        created_at: r.get(13)?,
        done_at: r.get(14)?,
        accepted_at: r.get(15)?,
        declined: r.get(16)?,
    })
}

fn insert_event(conn: &Connection, e: &NewEvent) -> Result<()> {
    conn.prepare_cached(sql!("event_add"))?.execute(params![
        e.lead_id,
        e.campaign_id,
        e.enrolment_id,
        e.send_id,
        e.mailbox_id,
        e.kind,
        e.detail,
        e.message_id,
        e.from_address,
        e.subject,
        e.snippet,
        e.at
    ])?;
    Ok(())
}

fn event_row(r: &Row<'_>) -> rusqlite::Result<EventRow> {
    Ok(EventRow {
        id: r.get(0)?,
        lead_id: r.get(1)?,
        campaign_id: r.get(2)?,
        step: r.get(3)?,
        kind: r.get(4)?,
        detail: r.get(5)?,
        subject: r.get(6)?,
        at: r.get(7)?,
    })
}

/// A row of `lead_page` / `lead_by_id`.
fn stored_lead(row: &Row<'_>) -> Result<StoredLead> {
    Ok(StoredLead {
        id: row.get(0)?,
        lead: lead_from_row(row, 1)?,
        notes: row.get(13)?,
        created_at: row.get(14)?,
        suppressed: row.get(15)?,
        email_status: row
            .get::<_, Option<String>>(16)?
            .as_deref()
            .and_then(EmailStatus::parse),
        email_source: match (
            row.get::<_, Option<String>>(1)?,
            row.get::<_, Option<String>>(17)?,
        ) {
            (None, _) => None,
            (Some(_), Some(source)) if source == "found" => Some("found"),
            (Some(_), _) => Some("imported"),
        },
    })
}

impl Drop for SqliteImport<'_> {
    fn drop(&mut self) {
        if !self.committed {
            // Nothing useful can be done with a failed rollback: SQLite rolls back
            // an open transaction when the connection closes anyway.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

impl LeadImport for SqliteImport<'_> {
    fn for_each_identity(&mut self, f: &mut dyn FnMut(i64, &Lead)) -> Result<()> {
        let mut stmt = self.conn.prepare(sql!("lead_identities"))?;
        let mut rows = stmt.query([])?;
        let mut lead = Lead::default();
        while let Some(row) = rows.next()? {
            lead.email = row.get(1)?;
            lead.linkedin_url = row.get::<_, Option<String>>(2)?.map(url_from_slug);
            lead.first_name = row.get(3)?;
            lead.last_name = row.get(4)?;
            lead.domain = row.get(5)?;
            lead.company = row.get(6)?;
            f(row.get(0)?, &lead);
        }
        Ok(())
    }

    fn get(&mut self, id: i64) -> Result<Lead> {
        let mut rows = self.get.query([id])?;
        match rows.next()? {
            Some(row) => lead_from_row(row, 0),
            None => Err(StoreError::Corrupt(format!("lead {id} vanished during import"))),
        }
    }

    fn find(&mut self, kind: KeyKind, lead: &Lead) -> Result<Option<i64>> {
        let found = match kind {
            KeyKind::Email => self
                .conn
                .prepare_cached(sql!("lead_by_email"))?
                .query_row([&lead.email], |r| r.get(0))
                .optional()?,
            KeyKind::Linkedin => self
                .conn
                .prepare_cached(sql!("lead_by_linkedin"))?
                .query_row([slug(lead)], |r| r.get(0))
                .optional()?,
            KeyKind::Name => {
                // Only reached on a hash collision in the import's index, so a scan
                // is fine; comparing in Rust keeps one definition of the key (SQLite's
                // lower() folds ASCII only).
                let wanted = name_key(lead);
                let mut stmt = self.conn.prepare_cached(sql!("lead_names"))?;
                let mut rows = stmt.query([])?;
                let mut found = None;
                while let Some(row) = rows.next()? {
                    let stored = Lead {
                        first_name: row.get(1)?,
                        last_name: row.get(2)?,
                        domain: row.get(3)?,
                        company: row.get(4)?,
                        ..Lead::default()
                    };
                    if name_key(&stored) == wanted {
                        found = Some(row.get(0)?);
                        break;
                    }
                }
                found
            }
        };
        Ok(found)
    }

    fn insert(&mut self, lead: &Lead, notes: Option<&str>) -> Result<i64> {
        self.insert.execute(params![
            lead.email,
            lead.first_name,
            lead.last_name,
            stored_full_name(lead),
            lead.title,
            lead.company,
            lead.domain,
            slug(lead),
            lead.location,
            lead.timezone,
            lead.phone,
            custom_json(lead),
            notes,
            self.now,
        ])?;
        Ok(self.conn.last_insert_rowid())
    }

    fn update(&mut self, id: i64, lead: &Lead) -> Result<()> {
        self.update.execute(params![
            id,
            lead.email,
            lead.first_name,
            lead.last_name,
            stored_full_name(lead),
            lead.title,
            lead.company,
            lead.domain,
            slug(lead),
            lead.location,
            lead.timezone,
            lead.phone,
            custom_json(lead),
            self.now,
        ])?;
        Ok(())
    }

    fn add_to_list(&mut self, list: &str, id: i64) -> Result<()> {
        let list_id = match self.lists.get(list) {
            Some(list_id) => *list_id,
            None => {
                let list_id: i64 = self
                    .conn
                    .prepare(sql!("list_upsert"))?
                    .query_row(params![list, self.now], |r| r.get(0))?;
                self.lists.insert(list.to_owned(), list_id);
                list_id
            }
        };
        self.add_member.execute([list_id, id])?;
        Ok(())
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        if self.defer_indexes {
            // The import's other thread is done by now: let the sort use that core.
            self.conn.pragma_update(None, "threads", 2)?;
            self.conn.execute_batch(sql!("import_restore_indexes"))?;
        }
        self.conn.execute_batch("COMMIT")?;
        self.committed = true;
        Ok(())
    }
}

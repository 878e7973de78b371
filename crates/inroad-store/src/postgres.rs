//! The PostgreSQL backend (the scale-out one: `--db postgres://…`), with the same
//! behaviour as SQLite's behind the same `Store` API.
//!
//! Why the synchronous `postgres` crate: the `Store` trait is synchronous (the engine
//! and the CLI are blocking code that runs its async parts on runtimes of its own), and
//! `postgres` is tokio-postgres with a private current-thread runtime per connection,
//! by the same project. tokio-postgres + deadpool behind a sync trait would need a
//! runtime of our own and a `block_on` in every method for nothing: one `Store` is one
//! connection used by one caller at a time (the web server already serialises it
//! behind a mutex), so a pool would hold one connection.
//!
//! Matching SQLite: every multi-statement method is one transaction, as there;
//! `INSERT OR IGNORE` becomes `ON CONFLICT DO NOTHING`, `last_insert_rowid()` becomes
//! `RETURNING id`; lists ordered by a name sort with `COLLATE "C"` (SQLite's byte
//! order), and rows SQLite returned in rowid order get an `ORDER BY`. Emails are
//! stored normalised, so equality matches as in SQLite (which has no NOCASE column).
//! Integers are `bigint` in the schema and converted at this boundary.
//!
//! A lead import holds the `leads` table's write lock for its transaction (SQLite's
//! `BEGIN IMMEDIATE`), hands out ids in blocks from the identity sequence, and streams
//! new leads straight into `leads` through one binary COPY that stays open while only
//! new leads come: the engine has already deduplicated them (the same `DedupIndex`
//! for every backend), so a staging table would only copy them twice. The import's
//! connection runs on a thread of its own for the import's length, so the server
//! stores rows while the engine parses the next ones (a COPY finished per batch left
//! the server idle half the time). Each lead is encoded once, from the engine's
//! borrowed `Lead`, into its COPY tuple. Any query must first close the COPY, so the
//! import says its reads of its own leads interrupt it, and the engine reads those
//! back from its file instead. A large import drops the unique email index and
//! rebuilds it before COMMIT, as SQLite's does (random B-tree inserts were the
//! server's largest cost), and the first large one into an empty table the primary
//! key too. List memberships,
//! which may repeat or exist already, are staged in a temporary table by COPY and
//! merged with one `INSERT … SELECT DISTINCT … ON CONFLICT DO NOTHING` at commit.
//!
//! The engine calls the store from inside its tokio runtimes too (the verifier's
//! checks, the web server's handlers), which is fine for blocking SQLite calls but not for
//! this driver: its private runtime cannot start on a thread already running async
//! code. There, each call runs on a short-lived thread of its own ([`off_runtime`]).
//!
//! The connection string may hold a password: it is never logged nor put in an error.

use std::cell::{RefCell, RefMut};
use std::collections::HashMap;
use std::io::Write;
use std::sync::mpsc::{Receiver, SyncSender};
use std::thread::JoinHandle;
use std::time::Duration;

use inroad_core::identity::{name_key, KeyKind};
use inroad_core::normalize::LINKEDIN_PROFILE_PREFIX;
use inroad_core::verdict::EmailStatus;
use inroad_core::Lead;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use postgres::{Client, Config, GenericClient, NoTls, Row, Statement, Transaction};

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

/// Migrations in order; the schema version is their count (table `inroad_schema`).
/// One per SQLite migration, so a version means the same schema in both.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_init.sql"),
    include_str!("../migrations/postgres/0002_email_checks.sql"),
    include_str!("../migrations/postgres/0003_mailboxes_campaigns.sql"),
    include_str!("../migrations/postgres/0004_enrolments_sends.sql"),
    include_str!("../migrations/postgres/0005_mailbox_secrets.sql"),
    include_str!("../migrations/postgres/0006_inbox.sql"),
    include_str!("../migrations/postgres/0007_linkedin.sql"),
    include_str!("../migrations/postgres/0008_users.sql"),
    include_str!("../migrations/postgres/0009_dashboard.sql"),
    include_str!("../migrations/postgres/0010_leases.sql"),
    include_str!("../migrations/postgres/0011_email_bytewise.sql"),
];

macro_rules! sql {
    ($name:literal) => {
        include_str!(concat!("../sql/postgres/", $name, ".sql"))
    };
}

/// Without a `connect_timeout` in the URL, a host that drops packets would hang `open`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Prepared statements by their SQL text: each is parsed once per connection, as
/// rusqlite's `prepare_cached` does for SQLite.
type Statements = HashMap<&'static str, Statement>;

/// A connection (or a transaction on it) with the statement cache.
struct Db<'a, C> {
    client: &'a mut C,
    statements: &'a mut Statements,
}

impl<C: GenericClient> Db<'_, C> {
    fn statement(&mut self, sql: &'static str) -> Result<Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    fn execute(&mut self, sql: &'static str, params: Params<'_>) -> Result<u64> {
        let statement = self.statement(sql)?;
        Ok(self.client.execute(&statement, params)?)
    }

    fn query(&mut self, sql: &'static str, params: Params<'_>) -> Result<Vec<Row>> {
        let statement = self.statement(sql)?;
        Ok(self.client.query(&statement, params)?)
    }

    fn query_opt(&mut self, sql: &'static str, params: Params<'_>) -> Result<Option<Row>> {
        let statement = self.statement(sql)?;
        Ok(self.client.query_opt(&statement, params)?)
    }

    fn query_one(&mut self, sql: &'static str, params: Params<'_>) -> Result<Row> {
        let statement = self.statement(sql)?;
        Ok(self.client.query_one(&statement, params)?)
    }
}

struct Connection {
    client: Client,
    statements: Statements,
}

pub struct PostgresStore {
    /// `Store` reads take `&self` but a client needs `&mut`: one caller at a time
    /// (`Store` is `Send`, not `Sync`), so a `RefCell` suffices. `None` only while
    /// being dropped (see `Drop`).
    conn: RefCell<Option<Connection>>,
    migrated: Migrated,
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // Closing the connection blocks on the driver's runtime too.
        if let Some(conn) = self.conn.get_mut().take() {
            off_runtime(move || drop(conn));
        }
    }
}

/// Runs `f`, which blocks on the driver's runtime: on this thread, or, when this
/// thread is inside a tokio runtime (where starting another one panics), on a thread
/// of its own for the duration of the call.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|scope| match scope.spawn(f).join() {
        Ok(out) => out,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

fn is_unique_violation(e: &StoreError) -> bool {
    matches!(e, StoreError::Postgres(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION))
}

/// A driver error on one line: the server's message (with its detail), or the error
/// and its causes ("error connecting to server: Connection refused (os error 111)").
pub(crate) fn describe_error(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut message = format!("{}: {}", db.severity(), db.message());
        if let Some(detail) = db.detail() {
            message.push_str(" (");
            message.push_str(detail);
            message.push(')');
        }
        return message.replace('\n', " ");
    }
    let mut message = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        message.push_str(": ");
        message.push_str(&c.to_string());
        cause = c.source();
    }
    message.replace('\n', " ")
}

/// Where a connection string points, for messages: hosts and ports, never the user,
/// password or options.
fn describe_target(config: &Config) -> String {
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            match host {
                postgres::config::Host::Tcp(name) => format!("{name}:{port}"),
                postgres::config::Host::Unix(dir) => format!("{}/.s.PGSQL.{port}", dir.display()),
            }
        })
        .collect();
    if hosts.is_empty() {
        "localhost:5432".to_owned()
    } else {
        hosts.join(",")
    }
}

/// `postgres://HOST:PORT/DB` for a connection string (see `crate::describe`).
pub(crate) fn describe_url(url: &str) -> String {
    match url.parse::<Config>() {
        Ok(config) => format!(
            "postgres://{}/{}",
            describe_target(&config),
            config.get_dbname().unwrap_or_default()
        ),
        Err(_) => "an invalid PostgreSQL URL".to_owned(),
    }
}

impl PostgresStore {
    /// Connects to the database named by a `postgres://` URL and applies pending
    /// migrations.
    pub fn open(url: &str) -> Result<PostgresStore> {
        // The parser's messages name the bad part, not the URL (which may hold a password).
        let mut config: Config = url.parse().map_err(|e| {
            StoreError::Usage(format!(
                "--db is not a valid PostgreSQL URL: {}",
                describe_error(&e)
            ))
        })?;
        if config.get_hosts().is_empty() {
            return Err(StoreError::Usage(
                "--db names no PostgreSQL host: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE".into(),
            ));
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("inroad");
        }
        let (client, migrated) = off_runtime(|| connect_and_migrate(&config))?;
        Ok(PostgresStore {
            conn: RefCell::new(Some(Connection {
                client,
                statements: HashMap::new(),
            })),
            migrated,
        })
    }

    fn connection(&self) -> RefMut<'_, Connection> {
        RefMut::map(self.conn.borrow_mut(), |conn| {
            conn.as_mut().expect("the connection lives as long as the store")
        })
    }

    /// Runs `f` on the connection, outside a transaction (each statement commits).
    fn with<T: Send>(&self, f: impl FnOnce(&mut Db<'_, Client>) -> Result<T> + Send) -> Result<T> {
        let mut conn = self.connection();
        let Connection { client, statements } = &mut *conn;
        off_runtime(|| f(&mut Db { client, statements }))
    }

    /// Runs `f` in one transaction: committed if it returns `Ok`, rolled back if not.
    fn transaction<T: Send>(
        &self,
        f: impl FnOnce(&mut Db<'_, Transaction<'_>>) -> Result<T> + Send,
    ) -> Result<T> {
        let mut conn = self.connection();
        let Connection { client, statements } = &mut *conn;
        off_runtime(|| {
            let mut tx = client.transaction()?;
            let out = f(&mut Db {
                client: &mut tx,
                statements,
            })?;
            tx.commit()?;
            Ok(out)
        })
    }

    fn execute(&self, sql: &'static str, params: Params<'_>) -> Result<u64> {
        self.with(|db| db.execute(sql, params))
    }

    fn query(&self, sql: &'static str, params: Params<'_>) -> Result<Vec<Row>> {
        self.with(|db| db.query(sql, params))
    }

    fn query_opt(&self, sql: &'static str, params: Params<'_>) -> Result<Option<Row>> {
        self.with(|db| db.query_opt(sql, params))
    }

    fn query_one(&self, sql: &'static str, params: Params<'_>) -> Result<Row> {
        self.with(|db| db.query_one(sql, params))
    }

    /// Inserts a row whose name must be unique; returns its id, or says which `what`
    /// (`"a mailbox"`) holds the name already.
    fn insert_named(&self, sql: &'static str, params: Params<'_>, what: &str, name: &str) -> Result<i64> {
        match self.query_one(sql, params) {
            Ok(row) => Ok(row.try_get(0)?),
            Err(e) if is_unique_violation(&e) => {
                Err(StoreError::Usage(format!("{what} named {name:?} exists already")))
            }
            Err(e) => Err(e),
        }
    }
}

/// Connects (the error says where to, never with the password) and migrates.
fn connect_and_migrate(config: &Config) -> Result<(Client, Migrated)> {
    let mut client = config.connect(NoTls).map_err(|e| {
        let target = describe_target(config);
        let why = describe_error(&e);
        if e.as_db_error().is_some() {
            // The server answered: a wrong database, user or password.
            StoreError::Usage(format!("cannot connect to PostgreSQL at {target}: {why}"))
        } else {
            StoreError::Usage(format!(
                "cannot connect to PostgreSQL at {target}: {why}; is it running?"
            ))
        }
    })?;
    let migrated = migrate(&mut client)?;
    Ok((client, migrated))
}

fn migrate(client: &mut Client) -> Result<Migrated> {
    let mut tx = client.transaction()?;
    tx.batch_execute(sql!("schema_version_create"))?;
    let from = get_u32(&tx.query_one(sql!("schema_version_get"), &[])?, 0)?;
    let to = MIGRATIONS.len() as u32;
    if from > to {
        return Err(StoreError::Usage(format!(
            "the database has schema version {from}, newer than this inroad knows ({to}): upgrade inroad"
        )));
    }
    for migration in &MIGRATIONS[from as usize..] {
        tx.batch_execute(migration)?;
    }
    if from != to {
        tx.execute(sql!("schema_version_set"), &[&i64::from(to)])?;
    }
    tx.commit()?;
    Ok(Migrated { from, to })
}

/// Column `i` (a bigint) as a u32: the store only writes u32s there.
fn get_u32(row: &Row, i: usize) -> Result<u32> {
    let n: i64 = row.try_get(i)?;
    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("{n} in a column of 32-bit counts")))
}

fn get_opt_u32(row: &Row, i: usize) -> Result<Option<u32>> {
    row.try_get::<_, Option<i64>>(i)?
        .map(|n| {
            u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("{n} in a column of 32-bit counts")))
        })
        .transpose()
}

fn get_u16(row: &Row, i: usize) -> Result<u16> {
    let n: i64 = row.try_get(i)?;
    u16::try_from(n).map_err(|_| StoreError::Corrupt(format!("port {n}")))
}

fn get_u64(row: &Row, i: usize) -> Result<u64> {
    Ok(row.try_get::<_, i64>(i)?.unsigned_abs())
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Reads a lead from columns `first..first+12` (email … phone, custom).
fn lead_from_row(row: &Row, first: usize) -> Result<Lead> {
    let mut lead = Lead {
        email: row.try_get(first)?,
        first_name: row.try_get(first + 1)?,
        last_name: row.try_get(first + 2)?,
        full_name: row.try_get(first + 3)?,
        title: row.try_get(first + 4)?,
        company: row.try_get(first + 5)?,
        domain: row.try_get(first + 6)?,
        linkedin_url: row.try_get::<_, Option<String>>(first + 7)?.map(url_from_slug),
        location: row.try_get(first + 8)?,
        timezone: row.try_get(first + 9)?,
        phone: row.try_get(first + 10)?,
        custom: custom_from_json(row.try_get(first + 11)?)?,
    };
    restore_full_name(&mut lead);
    Ok(lead)
}

/// A row of `lead_page` / `lead_by_id`.
fn stored_lead(row: &Row) -> Result<StoredLead> {
    Ok(StoredLead {
        id: row.try_get(0)?,
        lead: lead_from_row(row, 1)?,
        notes: row.try_get(13)?,
        created_at: row.try_get(14)?,
        suppressed: row.try_get(15)?,
        email_status: row
            .try_get::<_, Option<String>>(16)?
            .as_deref()
            .and_then(EmailStatus::parse),
        email_source: match (
            row.try_get::<_, Option<String>>(1)?,
            row.try_get::<_, Option<String>>(17)?,
        ) {
            (None, _) => None,
            (Some(_), Some(source)) if source == "found" => Some("found"),
            (Some(_), _) => Some("imported"),
        },
    })
}

fn event_row(r: &Row) -> Result<EventRow> {
    Ok(EventRow {
        id: r.try_get(0)?,
        lead_id: r.try_get(1)?,
        campaign_id: r.try_get(2)?,
        step: get_opt_u32(r, 3)?,
        kind: r.try_get(4)?,
        detail: r.try_get(5)?,
        subject: r.try_get(6)?,
        at: r.try_get(7)?,
    })
}

fn linkedin_task_row(r: &Row) -> Result<LinkedinTask> {
    Ok(LinkedinTask {
        id: r.try_get(0)?,
        account_id: r.try_get(1)?,
        enrolment_id: r.try_get(2)?,
        campaign_id: r.try_get(3)?,
        lead_id: r.try_get(4)?,
        step: get_u32(r, 5)?,
        kind: r.try_get(6)?,
        note: r.try_get(7)?,
        subject: r.try_get(8)?,
        body: r.try_get(9)?,
        why_no_note: r.try_get(10)?,
        state: r.try_get(11)?,
        due: r.try_get(12)?,
        created_at: r.try_get(13)?,
        done_at: r.try_get(14)?,
        accepted_at: r.try_get(15)?,
        declined: r.try_get(16)?,
    })
}

fn user_row(r: &Row) -> Result<User> {
    Ok(User {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        password_hash: r.try_get(2)?,
        created_at: r.try_get(3)?,
    })
}

fn api_token_row(r: &Row) -> Result<ApiToken> {
    Ok(ApiToken {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        created_at: r.try_get(2)?,
        last_used: r.try_get(3)?,
    })
}

fn rows<T>(rows: Vec<Row>, f: impl Fn(&Row) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(f).collect()
}

fn insert_event<C: GenericClient>(db: &mut Db<'_, C>, e: &NewEvent) -> Result<()> {
    db.execute(
        sql!("event_add"),
        &[
            &e.lead_id,
            &e.campaign_id,
            &e.enrolment_id,
            &e.send_id,
            &e.mailbox_id,
            &e.kind,
            &e.detail,
            &e.message_id,
            &e.from_address,
            &e.subject,
            &e.snippet,
            &e.at,
        ],
    )?;
    Ok(())
}

impl Store for PostgresStore {
    fn migrated(&self) -> Migrated {
        self.migrated
    }

    fn begin_import(&mut self, expected_rows: u64) -> Result<Box<dyn LeadImport + '_>> {
        PgImport::begin(self.conn.get_mut(), expected_rows)
            .map(|import| Box::new(import) as Box<dyn LeadImport>)
    }

    fn count_leads(&self, list: Option<&str>) -> Result<u64> {
        get_u64(&self.query_one(sql!("lead_count"), &[&list])?, 0)
    }

    fn leads(&self, query: &LeadQuery<'_>) -> Result<Vec<StoredLead>> {
        let found = self.query(
            sql!("lead_page"),
            &[&query.after, &query.list, &limit(query.limit)],
        )?;
        rows(found, stored_lead)
    }

    fn list_exists(&self, name: &str) -> Result<bool> {
        Ok(get_u64(&self.query_one(sql!("list_exists"), &[&name])?, 0)? > 0)
    }

    fn add_suppressions(&mut self, entries: &[Suppression]) -> Result<usize> {
        self.transaction(|db| {
            let mut added = 0;
            for e in entries {
                added += db.execute(sql!("suppression_add"), &[&e.value, &e.reason, &e.created_at])?;
            }
            Ok(added as usize)
        })
    }

    fn remove_suppressions(&mut self, values: &[String]) -> Result<usize> {
        self.transaction(|db| {
            let mut removed = 0;
            for v in values {
                removed += db.execute(sql!("suppression_remove"), &[v])?;
            }
            Ok(removed as usize)
        })
    }

    fn suppressions(&self) -> Result<Vec<Suppression>> {
        rows(self.query(sql!("suppression_list"), &[])?, |r| {
            Ok(Suppression {
                value: r.try_get(0)?,
                reason: r.try_get(1)?,
                created_at: r.try_get(2)?,
            })
        })
    }

    fn is_suppressed(&self, email: &str) -> Result<bool> {
        let domain = email
            .rsplit_once('@')
            .map(|(_, d)| format!("@{d}"))
            .unwrap_or_default();
        Ok(self
            .query_one(sql!("suppression_check"), &[&email, &domain])?
            .try_get(0)?)
    }

    fn email_check(&self, email: &str, fresh_after: i64) -> Result<Option<EmailCheck>> {
        let Some(r) = self.query_opt(sql!("email_check_get"), &[&email, &fresh_after])? else {
            return Ok(None);
        };
        let status: String = r.try_get(1)?;
        let Some(status) = EmailStatus::parse(&status) else {
            return Err(StoreError::Corrupt(format!("email check status {status:?}")));
        };
        Ok(Some(EmailCheck {
            email: r.try_get(0)?,
            status,
            reason: r.try_get(2)?,
            mx: r.try_get(3)?,
            smtp_code: r
                .try_get::<_, Option<i64>>(4)?
                .map(|c| u16::try_from(c).map_err(|_| StoreError::Corrupt(format!("SMTP code {c}"))))
                .transpose()?,
            enhanced_code: r.try_get(5)?,
            catch_all: r.try_get(6)?,
            disposable: r.try_get(7)?,
            role: r.try_get(8)?,
            free: r.try_get(9)?,
            confidence: r.try_get(10)?,
            checked_at: r.try_get(11)?,
        }))
    }

    fn save_email_checks(&mut self, checks: &[EmailCheck]) -> Result<()> {
        self.transaction(|db| {
            for c in checks {
                db.execute(
                    sql!("email_check_put"),
                    &[
                        &c.email,
                        &c.status.as_str(),
                        &c.reason,
                        &c.mx,
                        &c.smtp_code.map(i64::from),
                        &c.enhanced_code,
                        &c.catch_all,
                        &c.disposable,
                        &c.role,
                        &c.free,
                        &c.confidence,
                        &c.checked_at,
                    ],
                )?;
                db.execute(sql!("lead_set_email_status"), &[&c.email, &c.status.as_str()])?;
            }
            Ok(())
        })
    }

    fn domain_catch_all(&self, domain: &str, fresh_after: i64) -> Result<Option<Option<bool>>> {
        self.query_opt(sql!("domain_check_get"), &[&domain, &fresh_after])?
            .map(|r| Ok(r.try_get::<_, Option<bool>>(0)?))
            .transpose()
    }

    fn save_domain_catch_all(
        &mut self,
        domain: &str,
        catch_all: Option<bool>,
        checked_at: i64,
    ) -> Result<()> {
        self.execute(sql!("domain_check_put"), &[&domain, &catch_all, &checked_at])?;
        Ok(())
    }

    fn set_found_email(&mut self, lead_id: i64, email: &str, status: EmailStatus) -> Result<bool> {
        match self.execute(
            sql!("lead_set_found_email"),
            &[&lead_id, &email, &status.as_str(), &unix_now()],
        ) {
            Ok(changed) => Ok(changed == 1),
            // Another writer took the address between the check and the update.
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn add_mailbox(&mut self, m: &Mailbox) -> Result<i64> {
        self.insert_named(
            sql!("mailbox_add"),
            &[
                &m.name,
                &m.from_name,
                &m.from_address,
                &m.smtp_host,
                &i64::from(m.smtp_port),
                &m.smtp_tls,
                &m.smtp_user,
                &m.password_env,
                &i64::from(m.daily_cap),
                &m.warmup.map(|w| i64::from(w.0)),
                &m.warmup.map(|w| i64::from(w.1)),
                &i64::from(m.gap_secs.0),
                &i64::from(m.gap_secs.1),
                &m.timezone,
                &m.dkim_selector,
                &m.dkim_key_file,
                &m.dkim_domain,
                &m.imap_host,
                &m.imap_port.map(i64::from),
                &m.imap_tls,
                &m.imap_user,
                &unix_now(),
                &m.sealed_secret,
                &m.imap_junk_folder,
            ],
            "a mailbox",
            &m.name,
        )
    }

    fn mailboxes(&self) -> Result<Vec<Mailbox>> {
        rows(self.query(sql!("mailbox_list"), &[])?, |r| {
            let warmup = match (get_opt_u32(r, 10)?, get_opt_u32(r, 11)?) {
                (Some(start), Some(step)) => Some((start, step)),
                _ => None,
            };
            Ok(Mailbox {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                from_name: r.try_get(2)?,
                from_address: r.try_get(3)?,
                smtp_host: r.try_get(4)?,
                smtp_port: get_u16(r, 5)?,
                smtp_tls: r.try_get(6)?,
                smtp_user: r.try_get(7)?,
                password_env: r.try_get(8)?,
                sealed_secret: r.try_get(23)?,
                daily_cap: get_u32(r, 9)?,
                warmup,
                gap_secs: (get_u32(r, 12)?, get_u32(r, 13)?),
                timezone: r.try_get(14)?,
                dkim_selector: r.try_get(15)?,
                dkim_key_file: r.try_get(16)?,
                dkim_domain: r.try_get(17)?,
                imap_host: r.try_get(18)?,
                imap_port: r
                    .try_get::<_, Option<i64>>(19)?
                    .map(|p| u16::try_from(p).map_err(|_| StoreError::Corrupt(format!("port {p}"))))
                    .transpose()?,
                imap_tls: r.try_get(20)?,
                imap_user: r.try_get(21)?,
                imap_junk_folder: r.try_get(24)?,
                paused_reason: r.try_get(22)?,
            })
        })
    }

    fn create_campaign(&mut self, name: &str, spec: &str) -> Result<i64> {
        self.insert_named(
            sql!("campaign_create"),
            &[&name, &spec, &unix_now()],
            "a campaign",
            name,
        )
    }

    fn campaigns(&self) -> Result<Vec<CampaignRecord>> {
        rows(self.query(sql!("campaign_list"), &[])?, |r| {
            Ok(CampaignRecord {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                status: r.try_get(2)?,
                spec: r.try_get(3)?,
                created_at: r.try_get(4)?,
            })
        })
    }

    fn set_campaign_status(&mut self, campaign_id: i64, status: &str) -> Result<()> {
        self.execute(sql!("campaign_set_status"), &[&campaign_id, &status])?;
        Ok(())
    }

    fn enroll(&mut self, campaign_id: i64, lead_ids: &[i64], now: i64) -> Result<usize> {
        self.transaction(|db| {
            let mut added = 0;
            for lead_id in lead_ids {
                added += db.execute(sql!("enrolment_add"), &[&campaign_id, lead_id, &now])?;
            }
            Ok(added as usize)
        })
    }

    fn active_elsewhere(&self, lead_id: i64, campaign_id: i64) -> Result<bool> {
        Ok(self
            .query_one(sql!("enrolment_active_elsewhere"), &[&lead_id, &campaign_id])?
            .try_get(0)?)
    }

    fn campaign_counts(&self, campaign_id: i64) -> Result<CampaignCounts> {
        let mut counts = CampaignCounts::default();
        for (query, into) in [
            (sql!("enrolment_counts"), &mut counts.enrolments),
            (sql!("send_counts"), &mut counts.sends),
        ] {
            for r in self.query(query, &[&campaign_id])? {
                into.insert(r.try_get(0)?, get_u64(&r, 1)?);
            }
        }
        Ok(counts)
    }

    fn campaign_enrolments(
        &self,
        campaign_id: i64,
        state: Option<&str>,
        after: i64,
        limit_rows: usize,
    ) -> Result<Vec<EnrolmentRow>> {
        let found = self.query(
            sql!("enrolment_page"),
            &[&campaign_id, &state, &after, &limit(limit_rows)],
        )?;
        rows(found, |r| {
            Ok(EnrolmentRow {
                id: r.try_get(0)?,
                lead_id: r.try_get(1)?,
                email: r.try_get(2)?,
                state: r.try_get(3)?,
                reason: r.try_get(4)?,
                next_step: get_u32(r, 5)?,
            })
        })
    }

    fn campaign_sends(&self, campaign_id: i64) -> Result<Vec<StepSend>> {
        rows(self.query(sql!("send_by_campaign"), &[&campaign_id])?, |r| {
            Ok(StepSend {
                lead_id: r.try_get(0)?,
                step: get_u32(r, 1)?,
                state: r.try_get(2)?,
            })
        })
    }

    fn release_in_doubt(
        &mut self,
        campaign_id: i64,
        lead_id: i64,
        delivered: bool,
        next_due: &dyn Fn(u32) -> Option<i64>,
        now: i64,
    ) -> Result<bool> {
        // `next_due` is the caller's (not `Send`): worked out here, from the step read
        // first; the transaction then settles that very send, or nothing if someone
        // settled it meanwhile.
        let Some(in_doubt) = self.query_opt(sql!("send_in_doubt_of_lead"), &[&campaign_id, &lead_id])? else {
            return Ok(false);
        };
        let enrolment_id: i64 = in_doubt.try_get(0)?;
        let step = get_u32(&in_doubt, 1)?;
        let (next_step, next_due, state) = match delivered.then(|| next_due(step + 1)) {
            Some(Some(due)) => (step + 1, Some(due), "active"),
            Some(None) => (step + 1, None, "finished"),
            None => (step, Some(now), "active"),
        };
        let outcome = if delivered { "sent" } else { "failed" };
        self.transaction(|db| {
            let released = db.execute(
                sql!("send_release_in_doubt"),
                &[&enrolment_id, &i64::from(step), &outcome, &now],
            )?;
            if released == 0 {
                return Ok(false);
            }
            db.execute(
                sql!("enrolment_resume"),
                &[&enrolment_id, &i64::from(next_step), &next_due, &state],
            )?;
            Ok(true)
        })
    }

    fn begin_sends(&mut self, sends: &[NewSend]) -> Result<Vec<Begun>> {
        let now = unix_now();
        self.transaction(|db| {
            let mut begun = Vec::with_capacity(sends.len());
            for send in sends {
                let step = i64::from(send.step);
                let claimed = db.query_opt(
                    sql!("enrolment_claim"),
                    &[&send.enrolment_id, &step, &send.mailbox_id],
                )?;
                if claimed.is_none() {
                    begun.push(Begun::Elsewhere);
                    continue;
                }
                let inserted = db.query_opt(
                    sql!("send_begin"),
                    &[
                        &send.enrolment_id,
                        &step,
                        &send.mailbox_id,
                        &send.message_id,
                        &send.recipient,
                        &send.planned_at,
                        &now,
                    ],
                )?;
                let row = match inserted {
                    Some(row) => Some(row),
                    None => db.query_opt(
                        sql!("send_retry"),
                        &[
                            &send.enrolment_id,
                            &step,
                            &send.mailbox_id,
                            &send.planned_at,
                            &now,
                        ],
                    )?,
                };
                let id: Option<i64> = row.map(|r| r.try_get(0)).transpose()?;
                begun.push(id.map_or(Begun::AlreadySent, Begun::Planned));
            }
            Ok(begun)
        })
    }

    fn imap_folder(&self, mailbox_id: i64, folder: &str) -> Result<Option<(u32, u32)>> {
        self.query_opt(sql!("imap_folder_get"), &[&mailbox_id, &folder])?
            .map(|r| Ok((get_u32(&r, 0)?, get_u32(&r, 1)?)))
            .transpose()
    }

    fn set_imap_folder(
        &mut self,
        mailbox_id: i64,
        folder: &str,
        uidvalidity: u32,
        last_uid: u32,
    ) -> Result<()> {
        self.execute(
            sql!("imap_folder_put"),
            &[
                &mailbox_id,
                &folder,
                &i64::from(uidvalidity),
                &i64::from(last_uid),
            ],
        )?;
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
        self.transaction(|db| {
            if let Some(event) = &effects.event {
                insert_event(db, event)?;
            }
            for (enrolment_id, state, reason) in &effects.stop {
                db.execute(sql!("enrolment_stop"), &[enrolment_id, state, reason])?;
            }
            if let Some(s) = &effects.suppress {
                db.execute(sql!("suppression_add"), &[&s.value, &s.reason, &s.created_at])?;
            }
            if let Some((send_id, why)) = &effects.bounced_send {
                db.execute(sql!("send_mark_bounced"), &[send_id, why, &now])?;
            }
            if let Some((enrolment_id, not_before)) = effects.not_before {
                db.execute(sql!("enrolment_not_before"), &[&enrolment_id, &not_before])?;
            }
            db.execute(
                sql!("imap_folder_advance"),
                &[&mailbox_id, &folder, &i64::from(uidvalidity), &i64::from(uid)],
            )?;
            Ok(())
        })
    }

    fn inbound_seen(&self, mailbox_id: i64, message_id: &str) -> Result<bool> {
        Ok(self
            .query_one(sql!("event_seen"), &[&mailbox_id, &message_id])?
            .try_get(0)?)
    }

    fn send_by_message_ids(&self, message_ids: &[String]) -> Result<Option<SendRef>> {
        let mut found: Option<SendRef> = None;
        for id in message_ids {
            let Some(r) = self.query_opt(sql!("send_by_message_id"), &[id])? else {
                continue;
            };
            let send = SendRef {
                send_id: r.try_get(0)?,
                enrolment_id: r.try_get(1)?,
                lead_id: r.try_get(2)?,
                campaign_id: r.try_get(3)?,
                mailbox_id: r.try_get(4)?,
                step: get_u32(&r, 5)?,
                recipient: r.try_get(6)?,
                state: r.try_get(7)?,
            };
            if found.as_ref().is_none_or(|f| send.step > f.step) {
                found = Some(send);
            }
        }
        Ok(found)
    }

    fn lead_id_by_email(&self, email: &str) -> Result<Option<i64>> {
        self.query_opt(sql!("lead_by_email"), &[&email])?
            .map(|r| Ok(r.try_get(0)?))
            .transpose()
    }

    fn lead_id_by_linkedin(&self, profile_url: &str) -> Result<Option<i64>> {
        let Some(slug) = profile_url.strip_prefix(LINKEDIN_PROFILE_PREFIX) else {
            return Ok(None);
        };
        self.query_opt(sql!("lead_by_linkedin"), &[&slug])?
            .map(|r| Ok(r.try_get(0)?))
            .transpose()
    }

    fn open_enrolments(&self, lead_id: i64) -> Result<Vec<(i64, i64)>> {
        rows(self.query(sql!("enrolment_open_by_lead"), &[&lead_id])?, |r| {
            Ok((r.try_get(0)?, r.try_get(1)?))
        })
    }

    fn open_enrolments_at_domain(&self, campaign_id: i64, domain: &str) -> Result<Vec<i64>> {
        rows(
            self.query(sql!("enrolment_open_at_domain"), &[&campaign_id, &domain])?,
            |r| Ok(r.try_get(0)?),
        )
    }

    fn add_event(&mut self, event: &NewEvent) -> Result<()> {
        self.with(|db| insert_event(db, event))
    }

    fn lead_events(&self, lead_id: i64) -> Result<Vec<EventRow>> {
        rows(self.query(sql!("event_by_lead"), &[&lead_id])?, event_row)
    }

    fn campaign_events(&self, campaign_id: i64) -> Result<Vec<EventRow>> {
        rows(self.query(sql!("event_by_campaign"), &[&campaign_id])?, event_row)
    }

    fn mailbox_sends(&self) -> Result<Vec<MailboxSends>> {
        rows(self.query(sql!("mailbox_sends"), &[])?, |r| {
            Ok(MailboxSends {
                mailbox_id: r.try_get(0)?,
                sent: get_u64(r, 1)?,
                bounced: get_u64(r, 2)?,
            })
        })
    }

    fn mark_sending(&mut self, send_id: i64, now: i64) -> Result<()> {
        if self.execute(sql!("send_mark_sending"), &[&send_id, &now])? == 0 {
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
        self.transaction(|db| {
            let changed = db.execute(sql!("send_finish"), &[&send_id, &outcome.as_str(), &reply, &now])?;
            if changed == 0 {
                return Err(StoreError::Corrupt(format!("send {send_id} is not in progress")));
            }
            if let Some(a) = advance {
                db.execute(
                    sql!("enrolment_advance"),
                    &[
                        &a.enrolment_id,
                        &a.mailbox_id,
                        &i64::from(a.next_step),
                        &a.next_due,
                        &a.state,
                    ],
                )?;
            }
            Ok(())
        })
    }

    fn mark_interrupted_sends(&mut self, now: i64, mailbox_ids: &[i64]) -> Result<usize> {
        self.transaction(|db| {
            let mut in_doubt = 0;
            for mailbox_id in mailbox_ids {
                in_doubt += db.execute(sql!("send_mark_in_doubt"), &[&now, mailbox_id])?;
                db.execute(sql!("send_release_planned"), &[&now, mailbox_id])?;
            }
            Ok(in_doubt as usize)
        })
    }

    fn claim_leases(&mut self, kind: LeaseKind, worker: &str, lease_secs: u32) -> Result<Vec<i64>> {
        self.transaction(|db| {
            let now: i64 = db.query_one(sql!("lease_clock"), &[])?.try_get(0)?;
            let until = now + i64::from(lease_secs);
            db.execute(sql!("worker_seen"), &[&worker, &now])?;
            let mut held: Vec<i64> = rows(
                db.query(sql!("lease_renew"), &[&kind.as_str(), &worker, &until])?,
                |r| Ok(r.try_get(0)?),
            )?;
            held.sort_unstable();
            let alive: i64 = db
                .query_one(sql!("workers_alive"), &[&(now - i64::from(lease_secs))])?
                .try_get(0)?;
            let resources = db.query_one(sql!("lease_resources"), &[])?;
            let total: i64 = match kind {
                LeaseKind::Mailbox => resources.try_get(0)?,
                LeaseKind::LinkedinAccount => resources.try_get(1)?,
            };
            let share = fair_share(total, alive);
            while held.len() > share {
                let id = held.pop().expect("more than the share");
                db.execute(sql!("lease_drop"), &[&kind.as_str(), &id, &worker])?;
            }
            if held.len() < share {
                let wanted = (share - held.len()) as i64;
                let free = match kind {
                    LeaseKind::Mailbox => db.query(sql!("lease_free_mailbox"), &[&now, &wanted])?,
                    LeaseKind::LinkedinAccount => {
                        db.query(sql!("lease_free_linkedin_account"), &[&now, &wanted])?
                    }
                };
                for row in free {
                    let id: i64 = row.try_get(0)?;
                    let taken =
                        db.query_opt(sql!("lease_take"), &[&kind.as_str(), &id, &worker, &now, &until])?;
                    if taken.is_some() {
                        held.push(id);
                    }
                }
                held.sort_unstable();
            }
            Ok(held)
        })
    }

    fn renew_leases(&mut self, worker: &str, lease_secs: u32) -> Result<()> {
        self.transaction(|db| {
            let now: i64 = db.query_one(sql!("lease_clock"), &[])?.try_get(0)?;
            db.execute(sql!("worker_seen"), &[&worker, &now])?;
            db.execute(
                sql!("lease_renew_all"),
                &[&worker, &(now + i64::from(lease_secs))],
            )?;
            Ok(())
        })
    }

    fn release_leases(&mut self, worker: &str) -> Result<()> {
        self.transaction(|db| {
            db.execute(sql!("lease_release_all"), &[&worker])?;
            db.execute(sql!("worker_remove"), &[&worker])?;
            Ok(())
        })
    }

    fn leases(&self) -> Result<Vec<Lease>> {
        rows(self.query(sql!("lease_list"), &[])?, |r| {
            Ok(Lease {
                kind: r.try_get(0)?,
                resource_id: r.try_get(1)?,
                owner: r.try_get(2)?,
                acquired_at: r.try_get(3)?,
                expires_at: r.try_get(4)?,
            })
        })
    }

    fn send_totals(&self) -> Result<std::collections::BTreeMap<String, u64>> {
        self.query(sql!("send_totals"), &[])?
            .iter()
            .map(|r| Ok((r.try_get(0)?, get_u64(r, 1)?)))
            .collect()
    }

    fn due_count(&self, now: i64) -> Result<u64> {
        get_u64(&self.query_one(sql!("enrolment_due_count"), &[&now])?, 0)
    }

    fn due_enrolments(&self, now: i64, limit_rows: usize) -> Result<Vec<DueRow>> {
        rows(
            self.query(sql!("enrolment_due"), &[&now, &limit(limit_rows)])?,
            |r| {
                Ok(DueRow {
                    enrolment_id: r.try_get(0)?,
                    campaign_id: r.try_get(1)?,
                    lead_id: r.try_get(2)?,
                    mailbox_id: r.try_get(3)?,
                    step: get_u32(r, 4)?,
                    due: r.try_get(5)?,
                    email: r.try_get(6)?,
                    timezone: r.try_get(7)?,
                })
            },
        )
    }

    fn later_due(&self, now: i64) -> Result<Option<i64>> {
        Ok(self.query_one(sql!("enrolment_later_due"), &[&now])?.try_get(0)?)
    }

    fn mailbox_activity(&self, mailbox_id: i64, from: i64, to: i64) -> Result<MailboxActivity> {
        let r = self.query_one(sql!("mailbox_activity"), &[&mailbox_id, &from, &to])?;
        Ok(MailboxActivity {
            sent_in_range: get_u32(&r, 0)?,
            last_send: r.try_get(1)?,
            first_send: r.try_get(2)?,
        })
    }

    fn campaign_new_leads(&self, campaign_id: i64, from: i64, to: i64) -> Result<u32> {
        get_u32(
            &self.query_one(sql!("campaign_new_leads"), &[&campaign_id, &from, &to])?,
            0,
        )
    }

    fn thread(&self, enrolment_id: i64) -> Result<Vec<String>> {
        rows(self.query(sql!("send_thread"), &[&enrolment_id])?, |r| {
            Ok(r.try_get(0)?)
        })
    }

    fn await_linkedin(&mut self, enrolment_id: i64) -> Result<()> {
        self.execute(sql!("enrolment_await_linkedin"), &[&enrolment_id])?;
        Ok(())
    }

    fn add_linkedin_account(&mut self, a: &LinkedinAccount) -> Result<i64> {
        let created_at = if a.created_at > 0 {
            a.created_at
        } else {
            unix_now()
        };
        match self.query_one(
            sql!("linkedin_account_add"),
            &[
                &a.name,
                &a.plan,
                &a.invitations_per_week.map(i64::from),
                &a.messages_per_week.map(i64::from),
                &a.timezone,
                &created_at,
                &i64::from(a.inmail_credits),
            ],
        ) {
            Ok(row) => Ok(row.try_get(0)?),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Usage(format!(
                "a LinkedIn account named {:?} already exists",
                a.name
            ))),
            Err(e) => Err(e),
        }
    }

    fn linkedin_accounts(&self) -> Result<Vec<LinkedinAccount>> {
        rows(self.query(sql!("linkedin_account_list"), &[])?, |r| {
            Ok(LinkedinAccount {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                plan: r.try_get(2)?,
                invitations_per_week: get_opt_u32(r, 3)?,
                messages_per_week: get_opt_u32(r, 4)?,
                timezone: r.try_get(5)?,
                guard_resumed_at: r.try_get(6)?,
                inmail_credits: get_u32(r, 7)?,
                created_at: r.try_get(8)?,
            })
        })
    }

    fn linkedin_tasks(&self, account_id: i64, since: i64) -> Result<Vec<LinkedinTask>> {
        rows(
            self.query(sql!("linkedin_tasks_of_account"), &[&account_id, &since])?,
            linkedin_task_row,
        )
    }

    fn linkedin_task(&self, task_id: i64) -> Result<Option<LinkedinTask>> {
        self.query_opt(sql!("linkedin_task_by_id"), &[&task_id])?
            .map(|r| linkedin_task_row(&r))
            .transpose()
    }

    fn linkedin_connect_of_lead(&self, lead_id: i64) -> Result<Option<LinkedinTask>> {
        self.query_opt(sql!("linkedin_connect_of_lead"), &[&lead_id])?
            .map(|r| linkedin_task_row(&r))
            .transpose()
    }

    fn linkedin_due(&self, now: i64, limit_rows: usize) -> Result<Vec<LinkedinDue>> {
        rows(
            self.query(sql!("linkedin_due"), &[&now, &limit(limit_rows)])?,
            |r| {
                Ok(LinkedinDue {
                    enrolment_id: r.try_get(0)?,
                    campaign_id: r.try_get(1)?,
                    lead_id: r.try_get(2)?,
                    step: get_u32(r, 3)?,
                    due: r.try_get(4)?,
                    account_id: r.try_get(5)?,
                })
            },
        )
    }

    fn assign_linkedin_account(&mut self, enrolment_id: i64, account_id: i64) -> Result<()> {
        self.execute(sql!("enrolment_assign_linkedin"), &[&enrolment_id, &account_id])?;
        Ok(())
    }

    fn add_linkedin_task(&mut self, t: &LinkedinTask) -> Result<Option<i64>> {
        self.query_opt(
            sql!("linkedin_task_add"),
            &[
                &t.account_id,
                &t.enrolment_id,
                &t.campaign_id,
                &t.lead_id,
                &i64::from(t.step),
                &t.kind,
                &t.note,
                &t.subject,
                &t.body,
                &t.why_no_note,
                &t.due,
                &t.created_at,
            ],
        )?
        .map(|r| Ok(r.try_get(0)?))
        .transpose()
    }

    fn finish_linkedin_task(
        &mut self,
        task_id: i64,
        state: &str,
        now: i64,
        a: Option<&Advance>,
    ) -> Result<bool> {
        self.transaction(|db| {
            let closed = db.execute(sql!("linkedin_task_finish"), &[&task_id, &state, &now])?;
            if let (1, Some(a)) = (closed, a) {
                db.execute(
                    sql!("enrolment_advance_linkedin"),
                    &[&a.enrolment_id, &i64::from(a.next_step), &a.next_due, &a.state],
                )?;
            }
            Ok(closed == 1)
        })
    }

    fn linkedin_withdrawn_at(&self, lead_id: i64) -> Result<Option<i64>> {
        Ok(self
            .query_one(sql!("linkedin_withdrawn_at"), &[&lead_id])?
            .try_get(0)?)
    }

    fn resume_linkedin_invitations(&mut self, name: &str, now: i64) -> Result<bool> {
        Ok(self.execute(sql!("linkedin_account_resume"), &[&name, &now])? == 1)
    }

    fn set_invitation_outcome(
        &mut self,
        task_id: i64,
        accepted_at: Option<i64>,
        declined: bool,
    ) -> Result<()> {
        self.execute(
            sql!("linkedin_task_outcome"),
            &[&task_id, &accepted_at, &declined],
        )?;
        Ok(())
    }

    fn advance_linkedin(&mut self, a: &Advance) -> Result<()> {
        self.execute(
            sql!("enrolment_advance_linkedin"),
            &[&a.enrolment_id, &i64::from(a.next_step), &a.next_due, &a.state],
        )?;
        Ok(())
    }

    fn park_enrolment(&mut self, enrolment_id: i64, state: &str, reason: &str) -> Result<()> {
        self.execute(sql!("enrolment_park"), &[&enrolment_id, &state, &reason])?;
        Ok(())
    }

    fn lead(&self, lead_id: i64) -> Result<Option<StoredLead>> {
        self.query_opt(sql!("lead_by_id"), &[&lead_id])?
            .map(|r| stored_lead(&r))
            .transpose()
    }

    fn mailbox_recent_outcomes(&self, mailbox_id: i64, last: u32) -> Result<(u32, u32)> {
        let r = self.query_one(sql!("mailbox_recent_outcomes"), &[&mailbox_id, &i64::from(last)])?;
        Ok((get_u32(&r, 0)?, get_u32(&r, 1)?))
    }

    fn recent_domain_sends(&self, since: i64) -> Result<Vec<(String, u32, i64)>> {
        rows(self.query(sql!("recent_domain_sends"), &[&since])?, |r| {
            Ok((r.try_get(0)?, get_u32(r, 1)?, r.try_get(2)?))
        })
    }

    fn recent_sends(&self, since: i64) -> Result<Vec<(String, i64)>> {
        rows(self.query(sql!("recent_sends"), &[&since])?, |r| {
            Ok((r.try_get(0)?, r.try_get(1)?))
        })
    }

    fn sequence_enrolments(&self) -> Result<Vec<SequenceRow>> {
        rows(self.query(sql!("enrolment_in_sequence"), &[])?, |r| {
            Ok(SequenceRow {
                enrolment_id: r.try_get(0)?,
                campaign_id: r.try_get(1)?,
                lead_id: r.try_get(2)?,
                state: r.try_get(3)?,
                step: get_u32(r, 4)?,
                due: r.try_get(5)?,
                mailbox_id: r.try_get(6)?,
                linkedin_account_id: r.try_get(7)?,
                email: r.try_get(8)?,
                timezone: r.try_get(9)?,
                suppressed: r.try_get(10)?,
            })
        })
    }

    fn set_mailbox_paused(&mut self, name: &str, reason: Option<&str>) -> Result<bool> {
        Ok(self.execute(sql!("mailbox_set_paused"), &[&name, &reason])? == 1)
    }

    fn set_mailbox_secret(
        &mut self,
        name: &str,
        password_env: Option<&str>,
        sealed: Option<&str>,
    ) -> Result<bool> {
        Ok(self.execute(sql!("mailbox_set_secret"), &[&name, &password_env, &sealed])? == 1)
    }

    fn add_user(&mut self, name: &str, password_hash: &str, now: i64) -> Result<i64> {
        self.insert_named(sql!("user_add"), &[&name, &password_hash, &now], "a user", name)
    }

    fn users(&self) -> Result<Vec<User>> {
        rows(self.query(sql!("user_list"), &[])?, user_row)
    }

    fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        self.query_opt(sql!("user_by_name"), &[&name])?
            .map(|r| user_row(&r))
            .transpose()
    }

    fn remove_user(&mut self, name: &str) -> Result<bool> {
        // The sessions go with it: ON DELETE CASCADE.
        Ok(self.execute(sql!("user_remove"), &[&name])? == 1)
    }

    fn add_session(&mut self, s: &NewSession) -> Result<()> {
        self.execute(
            sql!("session_add"),
            &[&&s.id_hash[..], &s.user_id, &s.created_at, &s.expires_at],
        )?;
        Ok(())
    }

    fn session(&self, id_hash: &[u8; 32]) -> Result<Option<Session>> {
        self.query_opt(sql!("session_get"), &[&&id_hash[..]])?
            .map(|r| {
                Ok(Session {
                    user_id: r.try_get(0)?,
                    user_name: r.try_get(1)?,
                    created_at: r.try_get(2)?,
                    last_seen: r.try_get(3)?,
                    expires_at: r.try_get(4)?,
                })
            })
            .transpose()
    }

    fn touch_session(&mut self, id_hash: &[u8; 32], now: i64) -> Result<()> {
        self.execute(sql!("session_touch"), &[&&id_hash[..], &now])?;
        Ok(())
    }

    fn remove_session(&mut self, id_hash: &[u8; 32]) -> Result<bool> {
        Ok(self.execute(sql!("session_remove"), &[&&id_hash[..]])? == 1)
    }

    fn purge_sessions(&mut self, now: i64, idle_since: i64) -> Result<usize> {
        Ok(self.execute(sql!("session_purge"), &[&now, &idle_since])? as usize)
    }

    fn add_api_token(&mut self, name: &str, token_hash: &[u8; 32], now: i64) -> Result<i64> {
        self.insert_named(
            sql!("api_token_add"),
            &[&name, &&token_hash[..], &now],
            "an API token",
            name,
        )
    }

    fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        rows(self.query(sql!("api_token_list"), &[])?, api_token_row)
    }

    fn api_token_by_hash(&self, token_hash: &[u8; 32]) -> Result<Option<ApiToken>> {
        self.query_opt(sql!("api_token_by_hash"), &[&&token_hash[..]])?
            .map(|r| api_token_row(&r))
            .transpose()
    }

    fn touch_api_token(&mut self, token_id: i64, now: i64) -> Result<()> {
        self.execute(sql!("api_token_touch"), &[&token_id, &now])?;
        Ok(())
    }

    fn revoke_api_token(&mut self, name: &str) -> Result<bool> {
        Ok(self.execute(sql!("api_token_revoke"), &[&name])? == 1)
    }

    fn daily_activity(&self, from_day: i64, to_day: i64) -> Result<Vec<DailyActivity>> {
        rows(self.query(sql!("daily_activity"), &[&from_day, &to_day])?, |r| {
            Ok(DailyActivity {
                day: r.try_get(0)?,
                sent: get_u64(r, 1)?,
                replies: get_u64(r, 2)?,
                bounces: get_u64(r, 3)?,
            })
        })
    }

    fn attention_counts(&self) -> Result<AttentionCounts> {
        let r = self.query_one(sql!("attention_counts"), &[])?;
        Ok(AttentionCounts {
            needs_attention: get_u64(&r, 0)?,
            in_doubt: get_u64(&r, 1)?,
        })
    }

    fn max_lead_id(&self) -> Result<i64> {
        Ok(self.query_one(sql!("lead_max_id"), &[])?.try_get(0)?)
    }

    fn lead_window(
        &self,
        filter: &LeadFilter,
        from_id: i64,
        to_id: i64,
        limit_rows: usize,
    ) -> Result<Vec<StoredLead>> {
        // lead_filter.sql takes $1–$7; the limit comes after it.
        let sql = concat!(sql!("lead_window"), sql!("lead_filter"), "ORDER BY l.id LIMIT $8");
        let search = filter.search.as_deref().map(like_prefix);
        let found = self.query(
            sql,
            &[
                &from_id,
                &to_id,
                &search,
                &filter.list,
                &filter.email_status,
                &filter.campaign_id,
                &filter.suppressed,
                &limit(limit_rows),
            ],
        )?;
        rows(found, stored_lead)
    }

    fn count_lead_window(&self, filter: &LeadFilter, from_id: i64, to_id: i64) -> Result<u64> {
        let sql = concat!(sql!("lead_window_count"), sql!("lead_filter"));
        let search = filter.search.as_deref().map(like_prefix);
        let r = self.query_one(
            sql,
            &[
                &from_id,
                &to_id,
                &search,
                &filter.list,
                &filter.email_status,
                &filter.campaign_id,
                &filter.suppressed,
            ],
        )?;
        get_u64(&r, 0)
    }

    fn lead_sends(&self, lead_id: i64) -> Result<Vec<LeadSend>> {
        rows(self.query(sql!("lead_sends"), &[&lead_id])?, |r| {
            Ok(LeadSend {
                campaign_id: r.try_get(0)?,
                campaign: r.try_get(1)?,
                step: get_u32(r, 2)?,
                state: r.try_get(3)?,
                recipient: r.try_get(4)?,
                at: r.try_get(5)?,
            })
        })
    }

    fn lead_linkedin_tasks(&self, lead_id: i64) -> Result<Vec<LinkedinTask>> {
        rows(
            self.query(sql!("linkedin_task_by_lead"), &[&lead_id])?,
            linkedin_task_row,
        )
    }

    fn inbox(&self, before_id: i64, limit_rows: usize) -> Result<Vec<InboxItem>> {
        rows(
            self.query(sql!("inbox"), &[&before_id, &limit(limit_rows)])?,
            |r| {
                Ok(InboxItem {
                    event_id: r.try_get(0)?,
                    lead_id: r.try_get(1)?,
                    email: r.try_get(2)?,
                    first_name: r.try_get(3)?,
                    last_name: r.try_get(4)?,
                    campaign_id: r.try_get(5)?,
                    campaign: r.try_get(6)?,
                    from_address: r.try_get(7)?,
                    subject: r.try_get(8)?,
                    snippet: r.try_get(9)?,
                    at: r.try_get(10)?,
                })
            },
        )
    }

    fn mark_reply_handled(&mut self, event_id: i64, now: i64) -> Result<bool> {
        Ok(self.execute(sql!("inbox_handled"), &[&event_id, &now])? == 1)
    }

    fn suppression_page(&self, search: &str, after: &str, limit_rows: usize) -> Result<Vec<Suppression>> {
        let pattern = format!("%{}%", escape_like(&search.to_lowercase()));
        let found = self.query(sql!("suppression_page"), &[&pattern, &after, &limit(limit_rows)])?;
        rows(found, |r| {
            Ok(Suppression {
                value: r.try_get(0)?,
                reason: r.try_get(1)?,
                created_at: r.try_get(2)?,
            })
        })
    }
}

/// Encoded new leads handed to the import's thread at a time.
const CHUNK_BYTES: usize = 64 * 1024;

/// Chunks waiting for the import's thread: with the socket's buffers, how far the
/// engine may run ahead of the server.
const CHUNKS_QUEUED: usize = 16;

/// Lead ids reserved per round trip, at most (as many as the import expects, when
/// fewer): each reservation closes the COPY. The sequence is set back to the last id
/// used at commit; a rolled-back import skips the ids it reserved.
const ID_BLOCK: u64 = 1 << 20;

/// List memberships staged per COPY.
const MEMBER_BATCH: usize = 1 << 16;

/// Stored leads fetched per round trip by an import's reads (see `lead_read_ahead.sql`).
const READ_AHEAD: i64 = 1024;

/// An import of at least this many rows is large: it may defer index builds (see
/// `import_defer_indexes.sql`, `import_defer_primary_key.sql`).
const LARGE_IMPORT_ROWS: u64 = 20_000;

/// Changes to its own leads an import keeps waiting for the primary key, at most;
/// one more brings the key back early.
const WAITING_UPDATES_MAX: usize = 4096;

/// Leads an import keeps as read (or changed) before it starts afresh.
const READ_CACHE: usize = 16 * 1024;

/// Identities sent at a time from the thread that reads them (see `for_each_identity`).
const IDENTITY_BATCH: usize = 4096;

/// A binary COPY's header (signature, flags, no extension) and trailer.
const COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
const COPY_TRAILER: [u8; 2] = (-1i16).to_be_bytes();

/// The columns a COPY of new leads names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LeadColumns {
    /// `lead_copy_usual.sql`: without those most files never fill.
    Usual,
    /// `lead_copy.sql`: every column.
    All,
}

impl LeadColumns {
    /// The columns `lead` needs, whose stored full name is `full_name`
    /// ([`stored_full_name`]).
    fn of(lead: &Lead, full_name: Option<&str>) -> LeadColumns {
        let usual =
            full_name.is_none() && lead.timezone.is_none() && lead.phone.is_none() && lead.custom.is_empty();
        if usual {
            LeadColumns::Usual
        } else {
            LeadColumns::All
        }
    }

    fn count(self) -> i16 {
        match self {
            LeadColumns::Usual => 12,
            LeadColumns::All => 16,
        }
    }
}

type Work = Box<dyn FnOnce(&mut Db<'_, Transaction<'_>>) + Send>;

/// What the import's thread ends with: the connection and the import's outcome.
type Served = (Connection, Result<()>);

/// What the import's thread is asked to do, in order.
enum Job {
    /// New leads, as binary COPY tuples of these columns ([`encode_lead`]).
    Leads(Vec<u8>, LeadColumns),
    /// Anything else, once the leads sent before it are stored.
    Run(Work),
    Commit,
}

/// An import transaction. Its connection is lent to a thread of its own for the
/// import's length ([`serve_import`]), which keeps one COPY of new leads open while
/// only new leads come: the server stores them while the engine reads and
/// deduplicates the next ones, and a read or an update (rare: a duplicate, a hash
/// collision) closes the COPY first, so it sees them. New leads are encoded once,
/// straight from the engine's borrowed `Lead`, into the COPY's binary tuples. (The
/// engine reads its own new leads back from its file, not through `get`, which
/// would close the COPY.) The transaction rolls back when the import is dropped
/// uncommitted; either way the connection goes back home.
struct PgImport<'a> {
    /// Where the connection goes back (the store's slot).
    home: &'a mut Option<Connection>,
    /// `None` once the import's thread has ended.
    jobs: Option<SyncSender<Job>>,
    /// `None` inside if the thread never got the connection.
    worker: Option<JoinHandle<Option<Served>>>,
    /// Unix seconds of the import, for every row it touches.
    now: i64,
    lists: HashMap<String, i64>,
    /// New leads being encoded, not yet sent, and their columns: the usual ones
    /// until a lead needs them all.
    building: Vec<u8>,
    columns: LeadColumns,
    /// Buffers of chunks sent, emptied by the import's thread, to be filled again: a
    /// fresh one each time would be fresh pages for the kernel to zero.
    emptied: Receiver<Vec<u8>>,
    /// The next id to hand out and the last one reserved (`next > last`: none left).
    next_id: i64,
    last_reserved: i64,
    /// The highest id inserted, if any (the sequence is set to it at commit).
    last_inserted: Option<i64>,
    /// Rows to reserve ids for at a time.
    id_block: i64,
    /// Stored leads as read ahead of `get`, or as last changed by `update`.
    read_ahead: HashMap<i64, Lead>,
    /// The id `get` last read from the server: reads ahead only follow a forward walk.
    last_read: i64,
    /// (list, lead) memberships not yet staged.
    members: Vec<(i64, i64)>,
    members_staged: bool,
    /// The email index was dropped, to be rebuilt at commit (see
    /// `import_defer_indexes.sql`).
    defer_indexes: bool,
    /// The primary key (and the foreign keys on it) was dropped, to be rebuilt at
    /// commit or once too many changes wait (see `import_defer_primary_key.sql`).
    defer_primary_key: bool,
    /// Changes to the import's own leads, kept here while the primary key is away.
    waiting_updates: HashMap<i64, Lead>,
}

impl<'a> PgImport<'a> {
    fn begin(home: &'a mut Option<Connection>, expected_rows: u64) -> Result<PgImport<'a>> {
        let Some(conn) = home.take() else {
            unreachable!("the connection lives as long as the store")
        };
        let (jobs, queue) = std::sync::mpsc::sync_channel(CHUNKS_QUEUED);
        let (give_back, emptied) = std::sync::mpsc::sync_channel(CHUNKS_QUEUED);
        // The connection is handed over once the thread runs: if it cannot start,
        // the store keeps its connection.
        let (hand_over, handed) = std::sync::mpsc::sync_channel::<Connection>(1);
        let worker = std::thread::Builder::new()
            .name("inroad-pg-import".into())
            .spawn(move || {
                handed
                    .recv()
                    .ok()
                    .map(|conn| serve_import(conn, &queue, &give_back))
            });
        let worker = match worker {
            Ok(worker) => worker,
            Err(e) => {
                *home = Some(conn);
                return Err(StoreError::Usage(format!(
                    "cannot start the import's thread: {e}"
                )));
            }
        };
        if let Err(std::sync::mpsc::SendError(conn)) = hand_over.send(conn) {
            *home = Some(conn);
        }
        let mut import = PgImport {
            home,
            jobs: Some(jobs),
            worker: Some(worker),
            now: unix_now(),
            lists: HashMap::new(),
            building: Vec::new(),
            columns: LeadColumns::Usual,
            emptied,
            next_id: 1,
            last_reserved: 0,
            last_inserted: None,
            id_block: expected_rows.clamp(1, ID_BLOCK) as i64,
            read_ahead: HashMap::new(),
            last_read: i64::MAX,
            members: Vec::new(),
            members_staged: false,
            defer_indexes: false,
            defer_primary_key: false,
            waiting_updates: HashMap::new(),
        };
        // Answered once the transaction is open and holds its lock. Rebuilding costs
        // a sort of the whole table: worth it when the import is large both in
        // itself and next to what is stored (as in SQLite).
        (import.defer_indexes, import.defer_primary_key) = import.call(move |db| {
            let stored: i64 = db.query_one(sql!("lead_max_id"), &[])?.try_get(0)?;
            let large = expected_rows >= LARGE_IMPORT_ROWS;
            let defer_indexes = large && expected_rows.saturating_mul(2) >= stored.unsigned_abs();
            let defer_primary_key = large && stored == 0;
            if defer_indexes {
                db.client.batch_execute(sql!("import_defer_indexes"))?;
            }
            if defer_primary_key {
                db.client.batch_execute(sql!("import_defer_primary_key"))?;
            }
            Ok((defer_indexes, defer_primary_key))
        })?;
        Ok(import)
    }

    fn send(&mut self, job: Job) -> Result<()> {
        let sent = self.jobs.as_ref().is_some_and(|jobs| jobs.send(job).is_ok());
        if sent {
            Ok(())
        } else {
            Err(self.stopped())
        }
    }

    /// Runs `work` on the import's thread after everything inserted so far is
    /// stored, and returns its answer.
    fn call<T: Send + 'static>(
        &mut self,
        work: impl FnOnce(&mut Db<'_, Transaction<'_>>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.send_building()?;
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.send(Job::Run(Box::new(move |db| {
            let _ = reply.send(work(db));
        })))?;
        answer.recv().unwrap_or_else(|_| Err(self.stopped()))
    }

    /// The import's thread has ended (on an error): takes the connection back and
    /// returns the error.
    fn stopped(&mut self) -> StoreError {
        self.jobs = None;
        match self.finish() {
            Err(e) => e,
            Ok(()) => StoreError::Usage("the import has already ended".into()),
        }
    }

    /// Lets the import's thread end (committing if asked to before) and takes the
    /// connection back: its outcome.
    fn finish(&mut self) -> Result<()> {
        self.jobs = None;
        let Some(worker) = self.worker.take() else {
            return Ok(());
        };
        match worker.join() {
            Ok(Some((conn, outcome))) => {
                *self.home = Some(conn);
                outcome
            }
            Ok(None) => Err(StoreError::Usage(
                "the import's thread ended before it began".into(),
            )),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// Hands the leads encoded so far to the import's thread.
    fn send_building(&mut self) -> Result<()> {
        if self.building.is_empty() {
            return Ok(());
        }
        let fresh = self
            .emptied
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK_BYTES + CHUNK_BYTES / 4));
        let building = std::mem::replace(&mut self.building, fresh);
        self.send(Job::Leads(building, self.columns))
    }

    fn flush_members(&mut self) -> Result<()> {
        if self.members.is_empty() {
            return Ok(());
        }
        let members = std::mem::take(&mut self.members);
        let stage = !self.members_staged;
        self.members_staged = true;
        self.call(move |db| {
            if stage {
                db.client.batch_execute(sql!("import_members_stage"))?;
            }
            let writer = db.client.copy_in(sql!("import_members_copy"))?;
            let mut writer = BinaryCopyInWriter::new(writer, &[Type::INT8, Type::INT8]);
            for (list_id, lead_id) in &members {
                writer.write(&[list_id, lead_id])?;
            }
            writer.finish()?;
            Ok(())
        })
    }

    /// Brings the primary key back (if it was away) and applies the changes that
    /// waited for it.
    fn restore_primary_key(&mut self) -> Result<()> {
        if !self.defer_primary_key {
            return Ok(());
        }
        self.defer_primary_key = false;
        let (waiting, now) = (std::mem::take(&mut self.waiting_updates), self.now);
        self.call(move |db| {
            db.client.batch_execute(sql!("import_restore_primary_key"))?;
            for (id, lead) in &waiting {
                update_stored(db, *id, lead, now)?;
            }
            Ok(())
        })
    }

    fn next_id(&mut self) -> Result<i64> {
        if self.next_id > self.last_reserved {
            let block = self.id_block;
            let last: i64 = self.call(move |db| {
                db.query_one(sql!("lead_reserve_ids"), &[&block])?
                    .try_get(0)
                    .map_err(StoreError::from)
            })?;
            self.next_id = last - block + 1;
            self.last_reserved = last;
        }
        let id = self.next_id;
        self.next_id += 1;
        Ok(id)
    }
}

impl LeadImport for PgImport<'_> {
    fn for_each_identity(&mut self, f: &mut dyn FnMut(i64, &Lead)) -> Result<()> {
        // Rows are read and decoded on the import's thread and handed over in batches,
        // so `f` (not `Send`) runs here, the index is built while the next rows
        // arrive, and a million leads are never held at once.
        let (batches, received) = std::sync::mpsc::sync_channel::<Result<Vec<(i64, Lead)>>>(2);
        self.send_building()?;
        self.send(Job::Run(Box::new(move |db| {
            let mut read = || -> Result<()> {
                let statement = db.statement(sql!("lead_identities"))?;
                let mut rows = db.client.query_raw(&statement, std::iter::empty::<i64>())?;
                let mut batch = Vec::with_capacity(IDENTITY_BATCH);
                while let Some(row) = postgres::fallible_iterator::FallibleIterator::next(&mut rows)? {
                    let lead = Lead {
                        email: row.try_get(1)?,
                        linkedin_url: row.try_get::<_, Option<String>>(2)?.map(url_from_slug),
                        first_name: row.try_get(3)?,
                        last_name: row.try_get(4)?,
                        domain: row.try_get(5)?,
                        company: row.try_get(6)?,
                        ..Lead::default()
                    };
                    batch.push((row.try_get(0)?, lead));
                    if batch.len() == IDENTITY_BATCH {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(IDENTITY_BATCH));
                        if batches.send(Ok(full)).is_err() {
                            return Ok(());
                        }
                    }
                }
                let _ = batches.send(Ok(batch));
                Ok(())
            };
            if let Err(e) = read() {
                let _ = batches.send(Err(e));
            }
        })))?;
        for batch in received {
            for (id, lead) in batch? {
                f(id, &lead);
            }
        }
        // The batches also end if the import's thread stopped: this says whether it did.
        self.call(|_| Ok(()))
    }

    fn get(&mut self, id: i64) -> Result<Lead> {
        if let Some(lead) = self.waiting_updates.get(&id).or_else(|| self.read_ahead.get(&id)) {
            return Ok(lead.clone());
        }
        // A walk forward through the stored leads (a re-import of a file) reads ahead;
        // a lone read (a duplicate of an earlier lead) fetches just the one lead.
        let walking = (self.last_read..self.last_read.saturating_add(READ_AHEAD)).contains(&id);
        self.last_read = id;
        let count: i64 = if walking { READ_AHEAD } else { 1 };
        let read = self.call(move |db| {
            db.query(sql!("lead_read_ahead"), &[&id, &count])?
                .iter()
                .map(|row| Ok((row.try_get(0)?, lead_from_row(row, 1)?)))
                .collect::<Result<Vec<(i64, Lead)>>>()
        })?;
        if self.read_ahead.len() + read.len() > READ_CACHE {
            self.read_ahead.clear();
        }
        self.read_ahead.extend(read);
        self.read_ahead
            .get(&id)
            .cloned()
            .ok_or_else(|| StoreError::Corrupt(format!("lead {id} vanished during import")))
    }

    fn own_reads_interrupt(&self) -> bool {
        true // they close the COPY
    }

    fn find(&mut self, kind: KeyKind, lead: &Lead) -> Result<Option<i64>> {
        // Rare (a hash collision in the engine's index), so a round trip costs little.
        let lead = lead.clone();
        self.call(move |db| find_stored(db, kind, &lead))
    }

    fn insert(&mut self, lead: &Lead, notes: Option<&str>) -> Result<i64> {
        let id = self.next_id()?;
        // Compared with the first and last names once, for both uses.
        let full_name = stored_full_name(lead);
        if self.columns == LeadColumns::Usual && LeadColumns::of(lead, full_name) == LeadColumns::All {
            // What is encoded so far goes as it is; from here on, every column.
            self.send_building()?;
            self.columns = LeadColumns::All;
        }
        encode_lead(
            &mut self.building,
            (id, lead, full_name, notes),
            self.now,
            self.columns,
        )?;
        self.last_inserted = Some(id);
        if self.building.len() >= CHUNK_BYTES {
            self.send_building()?;
        }
        Ok(id)
    }

    fn update(&mut self, id: i64, lead: &Lead) -> Result<()> {
        if self.defer_primary_key {
            // Every lead is the import's own (the table was empty), and without the
            // primary key an UPDATE by id would scan the table.
            self.read_ahead.remove(&id); // read before this change
            self.waiting_updates.insert(id, lead.clone());
            if self.waiting_updates.len() > WAITING_UPDATES_MAX {
                self.restore_primary_key()?;
            }
            return Ok(());
        }
        self.restore_primary_key()?;
        let (now, changed) = (self.now, lead.clone());
        self.call(move |db| update_stored(db, id, &changed, now))?;
        if self.read_ahead.len() >= READ_CACHE {
            self.read_ahead.clear();
        }
        self.read_ahead.insert(id, lead.clone());
        Ok(())
    }

    fn add_to_list(&mut self, list: &str, id: i64) -> Result<()> {
        let list_id = match self.lists.get(list) {
            Some(list_id) => *list_id,
            None => {
                // What SQLite's TEXT column holds for the import's unix seconds.
                let (name, created_at) = (list.to_owned(), self.now.to_string());
                let list_id: i64 = self.call(move |db| {
                    db.query_one(sql!("list_upsert"), &[&name, &created_at])?
                        .try_get(0)
                        .map_err(StoreError::from)
                })?;
                self.lists.insert(list.to_owned(), list_id);
                list_id
            }
        };
        self.members.push((list_id, id));
        if self.members.len() >= MEMBER_BATCH {
            // Memberships of leads not yet stored are fine: the staging table has no
            // foreign keys, and the merge at commit runs after the last lead is in.
            self.flush_members()?;
        }
        Ok(())
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        self.flush_members()?;
        self.restore_primary_key()?;
        let (members_staged, last_inserted, defer_indexes) =
            (self.members_staged, self.last_inserted, self.defer_indexes);
        self.call(move |db| {
            if defer_indexes {
                db.client.batch_execute(sql!("import_restore_indexes"))?;
            }
            if members_staged {
                db.execute(sql!("import_members_apply"), &[])?;
            }
            if let Some(last) = last_inserted {
                db.query_one(sql!("lead_ids_sync"), &[&last])?;
            }
            Ok(())
        })?;
        self.send(Job::Commit)?;
        self.finish()
    }
}

impl Drop for PgImport<'_> {
    fn drop(&mut self) {
        // Not committed: the import's thread rolls back once it sees no more jobs.
        // An error here was reported by the call that met it.
        let _ = self.finish();
    }
}

/// The import's thread: opens the transaction and runs the jobs in order, keeping a
/// COPY of new leads open from the first new lead until anything else comes. Ends
/// at the commit, at the first error, or when the import is dropped (rolling back);
/// hands the connection back in any case.
fn serve_import(mut conn: Connection, jobs: &Receiver<Job>, emptied: &SyncSender<Vec<u8>>) -> Served {
    let outcome = serve_jobs(&mut conn, jobs, emptied);
    (conn, outcome)
}

/// Runs an import's jobs; each chunk of leads, once written, goes back `emptied`.
fn serve_jobs(conn: &mut Connection, jobs: &Receiver<Job>, emptied: &SyncSender<Vec<u8>>) -> Result<()> {
    let Connection { client, statements } = conn;
    let mut tx = client.transaction()?;
    tx.batch_execute(sql!("import_lock"))?;
    let mut db = Db {
        client: &mut tx,
        statements,
    };
    let (usual, all) = (
        db.statement(sql!("lead_copy_usual"))?,
        db.statement(sql!("lead_copy"))?,
    );
    let mut next = jobs.recv();
    loop {
        match next {
            // The import was dropped uncommitted: dropping `tx` rolls back.
            Err(_) => return Ok(()),
            Ok(Job::Commit) => return Ok(tx.commit()?),
            Ok(Job::Run(work)) => {
                work(&mut Db {
                    client: &mut tx,
                    statements,
                });
                next = jobs.recv();
            }
            Ok(Job::Leads(first, columns)) => {
                let copy = match columns {
                    LeadColumns::Usual => &usual,
                    LeadColumns::All => &all,
                };
                let mut writer = tx.copy_in(copy)?;
                writer.write_all(COPY_HEADER).map_err(copy_error)?;
                let mut chunk = first;
                next = loop {
                    writer.write_all(&chunk).map_err(copy_error)?;
                    // Out to the server now, not with the next chunk.
                    writer.flush().map_err(copy_error)?;
                    chunk.clear();
                    let _ = emptied.try_send(chunk);
                    match jobs.recv() {
                        Ok(Job::Leads(more, same)) if same == columns => chunk = more,
                        other => break other,
                    }
                };
                writer.write_all(&COPY_TRAILER).map_err(copy_error)?;
                writer.finish()?;
            }
        }
    }
}

/// The driver's error behind a failed write to a COPY.
fn copy_error(e: std::io::Error) -> StoreError {
    match e.downcast::<postgres::Error>() {
        Ok(e) => StoreError::Postgres(e),
        Err(e) => StoreError::Usage(format!("writing to the database: {e}")),
    }
}

/// Appends lead `id`, whose stored full name is `full_name` ([`stored_full_name`]),
/// to `out` as a tuple of a binary COPY into `columns` (which must include those the
/// lead needs: [`LeadColumns::of`]); on an error, `out` is as it was.
fn encode_lead(
    out: &mut Vec<u8>,
    (id, lead, full_name, notes): (i64, &Lead, Option<&str>, Option<&str>),
    now: i64,
    columns: LeadColumns,
) -> Result<()> {
    let start = out.len();
    out.extend_from_slice(&columns.count().to_be_bytes());
    put_int8(out, id);
    let custom = custom_json(lead);
    let all = columns == LeadColumns::All;
    // (named by `columns`, value), in the order of the COPY's columns.
    let texts = [
        (true, lead.email.as_deref()),
        (true, lead.first_name.as_deref()),
        (true, lead.last_name.as_deref()),
        (all, full_name),
        (true, lead.title.as_deref()),
        (true, lead.company.as_deref()),
        (true, lead.domain.as_deref()),
        (true, slug(lead)),
        (true, lead.location.as_deref()),
        (all, lead.timezone.as_deref()),
        (all, lead.phone.as_deref()),
        (all, custom.as_deref()),
        (true, notes),
    ];
    for (_, text) in texts.into_iter().filter(|&(named, _)| named) {
        let Some(text) = text else {
            out.extend_from_slice(&(-1i32).to_be_bytes());
            continue;
        };
        let Ok(len) = i32::try_from(text.len()) else {
            out.truncate(start);
            return Err(StoreError::Usage(format!(
                "a value of {} bytes is too long to store",
                text.len()
            )));
        };
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    put_int8(out, now);
    put_int8(out, now);
    Ok(())
}

fn put_int8(out: &mut Vec<u8>, value: i64) {
    out.extend_from_slice(&8i32.to_be_bytes());
    out.extend_from_slice(&value.to_be_bytes());
}

/// `find` of an import, with every lead it inserted stored: one query sees them all.
fn find_stored(db: &mut Db<'_, Transaction<'_>>, kind: KeyKind, lead: &Lead) -> Result<Option<i64>> {
    let found = match kind {
        KeyKind::Email => db.query_opt(sql!("lead_by_email"), &[&lead.email])?,
        KeyKind::Linkedin => db.query_opt(sql!("lead_by_linkedin"), &[&slug(lead)])?,
        KeyKind::Name => {
            // A scan compared in Rust keeps one definition of the key.
            let wanted = name_key(lead);
            let mut found = None;
            for row in db.query(sql!("lead_names"), &[])? {
                let stored = Lead {
                    first_name: row.try_get(1)?,
                    last_name: row.try_get(2)?,
                    domain: row.try_get(3)?,
                    company: row.try_get(4)?,
                    ..Lead::default()
                };
                if name_key(&stored) == wanted {
                    found = Some(row);
                    break;
                }
            }
            found
        }
    };
    found.map(|r| Ok(r.try_get(0)?)).transpose()
}

fn update_stored(db: &mut Db<'_, Transaction<'_>>, id: i64, lead: &Lead, now: i64) -> Result<()> {
    db.execute(
        sql!("lead_update"),
        &[
            &id,
            &lead.email,
            &lead.first_name,
            &lead.last_name,
            &stored_full_name(lead),
            &lead.title,
            &lead.company,
            &lead.domain,
            &slug(lead),
            &lead.location,
            &lead.timezone,
            &lead.phone,
            &custom_json(lead),
            &now,
        ],
    )?;
    Ok(())
}

//! Inroad's persistence: one [`Store`] API, whatever the database.
//!
//! Callers never see SQL or a driver type: the engine talks to `dyn Store`, so the
//! PostgreSQL backend slots in beside SQLite, and the store's tests (tests/store.rs)
//! are written once and run against every backend.
//! SQL lives in `.sql` files per backend (`sql/`, `migrations/`), not in Rust strings.

mod encoding;
mod postgres;
mod sqlite;

use std::collections::BTreeMap;
use std::fmt;

use inroad_core::identity::KeyKind;
use inroad_core::verdict::EmailStatus;
use inroad_core::Lead;

pub use postgres::PostgresStore;
pub use sqlite::{now, SqliteStore};

/// What can go wrong in the store. Messages are meant for users: they say what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Usage(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Not `#[from]`: the driver's own message is a bare "db error", so the whole
    /// story (the server's message, or the I/O cause) is written here on one line.
    #[error("database error: {}", postgres::describe_error(.0))]
    Postgres(::postgres::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<::postgres::Error> for StoreError {
    fn from(e: ::postgres::Error) -> StoreError {
        StoreError::Postgres(e)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Whether `--db` names a PostgreSQL database (`postgres://…` or `postgresql://…`)
/// rather than a SQLite file.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The database `url` names, fit for messages and logs: a SQLite path as given, a
/// PostgreSQL URL without its user, password or options (`postgres://HOST:PORT/DB`).
pub fn describe(url: &str) -> String {
    if is_postgres_url(url) {
        postgres::describe_url(url)
    } else {
        url.to_owned()
    }
}

/// Opens (creating it if needed) and migrates the database named by `url`: a path,
/// `sqlite://PATH`, or `postgres://…` (the database must exist; its schema is created).
pub fn open(url: &str) -> Result<Box<dyn Store>> {
    if is_postgres_url(url) {
        return Ok(Box::new(PostgresStore::open(url)?));
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    Ok(Box::new(SqliteStore::open(path)?))
}

/// A lead as stored, with what the store knows about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredLead {
    pub id: i64,
    pub lead: Lead,
    pub notes: Option<String>,
    pub created_at: String,
    /// The address or its domain is on the suppression list.
    pub suppressed: bool,
    /// The email's status as last verified or found (None: never checked).
    pub email_status: Option<EmailStatus>,
    /// Where the email came from: "imported" or "found" (None without an email).
    pub email_source: Option<&'static str>,
}

/// A sending mailbox. Its password (or OAuth token) is never stored in plain text:
/// either `password_env` names the environment variable that holds it, read when a
/// connection is made, or `sealed_secret` holds it encrypted with a key kept outside
/// the database (at most one of the two is set).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mailbox {
    pub id: i64,
    pub name: String,
    pub from_name: Option<String>,
    pub from_address: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `none`, `starttls` or `tls`.
    pub smtp_tls: String,
    pub smtp_user: Option<String>,
    pub password_env: Option<String>,
    /// The password sealed with the install key (`v1:` + base64), opened only to connect.
    pub sealed_secret: Option<String>,
    pub daily_cap: u32,
    /// (start, step) of the warm-up ramp.
    pub warmup: Option<(u32, u32)>,
    /// Seconds between two sends, drawn in [min, max].
    pub gap_secs: (u32, u32),
    pub timezone: String,
    pub dkim_selector: Option<String>,
    pub dkim_key_file: Option<String>,
    pub dkim_domain: Option<String>,
    pub imap_host: Option<String>,
    pub imap_port: Option<u16>,
    pub imap_tls: Option<String>,
    pub imap_user: Option<String>,
    /// The spam folder to read besides INBOX, if any.
    pub imap_junk_folder: Option<String>,
    /// Why the mailbox stopped sending, if it did (circuit breaker, auth failure).
    pub paused_reason: Option<String>,
}

impl Mailbox {
    /// The range its pauses between sends are drawn from.
    pub fn gap(&self) -> inroad_core::schedule::Gap {
        inroad_core::schedule::Gap {
            min: std::time::Duration::from_secs(self.gap_secs.0.into()),
            max: std::time::Duration::from_secs(self.gap_secs.1.into()),
        }
    }
}

/// A campaign as stored: its file, and where it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CampaignRecord {
    pub id: i64,
    pub name: String,
    /// `draft`, `active`, `paused` or `stopped`.
    pub status: String,
    /// The campaign file (TOML) as it was created.
    pub spec: String,
    pub created_at: String,
}

/// Where a send stands after its SMTP transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    /// 250 after DATA.
    Sent,
    /// A temporary failure before DATA (4xx, timeout): may be retried.
    Failed,
    /// A permanent refusal (5xx at RCPT or after DATA).
    Bounced,
    /// Interrupted after DATA began: never retried automatically.
    InDoubt,
}

impl SendOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            SendOutcome::Sent => "sent",
            SendOutcome::Failed => "failed",
            SendOutcome::Bounced => "bounced",
            SendOutcome::InDoubt => "in_doubt",
        }
    }
}

/// How [`Store::begin_sends`] took one send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Begun {
    /// Recorded `planned` (new, or a retry of a failed attempt): its id.
    Planned(i64),
    /// That step of that enrolment already has a send that is not a retryable failure
    /// (sent, bounced, in doubt): it is never sent twice.
    AlreadySent,
    /// The enrolment is no longer at that step, its conversation belongs to another
    /// mailbox, or another worker is planning it this instant: nothing to do here.
    Elsewhere,
}

/// What a worker leases: a sending mailbox or a LinkedIn account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LeaseKind {
    Mailbox,
    LinkedinAccount,
}

impl LeaseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LeaseKind::Mailbox => "mailbox",
            LeaseKind::LinkedinAccount => "linkedin_account",
        }
    }
}

/// A worker's fair share of `total` resources among `alive` workers (itself included):
/// rounded up, so every resource has a taker.
pub(crate) fn fair_share(total: i64, alive: i64) -> usize {
    let alive = alive.max(1);
    usize::try_from((total.max(0) + alive - 1) / alive).unwrap_or(usize::MAX)
}

/// A lease as stored (instants: unix seconds, the database's clock).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// `mailbox` or `linkedin_account`.
    pub kind: String,
    pub resource_id: i64,
    /// The worker id holding it.
    pub owner: String,
    pub acquired_at: i64,
    pub expires_at: i64,
}

/// A send about to happen, as the ledger records it before its SMTP session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSend {
    pub enrolment_id: i64,
    pub step: u32,
    pub mailbox_id: i64,
    pub message_id: String,
    pub recipient: String,
    /// Unix seconds: the instant the worker acted at (`--now` aware).
    pub planned_at: i64,
}

/// A campaign's enrolments by state and its sends by state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CampaignCounts {
    pub enrolments: BTreeMap<String, u64>,
    pub sends: BTreeMap<String, u64>,
}

/// One lead's place in a campaign, as reports list it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrolmentRow {
    pub id: i64,
    pub lead_id: i64,
    pub email: Option<String>,
    pub state: String,
    /// Why it needs attention or is paused.
    pub reason: Option<String>,
    /// The step it is at (0-based): the next to send, or the one it stopped at.
    pub next_step: u32,
}

/// A send an inbound message names (by Message-ID).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendRef {
    pub send_id: i64,
    pub enrolment_id: i64,
    pub lead_id: i64,
    pub campaign_id: i64,
    pub mailbox_id: i64,
    pub step: u32,
    pub recipient: String,
    pub state: String,
}

/// Something that happened to a lead, for its timeline (sends are in the ledger).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewEvent {
    pub lead_id: Option<i64>,
    pub campaign_id: Option<i64>,
    pub enrolment_id: Option<i64>,
    /// The send it answers, when known.
    pub send_id: Option<i64>,
    pub mailbox_id: Option<i64>,
    /// `reply`, `bounce_hard`, `bounce_soft`, `auto_reply`, `unsubscribe` or `other`.
    pub kind: String,
    pub detail: Option<String>,
    pub message_id: Option<String>,
    pub from_address: Option<String>,
    pub subject: Option<String>,
    pub snippet: Option<String>,
    /// Unix seconds.
    pub at: i64,
}

/// A stored event, with the step of the send it answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRow {
    pub id: i64,
    pub lead_id: Option<i64>,
    pub campaign_id: Option<i64>,
    pub step: Option<u32>,
    pub kind: String,
    pub detail: Option<String>,
    pub subject: Option<String>,
    pub at: i64,
}

/// Everything one inbound message changes. The store applies it in one transaction
/// with the folder's progress, so a message is handled exactly once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InboundEffects {
    pub event: Option<NewEvent>,
    /// Enrolments to stop, with their new state (`replied`, `bounced`,
    /// `unsubscribed`) and why.
    pub stop: Vec<(i64, &'static str, String)>,
    pub suppress: Option<Suppression>,
    /// A send that bounced after it was accepted: it becomes `bounced`.
    pub bounced_send: Option<(i64, String)>,
    /// An enrolment whose next step waits at least until then (unix seconds).
    pub not_before: Option<(i64, i64)>,
}

/// Sends and hard bounces of one mailbox (its bounce rate).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailboxSends {
    pub mailbox_id: i64,
    pub sent: u64,
    pub bounced: u64,
}

/// A LinkedIn account whose budgets Inroad keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedinAccount {
    pub id: i64,
    pub name: String,
    /// `free`, `premium-career`, `premium-business` or `sales-navigator`.
    pub plan: String,
    /// `None`: the default.
    pub invitations_per_week: Option<u32>,
    /// `None`: the plan's.
    pub messages_per_week: Option<u32>,
    pub timezone: String,
    /// The acceptance guard ignores invitations sent before this (unix seconds).
    pub guard_resumed_at: Option<i64>,
    /// InMail credits when the account was added.
    pub inmail_credits: u32,
    /// When it was added (unix seconds; 0: the store sets it to now).
    pub created_at: i64,
}

/// A task a person does on LinkedIn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedinTask {
    pub id: i64,
    pub account_id: i64,
    pub enrolment_id: i64,
    pub campaign_id: i64,
    pub lead_id: i64,
    pub step: u32,
    /// `connect`, `message`, `inmail` or `withdraw` (of the connect task of the same
    /// enrolment and step).
    pub kind: String,
    pub note: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub why_no_note: Option<String>,
    /// `open`, `done` or `skipped`.
    pub state: String,
    /// When the step became due (unix seconds).
    pub due: i64,
    pub created_at: i64,
    pub done_at: Option<i64>,
    pub accepted_at: Option<i64>,
    pub declined: bool,
}

/// An enrolment waiting for its LinkedIn step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedinDue {
    pub enrolment_id: i64,
    pub campaign_id: i64,
    pub lead_id: i64,
    pub step: u32,
    pub due: i64,
    pub account_id: Option<i64>,
}

/// Someone who may log in to the dashboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub name: String,
    /// An argon2id PHC string (`$argon2id$v=19$…`), never the password.
    pub password_hash: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// A login session about to be stored. Only the SHA-256 of its id is kept: the id itself
/// lives in the browser's cookie alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSession {
    pub id_hash: [u8; 32],
    pub user_id: i64,
    /// Unix seconds; also its first `last_seen`.
    pub created_at: i64,
    /// Unix seconds: refused from then on, however active.
    pub expires_at: i64,
}

/// A stored session with its user's name (unix seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub user_id: i64,
    pub user_name: String,
    pub created_at: i64,
    pub last_seen: i64,
    pub expires_at: i64,
}

/// A JSON API token as stored: its name and use, not its value (only a SHA-256 of it is kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    pub last_used: Option<i64>,
}

/// A send of one step to one lead, for per-variant counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepSend {
    pub lead_id: i64,
    pub step: u32,
    pub state: String,
}

/// An active enrolment due for its next step, with what sending needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueRow {
    pub enrolment_id: i64,
    pub campaign_id: i64,
    pub lead_id: i64,
    pub mailbox_id: Option<i64>,
    pub step: u32,
    /// Unix seconds.
    pub due: i64,
    pub email: Option<String>,
    pub timezone: Option<String>,
}

/// An enrolment still in its sequence (`active`, or `linkedin`: waiting for a LinkedIn
/// step), with all a forecast starts from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SequenceRow {
    pub enrolment_id: i64,
    pub campaign_id: i64,
    pub lead_id: i64,
    pub state: String,
    pub step: u32,
    /// Unix seconds.
    pub due: Option<i64>,
    pub mailbox_id: Option<i64>,
    pub linkedin_account_id: Option<i64>,
    pub email: Option<String>,
    pub timezone: Option<String>,
    /// The address or its domain is suppressed (the worker parks such a lead at send time).
    pub suppressed: bool,
}

/// Where an enrolment goes after a send: its mailbox (kept for the conversation),
/// next step and due time (`None` and state `finished` after the last step).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advance {
    pub enrolment_id: i64,
    pub mailbox_id: i64,
    pub next_step: u32,
    pub next_due: Option<i64>,
    pub state: &'static str,
}

/// What a mailbox has sent, as its caps and gaps need it (unix seconds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MailboxActivity {
    pub sent_in_range: u32,
    pub last_send: Option<i64>,
    pub first_send: Option<i64>,
}

/// A stored verification result (see `inroad_core::verdict`).
#[derive(Clone, Debug, PartialEq)]
pub struct EmailCheck {
    pub email: String,
    pub status: EmailStatus,
    pub reason: String,
    pub mx: Option<String>,
    pub smtp_code: Option<u16>,
    pub enhanced_code: Option<String>,
    pub catch_all: Option<bool>,
    pub disposable: bool,
    pub role: bool,
    pub free: bool,
    pub confidence: f64,
    /// Unix seconds, UTC.
    pub checked_at: i64,
}

/// One entry of the suppression list: an address, or a domain written `@domain`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    pub value: String,
    pub reason: Option<String>,
    pub created_at: String,
}

/// A page of leads in id order, resumable from `after` (keyset paging: a deep page
/// costs no more than the first).
#[derive(Clone, Debug, Default)]
pub struct LeadQuery<'a> {
    pub list: Option<&'a str>,
    pub after: i64,
    pub limit: usize,
}

/// Sends, replies and bounces of one UTC day, from the rollup the database keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DailyActivity {
    /// Days since the epoch (unix seconds / 86400).
    pub day: i64,
    /// Sends handed to a server (sent or bounced).
    pub sent: u64,
    pub replies: u64,
    /// Hard bounces.
    pub bounces: u64,
}

/// What waits for a person across every campaign.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AttentionCounts {
    /// Enrolments parked as `needs_attention`.
    pub needs_attention: u64,
    /// Sends left `in_doubt`.
    pub in_doubt: u64,
}

/// The leads page's filters; `None` leaves a filter off.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LeadFilter {
    /// Case-insensitive prefix of the email, first or last name, company or domain.
    pub search: Option<String>,
    pub list: Option<String>,
    /// An email status, or `unchecked` for leads never verified.
    pub email_status: Option<String>,
    /// Leads enrolled in this campaign.
    pub campaign_id: Option<i64>,
    pub suppressed: Option<bool>,
}

impl LeadFilter {
    pub fn is_empty(&self) -> bool {
        *self == LeadFilter::default()
    }
}

/// One send of a lead, for its timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeadSend {
    pub campaign_id: i64,
    pub campaign: String,
    pub step: u32,
    pub state: String,
    pub recipient: String,
    /// When its state last changed (unix seconds).
    pub at: i64,
}

/// A person's reply waiting for a human, with who sent it and in which campaign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxItem {
    pub event_id: i64,
    pub lead_id: Option<i64>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub campaign_id: Option<i64>,
    pub campaign: Option<String>,
    pub from_address: Option<String>,
    pub subject: Option<String>,
    pub snippet: Option<String>,
    /// Unix seconds.
    pub at: i64,
}

/// How far the schema was brought.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Migrated {
    pub from: u32,
    pub to: u32,
}

impl fmt::Display for Migrated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from == self.to {
            write!(f, "schema is up to date (version {})", self.to)
        } else {
            write!(f, "schema migrated from version {} to {}", self.from, self.to)
        }
    }
}

/// The database, as the rest of Inroad sees it.
pub trait Store: Send {
    /// What `open` did to the schema.
    fn migrated(&self) -> Migrated;

    /// Starts an all-or-nothing lead import: nothing it writes is visible to others
    /// until [`LeadImport::commit`]; dropping it undoes everything.
    /// `expected_rows` (an estimate) lets the backend pick a bulk strategy.
    fn begin_import(&mut self, expected_rows: u64) -> Result<Box<dyn LeadImport + '_>>;

    /// Number of leads, optionally on one list.
    fn count_leads(&self, list: Option<&str>) -> Result<u64>;

    /// One page of leads (see [`LeadQuery`]).
    fn leads(&self, query: &LeadQuery<'_>) -> Result<Vec<StoredLead>>;

    /// Whether a list of this name exists.
    fn list_exists(&self, name: &str) -> Result<bool>;

    /// Adds entries (already normalised); returns how many were new.
    fn add_suppressions(&mut self, entries: &[Suppression]) -> Result<usize>;

    /// Removes entries by value; returns how many existed.
    fn remove_suppressions(&mut self, values: &[String]) -> Result<usize>;

    fn suppressions(&self) -> Result<Vec<Suppression>>;

    /// Whether this (normalised) address, or its domain, is suppressed.
    fn is_suppressed(&self, email: &str) -> Result<bool>;

    /// The stored check of `email` if it was made at or after `fresh_after`.
    fn email_check(&self, email: &str, fresh_after: i64) -> Result<Option<EmailCheck>>;

    /// Stores checks (replacing older ones) and sets the status of leads with
    /// those addresses.
    fn save_email_checks(&mut self, checks: &[EmailCheck]) -> Result<()>;

    /// Whether the domain is catch-all, if learned at or after `fresh_after`:
    /// `None` when there is no fresh record, `Some(None)` when it was not learnable.
    fn domain_catch_all(&self, domain: &str, fresh_after: i64) -> Result<Option<Option<bool>>>;

    fn save_domain_catch_all(&mut self, domain: &str, catch_all: Option<bool>, checked_at: i64)
        -> Result<()>;

    /// Gives a lead without an email the finder's address; false when the lead
    /// already has one or another lead holds that address.
    fn set_found_email(&mut self, lead_id: i64, email: &str, status: EmailStatus) -> Result<bool>;

    /// Adds a mailbox (its `id` is ignored); a taken name is a usage error.
    fn add_mailbox(&mut self, mailbox: &Mailbox) -> Result<i64>;

    /// Every mailbox, by name.
    fn mailboxes(&self) -> Result<Vec<Mailbox>>;

    /// Stores a new draft campaign; a taken name is a usage error.
    fn create_campaign(&mut self, name: &str, spec: &str) -> Result<i64>;

    /// Every campaign, by id.
    fn campaigns(&self) -> Result<Vec<CampaignRecord>>;

    fn set_campaign_status(&mut self, campaign_id: i64, status: &str) -> Result<()>;

    /// Enrols leads as active, first step due at `now`; a lead already in the
    /// campaign is left as it is. Returns how many were new.
    fn enroll(&mut self, campaign_id: i64, lead_ids: &[i64], now: i64) -> Result<usize>;

    /// Whether the lead is active in another campaign.
    fn active_elsewhere(&self, lead_id: i64, campaign_id: i64) -> Result<bool>;

    fn campaign_counts(&self, campaign_id: i64) -> Result<CampaignCounts>;

    /// A campaign's enrolments in id order after `after`, optionally in one state.
    fn campaign_enrolments(
        &self,
        campaign_id: i64,
        state: Option<&str>,
        after: i64,
        limit: usize,
    ) -> Result<Vec<EnrolmentRow>>;

    /// Every send of a campaign with its lead and step (for per-variant counts).
    fn campaign_sends(&self, campaign_id: i64) -> Result<Vec<StepSend>>;

    /// Settles a lead's in-doubt send in a campaign by hand, after the user checked:
    /// `delivered` → it counts as sent and the enrolment continues with the step after
    /// it, due at `next_due(that step)` (`None`: there is none, the lead is finished);
    /// otherwise → it becomes a failed attempt, sent again (as the same message) from
    /// `now`. Returns whether there was one.
    fn release_in_doubt(
        &mut self,
        campaign_id: i64,
        lead_id: i64,
        delivered: bool,
        next_due: &dyn Fn(u32) -> Option<i64>,
        now: i64,
    ) -> Result<bool>;

    /// Records sends as `planned`, in one transaction, before their SMTP sessions
    /// begin, binding each enrolment's conversation to the send's mailbox, and says how
    /// each went (see [`Begun`]). This is what makes a step go out at most once, and
    /// what keeps two workers from planning the same lead.
    fn begin_sends(&mut self, sends: &[NewSend]) -> Result<Vec<Begun>>;

    /// Where a mailbox's sync of `folder` stands: (UIDVALIDITY, last UID handled).
    fn imap_folder(&self, mailbox_id: i64, folder: &str) -> Result<Option<(u32, u32)>>;

    /// Starts (or restarts, after a UIDVALIDITY change) a folder's sync at `last_uid`.
    fn set_imap_folder(
        &mut self,
        mailbox_id: i64,
        folder: &str,
        uidvalidity: u32,
        last_uid: u32,
    ) -> Result<()>;

    /// Applies what message `uid` of `folder` changes and records it as handled, in one
    /// transaction.
    fn apply_inbound(
        &mut self,
        mailbox_id: i64,
        folder: &str,
        uidvalidity: u32,
        uid: u32,
        effects: &InboundEffects,
    ) -> Result<()>;

    /// Whether a message with this Message-ID, read from this mailbox, was handled.
    fn inbound_seen(&self, mailbox_id: i64, message_id: &str) -> Result<bool>;

    /// The send with one of these Message-IDs (the latest step, if several).
    fn send_by_message_ids(&self, message_ids: &[String]) -> Result<Option<SendRef>>;

    /// The lead with this (normalised) email.
    fn lead_id_by_email(&self, email: &str) -> Result<Option<i64>>;

    /// The lead with this canonical LinkedIn profile URL
    /// (`inroad_core::normalize::canonical_linkedin_url`).
    fn lead_id_by_linkedin(&self, profile_url: &str) -> Result<Option<i64>>;

    /// A lead's enrolments still in a sequence (active, paused or needing attention):
    /// (enrolment, campaign).
    fn open_enrolments(&self, lead_id: i64) -> Result<Vec<(i64, i64)>>;

    /// A campaign's open enrolments of leads whose email is at `domain`.
    fn open_enrolments_at_domain(&self, campaign_id: i64, domain: &str) -> Result<Vec<i64>>;

    /// Adds an event to a lead's timeline.
    fn add_event(&mut self, event: &NewEvent) -> Result<()>;

    /// A lead's events, oldest first.
    fn lead_events(&self, lead_id: i64) -> Result<Vec<EventRow>>;

    /// A campaign's events, with the step each answers.
    fn campaign_events(&self, campaign_id: i64) -> Result<Vec<EventRow>>;

    /// Per mailbox: messages handed over and how many of them bounced.
    fn mailbox_sends(&self) -> Result<Vec<MailboxSends>>;

    /// Moves a `planned` send to `sending`: called right before SMTP DATA, the point
    /// after which the server may have the message.
    fn mark_sending(&mut self, send_id: i64, now: i64) -> Result<()>;

    /// Closes a `planned` or `sending` send with its outcome and the server's reply
    /// and, in the same transaction, moves its enrolment on (so no crash can leave a
    /// sent step looking unsent).
    fn finish_send(
        &mut self,
        send_id: i64,
        outcome: SendOutcome,
        reply: Option<&str>,
        now: i64,
        advance: Option<&Advance>,
    ) -> Result<()>;

    /// Settles the sends a dead worker left open from these mailboxes: `sending` ones
    /// (DATA had begun) become `in_doubt`, `planned` ones (DATA never began) `failed`,
    /// to be tried again. Returns how many are now in doubt. Called by a worker for the
    /// mailboxes it has just taken the leases of, never for one a live worker holds.
    fn mark_interrupted_sends(&mut self, now: i64, mailbox_ids: &[i64]) -> Result<usize>;

    /// The heartbeat and share-out of worker `worker`, in one transaction, by the
    /// database's clock: records it alive, renews its leases of `kind` for
    /// `lease_secs`, gives up the ones above its fair share (the resources of that kind
    /// over the workers alive, rounded up) and claims free or expired ones up to it.
    /// Returns the ids it holds now, in order.
    fn claim_leases(&mut self, kind: LeaseKind, worker: &str, lease_secs: u32) -> Result<Vec<i64>>;

    /// The heartbeat alone (a timer's, between claims): records the worker alive and
    /// renews every lease it holds for `lease_secs`.
    fn renew_leases(&mut self, worker: &str, lease_secs: u32) -> Result<()>;

    /// A clean shutdown: the worker's leases are free at once, and it no longer counts
    /// as alive.
    fn release_leases(&mut self, worker: &str) -> Result<()>;

    /// Every lease, by kind and resource.
    fn leases(&self) -> Result<Vec<Lease>>;

    /// The whole ledger's sends by state.
    fn send_totals(&self) -> Result<BTreeMap<String, u64>>;

    /// How many active enrolments of active campaigns are due by `now` (the queue).
    fn due_count(&self, now: i64) -> Result<u64>;

    /// Active enrolments of active campaigns due by `now`, in due order.
    fn due_enrolments(&self, now: i64, limit: usize) -> Result<Vec<DueRow>>;

    /// The earliest due time after `now` among active enrolments.
    fn later_due(&self, now: i64) -> Result<Option<i64>>;

    /// Sends of a mailbox in [from, to), and its last and first send.
    fn mailbox_activity(&self, mailbox_id: i64, from: i64, to: i64) -> Result<MailboxActivity>;

    /// Leads a campaign started in [from, to): sends that were their enrolment's first
    /// email, at whatever step (a sequence may open on LinkedIn).
    fn campaign_new_leads(&self, campaign_id: i64, from: i64, to: i64) -> Result<u32>;

    /// Message-IDs sent so far in an enrolment's conversation, in step order.
    fn thread(&self, enrolment_id: i64) -> Result<Vec<String>>;

    /// Hands an active enrolment whose next step is a LinkedIn step to the LinkedIn
    /// queue (state `linkedin`, its due time kept): a person does that step.
    fn await_linkedin(&mut self, enrolment_id: i64) -> Result<()>;

    fn add_linkedin_account(&mut self, account: &LinkedinAccount) -> Result<i64>;

    fn linkedin_accounts(&self) -> Result<Vec<LinkedinAccount>>;

    /// An account's tasks still open or done since `since` (its budget history).
    fn linkedin_tasks(&self, account_id: i64, since: i64) -> Result<Vec<LinkedinTask>>;

    fn linkedin_task(&self, task_id: i64) -> Result<Option<LinkedinTask>>;

    /// A lead's most recent invitation task, if any.
    fn linkedin_connect_of_lead(&self, lead_id: i64) -> Result<Option<LinkedinTask>>;

    /// Enrolments of active campaigns waiting for a LinkedIn step due by `now` that has
    /// no task yet, in due order.
    fn linkedin_due(&self, now: i64, limit: usize) -> Result<Vec<LinkedinDue>>;

    /// Records the account a lead's LinkedIn steps go through, for good.
    fn assign_linkedin_account(&mut self, enrolment_id: i64, account_id: i64) -> Result<()>;

    /// Hands out a task; `None` when that step of that enrolment already has one.
    fn add_linkedin_task(&mut self, task: &LinkedinTask) -> Result<Option<i64>>;

    /// Closes an open task (`done` or `skipped`) and, in the same transaction, moves
    /// its enrolment on (`advance`'s state: `linkedin`, `active` or `finished`).
    fn finish_linkedin_task(
        &mut self,
        task_id: i64,
        state: &str,
        now: i64,
        advance: Option<&Advance>,
    ) -> Result<bool>;

    /// When the lead's last invitation was withdrawn, if it was.
    fn linkedin_withdrawn_at(&self, lead_id: i64) -> Result<Option<i64>>;

    /// Lifts the acceptance guard's pause: invitations sent before `now` no longer count.
    fn resume_linkedin_invitations(&mut self, name: &str, now: i64) -> Result<bool>;

    /// Records how an invitation ended: accepted at, or declined.
    fn set_invitation_outcome(
        &mut self,
        task_id: i64,
        accepted_at: Option<i64>,
        declined: bool,
    ) -> Result<()>;

    /// Moves a waiting (`linkedin`) enrolment on without a task: a lead who has not
    /// accepted skips to the next email step.
    fn advance_linkedin(&mut self, advance: &Advance) -> Result<()>;

    /// Takes an enrolment out of sending: `needs_attention`, `unsubscribed`, … with why.
    fn park_enrolment(&mut self, enrolment_id: i64, state: &str, reason: &str) -> Result<()>;

    /// One lead by id.
    fn lead(&self, lead_id: i64) -> Result<Option<StoredLead>>;

    /// Of a mailbox's last `last` sends that reached a server: how many, and how
    /// many bounced.
    fn mailbox_recent_outcomes(&self, mailbox_id: i64, last: u32) -> Result<(u32, u32)>;

    /// Sends handed over since `since` per recipient domain: (domain, how many, earliest).
    fn recent_domain_sends(&self, since: i64) -> Result<Vec<(String, u32, i64)>>;

    /// Each send handed over since `since`: (recipient domain, when), earliest first.
    fn recent_sends(&self, since: i64) -> Result<Vec<(String, i64)>>;

    /// Every enrolment still in its sequence (`active` or `linkedin`), in id order.
    fn sequence_enrolments(&self) -> Result<Vec<SequenceRow>>;

    /// Pauses a mailbox with the reason (`None` resumes it); false if no such mailbox.
    fn set_mailbox_paused(&mut self, name: &str, reason: Option<&str>) -> Result<bool>;

    /// Replaces where a mailbox's password comes from: an environment variable's name
    /// or a sealed secret (the other is cleared); false if no such mailbox.
    fn set_mailbox_secret(
        &mut self,
        name: &str,
        password_env: Option<&str>,
        sealed: Option<&str>,
    ) -> Result<bool>;

    /// Adds a dashboard user (`password_hash`: argon2id PHC); a taken name is a usage error.
    fn add_user(&mut self, name: &str, password_hash: &str, now: i64) -> Result<i64>;

    /// Every user, by name.
    fn users(&self) -> Result<Vec<User>>;

    fn user_by_name(&self, name: &str) -> Result<Option<User>>;

    /// Removes a user and, with it, every session of theirs; false if there is no such user.
    fn remove_user(&mut self, name: &str) -> Result<bool>;

    fn add_session(&mut self, session: &NewSession) -> Result<()>;

    /// The session whose id hashes to `id_hash`, expired or not: the caller judges.
    fn session(&self, id_hash: &[u8; 32]) -> Result<Option<Session>>;

    /// Records activity on a session (its idle expiry counts from `now`).
    fn touch_session(&mut self, id_hash: &[u8; 32], now: i64) -> Result<()>;

    /// Ends a session; false if there was none.
    fn remove_session(&mut self, id_hash: &[u8; 32]) -> Result<bool>;

    /// Deletes the sessions past their absolute expiry at `now` or last seen at or before
    /// `idle_since`; returns how many.
    fn purge_sessions(&mut self, now: i64, idle_since: i64) -> Result<usize>;

    /// Stores an API token by the SHA-256 of its value; a taken name is a usage error.
    fn add_api_token(&mut self, name: &str, token_hash: &[u8; 32], now: i64) -> Result<i64>;

    /// Every API token, by name.
    fn api_tokens(&self) -> Result<Vec<ApiToken>>;

    /// The token whose value hashes to `token_hash`.
    fn api_token_by_hash(&self, token_hash: &[u8; 32]) -> Result<Option<ApiToken>>;

    fn touch_api_token(&mut self, token_id: i64, now: i64) -> Result<()>;

    /// Deletes a token by name; false if there is none.
    fn revoke_api_token(&mut self, name: &str) -> Result<bool>;

    /// Sends, replies and bounces per UTC day for days in [from_day, to_day) (days
    /// since the epoch), in day order; days without any are left out.
    fn daily_activity(&self, from_day: i64, to_day: i64) -> Result<Vec<DailyActivity>>;

    /// Enrolments needing attention and sends in doubt, over every campaign.
    fn attention_counts(&self) -> Result<AttentionCounts>;

    /// The largest lead id (0 without leads): the leads page cuts ids into windows.
    fn max_lead_id(&self) -> Result<i64>;

    /// The leads with ids in [from_id, to_id) that pass `filter`, in id order, at most
    /// `limit`. Its cost follows the window, never the rows before it.
    fn lead_window(
        &self,
        filter: &LeadFilter,
        from_id: i64,
        to_id: i64,
        limit: usize,
    ) -> Result<Vec<StoredLead>>;

    /// How many leads with ids in [from_id, to_id) pass `filter`.
    fn count_lead_window(&self, filter: &LeadFilter, from_id: i64, to_id: i64) -> Result<u64>;

    /// A lead's sends in every campaign, oldest first.
    fn lead_sends(&self, lead_id: i64) -> Result<Vec<LeadSend>>;

    /// A lead's LinkedIn tasks, oldest first.
    fn lead_linkedin_tasks(&self, lead_id: i64) -> Result<Vec<LinkedinTask>>;

    /// Replies not yet marked handled with event id below `before_id`, newest first.
    fn inbox(&self, before_id: i64, limit: usize) -> Result<Vec<InboxItem>>;

    /// Marks a reply handled at `now`; false if it is not an unhandled reply.
    fn mark_reply_handled(&mut self, event_id: i64, now: i64) -> Result<bool>;

    /// Suppressions containing `search` (case-insensitive), in value order after
    /// `after`, at most `limit`.
    fn suppression_page(&self, search: &str, after: &str, limit: usize) -> Result<Vec<Suppression>>;
}

/// An open import transaction. The dedup logic lives in the engine; this is the
/// narrow set of reads and writes it needs.
pub trait LeadImport {
    /// Calls `f` with the id and identity fields (email, LinkedIn URL, first and last
    /// name, domain, company) of every stored lead, to seed the in-memory dedup index.
    fn for_each_identity(&mut self, f: &mut dyn FnMut(i64, &Lead)) -> Result<()>;

    fn get(&mut self, id: i64) -> Result<Lead>;

    /// Whether `get` of a lead this import inserted interrupts a bulk load (and so
    /// the caller had better find its own new leads elsewhere, such as its file).
    fn own_reads_interrupt(&self) -> bool {
        false
    }

    /// The lead holding this identity key exactly (the slow path behind a hash
    /// collision in the dedup index).
    fn find(&mut self, kind: KeyKind, lead: &Lead) -> Result<Option<i64>>;

    fn insert(&mut self, lead: &Lead, notes: Option<&str>) -> Result<i64>;

    fn update(&mut self, id: i64, lead: &Lead) -> Result<()>;

    /// Puts the lead on the named list (created on first use); idempotent.
    fn add_to_list(&mut self, list: &str, id: i64) -> Result<()>;

    fn commit(self: Box<Self>) -> Result<()>;
}

//! The command line, as clap sees it. Every command has `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use inroad_core::row::Override;

/// Inroad: self-hosted, limit-aware B2B outreach. Imports prospect lists, keeps a
/// suppression list, and (in coming versions) finds emails, sends sequences from
/// your own mailboxes and plans LinkedIn tasks inside LinkedIn's limits.
#[derive(Debug, Parser)]
#[command(name = "inroad", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// Database: a SQLite file path (created if missing) or postgres://… URL.
    #[arg(long, global = true, env = "INROAD_DB", default_value = "./inroad.db")]
    pub db: String,

    /// The install key: signs unsubscribe links and the dashboard's CSRF tokens, encrypts
    /// stored mailbox passwords (created on first use). Keep it outside the database and back it up.
    /// Default: the database path + ".key".
    #[arg(long, global = true, env = "INROAD_KEY_FILE", value_name = "FILE")]
    pub key_file: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database, or migrate it to this version's schema (idempotent).
    Init,
    /// Walk through Inroad end to end in a scratch workspace, on sample data.
    Demo(DemoArgs),
    /// Import, browse and export leads.
    #[command(subcommand)]
    Leads(LeadsCommand),
    /// Campaigns: create from a file, list, lint, preview (sending comes with the worker).
    #[command(subcommand)]
    Campaign(CampaignCommand),
    /// The worker: read each mailbox's replies and bounces, then send what is due,
    /// inside every limit. Keeps running unless --once.
    Run(RunArgs),
    /// When a campaign's leads will all have had their first touch and their last, and
    /// what holds it back week by week: the worker's own rules run day by day on a
    /// simulated clock, assuming nobody replies or accepts an invitation.
    Forecast(ForecastArgs),
    /// How campaigns and mailboxes are doing: replies and reply rates per campaign,
    /// step and A/B variant; bounces and bounce rate per mailbox; unsubscribes.
    Stats {
        /// One campaign (id or name); all of them without it.
        campaign: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Serve the one-click unsubscribe links of campaign emails and the dashboard (behind
    /// a login: see `inroad user`) over HTTP; put it behind a TLS reverse proxy. Runs
    /// until stopped.
    Serve(ServeArgs),
    /// Who may log in to the dashboard: add, list, remove.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens for scripts calling the JSON API (`Authorization: Bearer TOKEN`).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Sending mailboxes: add, list, test, set a password.
    #[command(subcommand)]
    Mailbox(MailboxCommand),
    /// Manage the global suppression list (never contacted, by any campaign).
    #[command(subcommand)]
    Suppress(SuppressCommand),
    /// LinkedIn: accounts and their budgets, the daily task list, outcomes. Inroad never
    /// automates LinkedIn: a person does each task and marks it done.
    #[command(subcommand)]
    Linkedin(LinkedinCommand),
    /// Find work emails for leads that have a name and a company domain but no email:
    /// learns each domain's address pattern, then probes candidates (or, with
    /// --no-verify, only infers them).
    Find(FindArgs),
    /// Check whether addresses are deliverable: syntax, DNS, then an SMTP probe
    /// (RCPT TO only: no mail is sent). Results are cached and reused until their TTL.
    Verify(VerifyArgs),
    /// Print a shell completion script, e.g. `inroad completions bash > /etc/bash_completion.d/inroad`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct FindArgs {
    /// Only leads on this list.
    #[arg(long)]
    pub list: Option<String>,
    /// Infer the most probable address without probing any server (status "unverified").
    #[arg(long)]
    pub no_verify: bool,
    #[command(flatten)]
    pub net: NetArgs,
    /// {"considered","found","deliverable","risky","unverified","results":[...]} on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Addresses to check.
    #[arg(value_name = "ADDRESS", required_unless_present = "file")]
    pub addresses: Vec<String>,
    /// Also check every address in this file (one a line, or a CSV with an email column).
    #[arg(long)]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub net: NetArgs,
    /// {"results":[{"email","status","reason","mx","smtp_code","enhanced_code","catch_all",
    /// "disposable","role","free","confidence","checked_at"}]} on stdout.
    #[arg(long)]
    pub json: bool,
}

/// How Inroad talks to DNS and to mail servers when it checks addresses.
#[derive(Debug, Args)]
pub struct NetArgs {
    /// The name to give in EHLO; it should resolve to this machine's public address.
    #[arg(long, env = "INROAD_HELO_NAME", value_name = "NAME")]
    pub helo_name: Option<String>,
    /// The envelope sender of the probes (a real mailbox of yours: servers check it).
    #[arg(long, env = "INROAD_MAIL_FROM", value_name = "ADDRESS")]
    pub mail_from: Option<String>,
    /// Ask this DNS server (e.g. 127.0.0.1:5353) instead of the system's.
    #[arg(long, value_name = "ADDR:PORT")]
    pub dns: Option<std::net::SocketAddr>,
    /// Probe mail servers on this port instead of 25 (for tests and relays).
    #[arg(long, default_value_t = 25, value_name = "PORT")]
    pub smtp_port: u16,
    /// At most this many sessions at once to one mail host.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub sessions_per_host: usize,
    /// At most this many sessions at once in all.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub max_sessions: usize,
    /// Seconds to wait before each retry of addresses that got a temporary failure
    /// (greylisting), comma-separated.
    #[arg(
        long,
        default_value = "120,300",
        value_name = "SECS,...",
        value_delimiter = ','
    )]
    pub retry_after: Vec<u64>,
    /// Seconds to wait for a connection, and for each reply.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub timeout: u64,
    /// At most this many RCPTs per second to one mail host (default: unpaced).
    #[arg(long, value_name = "N")]
    pub host_rate: Option<f64>,
    /// Give up on addresses still unanswered after this many seconds, retries included.
    #[arg(long, default_value_t = 600, value_name = "SECS")]
    pub deadline: u64,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// One pass of everything due now, then exit.
    #[arg(long)]
    pub once: bool,
    /// Act as if it were this instant (RFC 3339), for dry runs and tests; messages
    /// still carry the real Date. Implies --once.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<jiff::Timestamp>,
    /// Where messages go: `smtp` (each mailbox's own server) or `dir:PATH` (each
    /// message as an .eml file: a dry run that sends nothing).
    #[arg(long, default_value = "smtp", value_name = "smtp|dir:PATH")]
    pub transport: String,
    /// The EHLO name for SMTP (default: this machine's host name).
    #[arg(long, env = "INROAD_HELO_NAME", value_name = "NAME")]
    pub helo_name: Option<String>,
    /// Seconds to wait for the SMTP server at each step.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub timeout: u64,
    /// At most this many sends to one recipient domain (all mailboxes together) in
    /// any hour: big providers judge a sender by bursts. 0 lifts the limit.
    #[arg(long, default_value_t = 60, value_name = "N")]
    pub domain_hourly_limit: u32,
    /// This worker's name among several sharing one database (default HOST:PID). A
    /// worker restarted under the same id takes its leases back at once.
    #[arg(long, value_name = "ID")]
    pub worker_id: Option<String>,
    /// How long a worker's leases on its mailboxes last unless renewed (every third of
    /// it): a dead worker's mailboxes are taken over after at most this long.
    #[arg(long, default_value_t = 60, value_name = "SECS", value_parser = clap::value_parser!(u32).range(3..=86_400))]
    pub lease_seconds: u32,
    /// Serve /metrics (Prometheus text) and /health on this address, e.g. 127.0.0.1:9464.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ForecastArgs {
    /// Campaign id or name (a draft is forecast as if started now).
    pub campaign: String,
    /// Forecast from this instant (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<jiff::Timestamp>,
    /// What if N more mailboxes like the campaign's first one (new: warm-up from their
    /// first day) sent for it.
    #[arg(long, value_name = "+N", value_parser = parse_more)]
    pub mailboxes: Option<u32>,
    /// What if every LinkedIn account could send N invitations a rolling week (up to 200).
    #[arg(long, value_name = "N")]
    pub invites_per_week: Option<u32>,
    /// The recipient-domain limit `inroad run` will use (its --domain-hourly-limit).
    #[arg(long, default_value_t = 60, value_name = "N")]
    pub domain_hourly_limit: u32,
    /// The share of LinkedIn invitations assumed accepted (two days after they are sent),
    /// in percent. Accepted ones get the message steps; the acceptance guard judges the
    /// account by it (below 30 % halves the pace, below 15 % pauses it).
    #[arg(long, default_value_t = inroad_engine::forecast::DEFAULT_ACCEPTANCE_RATE, value_name = "PCT",
          value_parser = clap::value_parser!(u32).range(0..=100))]
    pub acceptance_rate: u32,
    /// {"campaign","leads","first_touches_done_by","last_touch_by","bottleneck",
    /// "weeks":[{"week_start","touches","bottleneck"}],...} on stdout.
    #[arg(long)]
    pub json: bool,
}

/// "+N" or "N".
fn parse_more(text: &str) -> Result<u32, String> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    digits
        .parse()
        .map_err(|_| format!("{text:?} is not a number of mailboxes to add, like +3"))
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to listen for HTTP. Keep it on loopback and let a TLS reverse proxy forward
    /// the campaigns' unsubscribe_url here; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8025", value_name = "ADDR:PORT")]
    pub listen: std::net::SocketAddr,
    /// Trust the reverse proxy's X-Forwarded-Proto (https: cookies get `Secure`) and
    /// X-Forwarded-For (the client address failed logins are counted by). Only when
    /// nothing but the proxy can reach --listen: anyone else could send those headers.
    #[arg(long)]
    pub behind_proxy: bool,
    /// Always mark cookies `Secure` (the dashboard is only ever reached over HTTPS).
    #[arg(long)]
    pub secure_cookies: bool,
    /// Ask this DNS server (e.g. 127.0.0.1:5353) for the mailbox page's SPF, DKIM and
    /// DMARC records instead of the system's.
    #[arg(long, value_name = "ADDR:PORT")]
    pub dns: Option<std::net::SocketAddr>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user who may log in to the dashboard. The password (12 characters at least)
    /// is stored only as an argon2id hash.
    Add {
        name: String,
        #[command(flatten)]
        password: UserPassword,
    },
    /// List the users (never their passwords).
    List {
        /// {"users":[{"name","created_at"}]} on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Remove a user: their sessions end at once.
    Remove { name: String },
}

/// Where a new user's password comes from: exactly one of the two.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct UserPassword {
    /// Read the password from this environment variable (only its hash is kept).
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// Read the password from the first line of stdin.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print it on stdout. Only its hash is stored, so this is
    /// the one time it is shown.
    Create {
        /// What uses it, e.g. nightly-export.
        name: String,
        /// {"name","token"} on stdout.
        #[arg(long)]
        json: bool,
    },
    /// List the tokens: name, created, last used (never their values).
    List {
        /// {"tokens":[{"name","created_at","last_used"}]} on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token: requests carrying it are refused from now on.
    Revoke { name: String },
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Workspace directory to use (created if missing); default: a new temporary one.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum LeadsCommand {
    /// Import a CSV export (Sales Navigator style, Apollo, Hunter, LinkedIn
    /// Connections.csv, any CRM). All or nothing; duplicates merge into existing
    /// leads; rejected rows go to FILE.rejects.csv with their line numbers.
    Import {
        /// The CSV file (comma, semicolon or tab; UTF-8, BOM optional).
        file: PathBuf,
        /// Put the imported and duplicate leads on this list.
        #[arg(long)]
        list: Option<String>,
        /// Map a column: HEADER=FIELD, FIELD one of email, first_name, last_name,
        /// full_name, title, company, domain, linkedin_url, location, timezone, phone,
        /// or `custom` / `skip`. Repeatable.
        #[arg(long = "map", value_name = "HEADER=FIELD")]
        map: Vec<Override>,
        /// Do everything and report it, then roll back.
        #[arg(long)]
        dry_run: bool,
        /// Print the report as one JSON object on stdout.
        #[arg(long)]
        json: bool,
    },
    /// List leads (newest last), with suppressed ones flagged.
    List {
        /// Only leads on this list.
        #[arg(long)]
        list: Option<String>,
        /// At most this many leads.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// {"total":N,"leads":[...]} on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Export leads as CSV with canonical headers (imports back as the same leads).
    Export {
        /// Only leads on this list.
        #[arg(long)]
        list: Option<String>,
        /// Write here instead of stdout.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Create a draft campaign from a TOML file (see examples/campaign.toml).
    Create {
        file: PathBuf,
        /// {"id":N} on stdout.
        #[arg(long)]
        json: bool,
    },
    /// List campaigns.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Check a campaign: blocking errors (it refuses to start) and warnings.
    Lint {
        /// Campaign id or name.
        campaign: String,
        #[arg(long)]
        json: bool,
    },
    /// Enrol the leads of a list. Suppressed leads never are; by default only leads
    /// whose email was verified deliverable are.
    Enroll {
        /// Campaign id or name.
        campaign: String,
        #[arg(long)]
        list: String,
        /// Also leads whose email is risky (catch-all domain, full mailbox).
        #[arg(long)]
        allow_risky: bool,
        /// Also leads whose email was never verified.
        #[arg(long)]
        allow_unverified: bool,
        /// Also leads active in another campaign.
        #[arg(long)]
        allow_other_campaigns: bool,
        #[arg(long)]
        json: bool,
    },
    /// Where a campaign stands: enrolments by state, sends per step and A/B variant,
    /// sends in doubt, paused mailboxes, and the leads that need a person, with why.
    Show {
        /// Campaign id or name.
        campaign: String,
        /// {"id","name","status","enrolled","sent","in_doubt","by_state":{...},
        /// "steps":[...],"attention":[...],...}
        #[arg(long)]
        json: bool,
    },
    /// Settle a send left in doubt (the worker stopped after DATA began), once you
    /// have checked the mailbox's Sent folder: it went (--delivered: the sequence goes
    /// on) or it did not (--resend: it is sent again, as the same message).
    Release {
        /// Campaign id or name.
        campaign: String,
        /// The lead whose send is in doubt (`campaign show` lists them).
        #[arg(long)]
        lead: i64,
        #[arg(long, conflicts_with = "resend", required_unless_present = "resend")]
        delivered: bool,
        #[arg(long)]
        resend: bool,
    },
    /// Start sending (refused while lint reports blocking errors).
    Start { campaign: String },
    /// Stop sending for now; `resume` continues.
    Pause { campaign: String },
    /// Continue a paused campaign.
    Resume { campaign: String },
    /// End a campaign for good: nothing more is sent.
    Stop { campaign: String },
    /// Show each step as leads would receive it (or why they cannot).
    Preview {
        /// Campaign id or name.
        campaign: String,
        /// This lead only.
        #[arg(long)]
        lead: Option<i64>,
        /// How many leads with an email to show (without --lead).
        #[arg(long, default_value_t = 3)]
        sample: usize,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum MailboxCommand {
    /// Add a mailbox to send from. Its password (or OAuth token) is never stored in
    /// plain text: --password-env names the environment variable that holds it when
    /// sending, or --password-stdin stores it encrypted with the install key.
    Add(Box<MailboxAddArgs>),
    /// Replace a mailbox's password (or say where it now comes from).
    SetPassword(SetPasswordArgs),
    /// Connect and log in to a mailbox's server exactly as `inroad run` would, then
    /// disconnect: nothing is sent.
    Test(MailboxTestArgs),
    /// Let a paused mailbox send again (after fixing why it paused).
    Resume { name: String },
    /// List mailboxes with their limits and why any is paused.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct MailboxAddArgs {
    /// A short name for the mailbox, used in campaign files.
    pub name: String,
    /// The sender, as `Name <address>` or a bare address.
    #[arg(long, value_name = "\"NAME <ADDRESS>\"")]
    pub from: String,
    #[arg(long, value_name = "HOST")]
    pub smtp_host: String,
    #[arg(long, default_value_t = 587, value_name = "PORT")]
    pub smtp_port: u16,
    #[arg(long, value_enum, default_value = "starttls")]
    pub smtp_tls: Security,
    /// The login (default: the From address).
    #[arg(long, value_name = "USER")]
    pub smtp_user: Option<String>,
    /// The environment variable that holds the SMTP password or OAuth token.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// Read the password (or OAuth token) from the first line of stdin and store it
    /// encrypted with the install key (see --key-file).
    #[arg(long, conflicts_with = "password_env")]
    pub password_stdin: bool,
    /// Most cold emails a day once warmed up (30–50 keeps a mailbox healthy).
    #[arg(long, default_value_t = 30, value_name = "N")]
    pub daily_cap: u32,
    /// Warm-up ramp: START emails on the first day, STEP more each day after, up to the cap.
    #[arg(long, value_name = "START:STEP")]
    pub warmup: Option<String>,
    /// Seconds between two sends from this mailbox, drawn in [MIN, MAX].
    #[arg(long, default_value = "60-180", value_name = "MIN[-MAX]")]
    pub gap: String,
    /// The mailbox's time zone (IANA name): daily caps are counted per day there.
    #[arg(long, default_value = "UTC", value_name = "TZ")]
    pub timezone: String,
    #[arg(long, value_name = "SELECTOR", requires = "dkim_key")]
    pub dkim_selector: Option<String>,
    /// The DKIM private key (PEM); it stays in its file.
    #[arg(long, value_name = "FILE", requires = "dkim_selector")]
    pub dkim_key: Option<PathBuf>,
    /// The signing domain (default: the From address's domain).
    #[arg(long, value_name = "DOMAIN")]
    pub dkim_domain: Option<String>,
    /// The IMAP server `inroad run` reads replies, bounces and out-of-office notices
    /// from (read-only: nothing is marked, moved or deleted). Same password as SMTP.
    #[arg(long, value_name = "HOST")]
    pub imap_host: Option<String>,
    #[arg(long, default_value_t = 993, value_name = "PORT")]
    pub imap_port: u16,
    /// `none` is refused except on loopback.
    #[arg(long, value_enum, default_value = "tls")]
    pub imap_tls: Security,
    /// Default: the From address.
    #[arg(long, value_name = "USER")]
    pub imap_user: Option<String>,
    /// Also read this spam folder (e.g. "Junk", "[Gmail]/Spam"): replies land there too.
    #[arg(long, value_name = "FOLDER", requires = "imap_host")]
    pub imap_junk_folder: Option<String>,
}

#[derive(Debug, Args)]
pub struct SetPasswordArgs {
    /// The mailbox's name.
    pub name: String,
    #[command(flatten)]
    pub source: PasswordSource,
}

/// Where a new password comes from: exactly one of the two.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct PasswordSource {
    /// From now on, read the password from this environment variable when sending
    /// (a stored password is deleted).
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// Read the password from the first line of stdin and store it encrypted with the
    /// install key (see --key-file).
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct MailboxTestArgs {
    /// The mailbox's name.
    pub name: String,
    /// Seconds to wait for the server at each step.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub timeout: u64,
    /// The EHLO name (default: this machine's host name).
    #[arg(long, env = "INROAD_HELO_NAME", value_name = "NAME")]
    pub helo_name: Option<String>,
    /// {"mailbox","smtp":{"ok","detail"}} on stdout.
    #[arg(long)]
    pub json: bool,
}

/// How a mail connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Security {
    /// Plain text (only sensible on loopback).
    None,
    Starttls,
    Tls,
}

impl Security {
    pub fn name(self) -> &'static str {
        match self {
            Security::None => "none",
            Security::Starttls => "starttls",
            Security::Tls => "tls",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum SuppressCommand {
    /// Suppress addresses and whole domains (written @example.com).
    Add {
        #[arg(required = true, value_name = "ADDRESS|@DOMAIN")]
        entries: Vec<String>,
        /// Why (kept with the entry).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Suppress every address/@domain in a file (one a line, or a CSV with an email column).
    Import {
        file: PathBuf,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show the suppression list.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Take addresses or @domains off the list.
    Remove {
        #[arg(required = true, value_name = "ADDRESS|@DOMAIN")]
        entries: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum LinkedinCommand {
    /// LinkedIn accounts.
    #[command(subcommand)]
    Account(LinkedinAccountCommand),
    /// Today's tasks, inside every budget: invitations (with their notes), messages,
    /// InMails. Asking again the same day shows the same tasks, never more.
    Tasks {
        /// Only this account's.
        #[arg(long)]
        account: Option<String>,
        /// Act as if it were this instant (RFC 3339).
        #[arg(long, value_name = "RFC3339")]
        now: Option<jiff::Timestamp>,
        /// Ask for more than today's pace (never more than the rolling 7-day budget allows).
        #[arg(long, value_name = "N")]
        max: Option<u32>,
        /// {"tasks":[{"id","account","kind","lead_id","name","profile_url","note","subject","body","due"}]}
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// The same as CSV, for a spreadsheet.
        #[arg(long)]
        csv: bool,
    },
    /// Record a task's outcome (default: done).
    Done {
        task: i64,
        #[arg(long, group = "outcome")]
        accepted: bool,
        #[arg(long, group = "outcome")]
        declined: bool,
        /// The lead replied on LinkedIn: the sequence stops, as for an email reply.
        #[arg(long, group = "outcome")]
        replied: bool,
        /// Not done and not to be done: the sequence moves on.
        #[arg(long, group = "outcome")]
        skipped: bool,
        #[arg(long, value_name = "RFC3339")]
        now: Option<jiff::Timestamp>,
    },
    /// Record outcomes in bulk from a CSV: `lead_id` or `profile_url`, `outcome`
    /// (accepted, declined, replied), optional `at` (RFC 3339). All rows are checked
    /// before any is recorded.
    Outcomes {
        file: std::path::PathBuf,
        #[arg(long, value_name = "RFC3339")]
        now: Option<jiff::Timestamp>,
        #[arg(long)]
        json: bool,
    },
    /// The lead accepted our invitation.
    Accepted {
        lead: i64,
        #[arg(long, value_name = "RFC3339")]
        now: Option<jiff::Timestamp>,
    },
    /// The lead replied on LinkedIn: their sequences stop.
    Replied {
        lead: i64,
        #[arg(long, value_name = "RFC3339")]
        now: Option<jiff::Timestamp>,
    },
}

#[derive(Debug, Subcommand)]
pub enum LinkedinAccountCommand {
    /// Add an account: its plan sets the defaults (invitations 100 per rolling 7 days;
    /// notes 200 characters on free, 300 paid, 5 noted invitations a month on free;
    /// messages 100/150 a week; InMail 0/5/15/50 a month).
    Add {
        name: String,
        #[arg(long, value_name = "PLAN", value_parser = ["free", "premium-career", "premium-business", "sales-navigator"])]
        plan: String,
        /// Invitations per rolling 7 days (up to 200).
        #[arg(long, value_name = "N")]
        invitations_per_week: Option<u32>,
        /// Messages to connections per rolling 7 days (at most the plan's).
        #[arg(long, value_name = "N")]
        messages_per_week: Option<u32>,
        /// Days are counted here (IANA name).
        #[arg(long, default_value = "UTC", value_name = "TZ")]
        timezone: String,
        /// The InMail credits LinkedIn shows now (paid plans); monthly grants follow on
        /// the 1st, unused credits roll over up to 150 and expire after 90 days.
        #[arg(long, default_value_t = 0, value_name = "N")]
        inmail_credits: u32,
        /// Act as if it were this instant (RFC 3339).
        #[arg(long, value_name = "RFC3339")]
        now: Option<jiff::Timestamp>,
    },
    /// Accounts with today's budgets, pending invitations and the acceptance guard.
    List {
        /// Act as if it were this instant (RFC 3339).
        #[arg(long, value_name = "RFC3339")]
        now: Option<jiff::Timestamp>,
        #[arg(long)]
        json: bool,
    },
    /// Send invitations again after the acceptance guard paused them (too few of the
    /// last invitations were accepted): the invitations so far stop counting.
    Resume {
        name: String,
        #[arg(long, value_name = "RFC3339")]
        now: Option<jiff::Timestamp>,
    },
}

//! `inroad run`: one pass of everything due at an instant, through the pure planner.
//!
//! A pass repeats plan → send until the planner has nothing more for `now` (each
//! planning round gives a mailbox at most one send). Every send follows the ledger:
//! rendered strictly first (a lead whose data cannot fill the templates is parked,
//! never sent), suppression checked right before, recorded `sending` before the
//! transport is touched, closed as `sent` (with the enrolment moved on, in one
//! transaction) or `failed` (tried again later). A send interrupted mid-way stays
//! `sending` and becomes `in_doubt` when a worker next takes its mailbox's lease
//! (a restarted worker included): never re-sent.
//!
//! Several workers may share one database: each pass first renews this worker's leases
//! and claims its fair share of the mailboxes ([`Store::claim_leases`]), and sends,
//! syncs and counts caps only for the mailboxes it holds, so each mailbox's caps and
//! gaps are read from the ledger by its one owner. The sends a dead worker left open
//! are settled by whoever takes its mailboxes over, never while it holds them.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use inroad_core::campaign::{reply_subject, variant_for, CampaignSpec};
use inroad_core::planner::{
    plan, step_due, CampaignState, DomainRecent, DueEnrolment, MailboxState, PlanInput, PlannedSend,
};
use inroad_core::schedule::{ceil_to_second, day_bounds, mailbox_day, Warmup};
use inroad_core::template::spin_seed;
use inroad_core::unsubscribe;
use inroad_mail::message::{build, new_message_id, DkimSigner, OutgoingEmail};
use inroad_mail::smtp::{Delivery, SmtpSender};
use inroad_store::{Advance, Begun, LeaseKind, Mailbox, NewSend, SendOutcome, Store, Suppression};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Serialize;

use crate::campaign::{compile, Compiled};
use crate::inbox::{sync_all, SyncReport};
use crate::mailbox::smtp_settings;
use crate::{Error, Result};

/// Where messages go.
#[derive(Clone, Debug)]
pub enum Transport {
    /// Each message as `<send id>.eml` in this directory (a dry run).
    Dir(PathBuf),
    /// Each mailbox's own SMTP server; `hello_name` is the EHLO name.
    Smtp { hello_name: String, timeout: Duration },
}

/// A mailbox pauses itself when at least this share of its last sends bounced…
const BOUNCE_BREAKER_RATE: f64 = 0.02;
/// …over at least this many sends.
const BOUNCE_BREAKER_SAMPLE: u32 = 50;

/// How long a step waits after a temporary delivery failure before it is retried.
const RETRY_AFTER: i64 = 15 * 60;
/// How many due enrolments a planning round reads at most.
const DUE_BATCH: usize = 100_000;

#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The instant the pass acts at (`--now`), real time otherwise.
    pub now: Timestamp,
    pub transport: Transport,
    /// The install key (kept outside the database): signs unsubscribe links and
    /// opens the mailboxes' sealed passwords.
    pub install_key: Vec<u8>,
    /// At most this many sends to one recipient domain in any hour.
    pub domain_limit_per_hour: Option<u32>,
    /// How long to wait for an IMAP server at each step (inbox sync).
    pub imap_timeout: Duration,
    /// This worker's id among those sharing the database (`--worker-id`).
    pub worker_id: String,
    /// How long a lease lasts unless renewed (`--lease-seconds`): a dead worker's
    /// mailboxes are taken over after at most this long.
    pub lease_secs: u32,
}

impl RunOptions {
    /// How often the leases are renewed (and the share-out looked at again): three
    /// times per lease, so one late heartbeat never loses a lease.
    pub fn heartbeat(&self) -> Duration {
        Duration::from_secs(u64::from(self.lease_secs / 3).max(1))
    }
}

/// What a worker holds between passes: the leases it has claimed. Mailboxes new to it
/// are the ones whose interrupted sends it settles.
#[derive(Clone, Debug, Default)]
pub struct Holdings {
    mailboxes: BTreeSet<i64>,
    linkedin_accounts: BTreeSet<i64>,
}

impl Holdings {
    /// The mailboxes this worker holds the leases of.
    pub fn mailboxes(&self) -> &BTreeSet<i64> {
        &self.mailboxes
    }

    /// Renews this worker's leases and claims its share; settles the interrupted sends
    /// of mailboxes new to it. Returns whether what it holds changed, and how many
    /// sends it found in doubt.
    fn refresh(&mut self, store: &mut dyn Store, options: &RunOptions) -> Result<(bool, u64)> {
        let worker = options.worker_id.as_str();
        let mailboxes: BTreeSet<i64> = store
            .claim_leases(LeaseKind::Mailbox, worker, options.lease_secs)?
            .into_iter()
            .collect();
        let accounts: BTreeSet<i64> = store
            .claim_leases(LeaseKind::LinkedinAccount, worker, options.lease_secs)?
            .into_iter()
            .collect();
        let new: Vec<i64> = mailboxes.difference(&self.mailboxes).copied().collect();
        let in_doubt = if new.is_empty() {
            0
        } else {
            store.mark_interrupted_sends(options.now.as_second(), &new)? as u64
        };
        let changed = mailboxes != self.mailboxes || accounts != self.linkedin_accounts;
        self.mailboxes = mailboxes;
        self.linkedin_accounts = accounts;
        Ok((changed, in_doubt))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RunReport {
    /// What the inbox sync before sending found (replies stop sequences first).
    pub inbox: SyncReport,
    pub sent: u64,
    pub failed: u64,
    /// Leads parked `needs_attention` because a template could not be filled.
    pub needs_attention: u64,
    /// Leads stopped because they are suppressed.
    pub suppressed: u64,
    /// Recipients refused for good (now suppressed).
    pub bounced: u64,
    /// Sends that broke after DATA began in this pass (never retried).
    pub in_doubt: u64,
    /// Sends found interrupted by an earlier worker (now `in_doubt`).
    pub in_doubt_found: u64,
    /// How many mailboxes this worker holds the leases of.
    pub mailboxes_held: u64,
    /// The leases changed during the pass (workers came or went): it stopped early,
    /// and the next pass should start at once.
    pub leases_changed: bool,
    /// Mailboxes this pass paused (circuit breakers), with why.
    pub mailboxes_paused: Vec<String>,
    /// When the next pass could send something (RFC 3339), if anything is pending.
    pub next_wake: Option<String>,
}

/// An active campaign, ready to render.
struct ActiveCampaign {
    spec: CampaignSpec,
    templates: Compiled,
    time_zone: TimeZone,
}

/// One pass at `options.now`, for the mailboxes this worker holds (or claims now).
pub fn run_once(store: &mut dyn Store, options: &RunOptions, holdings: &mut Holdings) -> Result<RunReport> {
    let now = options.now;
    let now_s = now.as_second();
    let (_, in_doubt_found) = holdings.refresh(store, options)?;
    let mut last_heartbeat = Instant::now();
    let held = holdings.mailboxes.clone();
    let mut report = RunReport {
        in_doubt_found,
        mailboxes_held: held.len() as u64,
        inbox: sync_all(store, &options.install_key, options.imap_timeout, now, &held)?,
        ..Default::default()
    };

    let mailboxes: HashMap<i64, Mailbox> = store.mailboxes()?.into_iter().map(|m| (m.id, m)).collect();
    let ids_by_name: HashMap<&str, i64> = mailboxes.values().map(|m| (m.name.as_str(), m.id)).collect();
    let mut campaigns: HashMap<i64, ActiveCampaign> = HashMap::new();
    let mut campaign_states = Vec::new();
    for record in store.campaigns()?.into_iter().filter(|c| c.status == "active") {
        // The stored file is parsed as is (`load` would read every campaign again).
        let spec = inroad_core::campaign::parse_campaign(&record.spec).map_err(|e| {
            Error::Usage(format!(
                "campaign {}: stored file no longer parses: {e}",
                record.name
            ))
        })?;
        let mailbox_ids: Vec<i64> = spec
            .mailboxes
            .iter()
            .filter_map(|n| ids_by_name.get(n.as_str()).copied())
            .collect();
        let time_zone = spec
            .time_zone()
            .map_err(|e| Error::Usage(format!("campaign {}: {e}", record.name)))?;
        let (from, to) = day_bounds(mailbox_day(now, &time_zone), &time_zone);
        let new_today = store.campaign_new_leads(record.id, from.as_second(), to.as_second())?;
        let state = CampaignState::from_spec(record.id, &spec, mailbox_ids, new_today)
            .map_err(|e| Error::Usage(format!("campaign {}: {e}", record.name)))?;
        campaign_states.push(state);
        let templates = compile(&spec)?;
        campaigns.insert(
            record.id,
            ActiveCampaign {
                spec,
                templates,
                time_zone,
            },
        );
    }
    let mut mailbox_states = Vec::new();
    for m in mailboxes.values() {
        if held.contains(&m.id) {
            mailbox_states.push(mailbox_state(store, m, now)?);
        } else {
            // Another worker's: planned by it alone, so its caps and gaps hold.
            mailbox_states.push(MailboxState {
                paused: true,
                ..mailbox_state_unread(m)
            });
        }
    }
    let mut signers: HashMap<i64, Option<DkimSigner>> = HashMap::new();
    let mut senders: HashMap<i64, SmtpSender> = HashMap::new();

    // The due list is read once and kept in memory between planning rounds (each
    // round gives a mailbox at most one send); it is read again only when a full
    // batch has been worked through.
    let mut input = PlanInput {
        now,
        mailboxes: mailbox_states,
        campaigns: campaign_states,
        domain_limit_per_hour: options.domain_limit_per_hour,
        ..PlanInput::default()
    };
    if options.domain_limit_per_hour.is_some() {
        for (domain, sends, oldest) in store.recent_domain_sends(now_s - 3600)? {
            let oldest = Timestamp::from_second(oldest).unwrap_or(now);
            input.domain_recent.insert(domain, DomainRecent { sends, oldest });
        }
    }
    let mut batch_was_full = true;
    let mut sent_since_load = true;
    loop {
        if last_heartbeat.elapsed() >= options.heartbeat() {
            last_heartbeat = Instant::now();
            let (changed, in_doubt_found) = holdings.refresh(store, options)?;
            report.in_doubt_found += in_doubt_found;
            if changed {
                // The mailbox states above are stale: a fresh pass reads them again.
                report.leases_changed = true;
                report.mailboxes_held = holdings.mailboxes.len() as u64;
                return Ok(report);
            }
        }
        if input.due.is_empty() && batch_was_full && sent_since_load {
            sent_since_load = false;
            let (due, parked) = load_due(store, &campaigns, now, &held)?;
            report.needs_attention += parked;
            batch_was_full = due.len() + parked as usize >= DUE_BATCH;
            input.due = due;
            input.later_due = store
                .later_due(now_s)?
                .and_then(|s| Timestamp::from_second(s).ok());
        }
        let planned = plan(&input);
        if planned.sends.is_empty() {
            if batch_was_full && sent_since_load {
                input.due.clear(); // the rest of the table may hold sendable ones
                continue;
            }
            report.next_wake = planned
                .next_wake
                .map(|t| ceil_to_second(t).strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
            return Ok(report);
        }
        let handled: HashSet<i64> = planned.sends.iter().map(|s| s.enrolment_id).collect();
        let by_id: HashMap<i64, DueEnrolment> = input
            .due
            .iter()
            .filter(|d| handled.contains(&d.id))
            .map(|d| (d.id, d.clone()))
            .collect();
        input.due.retain(|d| !handled.contains(&d.id));
        sent_since_load = true;
        for mailbox_id in planned.sends.iter().map(|s| s.mailbox_id) {
            if let std::collections::hash_map::Entry::Vacant(entry) = signers.entry(mailbox_id) {
                entry.insert(dkim_signer(&mailboxes[&mailbox_id])?);
            }
        }
        let round = Round {
            options,
            campaigns: &campaigns,
            mailboxes: &mailboxes,
            signers: &signers,
        };
        let jobs = round.prepare(store, &planned.sends, &by_id, &mut report)?;
        for (job, outcome) in round.deliver(store, jobs, &mut senders)? {
            let mailbox = &mailboxes[&job.mailbox_id];
            let enrolment = job.enrolment;
            match outcome {
                Outcome::Sent => {
                    report.sent += 1;
                    input.record_send(enrolment, mailbox.id, mailbox.gap());
                }
                Outcome::Failed => report.failed += 1,
                Outcome::Bounced => {
                    report.bounced += 1;
                    let (sends, bounces) =
                        store.mailbox_recent_outcomes(mailbox.id, BOUNCE_BREAKER_SAMPLE)?;
                    if sends >= BOUNCE_BREAKER_SAMPLE
                        && f64::from(bounces) >= BOUNCE_BREAKER_RATE * f64::from(sends)
                        && !is_paused(&input.mailboxes, mailbox.id)
                    {
                        let why = format!("{bounces} hard bounces in its last {sends} sends");
                        pause(store, &mut input.mailboxes, mailbox, &why)?;
                        report.mailboxes_paused.push(format!("{}: {why}", mailbox.name));
                    }
                }
                Outcome::AuthFailed(why) => {
                    report.failed += 1;
                    pause(store, &mut input.mailboxes, mailbox, &why)?;
                    report.mailboxes_paused.push(format!("{}: {why}", mailbox.name));
                }
                Outcome::InDoubt => report.in_doubt += 1,
            }
        }
    }
}

/// The due enrolments at `now` (a batch), and how many were parked for lacking an email.
///
/// A lead whose next step is a LinkedIn step leaves the email queue for the LinkedIn
/// one (`inroad linkedin tasks`): a person does that step, never the worker.
///
/// Conversations on another worker's mailboxes are left to it; new leads are open to
/// every worker (the first to record a send binds the lead to its mailbox).
fn load_due(
    store: &mut dyn Store,
    campaigns: &HashMap<i64, ActiveCampaign>,
    now: Timestamp,
    held: &BTreeSet<i64>,
) -> Result<(Vec<DueEnrolment>, u64)> {
    let mut due = Vec::new();
    let mut parked = 0;
    for row in store.due_enrolments(now.as_second(), DUE_BATCH)? {
        if row.mailbox_id.is_some_and(|m| !held.contains(&m)) {
            continue;
        }
        let step = campaigns
            .get(&row.campaign_id)
            .and_then(|c| c.spec.steps.get(row.step as usize));
        if step.is_some_and(|s| s.channel.is_linkedin()) {
            store.await_linkedin(row.enrolment_id)?;
            continue;
        }
        let Some(email) = &row.email else {
            store.park_enrolment(row.enrolment_id, "needs_attention", "the lead has no email")?;
            parked += 1;
            continue;
        };
        due.push(DueEnrolment {
            id: row.enrolment_id,
            campaign: row.campaign_id,
            lead: row.lead_id,
            domain: email.rsplit_once('@').map_or("", |(_, d)| d).to_owned(),
            time_zone: row.timezone.as_deref().and_then(|tz| TimeZone::get(tz).ok()),
            mailbox: row.mailbox_id,
            step: row.step as usize,
            due: Timestamp::from_second(row.due).unwrap_or(now),
        });
    }
    Ok((due, parked))
}

/// How a delivered job ended.
enum Outcome {
    Sent,
    Failed,
    /// Failed because the server refused the mailbox's credentials.
    AuthFailed(String),
    Bounced,
    InDoubt,
}

/// How many messages of a round are signed and delivered at once. Sessions with
/// remote servers spend most of their time waiting, so this is more than the cores.
const PARALLEL_SENDS: usize = 16;

/// What a planning round's sends share.
struct Round<'a> {
    options: &'a RunOptions,
    campaigns: &'a HashMap<i64, ActiveCampaign>,
    mailboxes: &'a HashMap<i64, Mailbox>,
    signers: &'a HashMap<i64, Option<DkimSigner>>,
}

/// A send recorded in the ledger (`planned`) with its message built, not yet signed.
struct Job<'a> {
    send_id: i64,
    enrolment: &'a DueEnrolment,
    mailbox_id: i64,
    step: u32,
    to: String,
    message: Vec<u8>,
}

impl<'a> Round<'a> {
    /// Renders each planned send and records the sendable ones in the ledger (one
    /// transaction for the round). Leads that cannot be sent are parked here: missing
    /// data, suppressed (checked right before sending), or a step already sent.
    fn prepare(
        &self,
        store: &mut dyn Store,
        planned: &[PlannedSend],
        due: &'a HashMap<i64, DueEnrolment>,
        report: &mut RunReport,
    ) -> Result<Vec<Job<'a>>> {
        let now_s = self.options.now.as_second();
        let mut drafts = Vec::with_capacity(planned.len());
        for send in planned {
            let enrolment = &due[&send.enrolment_id];
            let campaign = &self.campaigns[&enrolment.campaign];
            let mailbox = &self.mailboxes[&send.mailbox_id];
            let Some(lead) = store.lead(enrolment.lead)? else {
                store.park_enrolment(enrolment.id, "needs_attention", "the lead no longer exists")?;
                report.needs_attention += 1;
                continue;
            };
            if lead.suppressed {
                let why = "the address or its domain is suppressed";
                store.park_enrolment(enrolment.id, "unsubscribed", why)?;
                report.suppressed += 1;
                continue;
            }
            let rendered = match render(campaign, &lead, send.step) {
                Ok(rendered) => rendered,
                Err(reason) => {
                    store.park_enrolment(enrolment.id, "needs_attention", &reason)?;
                    report.needs_attention += 1;
                    continue;
                }
            };
            let from_domain = mailbox
                .from_address
                .rsplit_once('@')
                .map_or("localhost", |(_, d)| d);
            let unique = (enrolment.id as u64) << 8 | (send.step as u64 & 0xff);
            let ledger = NewSend {
                enrolment_id: enrolment.id,
                step: u32::try_from(send.step).unwrap_or(u32::MAX),
                mailbox_id: mailbox.id,
                message_id: new_message_id(from_domain, unique),
                recipient: lead.lead.email.clone().unwrap_or_default(),
                planned_at: now_s,
            };
            drafts.push((enrolment, mailbox, campaign, lead, rendered, ledger));
        }
        let ledger: Vec<NewSend> = drafts.iter().map(|d| d.5.clone()).collect();
        let send_ids = store.begin_sends(&ledger)?;
        let mut jobs = Vec::with_capacity(drafts.len());
        for ((enrolment, mailbox, campaign, lead, rendered, ledger), send_id) in
            drafts.into_iter().zip(send_ids)
        {
            let send_id = match send_id {
                Begun::Planned(id) => id,
                Begun::AlreadySent => {
                    let why = format!(
                        "step {} already has a send (sent or in doubt); it is never sent twice",
                        ledger.step + 1
                    );
                    store.park_enrolment(enrolment.id, "paused", &why)?;
                    continue;
                }
                // Another worker planned this lead first: it is that worker's now.
                Begun::Elsewhere => continue,
            };
            let thread = store.thread(enrolment.id)?;
            let token = unsubscribe::sign(&self.options.install_key, lead.id, enrolment.campaign);
            let base = campaign
                .spec
                .unsubscribe_url
                .as_deref()
                .unwrap_or_default()
                .trim_end_matches('/');
            let email = OutgoingEmail {
                from_name: mailbox.from_name.clone(),
                from_address: mailbox.from_address.clone(),
                to_name: lead.lead.full_name.clone(),
                to_address: ledger.recipient.clone(),
                subject: rendered.subject,
                body: rendered.body,
                html: rendered.html,
                message_id: ledger.message_id,
                in_reply_to: thread.last().cloned(),
                references: thread,
                date: std::time::SystemTime::now(),
                unsubscribe_url: format!("{base}/u/{token}"),
                unsubscribe_mailto: Some(format!("mailto:{}?subject=unsubscribe", mailbox.from_address)),
                postal_address: campaign.spec.postal_address.clone().unwrap_or_default(),
            };
            let message = match build(&email) {
                Ok(message) => message,
                Err(e) => {
                    // Nothing can be sent to this lead until its data changes.
                    let why = format!("the message could not be built: {e}");
                    store.finish_send(send_id, SendOutcome::Failed, Some(&why), now_s, None)?;
                    store.park_enrolment(enrolment.id, "needs_attention", &why)?;
                    report.needs_attention += 1;
                    continue;
                }
            };
            jobs.push(Job {
                send_id,
                enrolment,
                mailbox_id: mailbox.id,
                step: ledger.step,
                to: ledger.recipient,
                message,
            });
        }
        Ok(jobs)
    }

    /// Signs and delivers the round's jobs in parallel (a round has at most one per
    /// mailbox), each ledger entry closed as its delivery ends.
    ///
    /// The store's lock is held from "DATA begins" (the ledger's `sending`) until the
    /// outcome is recorded, so however many sessions run at once, at most one message
    /// is ever in the state a crash would leave in doubt. Everything else — signing,
    /// connecting, MAIL and RCPT — overlaps.
    fn deliver(
        &self,
        store: &mut dyn Store,
        jobs: Vec<Job<'a>>,
        senders: &mut HashMap<i64, SmtpSender>,
    ) -> Result<Vec<(Job<'a>, Outcome)>> {
        let mut work = Vec::with_capacity(jobs.len());
        let mut finished = Vec::new();
        for job in jobs {
            let sender = match &self.options.transport {
                Transport::Dir(_) => None,
                Transport::Smtp { hello_name, timeout } => Some(match senders.remove(&job.mailbox_id) {
                    Some(sender) => sender,
                    None => {
                        let mailbox = &self.mailboxes[&job.mailbox_id];
                        match smtp_settings(mailbox, &self.options.install_key, hello_name, *timeout) {
                            Ok(settings) => SmtpSender::new(settings)
                                .map_err(|e| Error::Io(format!("cannot start the SMTP client: {e}")))?,
                            // No password to log in with: as good as refused credentials,
                            // and the mailbox pauses the same way.
                            Err(why) => {
                                let outcome = self.settle(store, &job, Delivery::AuthFailed(why))?;
                                finished.push((job, outcome));
                                continue;
                            }
                        }
                    }
                }),
            };
            work.push((job, sender));
        }
        let threads = work.len().min(PARALLEL_SENDS);
        let queue = Mutex::new(work.into_iter());
        let store = Mutex::new(store);
        let done = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| loop {
                    let Some((job, mut sender)) = lock(&queue).next() else {
                        break;
                    };
                    let outcome = self.deliver_one(&store, &job, sender.as_mut());
                    lock(&done).push((job, sender, outcome));
                });
            }
        });
        let mut first_error = None;
        for (job, sender, outcome) in done.into_inner().unwrap_or_else(PoisonError::into_inner) {
            if let Some(sender) = sender {
                senders.insert(job.mailbox_id, sender);
            }
            match outcome {
                Ok(outcome) => finished.push((job, outcome)),
                Err(e) => first_error = first_error.or(Some(e)),
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(finished),
        }
    }

    fn deliver_one(
        &self,
        store: &Mutex<&mut dyn Store>,
        job: &Job<'_>,
        sender: Option<&mut SmtpSender>,
    ) -> Result<Outcome> {
        let now_s = self.options.now.as_second();
        let signed = match &self.signers[&job.mailbox_id] {
            Some(signer) => signer.sign(&job.message),
            None => Ok(job.message.clone()),
        };
        let message = match signed {
            Ok(message) => message,
            Err(e) => return self.settle(&mut **lock(store), job, Delivery::Failed(e.to_string())),
        };
        let mailbox = &self.mailboxes[&job.mailbox_id];
        match (&self.options.transport, sender) {
            (Transport::Dir(dir), _) => {
                let mut store = lock(store);
                store.mark_sending(job.send_id, now_s)?;
                let delivery = write_eml(dir, job.send_id, &message);
                self.settle(&mut **store, job, delivery)
            }
            (Transport::Smtp { .. }, Some(sender)) => {
                if let Err(refused) = sender.start_transaction(&mailbox.from_address, &job.to) {
                    return self.settle(&mut **lock(store), job, refused);
                }
                let mut store = lock(store);
                store.mark_sending(job.send_id, now_s)?;
                let delivery = sender.send_data(&message);
                self.settle(&mut **store, job, delivery)
            }
            (Transport::Smtp { .. }, None) => {
                let refused = Delivery::Failed("no SMTP client for this mailbox".into());
                self.settle(&mut **lock(store), job, refused)
            }
        }
    }

    /// Closes the job's ledger entry by how its delivery ended, and moves the
    /// enrolment on (or parks it).
    fn settle(&self, store: &mut dyn Store, job: &Job<'_>, delivery: Delivery) -> Result<Outcome> {
        let now = self.options.now;
        let now_s = now.as_second();
        let enrolment = job.enrolment;
        let campaign = &self.campaigns[&enrolment.campaign];
        let mailbox = &self.mailboxes[&job.mailbox_id];
        // Nothing was handed over: the same send is tried again later, from the same
        // mailbox if the conversation has one.
        let retry_later = |store: &mut dyn Store, why: &str| {
            let advance = Advance {
                enrolment_id: enrolment.id,
                mailbox_id: enrolment.mailbox.unwrap_or(mailbox.id),
                next_step: job.step,
                next_due: Some(now_s + RETRY_AFTER),
                state: "active",
            };
            store.finish_send(job.send_id, SendOutcome::Failed, Some(why), now_s, Some(&advance))
        };
        match delivery {
            Delivery::Sent(reply) => {
                let next_step = job.step + 1;
                let mailbox_zone = TimeZone::get(&mailbox.timezone).ok();
                let tz = inroad_core::planner::local_zone(
                    enrolment.time_zone.as_ref(),
                    mailbox_zone.as_ref(),
                    &campaign.time_zone,
                );
                let (next_due, state) = match campaign.spec.steps.get(next_step as usize) {
                    Some(next) => (Some(step_due(now, next, tz).as_second()), "active"),
                    None => (None, "finished"),
                };
                let advance = Advance {
                    enrolment_id: enrolment.id,
                    mailbox_id: mailbox.id,
                    next_step,
                    next_due,
                    state,
                };
                store.finish_send(
                    job.send_id,
                    SendOutcome::Sent,
                    Some(&reply),
                    now_s,
                    Some(&advance),
                )?;
                Ok(Outcome::Sent)
            }
            Delivery::Failed(why) => {
                retry_later(store, &why)?;
                Ok(Outcome::Failed)
            }
            Delivery::AuthFailed(why) => {
                retry_later(store, &why)?;
                Ok(Outcome::AuthFailed(why))
            }
            Delivery::Bounced(why) => {
                store.finish_send(job.send_id, SendOutcome::Bounced, Some(&why), now_s, None)?;
                store.add_suppressions(&[Suppression {
                    value: job.to.clone(),
                    reason: Some(format!("hard bounce: {why}")),
                    created_at: inroad_store::now(),
                }])?;
                store.park_enrolment(enrolment.id, "bounced", &why)?;
                Ok(Outcome::Bounced)
            }
            Delivery::InDoubt(why) => {
                store.finish_send(job.send_id, SendOutcome::InDoubt, Some(&why), now_s, None)?;
                let reason = format!(
                    "step {} may have been delivered ({why}); release it by hand",
                    job.step + 1
                );
                store.park_enrolment(enrolment.id, "paused", &reason)?;
                Ok(Outcome::InDoubt)
            }
        }
    }
}

/// A lock whose holder panicked is still good here: every ledger write is its own
/// transaction, so the data behind it is consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The dry-run transport: the message as `<send id>.eml`, written whole or not at all.
fn write_eml(dir: &Path, send_id: i64, message: &[u8]) -> Delivery {
    let path = dir.join(format!("{send_id:08}.eml"));
    let partial = dir.join(format!("{send_id:08}.eml.partial"));
    match std::fs::write(&partial, message).and_then(|()| std::fs::rename(&partial, &path)) {
        Ok(()) => Delivery::Sent(format!("written to {}", path.display())),
        Err(e) => Delivery::Failed(format!("cannot write {}: {e}", path.display())),
    }
}

fn is_paused(states: &[MailboxState], mailbox_id: i64) -> bool {
    states.iter().any(|m| m.id == mailbox_id && m.paused)
}

/// Stops a mailbox sending: in the store (shown by `mailbox list`) and for the rest
/// of this pass.
fn pause(store: &mut dyn Store, states: &mut [MailboxState], mailbox: &Mailbox, why: &str) -> Result<()> {
    store.set_mailbox_paused(&mailbox.name, Some(why))?;
    if let Some(state) = states.iter_mut().find(|m| m.id == mailbox.id) {
        state.paused = true;
    }
    Ok(())
}

/// A step as one lead gets it.
struct Rendered {
    subject: String,
    body: String,
    html: Option<String>,
}

/// The subject, body and HTML of `step` for this lead, or why they cannot be made. A
/// step without a subject replies in the thread of the first step's subject.
fn render(
    campaign: &ActiveCampaign,
    lead: &inroad_store::StoredLead,
    step: usize,
) -> Result<Rendered, String> {
    let pick = |s: usize| {
        let variant = variant_for(lead.id, s, &campaign.spec.steps[s].weights());
        (&campaign.templates[s][variant], spin_seed(lead.id, s as u32))
    };
    let (templates, seed) = pick(step);
    let subject = match &templates.subject {
        Some(t) => t.render_subject(&lead.lead, seed).map_err(|e| e.to_string())?,
        None => {
            let first_email = campaign
                .spec
                .first_email_step()
                .ok_or("the campaign has no email step")?;
            let (first, first_seed) = pick(first_email);
            let first = first.subject.as_ref().ok_or("the first step has no subject")?;
            reply_subject(
                &first
                    .render_subject(&lead.lead, first_seed)
                    .map_err(|e| e.to_string())?,
            )
        }
    };
    let body = templates
        .body
        .render(&lead.lead, seed)
        .map_err(|e| e.to_string())?;
    let html = match &templates.html {
        Some(t) => Some(t.render(&lead.lead, seed).map_err(|e| e.to_string())?),
        None => None,
    };
    Ok(Rendered { subject, body, html })
}

/// The planner's view of a mailbox now: today's sends in its own time zone, its
/// last send, and the gap before its next one.
pub(crate) fn mailbox_state(store: &dyn Store, m: &Mailbox, now: Timestamp) -> Result<MailboxState> {
    let tz = TimeZone::get(&m.timezone).map_err(|e| Error::Usage(format!("mailbox {}: {e}", m.name)))?;
    let (from, to) = day_bounds(mailbox_day(now, &tz), &tz);
    let activity = store.mailbox_activity(m.id, from.as_second(), to.as_second())?;
    let stamp = |s: Option<i64>| s.and_then(|s| Timestamp::from_second(s).ok());
    Ok(MailboxState {
        first_send_day: stamp(activity.first_send).map(|t| mailbox_day(t, &tz)),
        sent_today: activity.sent_in_range,
        last_send: stamp(activity.last_send),
        gap: m
            .gap()
            .after_send(m.id, activity.last_send.unwrap_or(0), activity.sent_in_range),
        time_zone: Some(tz),
        ..mailbox_state_unread(m)
    })
}

/// A mailbox's settings as the planner sees them, without reading its ledger.
fn mailbox_state_unread(m: &Mailbox) -> MailboxState {
    MailboxState {
        id: m.id,
        daily_cap: m.daily_cap,
        warmup: m.warmup.map(|(start, step)| Warmup { start, step }),
        first_send_day: None,
        sent_today: 0,
        last_send: None,
        gap: Duration::ZERO,
        paused: m.paused_reason.is_some(),
        time_zone: TimeZone::get(&m.timezone).ok(),
    }
}

fn dkim_signer(m: &Mailbox) -> Result<Option<DkimSigner>> {
    let (Some(selector), Some(file), Some(domain)) = (&m.dkim_selector, &m.dkim_key_file, &m.dkim_domain)
    else {
        return Ok(None);
    };
    let pem = std::fs::read_to_string(file).map_err(|e| {
        Error::Io(format!(
            "mailbox {}: cannot read the DKIM key {file}: {e}",
            m.name
        ))
    })?;
    DkimSigner::from_pem(&pem, selector, domain)
        .map(Some)
        .map_err(|e| Error::Usage(format!("mailbox {}: DKIM key {file}: {e}", m.name)))
}

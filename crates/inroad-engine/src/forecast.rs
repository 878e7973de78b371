//! `inroad forecast`: when every lead of a campaign will have had its first touch and its
//! last, and what holds the campaign back, week by week — and what another few mailboxes
//! or a bigger invitation budget would change.
//!
//! A forecast is only worth having if it agrees with what the worker will do, so it does
//! not estimate: it runs the worker's own pure rules — [`plan`] for email, the task list's
//! [`day_budget`], [`choose_account`] and [`CampaignSpec::skip_unaccepted`] for LinkedIn —
//! on a simulated clock over an in-memory copy of the ledger (the store is only read). The
//! reality it simulates, which `crates/inroad/tests/forecast.rs` plays out with the real
//! binary and compares to the second:
//!
//! - **The worker** passes at `--now`, then at each instant its last pass named as its next
//!   wake, each pass as `inroad run --once` makes it: the due list read once, rounds of
//!   [`plan`] at one instant until nothing more is planned, the state between rounds
//!   brought up to date by [`PlanInput::record_send`] (the worker's own update), and the
//!   state read back at the next pass as the ledger keeps it (sends today per mailbox day,
//!   the last send to the second and the gap drawn from it, new leads today as the store
//!   counts them (each lead's first email, at any step), the last hour's sends per
//!   recipient domain). After
//!   a pass that sent something the worker passes next at the first due time after it if
//!   that comes before the wake it named: that wake was reckoned from the due times read
//!   at the pass's start, not those its sends created (a running worker looks again within
//!   a minute).
//! - **The person** works through the LinkedIn task list once a day, when the forecast
//!   campaign's sending window opens (in the campaign's time zone; not on days it stays
//!   shut): the worker passes (handing over the LinkedIn steps now due), the list is asked
//!   for and every task on it done at that instant, and the worker passes again.
//! - **Nobody replies**: no reply, no invitation declined, no bounce, no failed send,
//!   every template renders.
//! - **Some accept**: `--acceptance-rate` percent of each account's invitations
//!   ([`DEFAULT_ACCEPTANCE_RATE`]), spread evenly by [`accepts`], accepted two days after
//!   they were sent and marked by the person at the start of their next session; their
//!   `linkedin_message` steps go out. The others wait until their invitation's
//!   `if_not_accepted_after_days` move the lead on to the next email step (or for good),
//!   and are withdrawn after 21 days, as the list asks. The acceptance guard judges the
//!   accounts by that rate: at 0 % it pauses invitations about two weeks into a campaign
//!   (they resume once the task list's 120-day memory has let the judged ones go), and the
//!   report names it as the bottleneck with the rate assumed.
//!
//! Only campaigns that run take part (every active one, since they share mailboxes and
//! accounts, and the forecast campaign as if started at `--now`), and the forecast looks
//! at most three years ahead.
//!
//! # Bottlenecks
//!
//! Each simulated day, every step of the forecast campaign that was due and still waits
//! counts once against what held it: at the day's end for email (a paused mailbox, the
//! day's new-lead limit, a window that did not open that day, mailboxes that reached
//! their cap that day — during warm-up or not —, else the gaps between sends), and right
//! after the day's task list for LinkedIn (the account's invitation, message or InMail
//! budget, the acceptance guard, the pending-invitation ceiling, an acceptance awaited).
//! A week's bottleneck is the reason with the most counts.
//!
//! # Cost
//!
//! A campaign of 100,000 leads is a hundred thousand passes or more, so no pass reads what
//! cannot matter to it. The due email steps live between passes in classes the planner
//! treats alike (`DueClass`); a round is given every step of the classes it could send
//! from, only the first few new leads of them (more when [`Plan::wants_more_new_leads`]
//! says it ran out), and one step of each class it could not — the plan is the one the
//! whole due list gives. A LinkedIn day reads the due steps in order only while some
//! account has invitations or InMails left for the steps still unread; after that, only
//! the steps whose outcome does not hang on those budgets (messages, steps without a known
//! account).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};
use std::ops::Bound;

use inroad_core::campaign::{parse_campaign, CampaignSpec, Channel, Skip};
use inroad_core::linkedin::{
    choose_account, day_budget, AccountHistory, DayBudget, Guard, InMailLedger, Limits, Overrides,
    Plan as LinkedinPlan, TaskKind, TaskRecord, HISTORY,
};
use inroad_core::planner::{
    local_zone, step_due, CampaignState, DomainRecent, DueEnrolment, MailboxState, Plan, PlanInput,
    PlannedSend, Planner,
};
use inroad_core::schedule::{ceil_to_second, day_bounds, mailbox_day, Gap, Window};
use inroad_store::{CampaignRecord, Store};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};
use serde::Serialize;

use crate::linkedin::{inmail_ledger, task_record, DUE_BATCH};
use crate::worker::mailbox_state;
use crate::{Error, Result};

/// How far ahead a forecast looks.
const HORIZON: SignedDuration = SignedDuration::from_hours(24 * 1096);

/// How many due new leads a planning round is given first (see the module docs).
const NEW_LEAD_WINDOW: usize = 16;

/// The recipient-domain limit counts sends of the last hour.
const DOMAIN_HOUR: i64 = 3600;

#[derive(Clone, Debug)]
pub struct ForecastOptions {
    /// The instant the forecast starts from (`--now`).
    pub now: Timestamp,
    /// What if this many more mailboxes, like the campaign's first one but new (warm-up
    /// from their first day), sent for it.
    pub extra_mailboxes: u32,
    /// What if every LinkedIn account could send this many invitations a rolling week.
    pub invitations_per_week: Option<u32>,
    /// As `inroad run --domain-hourly-limit` (`None`: no limit).
    pub domain_limit_per_hour: Option<u32>,
    /// The share of invitations accepted, in percent (see [`accepts`]).
    pub acceptance_rate: u32,
}

/// The acceptance rate a forecast assumes unless told otherwise: cold invitations with a
/// note are commonly accepted 25–45 % of the time. Nobody accepting would be no forecast at
/// all: the acceptance guard would pause every account two weeks in.
pub const DEFAULT_ACCEPTANCE_RATE: u32 = 35;

/// An accepted invitation is accepted this long after it was sent, and the person marks
/// it at their next session.
pub const ACCEPTED_AFTER: SignedDuration = SignedDuration::from_hours(48);

/// Whether an account's `n`th invitation of the forecast (from 0, in the order done) is
/// accepted at `rate` percent: spread evenly, so any 50 in a row hold `rate` % of 50 give
/// or take one, and the acceptance guard sees the rate itself.
pub fn accepts(n: u64, rate: u32) -> bool {
    let rate = u64::from(rate.min(100));
    (n + 1) * rate / 100 > n * rate / 100
}

/// An invitation the forecast sent and nobody answered yet.
#[derive(Clone, Copy)]
struct Sent {
    done_at: Timestamp,
    lead: i64,
    /// To be accepted [`ACCEPTED_AFTER`] it was sent.
    accepted: bool,
}

/// Whether `record` is an invitation done at `at` and still pending. The invitations of
/// one session share their instant and are alike to the budgets, so any of them will do.
fn is_pending_from(record: &TaskRecord, at: Timestamp) -> bool {
    record.kind == TaskKind::Connect
        && record.done_at == Some(at)
        && !record.accepted
        && !record.declined
        && !record.withdrawn
}

/// How many of an account's invitations sent before [`WITHDRAWN_AFTER`] the forecast keeps:
/// more than the acceptance guard's sample, which takes the latest ones at least 14 days
/// old.
const OLD_INVITATIONS_KEPT: usize = 60;

/// Drops from an account's history at `at` what cannot change a budget any more, so a
/// long forecast does not recount months of it every day: what the task list no longer
/// reads (done before `since`), messages and InMails done over 15 days ago (the rolling
/// budgets reach back 7 days before today; InMail credits are the ledger's), and answered
/// invitations sent over 21 days ago except the latest [`OLD_INVITATIONS_KEPT`] — with
/// every one sent at the same instant as the last of those, so the guard's sample, which
/// breaks ties of instants by outcome, is the same as from the whole history.
fn forget_what_cannot_matter(history: &mut Vec<TaskRecord>, at: Timestamp, since: i64) {
    let days_ago = |days: i64| {
        at.checked_sub(SignedDuration::from_hours(24 * days))
            .unwrap_or(Timestamp::MIN)
    };
    let (recent, short) = (days_ago(21), days_ago(15));
    let mut old: Vec<Timestamp> = history
        .iter()
        .filter(|r| r.kind == TaskKind::Connect)
        .filter_map(|r| r.done_at.filter(|&d| d < recent))
        .collect();
    let keep_from = if old.len() > OLD_INVITATIONS_KEPT {
        let (_, nth, _) = old.select_nth_unstable_by(OLD_INVITATIONS_KEPT - 1, |a, b| b.cmp(a));
        *nth
    } else {
        Timestamp::MIN
    };
    history.retain(|r| {
        let Some(done) = r.done_at else { return true };
        if done.as_second() < since {
            return false;
        }
        match r.kind {
            TaskKind::Connect => {
                let pending = !r.accepted && !r.declined && !r.withdrawn;
                done >= recent || done >= keep_from || pending
            }
            TaskKind::Message | TaskKind::Inmail => done >= short,
        }
    });
}

/// An invitation still pending after this long gets taken back (`linkedin::tasks` hands
/// out a withdraw task for it).
const WITHDRAWN_AFTER: SignedDuration = SignedDuration::from_hours(24 * 21);

/// What `forecast --json` reports. Dates are calendar days in the campaign's time zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Forecast {
    pub campaign: String,
    /// Leads in the campaign's sequence at `from`.
    pub leads: u64,
    /// The day the last lead still waiting for its first touch gets it; `None` if some
    /// never do (within three years), or when none was waiting (`first_touches` is 0).
    pub first_touches_done_by: Option<String>,
    /// The day of the campaign's last touch; `None` if leads are still under way after
    /// three years, or nothing is left to do.
    pub last_touch_by: Option<String>,
    /// What held the campaign back most over the whole forecast ("none": nothing did).
    pub bottleneck: String,
    pub weeks: Vec<Week>,
    /// The instant the forecast starts from (RFC 3339).
    pub from: String,
    /// The zone of the dates.
    pub time_zone: String,
    /// The share of invitations assumed accepted, in percent.
    pub acceptance_rate: u32,
    /// Leads waiting for their first touch at `from`.
    pub first_touches: u64,
    /// Touches forecast (emails sent and LinkedIn tasks done).
    pub touches: u64,
    /// Leads whose next step waits, for good, for an invitation to be accepted.
    pub waiting_forever: u64,
    /// Leads still under way when the forecast stopped looking.
    pub unfinished: u64,
    /// The instants behind `first_touches_done_by` and `last_touch_by` (RFC 3339).
    pub first_touches_done_at: Option<String>,
    pub last_touch_at: Option<String>,
    /// The days with touches.
    pub days: Vec<Day>,
}

/// One day's touches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Day {
    pub date: String,
    pub touches: u64,
}

/// One week's touches and what held the campaign back most that week.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Week {
    /// The Monday the week starts on.
    pub week_start: String,
    pub touches: u64,
    pub bottleneck: String,
}

/// Forecasts campaign `id_or_name` (see the module docs for what is assumed).
pub fn forecast(store: &dyn Store, id_or_name: &str, options: &ForecastOptions) -> Result<Forecast> {
    if let Some(n) = options.invitations_per_week {
        // Checked even without an account to apply it to: a what-if LinkedIn would refuse.
        let overrides = Overrides {
            invitations_per_week: Some(n),
            ..Overrides::default()
        };
        Limits::new(LinkedinPlan::Free, &overrides).map_err(|e| Error::Usage(e.to_string()))?;
    }
    let (record, spec) = crate::campaign::load(store, id_or_name)?;
    let mut sim = Sim::load(store, &record, spec, options)?;
    sim.run(options.now)?;
    Ok(sim.report(&record.name, options.now))
}

/// What held a waiting step back on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reason {
    Paused,
    NewLeads,
    Window,
    Caps,
    CapsWarmup,
    Gaps,
    Invitations,
    Guard,
    Pending,
    Messages,
    Inmail,
    Acceptance,
    NoAccount,
}

const REASONS: usize = 13;

impl Reason {
    const ALL: [Reason; REASONS] = [
        Reason::Paused,
        Reason::NewLeads,
        Reason::Window,
        Reason::Caps,
        Reason::CapsWarmup,
        Reason::Gaps,
        Reason::Invitations,
        Reason::Guard,
        Reason::Pending,
        Reason::Messages,
        Reason::Inmail,
        Reason::Acceptance,
        Reason::NoAccount,
    ];
}

/// A sequence's place in the simulation.
struct Enrolment {
    id: i64,
    /// Index into [`Sim::campaigns`].
    campaign: usize,
    lead: i64,
    /// The recipient's domain (an index into [`Sim::domains`]); `None`: the lead has no email.
    domain: Option<usize>,
    /// The lead's own time zone (an index into [`Sim::zones`]).
    zone: Option<usize>,
    /// The due class it waits in, once a pass has read it as due.
    class: Option<usize>,
    suppressed: bool,
    mailbox: Option<i64>,
    account: AccountRef,
    step: usize,
    /// Unix seconds, as the store keeps it.
    due: i64,
    touched: bool,
    /// Out of the sequence: finished, or parked as the worker would park it.
    left: bool,
    /// Waits for an acceptance that never comes.
    forever: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AccountRef {
    Unassigned,
    Known(usize),
    /// An account that no longer exists: the task list never hands its steps out.
    Missing,
}

struct Campaign {
    id: i64,
    spec: CampaignSpec,
    zone: TimeZone,
    window: Window,
    /// Its LinkedIn accounts (indices into [`Sim::accounts`]), in the file's order.
    accounts: Vec<usize>,
    /// The end of the campaign day `first_emails_today` counts.
    first_emails_day_end: Timestamp,
    /// Leads' first emails that day: what the store reads back as the day's new leads.
    first_emails_today: u32,
}

/// A mailbox's side of the ledger, beside its [`MailboxState`].
struct Sender {
    gap: Gap,
    zone: TimeZone,
    /// The same zone, as an index into [`Sim::zones`].
    zone_id: usize,
    /// Today's cap (warm-up applied), for the day ending at `day_end`.
    cap: u32,
    /// When its gap since the last send ends ([`MailboxState::gap_ends`]).
    ready_at: Option<Timestamp>,
    /// The end of the mailbox day its `sent_today` counts.
    day_end: Timestamp,
    /// It sent in the current pass: the ledger keeps that send to the second.
    sent_in_pass: bool,
    /// It reached its cap on the mailbox day ending then (for bottlenecks).
    capped_until: Option<Timestamp>,
    capped_by_warmup: bool,
}

/// Due email steps the planner treats alike at any instant: a campaign's new leads in one
/// time zone (or without one of their own), or its conversations from one mailbox whose
/// window opens in one zone. When the window is shut for a class, or no mailbox could take
/// it, the planner only notes when that changes — the same for each of its steps — so a
/// round is given one of them, not all (see [`Sim::fill_due`]).
struct DueClass {
    campaign: usize,
    /// The zone the window opens in (an index into [`Sim::zones`]); `None` for new leads
    /// without a zone of their own, whose window opens in their mailbox's.
    zone: Option<usize>,
    /// Conversations under way: the mailbox they go out from…
    mailbox: Option<i64>,
    /// …an index into [`Sim::senders`] (`None`: no such mailbox, nothing goes out).
    sender: Option<usize>,
    /// By (due, enrolment id), as the worker reads them.
    entries: BTreeMap<(i64, i64), usize>,
}

struct Account {
    id: i64,
    limits: Limits,
    zone: TimeZone,
    history: Vec<TaskRecord>,
    /// As `linkedin account resume` left it.
    judged_since: Option<Timestamp>,
    /// `None`: a plan without InMail.
    inmail: Option<InMailLedger>,
    /// Invitations done and not yet accepted or withdrawn, oldest first.
    pending: VecDeque<Sent>,
    /// Invitations done in the forecast so far (see [`accepts`]).
    invitations_done: u64,
}

/// A lead's latest invitation.
#[derive(Clone, Copy)]
struct Invite {
    step: usize,
    done_at: Option<Timestamp>,
    accepted: bool,
}

/// A task on today's list.
struct Handed {
    /// `None`: an open task whose lead is no longer waiting at its step.
    enrolment: Option<usize>,
    step: usize,
    account: usize,
    kind: TaskKind,
    /// Handed out before the forecast began (its history record is open).
    earlier: bool,
}

/// Buffers a planning round reuses (a forecast makes hundreds of thousands of rounds).
#[derive(Default)]
struct Scratch {
    free: Vec<Option<(bool, bool)>>,
    /// The due classes with steps waiting, and whether the planner could send from each.
    live: Vec<(usize, bool)>,
    follow_ups: Vec<((i64, i64), usize)>,
    due: Vec<usize>,
}

/// What an account's budgets still allow today, as the list hands tasks out.
#[derive(Clone, Copy, Default)]
struct Left {
    invitations: u32,
    messages: u32,
    inmail: u32,
}

/// What a day's list left waiting of the forecast campaign, besides the invitation and
/// InMail steps its budgets left (the visible counts say those).
#[derive(Default)]
struct Waiting {
    messages: u64,
    acceptance: u64,
    no_account: u64,
}

/// What reading one due LinkedIn step leads to, once the list is read.
enum Action {
    /// A task handed out: the step leaves the list.
    Hand(Handed, (i64, i64)),
    Skip(usize, Skip, (i64, i64)),
    /// Its account now known (and not a message step): no longer read one by one.
    Assigned((i64, i64)),
    /// Waits for good: no longer read one by one.
    Forever((i64, i64)),
}

/// Where the list stands while it is read: what the budgets still allow, the invitation and
/// InMail steps not read yet per account, and how many (account, kind) pairs have both.
struct Reading {
    left: Vec<Left>,
    unread: Vec<[u64; 2]>,
    open: usize,
}

impl Reading {
    fn room(&self, a: usize, kind: usize) -> bool {
        let left = match kind {
            0 => self.left[a].invitations,
            _ => self.left[a].inmail,
        };
        left > 0 && self.unread[a][kind] > 0
    }

    /// A step of `kind` read on account `a`.
    fn read(&mut self, a: usize, kind: usize) {
        let before = self.room(a, kind);
        self.unread[a][kind] = self.unread[a][kind].saturating_sub(1);
        if before && !self.room(a, kind) {
            self.open -= 1;
        }
    }

    /// One of account `a`'s budgets spent on a task of `kind`.
    fn spend(&mut self, a: usize, kind: usize) {
        let before = self.room(a, kind);
        let left = match kind {
            0 => &mut self.left[a].invitations,
            _ => &mut self.left[a].inmail,
        };
        *left -= 1;
        if before && !self.room(a, kind) {
            self.open -= 1;
        }
    }
}

struct WeekTally {
    touches: u64,
    blocked: [u64; REASONS],
}

/// The forecast campaign's touches and bottlenecks.
struct Tally {
    zone: TimeZone,
    first_week: Date,
    weeks: Vec<WeekTally>,
    leads: u64,
    first_touches: u64,
    /// Leads still waiting for their first touch.
    untouched: u64,
    /// Leads whose sequence can still move.
    live: u64,
    waiting_forever: u64,
    touches: u64,
    days: BTreeMap<Date, u64>,
    last_first_touch: Option<Timestamp>,
    last_touch: Option<Timestamp>,
    /// The campaign day being tallied.
    day: Date,
    day_start: Timestamp,
    day_end: Timestamp,
    /// New leads (first emails) started that day.
    new_leads_today: u32,
}

impl Tally {
    fn week(&mut self, day: Date) -> &mut WeekTally {
        let days = self.first_week.until(day).map_or(0, |span| span.get_days());
        let index = usize::try_from(days / 7).unwrap_or(0);
        while self.weeks.len() <= index {
            self.weeks.push(WeekTally {
                touches: 0,
                blocked: [0; REASONS],
            });
        }
        &mut self.weeks[index]
    }
}

struct Sim<'s> {
    store: &'s dyn Store,
    domain_limit: bool,
    /// [`ForecastOptions::acceptance_rate`].
    acceptance_rate: u32,
    /// Leads whose invitation is to be accepted and not marked yet.
    accepting: HashSet<i64>,
    input: PlanInput,
    /// Keeps the mailboxes' days and caps between rounds.
    planner: Planner,
    /// Mailboxes (indices into `input.mailboxes`) changed since the planner last ran.
    changed_mailboxes: Vec<usize>,
    /// Parallel to `input.campaigns`.
    campaigns: Vec<Campaign>,
    target: usize,
    /// Parallel to `input.mailboxes`.
    senders: Vec<Sender>,
    sender_index: HashMap<i64, usize>,
    /// Each campaign's mailboxes, as indices into `senders`.
    campaign_senders: Vec<Vec<usize>>,
    enrolments: Vec<Enrolment>,
    domains: Vec<String>,
    /// Email and not yet handed-over LinkedIn steps due later (the store's `active` rows
    /// beyond `now`), by (due, id).
    future: BTreeMap<(i64, i64), usize>,
    /// Due email steps read by a pass and not sent yet, in classes.
    classes: Vec<DueClass>,
    class_index: HashMap<(usize, Option<usize>, Option<i64>), usize>,
    /// The classes with steps in them: most are empty at any instant, and a round looks
    /// only at these.
    busy_classes: BitSet,
    zones: Zones,
    /// Whether a campaign's window is open in a zone at the current pass's instant, by
    /// campaign × zone (`None`: not asked yet).
    windows: Vec<Option<bool>>,
    /// Entries of `input.due` not needed in the last round, kept with their buffers.
    spare: Vec<DueEnrolment>,
    scratch: Scratch,
    /// Due times of campaigns that do not run: the worker's wake still counts them.
    phantom_dues: Vec<i64>,
    /// The last hour's sends, oldest first (for the recipient-domain limit).
    domain_log: VecDeque<(i64, usize)>,
    domain_sends: Vec<VecDeque<i64>>,
    dirty_domains: Vec<usize>,
    accounts: Vec<Account>,
    account_index: HashMap<i64, usize>,
    /// LinkedIn steps without a task yet, by (due, id).
    queue: BTreeMap<(i64, i64), usize>,
    /// Those the list must read one by one even once the invitation and InMail budgets are
    /// spent: message steps, and steps whose account is unknown — except the next ones.
    special: BTreeMap<(i64, i64), usize>,
    /// Per campaign, its invitation and InMail steps of leads without an account yet (all
    /// at the campaign's first LinkedIn step: a lead gets its account there). Read in due
    /// order until none of the campaign's accounts has room left today; budgets only shrink
    /// while the list is read, so the rest could not get one either.
    unassigned: Vec<BTreeMap<(i64, i64), usize>>,
    /// The queue's steps due by `visible_to`: how many, and per account its invitation and
    /// InMail steps (every campaign's, and the forecast campaign's).
    visible_to: i64,
    visible_total: usize,
    visible: Vec<[u64; 2]>,
    visible_target: Vec<[u64; 2]>,
    /// The forecast campaign's invitation and InMail steps among them whose lead has no
    /// account yet.
    visible_unassigned_target: [u64; 2],
    /// Tasks handed out before the forecast began: done on its first LinkedIn day.
    open_tasks: Vec<Handed>,
    invites: HashMap<i64, Option<Invite>>,
    tally: Tally,
}

impl<'s> Sim<'s> {
    fn load(
        store: &'s dyn Store,
        record: &CampaignRecord,
        target_spec: CampaignSpec,
        options: &ForecastOptions,
    ) -> Result<Sim<'s>> {
        let now = options.now;
        let now_s = now.as_second();
        let stored = store.mailboxes()?;
        let mut zones = Zones::default();
        let mut states = Vec::with_capacity(stored.len());
        let mut senders = Vec::with_capacity(stored.len());
        for m in &stored {
            let state = mailbox_state(store, m, now)?;
            senders.push(Sender::new(m.gap(), &state, now, &mut zones));
            states.push(state);
        }
        let ids_by_name: HashMap<&str, i64> = stored.iter().map(|m| (m.name.as_str(), m.id)).collect();

        let mut accounts = Vec::new();
        let mut account_index = HashMap::new();
        let mut open_tasks = Vec::new();
        let since = now.checked_sub(HISTORY).unwrap_or(now).as_second();
        let linkedin_accounts = store.linkedin_accounts()?;
        for a in &linkedin_accounts {
            let invalid =
                |e: &dyn std::fmt::Display| Error::Usage(format!("LinkedIn account {}: {e}", a.name));
            let plan = LinkedinPlan::parse(&a.plan).map_err(|e| invalid(&e))?;
            let overrides = Overrides {
                invitations_per_week: options.invitations_per_week.or(a.invitations_per_week),
                messages_per_week: a.messages_per_week,
                ..Overrides::default()
            };
            let limits = Limits::new(plan, &overrides).map_err(|e| invalid(&e))?;
            let zone = TimeZone::get(&a.timezone).map_err(|e| invalid(&e))?;
            let tasks = store.linkedin_tasks(a.id, since)?;
            let inmail = inmail_ledger(store, a, plan, &zone, &tasks, now)?;
            let index = accounts.len();
            for t in tasks.iter().filter(|t| t.state == "open") {
                if let Some(kind) = TaskKind::parse(&t.kind) {
                    open_tasks.push((t.enrolment_id, t.step as usize, index, kind));
                }
            }
            account_index.insert(a.id, index);
            let history: Vec<TaskRecord> = tasks.iter().filter_map(|t| task_record(t, &tasks)).collect();
            // Invitations already out: what their people do is unknown, so none is
            // assumed to accept; they are withdrawn in time, as the list would.
            let mut pending: Vec<Sent> = tasks
                .iter()
                .filter_map(|t| Some((t, task_record(t, &tasks)?)))
                .filter(|(_, r)| r.kind == TaskKind::Connect && !r.accepted && !r.declined && !r.withdrawn)
                .filter_map(|(t, r)| {
                    Some(Sent {
                        done_at: r.done_at?,
                        lead: t.lead_id,
                        accepted: false,
                    })
                })
                .collect();
            pending.sort_by_key(|s| s.done_at);
            accounts.push(Account {
                id: a.id,
                limits,
                zone,
                history,
                judged_since: a.guard_resumed_at.and_then(|at| Timestamp::from_second(at).ok()),
                inmail,
                pending: pending.into(),
                invitations_done: 0,
            });
        }

        let mut campaigns = Vec::new();
        let mut campaign_states = Vec::new();
        let mut target = None;
        for c in store.campaigns()? {
            let is_target = c.id == record.id;
            if c.status != "active" && !is_target {
                continue;
            }
            let spec = if is_target {
                target_spec.clone()
            } else {
                parse_campaign(&c.spec).map_err(|e| {
                    Error::Usage(format!("campaign {}: stored file no longer parses: {e}", c.name))
                })?
            };
            let invalid = |e: &dyn std::fmt::Display| Error::Usage(format!("campaign {}: {e}", c.name));
            let zone = spec.time_zone().map_err(|e| invalid(&e))?;
            let window = spec.sending_window().map_err(|e| invalid(&e))?;
            let mailboxes = spec
                .mailboxes
                .iter()
                .filter_map(|n| ids_by_name.get(n.as_str()).copied())
                .collect();
            let (from, to) = day_bounds(mailbox_day(now, &zone), &zone);
            let new_today = store.campaign_new_leads(c.id, from.as_second(), to.as_second())?;
            let state =
                CampaignState::from_spec(c.id, &spec, mailboxes, new_today).map_err(|e| invalid(&e))?;
            let account_ids: Vec<usize> = spec
                .linkedin_accounts
                .iter()
                .filter_map(|n| linkedin_accounts.iter().find(|a| &a.name == n))
                .filter_map(|a| account_index.get(&a.id).copied())
                .collect();
            if is_target {
                target = Some(campaigns.len());
            }
            campaign_states.push(state);
            campaigns.push(Campaign {
                id: c.id,
                spec,
                zone,
                window,
                accounts: account_ids,
                first_emails_day_end: to,
                first_emails_today: new_today,
            });
        }
        let target = target.ok_or_else(|| Error::Usage(format!("campaign {} vanished", record.name)))?;

        // What if: more mailboxes like the campaign's first, new.
        if options.extra_mailboxes > 0 {
            let spec = &campaigns[target].spec;
            let first = spec
                .mailboxes
                .first()
                .and_then(|n| stored.iter().find(|m| &m.name == n))
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "campaign {} has no mailbox to copy for --mailboxes",
                        record.name
                    ))
                })?;
            let model = mailbox_state(store, first, now)?;
            let mut id = stored.iter().map(|m| m.id).max().unwrap_or(0);
            for _ in 0..options.extra_mailboxes {
                id += 1;
                let gap = first.gap();
                let state = MailboxState {
                    id,
                    first_send_day: None,
                    sent_today: 0,
                    last_send: None,
                    gap: gap.after_send(id, 0, 0),
                    paused: false,
                    ..model.clone()
                };
                senders.push(Sender::new(gap, &state, now, &mut zones));
                states.push(state);
                campaign_states[target].mailboxes.push(id);
            }
        }
        let sender_index: HashMap<i64, usize> = states.iter().enumerate().map(|(i, m)| (m.id, i)).collect();
        let campaign_senders = campaign_states
            .iter()
            .map(|c| {
                c.mailboxes
                    .iter()
                    .filter_map(|id| sender_index.get(id).copied())
                    .collect()
            })
            .collect();

        let campaign_index: HashMap<i64, usize> =
            campaigns.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
        let zone = campaigns[target].zone.clone();
        let day = mailbox_day(now, &zone);
        let (day_start, day_end) = day_bounds(day, &zone);
        let monday_offset = i64::from(day.weekday().to_monday_zero_offset());
        let first_week = day.checked_sub(Span::new().days(monday_offset)).unwrap_or(day);
        let mut sim = Sim {
            store,
            domain_limit: options.domain_limit_per_hour.is_some(),
            acceptance_rate: options.acceptance_rate,
            accepting: HashSet::new(),
            input: PlanInput {
                now,
                mailboxes: states,
                campaigns: campaign_states,
                domain_limit_per_hour: options.domain_limit_per_hour,
                ..PlanInput::default()
            },
            planner: Planner::default(),
            changed_mailboxes: Vec::new(),
            campaigns,
            target,
            senders,
            sender_index,
            campaign_senders,
            enrolments: Vec::new(),
            domains: Vec::new(),
            future: BTreeMap::new(),
            classes: Vec::new(),
            class_index: HashMap::new(),
            busy_classes: BitSet::default(),
            zones,
            windows: Vec::new(),
            spare: Vec::new(),
            scratch: Scratch::default(),
            phantom_dues: Vec::new(),
            domain_log: VecDeque::new(),
            domain_sends: Vec::new(),
            dirty_domains: Vec::new(),
            accounts,
            account_index,
            queue: BTreeMap::new(),
            special: BTreeMap::new(),
            unassigned: Vec::new(),
            visible_unassigned_target: [0; 2],
            visible_to: i64::MIN,
            visible_total: 0,
            visible: Vec::new(),
            visible_target: Vec::new(),
            open_tasks: Vec::new(),
            invites: HashMap::new(),
            tally: Tally {
                zone,
                first_week,
                weeks: Vec::new(),
                leads: 0,
                first_touches: 0,
                untouched: 0,
                live: 0,
                waiting_forever: 0,
                touches: 0,
                days: BTreeMap::new(),
                last_first_touch: None,
                last_touch: None,
                day,
                day_start,
                day_end,
                new_leads_today: 0,
            },
        };

        let mut domain_ids: HashMap<String, usize> = HashMap::new();
        let mut intern = |sim: &mut Sim, domain: &str| -> usize {
            if let Some(&d) = domain_ids.get(domain) {
                return d;
            }
            sim.domains.push(domain.to_owned());
            sim.domain_sends.push(VecDeque::new());
            domain_ids.insert(domain.to_owned(), sim.domains.len() - 1);
            sim.domains.len() - 1
        };
        if sim.domain_limit {
            for (domain, at) in store.recent_sends(now_s - DOMAIN_HOUR)? {
                let d = intern(&mut sim, &domain);
                sim.domain_log.push_back((at, d));
                sim.domain_sends[d].push_back(at);
                sim.dirty_domains.push(d);
            }
        }
        // Leads share a few zones: each name is looked up once.
        let mut lead_zones: HashMap<String, Option<usize>> = HashMap::new();
        let open_by_enrolment: HashMap<i64, (usize, usize, TaskKind)> = open_tasks
            .iter()
            .map(|&(e, step, a, kind)| (e, (step, a, kind)))
            .collect();
        for row in store.sequence_enrolments()? {
            let Some(&campaign) = campaign_index.get(&row.campaign_id) else {
                if row.state == "active" {
                    sim.phantom_dues.extend(row.due);
                }
                continue;
            };
            let step = row.step as usize;
            let Some(channel) = sim.campaigns[campaign].spec.steps.get(step).map(|s| s.channel) else {
                continue;
            };
            let domain = row
                .email
                .as_deref()
                .map(|email| email.rsplit_once('@').map_or("", |(_, d)| d))
                .map(|d| intern(&mut sim, d));
            let zone = match row.timezone.as_deref() {
                None => None,
                Some(name) => match lead_zones.get(name) {
                    Some(&zone) => zone,
                    None => {
                        let zone = TimeZone::get(name).ok().map(|tz| sim.zones.intern(&tz));
                        lead_zones.insert(name.to_owned(), zone);
                        zone
                    }
                },
            };
            let idx = sim.enrolments.len();
            sim.enrolments.push(Enrolment {
                id: row.enrolment_id,
                campaign,
                lead: row.lead_id,
                domain,
                zone,
                class: None,
                suppressed: row.suppressed,
                mailbox: row.mailbox_id,
                account: match row.linkedin_account_id {
                    None => AccountRef::Unassigned,
                    Some(id) => sim
                        .account_index
                        .get(&id)
                        .map_or(AccountRef::Missing, |&a| AccountRef::Known(a)),
                },
                step,
                due: row.due.unwrap_or(now_s),
                touched: step > 0,
                left: false,
                forever: false,
            });
            if campaign == target {
                sim.tally.leads += 1;
                sim.tally.live += 1;
                if step == 0 {
                    sim.tally.untouched += 1;
                }
            }
            let key = (sim.enrolments[idx].due, row.enrolment_id);
            let open = open_by_enrolment
                .get(&row.enrolment_id)
                .filter(|&&(task_step, ..)| task_step == step);
            match (row.state.as_str(), open) {
                ("linkedin", Some(&(task_step, account, kind))) => sim.open_tasks.push(Handed {
                    enrolment: Some(idx),
                    step: task_step,
                    account,
                    kind,
                    earlier: true,
                }),
                ("linkedin", None) if channel.is_linkedin() => sim.enqueue(key, idx),
                _ => {
                    sim.future.insert(key, idx);
                    if channel.is_linkedin() {
                        sim.enqueue(key, idx);
                    }
                }
            }
        }
        // Open tasks of leads not waiting at their step are still on the list.
        let waiting: std::collections::HashSet<i64> = sim
            .open_tasks
            .iter()
            .filter_map(|h| h.enrolment.map(|i| sim.enrolments[i].id))
            .collect();
        for &(enrolment, step, account, kind) in &open_tasks {
            if !waiting.contains(&enrolment) {
                sim.open_tasks.push(Handed {
                    enrolment: None,
                    step,
                    account,
                    kind,
                    earlier: true,
                });
            }
        }
        sim.phantom_dues.sort_unstable();
        sim.tally.first_touches = sim.tally.untouched;
        Ok(sim)
    }

    fn run(&mut self, from: Timestamp) -> Result<()> {
        let horizon = from.saturating_add(HORIZON).unwrap_or(Timestamp::MAX);
        let linkedin = self
            .campaigns
            .iter()
            .any(|c| c.spec.steps.iter().any(|s| s.channel.is_linkedin()));
        let mut wake = Some(from);
        let mut task_hour = if linkedin {
            self.task_hour(from, true)
        } else {
            None
        };
        while self.tally.live > 0 {
            let (at, tasks) = match (wake, task_hour) {
                (Some(w), Some(h)) if h <= w => (h, true),
                (Some(w), _) => (w, false),
                (None, Some(h)) => (h, true),
                (None, None) => break,
            };
            if at > horizon {
                self.tally_days_until(horizon);
                break;
            }
            self.tally_days_until(at);
            if tasks {
                self.pass(at);
                self.linkedin_day(at)?;
                task_hour = self.task_hour(at, false);
            }
            wake = self.pass(at);
        }
        Ok(())
    }

    /// The next instant the person works through the task list: the forecast campaign's
    /// window opening after `after` (or at it, if `inclusive`).
    fn task_hour(&self, after: Timestamp, inclusive: bool) -> Option<Timestamp> {
        let c = &self.campaigns[self.target];
        let mut day = mailbox_day(after, &c.zone);
        // A window opens within a week; a second covers one lost in a DST gap.
        for _ in 0..15 {
            if let Some((open, _)) = c.window.open_interval(day, &c.zone) {
                if open > after || (inclusive && open == after) {
                    return Some(open);
                }
            }
            day = day.tomorrow().ok()?;
        }
        None
    }

    /// A pass at `now`, and when the worker passes next: at the wake it names or, if it
    /// sent, at the first due time after `now` if that is sooner (its sends made steps due
    /// that its wake, reckoned from the due times read at its start, does not know of; a
    /// running worker looks again within a minute).
    fn pass(&mut self, now: Timestamp) -> Option<Timestamp> {
        let (sent, wake) = self.worker_pass(now);
        if sent == 0 {
            return wake;
        }
        let now_s = now.as_second();
        let later = self
            .future
            .range((now_s.saturating_add(1), i64::MIN)..)
            .next()
            .map(|(key, _)| key.0);
        let phantom = self.phantom_dues[self.phantom_dues.partition_point(|&d| d <= now_s)..]
            .first()
            .copied();
        let due = later
            .into_iter()
            .chain(phantom)
            .min()
            .and_then(|s| Timestamp::from_second(s).ok());
        match (wake, due) {
            (Some(wake), Some(due)) => Some(wake.min(due)),
            (wake, due) => wake.or(due),
        }
    }

    /// One worker pass (`worker::run_once`): how many it sent, and its next wake.
    fn worker_pass(&mut self, now: Timestamp) -> (u64, Option<Timestamp>) {
        self.input.now = now;
        self.reload(now);
        self.load_due(now);
        let mut sent = 0;
        loop {
            let planned = self.plan_round(now);
            if planned.sends.is_empty() {
                // As the worker reports it (and `--now` can name it).
                return (sent, planned.next_wake.map(ceil_to_second));
            }
            for send in &planned.sends {
                if self.record(send, now) {
                    sent += 1;
                }
            }
        }
    }

    /// The state as a new pass reads it from the ledger: the mailbox day's sends, the last
    /// send to the second and the gap drawn from it, the campaigns' step-0 sends today, and
    /// the last hour's sends per domain.
    fn reload(&mut self, now: Timestamp) {
        let now_s = now.as_second();
        self.windows.clear();
        self.windows
            .resize(self.campaigns.len() * self.zones.list.len(), None);
        for (i, (sender, state)) in self.senders.iter_mut().zip(&mut self.input.mailboxes).enumerate() {
            let mut redraw = sender.sent_in_pass;
            if now >= sender.day_end {
                // A pass reloads first, so nothing has been sent yet on the new day.
                sender.day_end = day_bounds(mailbox_day(now, &sender.zone), &sender.zone).1;
                state.sent_today = 0;
                sender.cap = state.cap_today(now);
                redraw = true;
            }
            if sender.sent_in_pass {
                state.last_send = state
                    .last_send
                    .and_then(|t| Timestamp::from_second(t.as_second()).ok());
                sender.sent_in_pass = false;
            }
            if redraw {
                let last = state.last_send.map_or(0, |t| t.as_second());
                state.gap = sender.gap.after_send(state.id, last, state.sent_today);
                sender.ready_at = state.gap_ends();
                self.changed_mailboxes.push(i);
            }
        }
        for (c, state) in self.campaigns.iter_mut().zip(&mut self.input.campaigns) {
            if now >= c.first_emails_day_end {
                c.first_emails_day_end = day_bounds(mailbox_day(now, &c.zone), &c.zone).1;
                c.first_emails_today = 0;
            }
            state.new_leads_today = c.first_emails_today;
        }
        if self.domain_limit {
            while let Some(&(at, d)) = self.domain_log.front() {
                if at >= now_s - DOMAIN_HOUR {
                    break;
                }
                self.domain_log.pop_front();
                self.domain_sends[d].pop_front();
                self.dirty_domains.push(d);
            }
            for d in self.dirty_domains.drain(..) {
                let name = &self.domains[d];
                match self.domain_sends[d].front() {
                    None => {
                        self.input.domain_recent.remove(name);
                    }
                    Some(&oldest) => {
                        let recent = DomainRecent {
                            sends: u32::try_from(self.domain_sends[d].len()).unwrap_or(u32::MAX),
                            oldest: Timestamp::from_second(oldest).unwrap_or(now),
                        };
                        match self.input.domain_recent.get_mut(name) {
                            Some(entry) => *entry = recent,
                            None => {
                                self.input.domain_recent.insert(name.clone(), recent);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Reads what is due at `now` as the worker's due query does: email steps into the due
    /// lists (a lead without an email parked), LinkedIn steps handed over to the list.
    fn load_due(&mut self, now: Timestamp) {
        let now_s = now.as_second();
        while let Some(entry) = self.future.first_entry() {
            if entry.key().0 > now_s {
                break;
            }
            let (key, idx) = entry.remove_entry();
            let e = &self.enrolments[idx];
            match self.campaigns[e.campaign]
                .spec
                .steps
                .get(e.step)
                .map(|s| s.channel)
            {
                Some(Channel::Email) if e.domain.is_none() => self.leave(idx),
                Some(Channel::Email) => {
                    // A conversation's window opens in the lead's zone, else its mailbox's.
                    let zone = match e.mailbox {
                        Some(m) => e.zone.or_else(|| {
                            let mi = self.sender_index.get(&m)?;
                            Some(self.senders[*mi].zone_id)
                        }),
                        None => e.zone,
                    };
                    let class_key = (e.campaign, zone, e.mailbox);
                    let class = match self.class_index.get(&class_key) {
                        Some(&class) => class,
                        None => {
                            self.classes.push(DueClass {
                                campaign: e.campaign,
                                zone,
                                mailbox: e.mailbox,
                                sender: e.mailbox.and_then(|m| self.sender_index.get(&m).copied()),
                                entries: BTreeMap::new(),
                            });
                            self.class_index.insert(class_key, self.classes.len() - 1);
                            self.classes.len() - 1
                        }
                    };
                    self.classes[class].entries.insert(key, idx);
                    self.busy_classes.insert(class);
                    self.enrolments[idx].class = Some(class);
                }
                // Already queued for the task list.
                Some(_) => {}
                None => self.leave(idx),
            }
        }
        let later = self.future.first_key_value().map(|(key, _)| key.0);
        let phantom = self.phantom_dues[self.phantom_dues.partition_point(|&d| d <= now_s)..]
            .first()
            .copied();
        self.input.later_due = later
            .into_iter()
            .chain(phantom)
            .min()
            .and_then(|s| Timestamp::from_second(s).ok());
    }

    /// One planning round over the due email steps, passed as [`Sim::fill_due`] says, the
    /// first new leads only until the planner wants more.
    fn plan_round(&mut self, now: Timestamp) -> Plan {
        let mut window = NEW_LEAD_WINDOW;
        loop {
            let live_new_leads = self.fill_due(now, window);
            let planned = self.planner.plan_changed(&self.input, &self.changed_mailboxes);
            self.changed_mailboxes.clear();
            if planned.wants_more_new_leads && window < live_new_leads {
                window = window.saturating_mul(4);
                continue;
            }
            return planned;
        }
    }

    /// Gives the planner what it would make of the whole due list at `now`: every step of
    /// the classes it could send from — follow-ups all, new leads the first `window` in due
    /// order — and one step of each class it could not (a window shut in its zone, no
    /// mailbox free for it, no new leads left today), which it would only note the
    /// reopening of, alike for every step of the class. Only the order within each class
    /// and within follow-ups and new leads matters to the planner (see its module docs).
    /// Returns how many new leads the classes it could send from hold.
    fn fill_due(&mut self, now: Timestamp, window: usize) -> usize {
        // Per campaign that may still start new leads today: whether a mailbox of its is free
        // to send now, and whether one free is in its window too.
        let mut live = std::mem::take(&mut self.scratch.live);
        live.clear();
        live.extend(self.busy_classes.iter().map(|c| (c, false)));
        let mut free = std::mem::take(&mut self.scratch.free);
        free.clear();
        // Only new leads ask whether any mailbox of their campaign is free.
        if live.iter().any(|&(c, _)| self.classes[c].mailbox.is_none()) {
            for c in 0..self.campaigns.len() {
                let state = &self.input.campaigns[c];
                if state.daily_new_leads.is_some_and(|n| state.new_leads_today >= n) {
                    free.push(None);
                    continue;
                }
                let (mut any, mut in_window) = (false, false);
                for i in 0..self.campaign_senders[c].len() {
                    let mi = self.campaign_senders[c][i];
                    if self.free(mi, now) {
                        any = true;
                        let zone = self.senders[mi].zone_id;
                        in_window = in_window || self.window_open(c, zone, now);
                    }
                }
                free.push(Some((any, in_window)));
            }
        }
        for (c, open) in live.iter_mut() {
            *open = self.class_open(*c, now, &free);
        }
        self.scratch.free = free;
        let mut follow_ups = std::mem::take(&mut self.scratch.follow_ups);
        follow_ups.clear();
        let mut due = std::mem::take(&mut self.scratch.due);
        due.clear();
        let mut firsts: Vec<usize> = Vec::new();
        let mut new_lead_classes = Vec::new();
        let mut live_new_leads = 0;
        for &(c, open) in &live {
            let class = &self.classes[c];
            let Some((_, &first)) = class.entries.first_key_value() else {
                continue;
            };
            match (class.mailbox, open) {
                (Some(_), true) => follow_ups.extend(class.entries.iter().map(|(key, &idx)| (*key, idx))),
                (None, true) => {
                    live_new_leads += class.entries.len();
                    new_lead_classes.push(class.entries.iter().peekable());
                }
                (Some(_), false) => firsts.push(first),
                (None, false) => {}
            }
        }
        follow_ups.sort_unstable_by_key(|&(key, _)| key);
        due.extend(follow_ups.iter().map(|&(_, idx)| idx));
        self.scratch.follow_ups = follow_ups;
        due.append(&mut firsts);
        // The first new leads of the open classes, merged in due order.
        for _ in 0..window {
            let next = new_lead_classes
                .iter_mut()
                .enumerate()
                .filter_map(|(i, entries)| entries.peek().map(|(key, _)| (**key, i)))
                .min();
            let Some((_, i)) = next else { break };
            if let Some((_, &idx)) = new_lead_classes[i].next() {
                due.push(idx);
            }
        }
        for &(c, open) in &live {
            let class = &self.classes[c];
            if class.mailbox.is_none() && !open {
                due.extend(class.entries.first_key_value().map(|(_, &idx)| idx));
            }
        }
        let Sim {
            input,
            enrolments,
            campaigns,
            domains,
            zones,
            spare,
            ..
        } = self;
        // Entries are reused with their domain's buffer: no allocation per round.
        if input.due.len() > due.len() {
            spare.extend(input.due.drain(due.len()..));
        }
        while input.due.len() < due.len() {
            input.due.push(spare.pop().unwrap_or_else(empty_due));
        }
        for (slot, &idx) in input.due.iter_mut().zip(&due) {
            let e = &enrolments[idx];
            // Most rounds pass the entries of the last: an enrolment's lead, campaign,
            // domain and zone never change, so the same step is the same entry.
            let unchanged = slot.id == idx as i64
                && slot.step == e.step
                && slot.mailbox == e.mailbox
                && slot.due == due_instant(e);
            if !unchanged {
                write_due(slot, idx, e, campaigns[e.campaign].id, domains, zones);
            }
        }
        self.scratch.due = due;
        self.scratch.live = live;
        live_new_leads
    }

    /// Whether the planner could send from due class `c` at `now` (if not, it notes only
    /// when that changes): its window open and a mailbox free for it (and, for new leads,
    /// some left today; `free` as [`Sim::fill_due`] reckons it per campaign). Errs towards yes: a
    /// round is given all of an open class.
    fn class_open(&mut self, c: usize, now: Timestamp, free: &[Option<(bool, bool)>]) -> bool {
        let class = &self.classes[c];
        if class.entries.is_empty() {
            return false;
        }
        let (campaign, zone) = (class.campaign, class.zone);
        match (class.sender, class.mailbox, zone) {
            (Some(mi), _, Some(zone)) => self.free(mi, now) && self.window_open(campaign, zone, now),
            (_, Some(_), _) => false,
            (_, None, zone) => {
                let Some((any, in_window)) = free.get(campaign).copied().flatten() else {
                    return false;
                };
                match zone {
                    Some(zone) => any && self.window_open(campaign, zone, now),
                    // Without a zone of its own a lead goes out in its mailbox's window.
                    None => in_window,
                }
            }
        }
    }

    /// A mailbox the planner would count as able to send at `now`.
    fn free(&self, mi: usize, now: Timestamp) -> bool {
        let state = &self.input.mailboxes[mi];
        let sender = &self.senders[mi];
        !state.paused && state.sent_today < sender.cap && sender.ready_at.is_none_or(|end| end <= now)
    }

    /// Whether a campaign's window is open at `now` in a zone, as the planner reads it.
    fn window_open(&mut self, campaign: usize, zone: usize, now: Timestamp) -> bool {
        let slot = campaign * self.zones.list.len() + zone;
        if let Some(Some(open)) = self.windows.get(slot) {
            return *open;
        }
        let window = &self.input.campaigns[campaign].window;
        let open = matches!(window.next_open(now, &self.zones.list[zone]), Some(at) if at <= now);
        if let Some(cached) = self.windows.get_mut(slot) {
            *cached = Some(open);
        }
        open
    }

    /// A planned send, as the worker handles it: parked if the lead is suppressed, else
    /// sent, recorded, and the sequence moved on. Whether it went out.
    fn record(&mut self, send: &PlannedSend, now: Timestamp) -> bool {
        // The planner's enrolment ids are indices into `enrolments` (see `write_due`).
        let Some(idx) = usize::try_from(send.enrolment_id)
            .ok()
            .filter(|&idx| idx < self.enrolments.len())
        else {
            return false;
        };
        let campaign_id = self.campaigns[self.enrolments[idx].campaign].id;
        let mut view = empty_due();
        write_due(
            &mut view,
            idx,
            &self.enrolments[idx],
            campaign_id,
            &self.domains,
            &self.zones,
        );
        let key = (self.enrolments[idx].due, self.enrolments[idx].id);
        if let Some(class) = self.enrolments[idx].class.take() {
            self.classes[class].entries.remove(&key);
            if self.classes[class].entries.is_empty() {
                self.busy_classes.remove(class);
            }
        }
        let Some(&mi) = self.sender_index.get(&send.mailbox_id) else {
            return false;
        };
        if self.enrolments[idx].suppressed {
            self.leave(idx);
            return false;
        }
        self.input
            .record_send(&view, send.mailbox_id, self.senders[mi].gap);
        self.changed_mailboxes.push(mi);
        let sender = &mut self.senders[mi];
        sender.sent_in_pass = true;
        let state = &self.input.mailboxes[mi];
        sender.ready_at = state.gap_ends();
        if state.sent_today == 1 {
            // The first send of a mailbox's life starts its warm-up.
            sender.cap = state.cap_today(now);
        }
        if state.sent_today >= sender.cap {
            sender.capped_until = Some(sender.day_end);
            sender.capped_by_warmup = sender.cap < state.daily_cap;
        }
        let campaign = self.enrolments[idx].campaign;
        if view.mailbox.is_none() {
            self.campaigns[campaign].first_emails_today += 1;
            if campaign == self.target {
                self.tally.new_leads_today += 1;
            }
        }
        if let Some(d) = self.enrolments[idx].domain.filter(|_| self.domain_limit) {
            self.domain_log.push_back((now.as_second(), d));
            self.domain_sends[d].push_back(now.as_second());
            self.dirty_domains.push(d);
        }
        self.touch(idx, now);

        let e = &mut self.enrolments[idx];
        e.mailbox = Some(send.mailbox_id);
        let c = &self.campaigns[e.campaign];
        let next = send.step + 1;
        let Some(step) = c.spec.steps.get(next) else {
            self.leave(idx);
            return true;
        };
        let lead_zone = e.zone.map(|z| &self.zones.list[z]);
        let zone = local_zone(lead_zone, Some(&self.senders[mi].zone), &c.zone);
        e.step = next;
        e.due = step_due(now, step, zone).as_second();
        let key = (e.due, e.id);
        let linkedin = step.channel.is_linkedin();
        self.future.insert(key, idx);
        if linkedin {
            self.enqueue(key, idx);
        }
        true
    }

    /// Queues a LinkedIn step for the task list.
    fn enqueue(&mut self, key: (i64, i64), idx: usize) {
        self.queue.insert(key, idx);
        if self.waits_for_account(idx) {
            let campaign = self.enrolments[idx].campaign;
            if self.unassigned.len() <= campaign {
                self.unassigned.resize_with(campaign + 1, BTreeMap::new);
            }
            self.unassigned[campaign].insert(key, idx);
        } else if self.one_by_one(idx) {
            self.special.insert(key, idx);
        }
        if key.0 <= self.visible_to {
            self.visible_total += 1;
            self.count_visible(idx, true);
        }
    }

    fn dequeue(&mut self, key: (i64, i64), idx: usize) {
        self.queue.remove(&key);
        self.unread_one_by_one(key);
        if key.0 <= self.visible_to {
            self.visible_total -= 1;
            self.count_visible(idx, false);
        }
    }

    /// The step is no longer read one by one (it left the queue, or its account is known).
    fn unread_one_by_one(&mut self, key: (i64, i64)) {
        self.special.remove(&key);
        for steps in &mut self.unassigned {
            steps.remove(&key);
        }
    }

    /// Whether this is an invitation or InMail step of a lead without an account yet (see
    /// `unassigned`).
    fn waits_for_account(&self, idx: usize) -> bool {
        let e = &self.enrolments[idx];
        let channel = self.campaigns[e.campaign]
            .spec
            .steps
            .get(e.step)
            .map(|s| s.channel);
        !e.forever
            && matches!(e.account, AccountRef::Unassigned)
            && matches!(channel, Some(Channel::LinkedinConnect | Channel::LinkedinInmail))
    }

    /// Whether the list must read this step one by one (see `special`).
    fn one_by_one(&self, idx: usize) -> bool {
        let e = &self.enrolments[idx];
        let message = self.campaigns[e.campaign]
            .spec
            .steps
            .get(e.step)
            .map(|s| s.channel)
            == Some(Channel::LinkedinMessage);
        !e.forever && (message || !matches!(e.account, AccountRef::Known(_)))
    }

    /// An invitation or InMail step of a known account: (account, 0 or 1).
    fn counted(&self, idx: usize) -> Option<(usize, usize)> {
        let e = &self.enrolments[idx];
        let AccountRef::Known(a) = e.account else {
            return None;
        };
        match self.campaigns[e.campaign].spec.steps.get(e.step)?.channel {
            Channel::LinkedinConnect | Channel::LinkedinInmail => Some((a, self.kind_of(idx))),
            _ => None,
        }
    }

    /// 0 for an invitation step, 1 for an InMail step (the budget it needs).
    fn kind_of(&self, idx: usize) -> usize {
        let e = &self.enrolments[idx];
        let channel = self.campaigns[e.campaign]
            .spec
            .steps
            .get(e.step)
            .map(|s| s.channel);
        usize::from(channel == Some(Channel::LinkedinInmail))
    }

    fn count_visible(&mut self, idx: usize, add: bool) {
        let target = self.enrolments[idx].campaign == self.target;
        let Some((a, kind)) = self.counted(idx) else {
            if target && self.waits_for_account(idx) {
                let kind = self.kind_of(idx);
                let count = &mut self.visible_unassigned_target[kind];
                *count = if add { *count + 1 } else { *count - 1 };
            }
            return;
        };
        for counts in [
            Some(&mut self.visible),
            target.then_some(&mut self.visible_target),
        ]
        .into_iter()
        .flatten()
        {
            if add {
                counts[a][kind] += 1;
            } else {
                counts[a][kind] -= 1;
            }
        }
    }

    /// The forecast campaign's touch, if it is one of its leads.
    fn touch(&mut self, idx: usize, at: Timestamp) {
        let e = &mut self.enrolments[idx];
        if e.campaign != self.target {
            return;
        }
        let t = &mut self.tally;
        t.touches += 1;
        t.last_touch = Some(at);
        // Touches happen on the day being tallied (days are closed before each event).
        let day = t.day;
        t.week(day).touches += 1;
        *t.days.entry(day).or_insert(0) += 1;
        if !e.touched {
            e.touched = true;
            t.untouched -= 1;
            t.last_first_touch = Some(at);
        }
    }

    /// The sequence ends: finished, or parked as the worker would park it.
    fn leave(&mut self, idx: usize) {
        let e = &mut self.enrolments[idx];
        if e.left {
            return;
        }
        e.left = true;
        if e.campaign == self.target {
            if !e.forever {
                self.tally.live -= 1;
            }
            if !e.touched {
                self.tally.untouched -= 1;
            }
        }
    }

    /// The person's daily session at `at`: today's list (`linkedin::tasks`), every task on
    /// it done at once (`linkedin::done`).
    fn linkedin_day(&mut self, at: Timestamp) -> Result<()> {
        self.record_acceptances(at);
        let since = at.checked_sub(HISTORY).unwrap_or(at).as_second();
        let budgets: Vec<DayBudget> = self
            .accounts
            .iter_mut()
            .map(|a| {
                forget_what_cannot_matter(&mut a.history, at, since);
                let history = AccountHistory {
                    tasks: &a.history,
                    judged_since: a.judged_since,
                    inmail_credits: a.inmail.as_ref().map_or(0, |l| l.available(at)),
                };
                day_budget(&a.limits, history, at, &a.zone, None)
            })
            .collect();
        let left = budgets
            .iter()
            .map(|b| Left {
                invitations: b.invitations_left,
                messages: b.messages_left,
                inmail: b.inmail_left,
            })
            .collect();
        // The list takes back stale invitations after reckoning the day's budgets.
        for account in &mut self.accounts {
            let stale = at.checked_sub(WITHDRAWN_AFTER).unwrap_or(Timestamp::MIN);
            while let Some(sent) = account.pending.front().copied().filter(|s| s.done_at <= stale) {
                account.pending.pop_front();
                if let Some(record) = account
                    .history
                    .iter_mut()
                    .rev()
                    .find(|r| is_pending_from(r, sent.done_at))
                {
                    record.withdrawn = true;
                }
            }
        }
        let mut handed = std::mem::take(&mut self.open_tasks);
        let waiting = self.read_list(at, left, &mut handed)?;
        for task in handed {
            self.do_task(task, at);
        }
        self.tally_linkedin(&budgets, &waiting);
        Ok(())
    }

    /// The person marks, at the start of their session at `at`, the invitations accepted
    /// since the last (`linkedin accepted`).
    fn record_acceptances(&mut self, at: Timestamp) {
        let due = at.checked_sub(ACCEPTED_AFTER).unwrap_or(Timestamp::MIN);
        for account in &mut self.accounts {
            let history = &mut account.history;
            account.pending.retain(|sent| {
                if !sent.accepted || sent.done_at > due {
                    return true;
                }
                if let Some(record) = history
                    .iter_mut()
                    .rev()
                    .find(|r| is_pending_from(r, sent.done_at))
                {
                    record.accepted = true;
                }
                if let Some(Some(invite)) = self.invites.get_mut(&sent.lead) {
                    invite.accepted = true;
                }
                self.accepting.remove(&sent.lead);
                false
            });
        }
    }

    /// Where a lead waiting for an acceptance goes at `at` (its invitation looked up).
    fn skip_at(&self, idx: usize, at: Timestamp) -> Option<Skip> {
        let e = &self.enrolments[idx];
        let invite = (*self.invites.get(&e.lead)?)?;
        self.campaigns[e.campaign]
            .spec
            .skip_unaccepted(invite.step, invite.done_at?, e.step, at)
    }

    /// Reads the due LinkedIn steps as `linkedin::tasks` does, in due order: each lead's
    /// account (chosen now if it has none), then a task if the budget allows, a skip past a
    /// message whose invitation was not accepted in time, or a wait. Once no budget is left
    /// for the invitation and InMail steps still unread, those can only wait, so only the
    /// steps read one by one (`special`) are read on.
    fn read_list(&mut self, at: Timestamp, left: Vec<Left>, handed: &mut Vec<Handed>) -> Result<Waiting> {
        let at_s = at.as_second();
        let newly: Vec<usize> = self
            .queue
            .range((self.visible_to.saturating_add(1), i64::MIN)..=(at_s, i64::MAX))
            .map(|(_, &idx)| idx)
            .collect();
        self.visible_total += newly.len();
        for idx in newly {
            self.count_visible(idx, true);
        }
        self.visible_to = self.visible_to.max(at_s);
        if self.visible.len() < self.accounts.len() {
            self.visible.resize(self.accounts.len(), [0; 2]);
            self.visible_target.resize(self.accounts.len(), [0; 2]);
        }
        // The list reads at most a batch of due steps.
        let last = match self.visible_total > DUE_BATCH {
            true => self
                .queue
                .range(..=(at_s, i64::MAX))
                .nth(DUE_BATCH - 1)
                .map(|(key, _)| *key),
            false => None,
        }
        .unwrap_or((at_s, i64::MAX));
        let mut reading = Reading {
            left,
            unread: self.visible.clone(),
            open: 0,
        };
        reading.open = (0..self.accounts.len())
            .flat_map(|a| [(a, 0), (a, 1)])
            .filter(|&(a, kind)| reading.room(a, kind))
            .count();
        let mut waiting = Waiting::default();
        let mut actions = Vec::new();
        let queue = std::mem::take(&mut self.queue);
        let mut rest = None;
        for (&key, &idx) in queue.range(..=last) {
            if reading.open == 0 {
                rest = Some(key);
                break;
            }
            let _ = self.read_one(key, idx, at, &mut reading, &mut waiting, &mut actions)?;
        }
        self.queue = queue;
        if let Some(from) = rest {
            let special = std::mem::take(&mut self.special);
            for (&key, &idx) in special.range(from..=last) {
                let _ = self.read_one(key, idx, at, &mut reading, &mut waiting, &mut actions)?;
            }
            self.special = special;
            // Message steps spend only message budgets, these only invitations and InMails:
            // reading them after the others hands out what reading all in due order would.
            let unassigned = std::mem::take(&mut self.unassigned);
            let mut heads: BinaryHeap<Reverse<((i64, i64), usize)>> = BinaryHeap::new();
            let next = |campaign: usize, after: Bound<(i64, i64)>| {
                unassigned[campaign]
                    .range((after, Bound::Included(last)))
                    .next()
                    .map(|(&key, _)| Reverse((key, campaign)))
            };
            heads.extend((0..unassigned.len()).filter_map(|c| next(c, Bound::Included(from))));
            while let Some(Reverse((key, campaign))) = heads.pop() {
                let idx = unassigned[campaign][&key];
                let no_room = self.read_one(key, idx, at, &mut reading, &mut waiting, &mut actions)?;
                if !no_room {
                    heads.extend(next(campaign, Bound::Excluded(key)));
                }
            }
            self.unassigned = unassigned;
        }
        for action in actions {
            match action {
                Action::Hand(task, key) => {
                    if let Some(idx) = task.enrolment {
                        self.dequeue(key, idx);
                    }
                    handed.push(task);
                }
                Action::Skip(idx, skip, key) => {
                    self.dequeue(key, idx);
                    self.skip(idx, skip, at_s);
                }
                Action::Assigned(key) | Action::Forever(key) => self.unread_one_by_one(key),
            }
        }
        Ok(waiting)
    }

    /// Reads one due step (see [`Sim::read_list`]).
    fn read_one(
        &mut self,
        key: (i64, i64),
        idx: usize,
        at: Timestamp,
        reading: &mut Reading,
        waiting: &mut Waiting,
        actions: &mut Vec<Action>,
    ) -> Result<bool> {
        let (campaign, step, lead, forever) = {
            let e = &self.enrolments[idx];
            (e.campaign, e.step, e.lead, e.forever)
        };
        let target = campaign == self.target;
        let Some(channel) = self.campaigns[campaign].spec.steps.get(step).map(|s| s.channel) else {
            return Ok(false);
        };
        if let Some((a, kind)) = self.counted(idx) {
            reading.read(a, kind);
        }
        let a = match self.enrolments[idx].account {
            AccountRef::Known(a) => a,
            AccountRef::Missing => {
                waiting.no_account += u64::from(target);
                return Ok(false);
            }
            AccountRef::Unassigned => {
                let left = |l: &Left| match channel {
                    Channel::LinkedinConnect => l.invitations,
                    Channel::LinkedinInmail => l.inmail,
                    Channel::LinkedinMessage => l.messages,
                    Channel::Email => 0,
                };
                let candidates = self.campaigns[campaign]
                    .accounts
                    .iter()
                    .map(|&a| (self.accounts[a].id, left(&reading.left[a])));
                let Some(a) = choose_account(candidates).and_then(|id| self.account_index.get(&id).copied())
                else {
                    // No account has room for it today (counted where it waits).
                    if channel == Channel::LinkedinMessage {
                        waiting.messages += u64::from(target);
                    }
                    return Ok(true);
                };
                self.count_visible(idx, false);
                self.enrolments[idx].account = AccountRef::Known(a);
                // Counted as due from now on (it is read here, not later).
                self.count_visible(idx, true);
                if channel != Channel::LinkedinMessage {
                    actions.push(Action::Assigned(key));
                }
                a
            }
        };
        let kind = match channel {
            Channel::LinkedinConnect if reading.left[a].invitations == 0 => return Ok(false),
            Channel::LinkedinConnect => {
                reading.spend(a, 0);
                TaskKind::Connect
            }
            Channel::LinkedinInmail if reading.left[a].inmail == 0 => return Ok(false),
            Channel::LinkedinInmail => {
                reading.spend(a, 1);
                TaskKind::Inmail
            }
            Channel::LinkedinMessage => {
                let invite = self.invite(lead)?;
                if !invite.is_some_and(|i| i.accepted) {
                    if let Some(skip) = self.skip_at(idx, at) {
                        actions.push(Action::Skip(idx, skip, key));
                    } else if !forever {
                        let will_accept = self.accepting.contains(&lead);
                        if !will_accept && self.skip_at(idx, Timestamp::MAX).is_none() {
                            self.wait_forever(idx);
                            actions.push(Action::Forever(key));
                        } else {
                            waiting.acceptance += u64::from(target);
                        }
                    }
                    return Ok(false);
                }
                if reading.left[a].messages == 0 {
                    waiting.messages += u64::from(target);
                    return Ok(false);
                }
                reading.left[a].messages -= 1;
                TaskKind::Message
            }
            Channel::Email => return Ok(false),
        };
        let task = Handed {
            enrolment: Some(idx),
            step,
            account: a,
            kind,
            earlier: false,
        };
        actions.push(Action::Hand(task, key));
        Ok(false)
    }

    /// A lead's latest invitation (`Store::linkedin_connect_of_lead`), read once.
    fn invite(&mut self, lead: i64) -> Result<Option<Invite>> {
        if let Some(invite) = self.invites.get(&lead) {
            return Ok(*invite);
        }
        let invite = self.store.linkedin_connect_of_lead(lead)?.map(|t| Invite {
            step: t.step as usize,
            done_at: t.done_at.and_then(|s| Timestamp::from_second(s).ok()),
            accepted: t.accepted_at.is_some(),
        });
        self.invites.insert(lead, invite);
        Ok(invite)
    }

    fn skip(&mut self, idx: usize, skip: Skip, at_s: i64) {
        match skip {
            Skip::To(step) => {
                let e = &mut self.enrolments[idx];
                e.step = step;
                e.due = at_s;
                self.future.insert((at_s, e.id), idx);
            }
            Skip::Finished => self.leave(idx),
        }
    }

    fn wait_forever(&mut self, idx: usize) {
        let e = &mut self.enrolments[idx];
        if e.forever {
            return;
        }
        e.forever = true;
        if e.campaign == self.target {
            self.tally.live -= 1;
            self.tally.waiting_forever += 1;
        }
    }

    /// A task done at `at` (`linkedin::done`): counted in its account's budget, the lead
    /// moved on to its next step, due in the account's zone.
    fn do_task(&mut self, task: Handed, at: Timestamp) {
        let account = &mut self.accounts[task.account];
        let open = task
            .earlier
            .then(|| {
                account
                    .history
                    .iter_mut()
                    .find(|r| r.kind == task.kind && r.done_at.is_none())
            })
            .flatten();
        match open {
            Some(record) => record.done_at = Some(at),
            None => account.history.push(TaskRecord {
                kind: task.kind,
                done_at: Some(at),
                noted: false,
                accepted: false,
                declined: false,
                withdrawn: false,
            }),
        }
        if task.kind == TaskKind::Inmail {
            if let Some(ledger) = account.inmail.as_mut() {
                // The list handed it out within the credits, so there is one to take.
                let _ = ledger.consume(at);
            }
        }
        let zone = account.zone.clone();
        let Some(idx) = task.enrolment else {
            return;
        };
        if task.kind == TaskKind::Connect {
            let invite = Invite {
                step: task.step,
                done_at: Some(at),
                accepted: false,
            };
            let lead = self.enrolments[idx].lead;
            self.invites.insert(lead, Some(invite));
            let account = &mut self.accounts[task.account];
            let accepted = accepts(account.invitations_done, self.acceptance_rate);
            account.pending.push_back(Sent {
                done_at: at,
                lead,
                accepted,
            });
            account.invitations_done += 1;
            if accepted {
                self.accepting.insert(lead);
            }
        }
        self.touch(idx, at);
        let e = &mut self.enrolments[idx];
        let next = task.step + 1;
        let Some(step) = self.campaigns[e.campaign].spec.steps.get(next) else {
            self.leave(idx);
            return;
        };
        e.step = next;
        e.due = step_due(at, step, &zone).as_second();
        let key = (e.due, e.id);
        if step.channel.is_linkedin() {
            self.enqueue(key, idx);
        } else {
            self.future.insert(key, idx);
        }
    }

    /// Counts what the day's list left waiting of the forecast campaign.
    fn tally_linkedin(&mut self, budgets: &[DayBudget], waiting: &Waiting) {
        let mut counts = [0u64; REASONS];
        for ((visible, budget), account) in self.visible_target.iter().zip(budgets).zip(&self.accounts) {
            let invitations = match budget.guard {
                Guard::Paused { .. } => Reason::Guard,
                _ if budget.pending >= account.limits.pending_ceiling() => Reason::Pending,
                _ => Reason::Invitations,
            };
            counts[invitations as usize] += visible[0];
            counts[Reason::Inmail as usize] += visible[1];
        }
        // Leads still without an account: no account had room for them today.
        let accounts = &self.campaigns[self.target].accounts;
        let all_paused = !accounts.is_empty()
            && accounts
                .iter()
                .all(|&a| matches!(budgets[a].guard, Guard::Paused { .. }));
        let invitations = if all_paused {
            Reason::Guard
        } else {
            Reason::Invitations
        };
        counts[invitations as usize] += self.visible_unassigned_target[0];
        counts[Reason::Inmail as usize] += self.visible_unassigned_target[1];
        counts[Reason::Messages as usize] += waiting.messages;
        counts[Reason::Acceptance as usize] += waiting.acceptance + self.tally.waiting_forever;
        counts[Reason::NoAccount as usize] += waiting.no_account;
        let day = self.tally.day;
        let week = self.tally.week(day);
        for (total, n) in week.blocked.iter_mut().zip(counts) {
            *total += n;
        }
    }

    /// Closes the campaign days that end by `t`, counting the email steps each left
    /// waiting.
    fn tally_days_until(&mut self, t: Timestamp) {
        while self.tally.day_end <= t {
            self.tally_email_day();
            let Ok(next) = self.tally.day.tomorrow() else {
                return;
            };
            let (start, end) = day_bounds(next, &self.tally.zone);
            let t = &mut self.tally;
            (t.day, t.day_start, t.day_end, t.new_leads_today) = (next, start, end, 0);
        }
    }

    fn tally_email_day(&mut self) {
        let (day, day_start, day_end) = (self.tally.day, self.tally.day_start, self.tally.day_end);
        let c = &self.campaigns[self.target];
        let window_opened = c.window.open_interval(day, &c.zone).is_some();
        let capped = |sender: &Sender| sender.capped_until.is_some_and(|until| until > day_start);
        let caps = |warmup: bool| {
            if warmup {
                Reason::CapsWarmup
            } else {
                Reason::Caps
            }
        };
        // New leads share the campaign's mailboxes and limits.
        let state = &self.input.campaigns[self.target];
        let boxes: Vec<usize> = state
            .mailboxes
            .iter()
            .filter_map(|id| self.sender_index.get(id).copied())
            .filter(|&mi| !self.input.mailboxes[mi].paused)
            .collect();
        let new_lead_reason = if boxes.is_empty() {
            Reason::Paused
        } else if state
            .daily_new_leads
            .is_some_and(|limit| self.tally.new_leads_today >= limit)
        {
            Reason::NewLeads
        } else if !window_opened {
            Reason::Window
        } else if boxes.iter().all(|&mi| capped(&self.senders[mi])) {
            caps(boxes.iter().any(|&mi| self.senders[mi].capped_by_warmup))
        } else {
            Reason::Gaps
        };
        let follow_up_reason = |mailbox: i64| match self.sender_index.get(&mailbox) {
            Some(&mi) if !self.input.mailboxes[mi].paused => {
                let sender = &self.senders[mi];
                if !window_opened {
                    Reason::Window
                } else if capped(sender) {
                    caps(sender.capped_by_warmup)
                } else {
                    Reason::Gaps
                }
            }
            _ => Reason::Paused,
        };
        // Due by the day's end: read by a pass (a class shares its reason), or due since
        // the last one.
        let mut counts = [0u64; REASONS];
        for class in self.classes.iter().filter(|class| class.campaign == self.target) {
            let reason = match class.mailbox {
                Some(mailbox) => follow_up_reason(mailbox),
                None => new_lead_reason,
            };
            counts[reason as usize] += class.entries.len() as u64;
        }
        let end_s = day_end.as_second();
        for &idx in self.future.range(..(end_s, i64::MIN)).map(|(_, idx)| idx) {
            let e = &self.enrolments[idx];
            let email = self.campaigns[e.campaign]
                .spec
                .steps
                .get(e.step)
                .map(|s| s.channel)
                == Some(Channel::Email);
            if e.campaign == self.target && email {
                let reason = match e.mailbox {
                    Some(mailbox) => follow_up_reason(mailbox),
                    None => new_lead_reason,
                };
                counts[reason as usize] += 1;
            }
        }
        let week = self.tally.week(day);
        for (total, n) in week.blocked.iter_mut().zip(counts) {
            *total += n;
        }
    }

    fn report(&self, name: &str, from: Timestamp) -> Forecast {
        let t = &self.tally;
        let date = |at: Timestamp| mailbox_day(at, &t.zone).to_string();
        // To the second, as the ledger records it.
        let instant = |at: Timestamp| at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let first_touches_done = if t.untouched == 0 {
            t.last_first_touch
        } else {
            None
        };
        let last_touch = if t.live == 0 { t.last_touch } else { None };
        let labels = self.labels();
        let top = |blocked: &[u64; REASONS]| {
            let (i, &n) = blocked
                .iter()
                .enumerate()
                .max_by_key(|&(i, &n)| (n, std::cmp::Reverse(i)))
                .unwrap_or((0, &0));
            if n == 0 {
                "none".to_owned()
            } else {
                labels[i].clone()
            }
        };
        let shown = t
            .weeks
            .iter()
            .rposition(|w| w.touches > 0 || w.blocked.iter().any(|&n| n > 0))
            .map_or(0, |last| last + 1);
        let weeks = t.weeks[..shown]
            .iter()
            .enumerate()
            .map(|(i, w)| Week {
                week_start: t
                    .first_week
                    .checked_add(Span::new().days(i64::try_from(i * 7).unwrap_or(i64::MAX)))
                    .map_or_else(|_| String::new(), |d| d.to_string()),
                touches: w.touches,
                bottleneck: top(&w.blocked),
            })
            .collect();
        let mut overall = [0u64; REASONS];
        for w in &t.weeks {
            for (total, n) in overall.iter_mut().zip(w.blocked) {
                *total += n;
            }
        }
        Forecast {
            campaign: name.to_owned(),
            leads: t.leads,
            first_touches_done_by: first_touches_done.map(date),
            last_touch_by: last_touch.map(date),
            bottleneck: top(&overall),
            weeks,
            from: from.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            time_zone: t.zone.iana_name().unwrap_or("UTC").to_owned(),
            acceptance_rate: self.acceptance_rate,
            first_touches: t.first_touches,
            touches: t.touches,
            waiting_forever: t.waiting_forever,
            unfinished: t.live,
            first_touches_done_at: first_touches_done.map(instant),
            last_touch_at: last_touch.map(instant),
            days: t
                .days
                .iter()
                .map(|(day, &touches)| Day {
                    date: day.to_string(),
                    touches,
                })
                .collect(),
        }
    }

    /// The reasons as the report names them; LinkedIn budgets with the forecast
    /// campaign's figures when its accounts share them.
    fn labels(&self) -> Vec<String> {
        let accounts = &self.campaigns[self.target].accounts;
        let figure = |f: fn(&Limits) -> u32, what: &str| {
            let mut values: Vec<u32> = accounts.iter().map(|&a| f(&self.accounts[a].limits)).collect();
            values.dedup();
            match values[..] {
                [n] => format!("LinkedIn {what} ({n}/week per account)"),
                _ => format!("LinkedIn {what} (weekly budgets)"),
            }
        };
        Reason::ALL
            .iter()
            .map(|reason| match reason {
                Reason::Paused => "paused mailboxes".to_owned(),
                Reason::NewLeads => "daily_new_leads".to_owned(),
                Reason::Window => "sending window".to_owned(),
                Reason::Caps => "mailbox daily caps".to_owned(),
                Reason::CapsWarmup => "mailbox daily caps (warm-up)".to_owned(),
                Reason::Gaps => "gaps between sends".to_owned(),
                Reason::Invitations => figure(Limits::invitations_per_week, "invitations"),
                Reason::Guard => format!(
                    "LinkedIn acceptance guard ({} % accepted assumed)",
                    self.acceptance_rate
                ),
                Reason::Pending => format!(
                    "LinkedIn pending invitations ceiling ({} % accepted assumed)",
                    self.acceptance_rate
                ),
                Reason::Messages => figure(Limits::messages_per_week, "messages"),
                Reason::Inmail => "InMail credits".to_owned(),
                Reason::Acceptance => "waiting for invitations to be accepted".to_owned(),
                Reason::NoAccount => "no LinkedIn account to send from".to_owned(),
            })
            .collect()
    }
}

impl Sender {
    fn new(gap: Gap, state: &MailboxState, now: Timestamp, zones: &mut Zones) -> Sender {
        let zone = state.day_zone().clone();
        Sender {
            gap,
            day_end: day_bounds(mailbox_day(now, &zone), &zone).1,
            zone_id: zones.intern(&zone),
            zone,
            cap: state.cap_today(now),
            ready_at: state.gap_ends(),
            sent_in_pass: false,
            capped_until: None,
            capped_by_warmup: false,
        }
    }
}

/// A set of small numbers, iterated in ascending order.
#[derive(Default)]
struct BitSet(Vec<u64>);

impl BitSet {
    fn insert(&mut self, n: usize) {
        let word = n / 64;
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << (n % 64);
    }

    fn remove(&mut self, n: usize) {
        if let Some(word) = self.0.get_mut(n / 64) {
            *word &= !(1 << (n % 64));
        }
    }

    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(word, &bits)| {
            let mut bits = bits;
            std::iter::from_fn(move || {
                let bit = bits.trailing_zeros() as usize;
                bits &= bits.wrapping_sub(1);
                (bit < 64).then_some(word * 64 + bit)
            })
        })
    }
}

/// The time zones in play, each once, so a due class names its zone by a number.
#[derive(Default)]
struct Zones {
    list: Vec<TimeZone>,
    ids: HashMap<String, usize>,
}

impl Zones {
    fn intern(&mut self, zone: &TimeZone) -> usize {
        let name = zone.iana_name().unwrap_or("UTC");
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        self.list.push(zone.clone());
        self.ids.insert(name.to_owned(), self.list.len() - 1);
        self.list.len() - 1
    }
}

fn empty_due() -> DueEnrolment {
    DueEnrolment {
        // No enrolment's index (see `write_due`).
        id: -1,
        campaign: 0,
        lead: 0,
        domain: String::new(),
        time_zone: None,
        mailbox: None,
        step: 0,
        due: Timestamp::UNIX_EPOCH,
    }
}

/// The planner's view of the enrolment at `idx`, written into `slot`. Its id is `idx`: the
/// planner only hands ids back (in [`PlannedSend`]), and an index finds the enrolment
/// without a lookup.
fn write_due(
    slot: &mut DueEnrolment,
    idx: usize,
    e: &Enrolment,
    campaign: i64,
    domains: &[String],
    zones: &Zones,
) {
    slot.id = idx as i64;
    slot.campaign = campaign;
    slot.lead = e.lead;
    slot.domain.clear();
    if let Some(d) = e.domain {
        slot.domain.push_str(&domains[d]);
    }
    match e.zone {
        Some(z) => slot.time_zone = Some(zones.list[z].clone()),
        None => slot.time_zone = None,
    }
    slot.mailbox = e.mailbox;
    slot.step = e.step;
    slot.due = due_instant(e);
}

fn due_instant(e: &Enrolment) -> Timestamp {
    Timestamp::from_second(e.due).unwrap_or(Timestamp::UNIX_EPOCH)
}

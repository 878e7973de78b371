//! The planner: which sends happen now, from which mailbox. One pure function, [`plan`],
//! serves both the live worker and `forecast` (a simulated clock), so a forecast cannot
//! drift from what the worker does.
//!
//! # Rules, in the order they are applied
//!
//! - **Follow-ups before first touches.** A *follow-up* is a due enrolment that already has
//!   a mailbox (its conversation has started); a *new lead* has none. Every follow-up is
//!   considered before any new lead; within each class the input order (due time) is kept.
//! - **One conversation, one mailbox** (invariant 6). A follow-up is sent from its assigned
//!   mailbox or not at all — never moved to a freer mailbox, even when its own mailbox is
//!   busy, paused or no longer listed by the campaign. A new lead gets the campaign mailbox
//!   that can send now and has the most capacity left today (ties: the smaller id); the
//!   caller stores that assignment with the send. An enrolment past its first step without
//!   a mailbox is an inconsistency and is never sent (a new mailbox would break threading).
//! - **Caps** (invariant 4). Today's cap is [`daily_cap`] (warm-up applied) for the calendar
//!   day `now` falls on in the mailbox's time zone (UTC when it has none); a mailbox whose
//!   `sent_today` has reached it sends nothing.
//! - **Gaps.** At most one send per mailbox per pass, and only if `now ≥ last_send + gap`.
//!   After recording a send the caller draws the mailbox's next gap
//!   ([`Gap::draw`](crate::schedule::Gap::draw)).
//! - **Windows** (invariant 8): the campaign's window in the lead's time zone when known,
//!   else the mailbox's, else the campaign's ([`local_zone`]).
//! - **Recipient domains.** At most `domain_limit_per_hour` sends to one recipient domain
//!   in any hour: the sends of the last hour (given) plus those planned in this pass.
//! - **New leads per day.** A campaign starts at most `daily_new_leads` new leads per
//!   calendar day in the campaign's time zone.
//! - **One send per lead per pass**, so a lead in two campaigns never gets two emails at
//!   once. Paused mailboxes send nothing.
//!
//! # The contract with the caller (why a pass is cheap)
//!
//! The work must follow what is due, not the table size. So the caller (the store) passes
//! only enrolments that are due (`due ≤ now`), ordered by due time, earliest first, plus
//! the earliest due instant among the rest in [`PlanInput::later_due`]. It may pass them all
//! (a one-column index on the due instant serves the query); the planner stops scanning as
//! soon as every mailbox has its one send or cannot send, so on a busy system a pass over
//! millions of due enrolments and a thousand mailboxes reads only a few thousand of them.
//! Only when some mailbox finds nothing to send does a pass read the whole due list.
//! Enrolments with `due > now` are tolerated (skipped, and counted for `next_wake`).
//!
//! Only the order within each class counts: the follow-up scan skips new leads and the
//! new-lead scan skips follow-ups, so the due follow-ups followed by the due new leads (each
//! earliest first) plan exactly what the merged list does. A caller that keeps its due list
//! in memory across passes (`forecast`, which runs thousands of passes over one table) may
//! pass its due follow-ups and only the first of its due new leads: the plan is the same
//! unless [`Plan::wants_more_new_leads`] says the new-lead scan ran out with a mailbox still
//! free, and then planning again with more of them settles it.
//!
//! After a pass that planned sends, record them (ledger, counters, `last_send`, new gap,
//! the new lead's mailbox, the next step's due instant) and plan again at the same `now`:
//! that pass plans nothing more and tells when to wake. [`Plan::next_wake`] says so by being
//! `Some(now)`.
//!
//! Nothing here reads the clock or does I/O.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Duration;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::campaign::{CampaignSpec, Step};
use crate::schedule::{
    daily_cap, day_bounds, due_after, mailbox_day, splitmix64, Gap, ScheduleError, Warmup, Window,
};

/// A sending mailbox as the planner needs it at `now`.
#[derive(Clone, Debug, PartialEq)]
pub struct MailboxState {
    pub id: i64,
    /// The mailbox's own time zone; `None` counts its days in UTC.
    pub time_zone: Option<TimeZone>,
    /// The ceiling of sends per calendar day (after warm-up).
    pub daily_cap: u32,
    pub warmup: Option<Warmup>,
    /// The calendar day (in the mailbox's zone) of its first ever send; `None` before it.
    pub first_send_day: Option<Date>,
    /// Sends so far on the calendar day `now` falls on, in the mailbox's zone.
    pub sent_today: u32,
    /// The instant of its latest send, if any.
    pub last_send: Option<Timestamp>,
    /// The pause required after `last_send` before the next send, already drawn.
    pub gap: Duration,
    pub paused: bool,
}

impl MailboxState {
    /// The zone the mailbox's calendar days (and so its caps) are counted in.
    pub fn day_zone(&self) -> &TimeZone {
        static UTC: TimeZone = TimeZone::UTC;
        self.time_zone.as_ref().unwrap_or(&UTC)
    }

    /// Today's cap at `now`: the daily cap with warm-up applied.
    pub fn cap_today(&self, now: Timestamp) -> u32 {
        let today = mailbox_day(now, self.day_zone());
        daily_cap(self.daily_cap, self.warmup, self.first_send_day, today)
    }

    /// How many more sends today's cap allows.
    pub fn remaining_today(&self, now: Timestamp) -> u32 {
        self.cap_today(now).saturating_sub(self.sent_today)
    }

    /// The earliest instant the gap allows the next send (`None`: no send yet).
    pub fn gap_ends(&self) -> Option<Timestamp> {
        // In plain nanoseconds: jiff's general duration arithmetic costs more than the rest
        // of a mailbox's slot in a planning pass.
        self.last_send.map(|last| {
            // Seconds and nanoseconds apart: a 128-bit division costs more than the rest.
            // (Sends are after 1970, so the nanoseconds are not negative.)
            let nanos = last.subsec_nanosecond().unsigned_abs() + self.gap.subsec_nanos();
            let seconds = i64::try_from(self.gap.as_secs())
                .ok()
                .and_then(|gap| last.as_second().checked_add(gap))
                .and_then(|s| s.checked_add(i64::from(nanos / 1_000_000_000)));
            seconds
                .and_then(|s| Timestamp::new(s, (nanos % 1_000_000_000) as i32).ok())
                .unwrap_or(Timestamp::MAX)
        })
    }
}

/// A campaign's pacing settings.
#[derive(Clone, Debug, PartialEq)]
pub struct CampaignState {
    pub id: i64,
    pub window: Window,
    /// The fallback zone for windows, and the zone its new-lead days are counted in.
    pub time_zone: TimeZone,
    /// At most this many new leads started per calendar day; `None`: no campaign limit.
    pub daily_new_leads: Option<u32>,
    /// New leads started on the calendar day `now` falls on, in `time_zone`.
    pub new_leads_today: u32,
    /// The mailboxes new leads may be assigned to.
    pub mailboxes: Vec<i64>,
}

impl CampaignState {
    /// The pacing settings of a campaign file: its window and time zone (with the file's
    /// defaults) and its daily new-lead limit.
    pub fn from_spec(
        id: i64,
        spec: &CampaignSpec,
        mailboxes: Vec<i64>,
        new_leads_today: u32,
    ) -> Result<CampaignState, SettingsError> {
        Ok(CampaignState {
            id,
            window: spec.sending_window().map_err(SettingsError::Window)?,
            time_zone: spec
                .time_zone()
                .map_err(|e| SettingsError::TimeZone(e.to_string()))?,
            daily_new_leads: spec.daily_new_leads,
            new_leads_today,
            mailboxes,
        })
    }
}

/// Why a campaign's pacing settings could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettingsError {
    TimeZone(String),
    Window(ScheduleError),
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingsError::TimeZone(e) => write!(f, "time zone: {e}"),
            SettingsError::Window(e) => write!(f, "window: {e}"),
        }
    }
}

impl std::error::Error for SettingsError {}

/// An enrolment whose next step is due (or about to be).
#[derive(Clone, Debug, PartialEq)]
pub struct DueEnrolment {
    pub id: i64,
    pub campaign: i64,
    pub lead: i64,
    /// The recipient's domain, lower-case (compared exactly).
    pub domain: String,
    /// The lead's own time zone, when known.
    pub time_zone: Option<TimeZone>,
    /// The conversation's mailbox; `None` for a lead not yet started.
    pub mailbox: Option<i64>,
    /// The index of the step to send next.
    pub step: usize,
    /// When that step is due.
    pub due: Timestamp,
}

/// Sends to one recipient domain within the last hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DomainRecent {
    pub sends: u32,
    /// The earliest of those sends: one hour after it, a slot frees up.
    pub oldest: Timestamp,
}

/// Everything one planning pass looks at.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlanInput {
    pub now: Timestamp,
    pub mailboxes: Vec<MailboxState>,
    pub campaigns: Vec<CampaignState>,
    /// Due enrolments (`due ≤ now`), earliest due first: see the module docs.
    pub due: Vec<DueEnrolment>,
    /// The earliest due instant after `now` among enrolments not passed in `due`.
    pub later_due: Option<Timestamp>,
    /// At most this many sends per recipient domain per hour; `None`: no limit.
    pub domain_limit_per_hour: Option<u32>,
    /// Sends of the last hour per recipient domain (only domains with sends).
    pub domain_recent: HashMap<String, DomainRecent>,
}

impl PlanInput {
    /// Brings the input up to date after a planned send of `enrolment` from `mailbox_id` went
    /// out at `now` (the caller has recorded it), as the next round at the same `now` must
    /// see it: the mailbox's sends today, its last send and its next gap (drawn from that
    /// send with [`Gap::after_send`] over the mailbox's `gap` range), the recipient
    /// domain's last hour, and for a new lead the campaign's new leads today. The worker
    /// and `forecast` both call it, so a forecast's rounds are the worker's.
    pub fn record_send(&mut self, enrolment: &DueEnrolment, mailbox_id: i64, gap: Gap) {
        let now = self.now;
        if let Some(m) = self.mailboxes.iter_mut().find(|m| m.id == mailbox_id) {
            m.sent_today = m.sent_today.saturating_add(1);
            m.last_send = Some(now);
            if m.first_send_day.is_none() {
                m.first_send_day = Some(mailbox_day(now, m.day_zone()));
            }
            m.gap = gap.after_send(m.id, now.as_second(), m.sent_today);
        }
        match self.domain_recent.get_mut(&enrolment.domain) {
            Some(recent) => recent.sends = recent.sends.saturating_add(1),
            None => {
                let first = DomainRecent {
                    sends: 1,
                    oldest: now,
                };
                self.domain_recent.insert(enrolment.domain.clone(), first);
            }
        }
        if enrolment.mailbox.is_none() {
            if let Some(c) = self.campaigns.iter_mut().find(|c| c.id == enrolment.campaign) {
                c.new_leads_today = c.new_leads_today.saturating_add(1);
            }
        }
    }
}

/// One send to make now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlannedSend {
    pub enrolment_id: i64,
    /// For a new lead, the mailbox its whole conversation will use.
    pub mailbox_id: i64,
    pub step: usize,
    pub at: Timestamp,
}

/// What a pass decided.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The sends to make at `now`, highest priority first, at most one per mailbox.
    pub sends: Vec<PlannedSend>,
    /// `Some(now)` when `sends` is not empty: record them and plan again at `now`.
    /// Otherwise the earliest instant after `now` at which a pass over this state could
    /// send something — a lower bound: a pass then may still find nothing and name a later
    /// instant. `None`: nothing will ever be sendable without new input (every mailbox
    /// paused, or nothing due and nothing waiting).
    pub next_wake: Option<Timestamp>,
    /// Entries of `due` read, summed over the follow-up and the new-lead scan (for
    /// benchmarks: with mailboxes free and work due it follows the mailboxes, not the table
    /// size; when nothing can be sent both scans read the whole due list).
    pub scanned: usize,
    /// The new-lead scan read to the end of `due` while a mailbox could still have started
    /// a new lead: had `due` held more new leads, the pass might have planned more sends or
    /// named another `next_wake`. Only a caller passing part of its due new leads needs it
    /// (see the module docs).
    pub wants_more_new_leads: bool,
}

/// The zone a lead's sending window is evaluated in: the lead's, else the mailbox's, else
/// the campaign's (invariant 8). Follow-up due dates use the same zone.
pub fn local_zone<'a>(
    lead: Option<&'a TimeZone>,
    mailbox: Option<&'a TimeZone>,
    campaign: &'a TimeZone,
) -> &'a TimeZone {
    lead.or(mailbox).unwrap_or(campaign)
}

/// When `step` is due after the previous step went out at `previous`: its `wait_days`
/// (calendar or working days) later at the same local time in `tz` (see [`local_zone`]).
pub fn step_due(previous: Timestamp, step: &Step, tz: &TimeZone) -> Timestamp {
    due_after(previous, step.wait_days, step.business_days, tz)
}

/// Decides which sends happen at `input.now`; see the module docs for the rules and the
/// contract on `input.due`.
pub fn plan(input: &PlanInput) -> Plan {
    Planner::default().plan(input)
}

/// The planner with what it may keep from one pass to the next: the mailbox and campaign
/// indices, and what a pass needs of each mailbox (its calendar day, cap, gap). A caller
/// planning many passes over the same mailboxes and campaigns (`forecast` plans hundreds of
/// thousands) keeps one, and no longer sets up every mailbox again each pass. Its plans are
/// [`plan`]'s: what it keeps is checked against each input and worked out again where it
/// differs — or, with [`Planner::plan_changed`], where the caller says it differs.
#[derive(Default)]
pub struct Planner {
    /// The ids of the mailboxes `mailbox_index` was built from, in input order.
    mailbox_ids: Vec<i64>,
    mailbox_index: IdMap,
    campaign_ids: Vec<i64>,
    campaign_index: IdMap,
    /// Per campaign: the mailbox ids its indices were resolved from, and those indices.
    campaign_mailboxes: Vec<(Vec<i64>, Vec<usize>)>,
    /// Per mailbox, in input order.
    facts: Vec<MailboxFacts>,
    /// A pass's buffers, kept with their allocations.
    buffers: Buffers,
}

#[derive(Default)]
struct Buffers {
    slots: Vec<Slot>,
    leads_now: IdSet,
    new_leads: NewLeadBuffers,
}

/// The new-lead scan's buffers (see `Pass::new_leads`).
#[derive(Default)]
struct NewLeadBuffers {
    budget: Vec<Option<u32>>,
    next_day: Vec<Option<Timestamp>>,
    marked: Vec<bool>,
    choices: Vec<Option<Choice>>,
}

/// What a pass needs of a mailbox, worked out from its [`MailboxState`] for the calendar
/// day `now` falls on in its zone.
#[derive(Clone, Debug, PartialEq)]
struct MailboxFacts {
    zone: TimeZone,
    /// The address of the zone's IANA name: clones of one zone share it.
    zone_name: Option<usize>,
    /// The day's first instant and the first instant after it.
    start: Timestamp,
    end: Timestamp,
    date: Date,
    /// What the cap was worked out from (see [`daily_cap`]).
    cap_from: (u32, Option<Warmup>, Option<Date>),
    cap: u32,
    sent_today: u32,
    gap_ends: Option<Timestamp>,
    paused: bool,
}

impl MailboxFacts {
    fn of(m: &MailboxState, now: Timestamp) -> MailboxFacts {
        let zone = m.day_zone();
        let date = mailbox_day(now, zone);
        let (start, end) = day_bounds(date, zone);
        MailboxFacts {
            zone: zone.clone(),
            zone_name: zone.iana_name().map(|name| name.as_ptr() as usize),
            start,
            end,
            date,
            cap_from: (m.daily_cap, m.warmup, m.first_send_day),
            cap: daily_cap(m.daily_cap, m.warmup, m.first_send_day, date),
            sent_today: m.sent_today,
            gap_ends: m.gap_ends(),
            paused: m.paused,
        }
    }

    /// Brings the facts up to date with `m` at `now`, working out again only what changed.
    fn refresh(&mut self, m: &MailboxState, now: Timestamp) {
        if !self.today(now) || !self.is_in(m.day_zone()) {
            *self = MailboxFacts::of(m, now);
            return;
        }
        let cap_from = (m.daily_cap, m.warmup, m.first_send_day);
        if self.cap_from != cap_from {
            self.cap = daily_cap(m.daily_cap, m.warmup, m.first_send_day, self.date);
            self.cap_from = cap_from;
        }
        self.sent_today = m.sent_today;
        self.gap_ends = m.gap_ends();
        self.paused = m.paused;
    }

    /// Whether `now` falls on the day these facts are for.
    fn today(&self, now: Timestamp) -> bool {
        self.start <= now && now < self.end
    }

    /// Whether `zone` is the facts' zone: IANA zones by name, mostly by its address.
    fn is_in(&self, zone: &TimeZone) -> bool {
        match (self.zone_name, zone.iana_name()) {
            (Some(ours), Some(name)) => ours == name.as_ptr() as usize || self.zone.iana_name() == Some(name),
            (None, None) => self.zone == *zone,
            _ => false,
        }
    }
}

impl Planner {
    /// Decides which sends happen at `input.now`, as [`plan`] does.
    pub fn plan(&mut self, input: &PlanInput) -> Plan {
        self.prepare(input, None);
        self.run(input)
    }

    /// [`Planner::plan`] for a caller that knows what changed since its last call: only
    /// the mailboxes at `changed` (indices into `input.mailboxes`) may differ from that
    /// call's, and the others are not compared again (their day still moves with `now`).
    /// The forecast, whose passes each change one mailbox or two of fifty, spends most of
    /// its time planning, and most of a plan comparing unchanged mailboxes. Debug builds
    /// check the claim.
    pub fn plan_changed(&mut self, input: &PlanInput, changed: &[usize]) -> Plan {
        self.prepare(input, Some(changed));
        debug_assert!(
            input
                .mailboxes
                .iter()
                .zip(&self.facts)
                .all(|(m, facts)| *facts == MailboxFacts::of(m, input.now)),
            "a mailbox changed that the caller did not name"
        );
        self.run(input)
    }

    fn run(&mut self, input: &PlanInput) -> Plan {
        let buffers = std::mem::take(&mut self.buffers);
        let (plan, buffers) = Pass::new(input, self, buffers).run();
        self.buffers = buffers;
        plan
    }

    /// Brings what is kept up to date with `input`: every mailbox's facts, or only those
    /// `changed` names.
    fn prepare(&mut self, input: &PlanInput, changed: Option<&[usize]>) {
        let now = input.now;
        let mailbox_ids = input.mailboxes.iter().map(|m| m.id);
        if reindex(&mut self.mailbox_ids, &mut self.mailbox_index, mailbox_ids) {
            self.campaign_mailboxes.clear();
            self.facts = input.mailboxes.iter().map(|m| MailboxFacts::of(m, now)).collect();
        } else {
            match changed {
                None => {
                    for (m, facts) in input.mailboxes.iter().zip(&mut self.facts) {
                        facts.refresh(m, now);
                    }
                }
                Some(changed) => {
                    for (m, facts) in input.mailboxes.iter().zip(&mut self.facts) {
                        if !facts.today(now) {
                            facts.refresh(m, now);
                        }
                    }
                    for &i in changed {
                        if let (Some(m), Some(facts)) = (input.mailboxes.get(i), self.facts.get_mut(i)) {
                            facts.refresh(m, now);
                        }
                    }
                }
            }
        }
        let campaign_ids = input.campaigns.iter().map(|c| c.id);
        reindex(&mut self.campaign_ids, &mut self.campaign_index, campaign_ids);
        self.campaign_mailboxes.truncate(input.campaigns.len());
        for (i, c) in input.campaigns.iter().enumerate() {
            if self
                .campaign_mailboxes
                .get(i)
                .is_some_and(|(ids, _)| *ids == c.mailboxes)
            {
                continue;
            }
            let indices = c
                .mailboxes
                .iter()
                .filter_map(|id| self.mailbox_index.get(id).copied())
                .collect();
            let resolved = (c.mailboxes.clone(), indices);
            match self.campaign_mailboxes.get_mut(i) {
                Some(entry) => *entry = resolved,
                None => self.campaign_mailboxes.push(resolved),
            }
        }
    }
}

/// A mailbox during a pass.
struct Slot {
    remaining: u32,
    /// Can send now and has not sent in this pass.
    open: bool,
    /// When a blocked, unpaused mailbox could send again.
    ready_at: Option<Timestamp>,
}

/// Whether a window is open at `now` in some zone.
#[derive(Clone, Copy)]
enum WindowAt {
    Open,
    /// Closed; opens next at this instant (`None`: never).
    Closed(Option<Timestamp>),
}

/// A campaign's best mailbox for new leads, valid while no mailbox has sent since.
#[derive(Clone, Copy)]
struct Choice {
    generation: u64,
    /// Best open mailbox ignoring windows (for leads with their own zone).
    any: Option<usize>,
    /// Best open mailbox whose own window (its zone, else the campaign's) is open.
    zoneless: Option<usize>,
    /// The earliest a closed mailbox window opens (for `next_wake`).
    zoneless_wake: Option<Timestamp>,
    /// With no open mailbox: the earliest one of them is ready again.
    blocked_wake: Option<Timestamp>,
}

struct Pass<'a> {
    input: &'a PlanInput,
    now: Timestamp,
    mailbox_index: &'a IdMap,
    campaign_index: &'a IdMap,
    /// Per campaign: the indices of its mailboxes.
    campaign_mailboxes: &'a [(Vec<i64>, Vec<usize>)],
    slots: Vec<Slot>,
    open: usize,
    /// Per (campaign, zone name): a pass meets a handful, so a list beats hashing names.
    windows: Vec<(usize, &'a str, WindowAt)>,
    domains_now: HashMap<&'a str, u32>,
    leads_now: IdSet,
    new_lead_buffers: NewLeadBuffers,
    sends: Vec<PlannedSend>,
    wake: Option<Timestamp>,
    scanned: usize,
    generation: u64,
    wants_more_new_leads: bool,
}

impl<'a> Pass<'a> {
    /// A pass over `input` with `planner` prepared for it.
    fn new(input: &'a PlanInput, planner: &'a Planner, buffers: Buffers) -> Pass<'a> {
        let now = input.now;
        let Buffers {
            mut slots,
            mut leads_now,
            new_leads,
        } = buffers;
        slots.clear();
        leads_now.clear();
        for m in &planner.facts {
            let remaining = m.cap.saturating_sub(m.sent_today);
            let gap_ends = m.gap_ends.filter(|&end| end > now);
            let ready_at = if m.paused {
                None
            } else if remaining == 0 {
                Some(gap_ends.map_or(m.end, |end| end.max(m.end)))
            } else {
                gap_ends
            };
            let open = !m.paused && remaining > 0 && gap_ends.is_none();
            slots.push(Slot {
                remaining,
                open,
                ready_at,
            });
        }
        let open = slots.iter().filter(|s| s.open).count();
        let mut pass = Pass {
            input,
            now,
            mailbox_index: &planner.mailbox_index,
            campaign_index: &planner.campaign_index,
            campaign_mailboxes: &planner.campaign_mailboxes,
            slots,
            open,
            windows: Vec::new(),
            domains_now: HashMap::new(),
            leads_now,
            new_lead_buffers: new_leads,
            sends: Vec::new(),
            wake: None,
            scanned: 0,
            generation: 0,
            wants_more_new_leads: false,
        };
        pass.note(input.later_due.filter(|&t| t > now));
        if pass.open == 0 && !input.due.is_empty() {
            // Nothing to scan for: whatever is due waits for a mailbox.
            pass.note_ready(|_| true);
        }
        pass
    }

    /// The plan, and the buffers back.
    fn run(mut self) -> (Plan, Buffers) {
        self.follow_ups();
        self.new_leads();
        let next_wake = if self.sends.is_empty() {
            // No send can happen before some mailbox is ready.
            let floor = self
                .slots
                .iter()
                .filter_map(|s| if s.open { Some(self.now) } else { s.ready_at })
                .min();
            floor.and_then(|floor| self.wake.map(|wake| wake.max(floor)))
        } else {
            Some(self.now)
        };
        let plan = Plan {
            sends: self.sends,
            next_wake,
            scanned: self.scanned,
            wants_more_new_leads: self.wants_more_new_leads,
        };
        let buffers = Buffers {
            slots: self.slots,
            leads_now: self.leads_now,
            new_leads: self.new_lead_buffers,
        };
        (plan, buffers)
    }

    /// Notes an instant at which something that blocks a send lifts.
    fn note(&mut self, at: Option<Timestamp>) {
        if let Some(at) = at {
            self.wake = Some(self.wake.map_or(at, |w| w.min(at)));
        }
    }

    /// Notes when the blocked, unpaused mailboxes that `pick` selects are ready again.
    fn note_ready(&mut self, pick: impl Fn(usize) -> bool) {
        let ready = (0..self.slots.len())
            .filter(|&i| pick(i) && !self.slots[i].open)
            .filter_map(|i| self.slots[i].ready_at)
            .min();
        self.note(ready);
    }

    fn follow_ups(&mut self) {
        let input = self.input;
        for e in &input.due {
            if self.open == 0 {
                break;
            }
            self.scanned += 1;
            let Some(mailbox) = e.mailbox else { continue };
            if e.due > self.now {
                self.note(Some(e.due));
                continue;
            }
            let Some(mi) = self.mailbox_index.get(&mailbox).copied() else {
                continue;
            };
            if !self.slots[mi].open {
                self.note(self.slots[mi].ready_at);
                continue;
            }
            let Some(ci) = self.campaign_index.get(&e.campaign).copied() else {
                continue;
            };
            if self.leads_now.contains(&e.lead) {
                continue;
            }
            let campaign = &input.campaigns[ci];
            let zone = local_zone(
                e.time_zone.as_ref(),
                input.mailboxes[mi].time_zone.as_ref(),
                &campaign.time_zone,
            );
            if !self.window_open(ci, zone) || !self.domain_open(&e.domain) {
                continue;
            }
            self.send(e, mi);
        }
    }

    fn new_leads(&mut self) {
        let input = self.input;
        let NewLeadBuffers {
            mut budget,
            mut next_day,
            mut marked,
            mut choices,
        } = std::mem::take(&mut self.new_lead_buffers);
        budget.clear();
        // For campaigns out of new leads today: when their next day starts.
        next_day.clear();
        for c in &input.campaigns {
            let left = c.daily_new_leads.map(|n| n.saturating_sub(c.new_leads_today));
            budget.push(left);
            next_day.push(
                (left == Some(0)).then(|| day_bounds(mailbox_day(self.now, &c.time_zone), &c.time_zone).1),
            );
        }
        // Mailboxes of campaigns that may still start new leads; the scan stops once none
        // of them can send.
        self.mark_new_lead_mailboxes(&budget, &mut marked);
        let mut eligible = self.count_open(&marked);
        if eligible == 0 && self.sends.is_empty() && !input.due.is_empty() {
            // No scan: any new lead due waits for a mailbox or for tomorrow's allowance.
            self.note_ready(|i| marked[i]);
            for &day in &next_day {
                self.note(day);
            }
        }
        choices.clear();
        choices.resize(input.campaigns.len(), None);
        for e in &input.due {
            if eligible == 0 {
                break;
            }
            self.scanned += 1;
            if e.mailbox.is_some() {
                continue;
            }
            if e.due > self.now {
                self.note(Some(e.due));
                continue;
            }
            let Some(ci) = self.campaign_index.get(&e.campaign).copied() else {
                continue;
            };
            if budget[ci] == Some(0) {
                self.note(next_day[ci]);
                continue;
            }
            if self.leads_now.contains(&e.lead) {
                continue;
            }
            let choice = self.choice(ci, &mut choices[ci]);
            if choice.any.is_none() {
                self.note(choice.blocked_wake);
                continue;
            }
            let mi = match &e.time_zone {
                Some(zone) => match choice.any {
                    Some(mi) if self.window_open(ci, zone) => mi,
                    _ => continue,
                },
                None => {
                    self.note(choice.zoneless_wake);
                    match choice.zoneless {
                        Some(mi) => mi,
                        None => continue,
                    }
                }
            };
            if !self.domain_open(&e.domain) {
                continue;
            }
            self.send(e, mi);
            match &mut budget[ci] {
                Some(left) if *left == 1 => {
                    *left = 0;
                    self.mark_new_lead_mailboxes(&budget, &mut marked);
                    eligible = self.count_open(&marked);
                }
                left => {
                    if let Some(left) = left {
                        *left -= 1;
                    }
                    // The send closed `mi`, and only `mi`.
                    if marked[mi] {
                        eligible -= 1;
                    }
                }
            }
        }
        self.wants_more_new_leads = eligible > 0;
        self.new_lead_buffers = NewLeadBuffers {
            budget,
            next_day,
            marked,
            choices,
        };
    }

    /// Marks the mailboxes of the campaigns that may still start new leads.
    fn mark_new_lead_mailboxes(&self, budget: &[Option<u32>], marked: &mut Vec<bool>) {
        marked.clear();
        marked.resize(self.slots.len(), false);
        for ((_, mailboxes), left) in self.campaign_mailboxes.iter().zip(budget) {
            if *left != Some(0) {
                for &mi in mailboxes {
                    marked[mi] = true;
                }
            }
        }
    }

    fn count_open(&self, marked: &[bool]) -> usize {
        self.slots
            .iter()
            .zip(marked)
            .filter(|(s, &m)| m && s.open)
            .count()
    }

    /// Whether mailbox `a` is a better home for a new lead than `b`: more capacity left
    /// today, then the smaller id.
    fn better(&self, a: usize, b: Option<usize>) -> bool {
        let key = |i: usize| {
            (
                self.slots[i].remaining,
                std::cmp::Reverse(self.input.mailboxes[i].id),
            )
        };
        b.is_none_or(|b| key(a) > key(b))
    }

    /// The campaign's best mailboxes for a new lead: most capacity left, then smaller id.
    fn choice(&mut self, ci: usize, cached: &mut Option<Choice>) -> Choice {
        if let Some(choice) = cached {
            if choice.generation == self.generation {
                return *choice;
            }
        }
        let input = self.input;
        let campaign = &input.campaigns[ci];
        let mut choice = Choice {
            generation: self.generation,
            any: None,
            zoneless: None,
            zoneless_wake: None,
            blocked_wake: None,
        };
        for &mi in &self.campaign_mailboxes[ci].1 {
            if !self.slots[mi].open {
                if let Some(at) = self.slots[mi].ready_at {
                    choice.blocked_wake = Some(choice.blocked_wake.map_or(at, |w| w.min(at)));
                }
                continue;
            }
            if self.better(mi, choice.any) {
                choice.any = Some(mi);
            }
            if self.better(mi, choice.zoneless) {
                let zone = local_zone(None, input.mailboxes[mi].time_zone.as_ref(), &campaign.time_zone);
                match self.window_at(ci, zone) {
                    WindowAt::Open => choice.zoneless = Some(mi),
                    WindowAt::Closed(Some(at)) => {
                        choice.zoneless_wake = Some(choice.zoneless_wake.map_or(at, |w| w.min(at)));
                    }
                    WindowAt::Closed(None) => {}
                }
            }
        }
        *cached = Some(choice);
        choice
    }

    /// Whether campaign `ci`'s window is open now in `zone`; notes when it opens if not.
    fn window_open(&mut self, ci: usize, zone: &'a TimeZone) -> bool {
        match self.window_at(ci, zone) {
            WindowAt::Open => true,
            WindowAt::Closed(at) => {
                self.note(at);
                false
            }
        }
    }

    fn window_at(&mut self, ci: usize, zone: &'a TimeZone) -> WindowAt {
        let window = &self.input.campaigns[ci].window;
        let now = self.now;
        let compute = || match window.next_open(now, zone) {
            Some(at) if at <= now => WindowAt::Open,
            at => WindowAt::Closed(at),
        };
        let Some(name) = zone.iana_name() else {
            return compute();
        };
        let known = self
            .windows
            .iter()
            .find(|&&(c, z, _)| c == ci && (std::ptr::eq(z, name) || z == name));
        match known {
            Some(&(_, _, at)) => at,
            None => {
                let at = compute();
                self.windows.push((ci, name, at));
                at
            }
        }
    }

    /// Whether one more send to `domain` stays within the hourly limit; notes when a slot
    /// frees up if not.
    fn domain_open(&mut self, domain: &str) -> bool {
        let Some(limit) = self.input.domain_limit_per_hour else {
            return true;
        };
        let recent = self.input.domain_recent.get(domain);
        let sent = recent.map_or(0, |r| r.sends) + self.domains_now.get(domain).copied().unwrap_or(0);
        if sent < limit {
            return true;
        }
        let hour = jiff::SignedDuration::from_hours(1);
        let frees = match recent {
            Some(r) if r.sends > 0 => r.oldest.saturating_add(hour).unwrap_or(Timestamp::MAX),
            _ => self.now.saturating_add(hour).unwrap_or(Timestamp::MAX),
        };
        // A stale `oldest` must not name a wake in the past.
        let soonest = self.now.saturating_add(jiff::SignedDuration::from_secs(1));
        self.note(Some(frees.max(soonest.unwrap_or(Timestamp::MAX))));
        false
    }

    fn send(&mut self, e: &'a DueEnrolment, mi: usize) {
        self.sends.push(PlannedSend {
            enrolment_id: e.id,
            mailbox_id: self.input.mailboxes[mi].id,
            step: e.step,
            at: self.now,
        });
        let slot = &mut self.slots[mi];
        slot.open = false;
        slot.remaining -= 1;
        self.open -= 1;
        self.generation += 1;
        self.leads_now.insert(e.lead);
        if self.input.domain_limit_per_hour.is_some() {
            *self.domains_now.entry(e.domain.as_str()).or_insert(0) += 1;
        }
    }
}

/// A map keyed by ids: SplitMix64 instead of SipHash, since ids are not attacker-chosen
/// and the lookup runs once per scanned enrolment.
type IdMap = HashMap<i64, usize, BuildHasherDefault<IdHasher>>;

/// Makes `ids` and `index` (id → position) those of `current`, unless they already
/// are; whether they changed. The first of a repeated id wins, as everywhere ids are
/// looked up.
fn reindex(
    ids: &mut Vec<i64>,
    index: &mut IdMap,
    current: impl ExactSizeIterator<Item = i64> + Clone,
) -> bool {
    if ids.len() == current.len() && ids.iter().copied().eq(current.clone()) {
        return false;
    }
    *ids = current.collect();
    *index = IdMap::with_capacity_and_hasher(ids.len(), Default::default());
    for (i, id) in ids.iter().enumerate() {
        index.entry(*id).or_insert(i);
    }
    true
}
type IdSet = HashSet<i64, BuildHasherDefault<IdHasher>>;

#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = splitmix64(self.0 ^ u64::from(b));
        }
    }

    fn write_i64(&mut self, id: i64) {
        self.0 = splitmix64(self.0 ^ id as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use jiff::SignedDuration;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    /// Wednesday 2026-01-14, 11:00 in Berlin, 05:00 in New York.
    const NOW: &str = "2026-01-14T10:00:00Z";

    fn mailbox(id: i64) -> MailboxState {
        MailboxState {
            id,
            time_zone: Some(tz("Europe/Berlin")),
            daily_cap: 50,
            warmup: None,
            first_send_day: None,
            sent_today: 0,
            last_send: None,
            gap: Duration::from_secs(120),
            paused: false,
        }
    }

    fn campaign(id: i64, mailboxes: &[i64]) -> CampaignState {
        CampaignState {
            id,
            window: Window::parse(&["mon", "tue", "wed", "thu", "fri"], "09:00", "17:00").unwrap(),
            time_zone: tz("Europe/Berlin"),
            daily_new_leads: None,
            new_leads_today: 0,
            mailboxes: mailboxes.to_vec(),
        }
    }

    /// A started conversation (step 1) with its mailbox, due `minutes_ago`.
    fn follow_up(id: i64, mailbox: i64, minutes_ago: i64) -> DueEnrolment {
        DueEnrolment {
            id,
            campaign: 1,
            lead: id,
            domain: format!("lead{id}.example"),
            time_zone: None,
            mailbox: Some(mailbox),
            step: 1,
            due: ts(NOW) - SignedDuration::from_mins(minutes_ago),
        }
    }

    fn new_lead(id: i64, minutes_ago: i64) -> DueEnrolment {
        DueEnrolment {
            mailbox: None,
            step: 0,
            ..follow_up(id, 0, minutes_ago)
        }
    }

    fn input(
        mailboxes: Vec<MailboxState>,
        campaigns: Vec<CampaignState>,
        due: Vec<DueEnrolment>,
    ) -> PlanInput {
        PlanInput {
            now: ts(NOW),
            mailboxes,
            campaigns,
            due,
            ..PlanInput::default()
        }
    }

    /// (enrolment, mailbox) of each planned send, in order; every send is at `now`.
    fn sent(input: &PlanInput) -> Vec<(i64, i64)> {
        let plan = plan(input);
        assert!(plan.sends.iter().all(|s| s.at == input.now));
        assert_eq!(
            plan.next_wake.is_some_and(|w| w == input.now),
            !plan.sends.is_empty()
        );
        plan.sends
            .iter()
            .map(|s| (s.enrolment_id, s.mailbox_id))
            .collect()
    }

    fn wake(input: &PlanInput) -> Option<Timestamp> {
        let plan = plan(input);
        assert!(plan.sends.is_empty(), "{:?}", plan.sends);
        plan.next_wake
    }

    #[test]
    fn planner_sends_a_due_follow_up_from_its_mailbox() {
        let input = input(
            vec![mailbox(1)],
            vec![campaign(1, &[1])],
            vec![follow_up(7, 1, 5)],
        );
        assert_eq!(
            plan(&input).sends,
            vec![PlannedSend {
                enrolment_id: 7,
                mailbox_id: 1,
                step: 1,
                at: ts(NOW)
            }]
        );
    }

    #[test]
    fn planner_cap_reached_sends_nothing_until_the_mailboxs_midnight() {
        let mut m = mailbox(1);
        m.daily_cap = 30;
        m.sent_today = 29;
        let mut input = input(vec![m], vec![campaign(1, &[1])], vec![follow_up(7, 1, 5)]);
        assert_eq!(sent(&input), vec![(7, 1)]);
        input.mailboxes[0].sent_today = 30;
        // Midnight in Berlin (the mailbox's day), not in UTC.
        assert_eq!(wake(&input), Some(ts("2026-01-14T23:00:00Z")));
        // A New York mailbox's day ends at 05:00Z; its window then opens at 09:00 New York.
        input.mailboxes[0].time_zone = Some(tz("America/New_York"));
        assert_eq!(wake(&input), Some(ts("2026-01-15T05:00:00Z")));
    }

    #[test]
    fn planner_warmup_day_three_cap_counted_in_the_mailboxs_day() {
        let mut m = mailbox(1);
        m.warmup = Some(Warmup { start: 15, step: 2 });
        m.first_send_day = Some(date(2026, 1, 12));
        m.sent_today = 18;
        let mut c = campaign(1, &[1]);
        c.window = Window::parse(&["mon", "tue", "wed", "thu", "fri"], "00:00", "24:00").unwrap();
        let mut input = input(vec![m], vec![c], vec![follow_up(7, 1, 5)]);
        // Day 3 (Jan 12, 13, 14): 15 + 2 × 2 = 19.
        assert_eq!(input.mailboxes[0].cap_today(input.now), 19);
        assert_eq!(sent(&input), vec![(7, 1)]);
        input.mailboxes[0].sent_today = 19;
        assert_eq!(wake(&input), Some(ts("2026-01-14T23:00:00Z")));
        // 23:30Z is already Thursday the 15th in Berlin: day 4, cap 21.
        input.now = ts("2026-01-14T23:30:00Z");
        input.mailboxes[0].sent_today = 20;
        assert_eq!(sent(&input), vec![(7, 1)]);
        input.now = ts("2026-01-14T22:30:00Z");
        assert_eq!(
            wake(&input),
            Some(ts("2026-01-14T23:00:00Z")),
            "still day 3: 20 > 19"
        );
    }

    #[test]
    fn planner_gap_not_elapsed_sends_nothing() {
        let mut m = mailbox(1);
        m.last_send = Some(ts(NOW) - SignedDuration::from_secs(60));
        let mut input = input(
            vec![m],
            vec![campaign(1, &[1])],
            vec![follow_up(7, 1, 5), new_lead(8, 4)],
        );
        assert_eq!(wake(&input), Some(ts(NOW) + SignedDuration::from_secs(60)));
        // Exactly at the end of the gap: one send, the follow-up.
        input.mailboxes[0].last_send = Some(ts(NOW) - SignedDuration::from_secs(120));
        assert_eq!(sent(&input), vec![(7, 1)]);
    }

    #[test]
    fn planner_window_in_the_leads_zone_wins() {
        // 10:00Z: 11:00 in Berlin (open), 05:00 in New York (closed).
        let mut lead = follow_up(7, 1, 5);
        lead.time_zone = Some(tz("America/New_York"));
        let mut input = input(vec![mailbox(1)], vec![campaign(1, &[1])], vec![lead]);
        assert_eq!(
            wake(&input),
            Some(ts("2026-01-14T14:00:00Z")),
            "09:00 in New York"
        );
        // Also for a new lead, whose mailbox is chosen now.
        input.due[0].mailbox = None;
        input.due[0].step = 0;
        assert_eq!(wake(&input), Some(ts("2026-01-14T14:00:00Z")));
        // A Berlin lead on a New York mailbox: open.
        input.due[0].time_zone = Some(tz("Europe/Berlin"));
        input.mailboxes[0].time_zone = Some(tz("America/New_York"));
        assert_eq!(sent(&input), vec![(7, 1)]);
        // No lead zone: the mailbox's (New York, closed) before the campaign's (Berlin).
        input.due[0].time_zone = None;
        assert_eq!(wake(&input), Some(ts("2026-01-14T14:00:00Z")));
        // No lead or mailbox zone: the campaign's.
        input.mailboxes[0].time_zone = None;
        assert_eq!(sent(&input), vec![(7, 1)]);
    }

    #[test]
    fn planner_window_on_the_dst_day_berlin_2026_03_29() {
        // Sunday 2026-03-29: Berlin jumps from 02:00 CET to 03:00 CEST (01:00Z).
        let mut c = campaign(1, &[1]);
        c.window = Window::parse(&["sun"], "09:00", "17:00").unwrap();
        let mut input = input(vec![mailbox(1)], vec![c], vec![follow_up(7, 1, 5)]);
        input.due[0].due = ts("2026-03-29T00:00:00Z");
        // 06:30Z is 08:30 CEST (07:30 in CET): closed; opens at 09:00 CEST = 07:00Z.
        input.now = ts("2026-03-29T06:30:00Z");
        assert_eq!(wake(&input), Some(ts("2026-03-29T07:00:00Z")));
        input.now = ts("2026-03-29T07:00:00Z");
        assert_eq!(sent(&input), vec![(7, 1)]);
        // 15:30Z is 17:30 CEST (16:30 in CET): closed until next Sunday 09:00 CEST.
        input.now = ts("2026-03-29T15:30:00Z");
        assert_eq!(wake(&input), Some(ts("2026-04-05T07:00:00Z")));
        // The cap day is 23 hours long: a full mailbox waits for 00:00 CEST Monday = 22:00Z.
        input.now = ts("2026-03-29T10:00:00Z");
        input.mailboxes[0].sent_today = 50;
        let mut c = input.campaigns[0].clone();
        c.window = Window::parse(&["sun", "mon"], "00:00", "24:00").unwrap();
        input.campaigns[0] = c;
        assert_eq!(wake(&input), Some(ts("2026-03-29T22:00:00Z")));
    }

    #[test]
    fn planner_prefers_follow_ups_over_new_leads() {
        // The new lead has waited longer, but the conversation goes first.
        let mut input = input(
            vec![mailbox(1)],
            vec![campaign(1, &[1])],
            vec![new_lead(8, 60), follow_up(7, 1, 5)],
        );
        assert_eq!(sent(&input), vec![(7, 1)]);
        // With a second mailbox the new lead goes there, listed after the follow-up.
        input.mailboxes.push(mailbox(2));
        input.campaigns[0].mailboxes.push(2);
        assert_eq!(sent(&input), vec![(7, 1), (8, 2)]);
    }

    #[test]
    fn planner_keeps_a_conversation_on_its_mailbox() {
        // Mailbox 1 waits for its gap; mailbox 2 is free but the lead is 1's.
        let mut busy = mailbox(1);
        busy.last_send = Some(ts(NOW) - SignedDuration::from_secs(30));
        let input = input(
            vec![busy, mailbox(2)],
            vec![campaign(1, &[1, 2])],
            vec![follow_up(7, 1, 5)],
        );
        assert_eq!(wake(&input), Some(ts(NOW) + SignedDuration::from_secs(90)));
        // A lead whose earlier steps were on LinkedIn has no mailbox yet: its first email
        // starts the conversation, like a new lead's (on the free mailbox).
        let mut after_linkedin = new_lead(9, 5);
        after_linkedin.step = 2;
        let input = PlanInput {
            due: vec![after_linkedin],
            ..input
        };
        assert_eq!(sent(&input), vec![(9, 2)]);
    }

    #[test]
    fn planner_gives_a_new_lead_the_mailbox_with_most_capacity_left() {
        let mut a = mailbox(1);
        a.sent_today = 40; // 10 left
        let mut b = mailbox(2);
        b.sent_today = 25; // 25 left
        let mut c = mailbox(3);
        c.daily_cap = 40;
        c.sent_today = 15; // 25 left: ties with 2, larger id
        let mut d = mailbox(4);
        d.daily_cap = 100; // most left, but not one of the campaign's
        let mut input = input(
            vec![a, b, c, d],
            vec![campaign(1, &[1, 2, 3])],
            vec![new_lead(8, 5)],
        );
        assert_eq!(sent(&input), vec![(8, 2)]);
        // Each mailbox sends once per pass: the next leads take 3, then 1.
        input
            .due
            .extend([new_lead(9, 4), new_lead(10, 3), new_lead(11, 2)]);
        assert_eq!(sent(&input), vec![(8, 2), (9, 3), (10, 1)]);
        // Warm-up counts: mailbox 2 on its first day may send 15, so 3 has more left.
        input.mailboxes[1].warmup = Some(Warmup { start: 15, step: 2 });
        input.mailboxes[1].sent_today = 0;
        input.due.truncate(1);
        assert_eq!(sent(&input), vec![(8, 3)]);
    }

    #[test]
    fn planner_respects_the_campaigns_daily_new_leads() {
        let mut c = campaign(1, &[1, 2, 3, 4]);
        c.daily_new_leads = Some(2);
        c.new_leads_today = 1;
        let boxes = (1..=4).map(mailbox).collect();
        let mut input = input(
            boxes,
            vec![c],
            vec![
                new_lead(8, 5),
                new_lead(9, 4),
                new_lead(10, 3),
                follow_up(7, 4, 1),
            ],
        );
        // One more new lead today; the follow-up is not a new lead.
        assert_eq!(sent(&input), vec![(7, 4), (8, 1)]);
        input.campaigns[0].new_leads_today = 2;
        assert_eq!(sent(&input), vec![(7, 4)]);
        input.due.pop();
        // The allowance renews at midnight in the campaign's zone (a lower bound: the
        // window then opens at 09:00).
        assert_eq!(wake(&input), Some(ts("2026-01-14T23:00:00Z")));
        input.campaigns[0].daily_new_leads = None;
        assert_eq!(sent(&input), vec![(8, 1), (9, 2), (10, 3)]);
    }

    #[test]
    fn planner_limits_sends_per_recipient_domain_per_hour() {
        let boxes = (1..=4).map(mailbox).collect();
        let mut due: Vec<DueEnrolment> = (1..=3).map(|i| follow_up(i, i, 10 - i)).collect();
        for e in &mut due {
            e.domain = "acme.example".into();
        }
        due.push(follow_up(4, 4, 1));
        let mut input = input(boxes, vec![campaign(1, &[1, 2, 3, 4])], due);
        input.domain_limit_per_hour = Some(2);
        let oldest = ts(NOW) - SignedDuration::from_mins(30);
        input
            .domain_recent
            .insert("acme.example".into(), DomainRecent { sends: 1, oldest });
        assert_eq!(sent(&input), vec![(1, 1), (4, 4)]);
        input
            .domain_recent
            .insert("acme.example".into(), DomainRecent { sends: 2, oldest });
        input.due.pop();
        assert_eq!(wake(&input), Some(oldest + SignedDuration::from_hours(1)));
        // Without recent sends, two in one pass, then the limit.
        input.domain_recent.clear();
        assert_eq!(sent(&input), vec![(1, 1), (2, 2)]);
        input.domain_limit_per_hour = None;
        assert_eq!(sent(&input), vec![(1, 1), (2, 2), (3, 3)]);
    }

    #[test]
    fn planner_paused_mailboxes_send_nothing() {
        let mut paused = mailbox(1);
        paused.paused = true;
        let mut other = mailbox(2);
        other.sent_today = 45;
        let mut input = input(
            vec![paused, other],
            vec![campaign(1, &[1, 2])],
            vec![follow_up(7, 1, 5), new_lead(8, 4)],
        );
        // The paused mailbox has more capacity left, but neither its conversation nor the
        // new lead goes out from it.
        assert_eq!(sent(&input), vec![(8, 2)]);
        input.mailboxes[1].paused = true;
        assert_eq!(
            wake(&input),
            None,
            "nothing can ever send until a mailbox resumes"
        );
    }

    #[test]
    fn planner_sends_to_a_lead_once_per_pass() {
        let mut second = follow_up(8, 2, 1);
        second.lead = 7;
        second.campaign = 2;
        let input = input(
            vec![mailbox(1), mailbox(2)],
            vec![campaign(1, &[1]), campaign(2, &[2])],
            vec![follow_up(7, 1, 5), second],
        );
        assert_eq!(sent(&input), vec![(7, 1)]);
    }

    #[test]
    fn planner_wakes_for_what_is_due_later() {
        let mut input = input(vec![mailbox(1)], vec![campaign(1, &[1])], vec![]);
        assert_eq!(wake(&input), None, "nothing due, nothing waiting");
        let later = ts(NOW) + SignedDuration::from_mins(10);
        input.later_due = Some(later);
        assert_eq!(wake(&input), Some(later));
        // A later enrolment passed in `due` counts the same.
        input.later_due = None;
        let mut e = follow_up(7, 1, 0);
        e.due = later;
        input.due.push(e);
        assert_eq!(wake(&input), Some(later));
    }

    #[test]
    fn planner_record_send_is_what_the_next_round_sees() {
        let mut input = input(vec![mailbox(1)], vec![campaign(1, &[1])], vec![new_lead(8, 5)]);
        let gap = Gap {
            min: Duration::from_secs(60),
            max: Duration::from_secs(180),
        };
        let first = input.due[0].clone();
        input.record_send(&first, 1, gap);
        let m = &input.mailboxes[0];
        assert_eq!(
            (m.sent_today, m.last_send, m.first_send_day),
            (1, Some(ts(NOW)), Some(date(2026, 1, 14)))
        );
        assert_eq!(m.gap, gap.after_send(1, ts(NOW).as_second(), 1));
        assert!((60..=180).contains(&m.gap.as_secs()), "{:?}", m.gap);
        let recent = DomainRecent {
            sends: 1,
            oldest: ts(NOW),
        };
        assert_eq!(input.domain_recent["lead8.example"], recent);
        assert_eq!(input.campaigns[0].new_leads_today, 1, "a new lead started");
        // A follow-up later to the same domain: one more send there since the same oldest;
        // no new lead; the first send's day stays.
        let mut follow = follow_up(9, 1, 0);
        follow.domain = "lead8.example".into();
        input.now = ts(NOW) + SignedDuration::from_secs(200);
        input.record_send(&follow, 1, gap);
        assert_eq!(input.domain_recent["lead8.example"].sends, 2);
        assert_eq!(input.domain_recent["lead8.example"].oldest, ts(NOW));
        assert_eq!(input.campaigns[0].new_leads_today, 1);
        let m = &input.mailboxes[0];
        assert_eq!((m.sent_today, m.first_send_day), (2, Some(date(2026, 1, 14))));
        assert_eq!(m.last_send, Some(input.now));
    }

    /// `forecast`'s shortcut: the due follow-ups and only the first due new leads, more of
    /// them while the planner wants more, plan exactly what the whole list does.
    #[test]
    fn planner_first_new_leads_plan_what_the_whole_list_plans() {
        for seed in 0..300u64 {
            let mut state = seed;
            let mut next = |n: u64| {
                state = splitmix64(state);
                state % n
            };
            let boxes: Vec<MailboxState> = (1..=6)
                .map(|id| {
                    let mut m = mailbox(id);
                    match next(5) {
                        0 => m.sent_today = 50,
                        1 => m.last_send = Some(ts(NOW) - SignedDuration::from_secs(30)),
                        2 => m.time_zone = Some(tz("America/New_York")),
                        3 => m.paused = true,
                        _ => {}
                    }
                    m
                })
                .collect();
            let mut c = campaign(1, &[1, 2, 3, 4, 5, 6]);
            if next(3) == 0 {
                c.daily_new_leads = Some(next(4) as u32);
            }
            let zones = [
                None,
                Some("America/New_York"),
                Some("Asia/Tokyo"),
                Some("Europe/Berlin"),
            ];
            let due: Vec<DueEnrolment> = (0..40)
                .map(|i| {
                    let mut e = match next(3) {
                        0 => follow_up(i, next(6) as i64 + 1, 100 - i),
                        _ => new_lead(i, 100 - i),
                    };
                    e.domain = format!("d{}.example", next(6));
                    e.time_zone = zones[next(4) as usize].map(tz);
                    e
                })
                .collect();
            let mut whole = input(boxes, vec![c], due);
            whole.domain_limit_per_hour = Some(2);
            whole.domain_recent.insert(
                "d0.example".into(),
                DomainRecent {
                    sends: 2,
                    oldest: ts(NOW) - SignedDuration::from_mins(20),
                },
            );
            let expected = plan(&whole);
            let (follow_ups, new_leads): (Vec<_>, Vec<_>) =
                whole.due.iter().cloned().partition(|e| e.mailbox.is_some());
            let mut first = 1;
            let got = loop {
                let part = PlanInput {
                    due: follow_ups
                        .iter()
                        .chain(new_leads.iter().take(first))
                        .cloned()
                        .collect(),
                    ..whole.clone()
                };
                let planned = plan(&part);
                if planned.wants_more_new_leads && first < new_leads.len() {
                    first *= 2;
                    continue;
                }
                break planned;
            };
            assert_eq!(got.sends, expected.sends, "seed {seed}");
            assert_eq!(got.next_wake, expected.next_wake, "seed {seed}");
        }
    }

    /// The forecast loop: plan, record, plan again at the same instant, jump to the wake.
    #[test]
    fn planner_replanned_after_recording_sends_nothing_more() {
        let boxes = (1..=3).map(mailbox).collect();
        let due = (1..=9).map(|i| new_lead(i, 10 - i)).collect();
        let mut input = input(boxes, vec![campaign(1, &[1, 2, 3])], due);
        let mut sent_ids = Vec::new();
        for _ in 0..20 {
            let plan = plan(&input);
            for s in &plan.sends {
                let m = input.mailboxes.iter_mut().find(|m| m.id == s.mailbox_id).unwrap();
                m.sent_today += 1;
                m.last_send = Some(s.at);
                m.gap = Duration::from_secs(100 + 10 * s.mailbox_id as u64);
                input.due.retain(|e| e.id != s.enrolment_id);
                sent_ids.push(s.enrolment_id);
            }
            let Some(next) = plan.next_wake else { break };
            assert!(next >= input.now);
            if plan.sends.is_empty() {
                assert!(next > input.now, "a pass without sends moves time forward");
            }
            input.now = next;
        }
        assert_eq!(sent_ids, (1..=9).collect::<Vec<_>>());
        // Three rounds: at now, then mailbox 1 after 110 s, 2 after 120 s, 3 after 130 s.
        assert_eq!(input.now, ts(NOW) + SignedDuration::from_secs(2 * 130));
    }

    /// The bench's shape: a million due conversations over a thousand mailboxes.
    #[test]
    fn planner_million_due_enrolments_one_send_per_mailbox() {
        const MAILBOXES: i64 = 1_000;
        const ENROLMENTS: i64 = 1_000_000;
        let start = ts(NOW) - SignedDuration::from_hours(24);
        let mut boxes: Vec<MailboxState> = (0..MAILBOXES).map(mailbox).collect();
        let due: Vec<DueEnrolment> = (0..ENROLMENTS)
            .map(|i| DueEnrolment {
                id: i,
                campaign: 1,
                lead: i,
                domain: format!("d{}.example", i % 5_000),
                time_zone: None,
                mailbox: Some(i % MAILBOXES),
                step: 1,
                due: start + SignedDuration::from_millis(i * 50),
            })
            .collect();
        assert!(due.last().unwrap().due <= ts(NOW));
        // A tenth of the mailboxes are paused, a tenth wait for their gap.
        for m in &mut boxes {
            match m.id % 10 {
                3 => m.paused = true,
                7 => m.last_send = Some(ts(NOW) - SignedDuration::from_secs(10)),
                _ => {}
            }
        }
        let ids: Vec<i64> = (0..MAILBOXES).collect();
        let mut input = input(boxes, vec![campaign(1, &ids)], due);
        input.domain_limit_per_hour = Some(50);
        let result = plan(&input);
        assert_eq!(result.sends.len(), 800);
        for (send, mailbox) in result
            .sends
            .iter()
            .zip((0..MAILBOXES).filter(|m| m % 10 != 3 && m % 10 != 7))
        {
            // Each eligible mailbox sends its earliest due conversation.
            assert_eq!(
                (send.enrolment_id, send.mailbox_id, send.step),
                (mailbox, mailbox, 1)
            );
        }
        assert!(result.scanned <= 1_000, "stopped early: {}", result.scanned);
        // On Saturday every window is closed: a full scan, and the wake is Monday 09:00.
        let weekday_now = input.now;
        input.now = ts("2026-01-17T10:00:00Z");
        let result = plan(&input);
        assert_eq!(result.sends, vec![]);
        assert_eq!(result.next_wake, Some(ts("2026-01-19T08:00:00Z")));
        input.now = weekday_now;

        // All new leads instead: ten campaigns of a hundred mailboxes each.
        for e in &mut input.due {
            e.mailbox = None;
            e.step = 0;
            e.campaign = e.id % 10;
        }
        input.campaigns = (0..10)
            .map(|c| campaign(c, &ids[c as usize * 100..(c as usize + 1) * 100]))
            .collect();
        for m in &mut input.mailboxes {
            (m.paused, m.last_send) = (false, None);
        }
        let result = plan(&input);
        assert_eq!(result.sends.len(), 1_000);
        let mut used: Vec<i64> = result.sends.iter().map(|s| s.mailbox_id).collect();
        used.sort_unstable();
        assert_eq!(used, ids, "every mailbox once");
        for send in &result.sends {
            assert_eq!(
                send.enrolment_id % 10,
                send.mailbox_id / 100,
                "its campaign's mailbox"
            );
            assert!(send.enrolment_id < 1_000, "the earliest due first");
        }
        assert!(result.scanned <= 1_001_000, "{}", result.scanned);
    }

    /// A kept [`Planner`], told everything or only what changed, plans as a fresh one
    /// over three simulated days: sends, caps reached, warm-up, midnights in three zones.
    #[test]
    fn a_kept_planner_plans_as_a_fresh_one() {
        let mut berlin = mailbox(1);
        berlin.warmup = Some(Warmup { start: 3, step: 2 });
        berlin.daily_cap = 6;
        let mut new_york = mailbox(2);
        new_york.time_zone = Some(tz("America/New_York"));
        new_york.daily_cap = 4;
        let mut utc = mailbox(3);
        utc.time_zone = None;
        utc.daily_cap = 5;
        let mut paused = mailbox(4);
        paused.paused = true;
        let mut due: Vec<DueEnrolment> = (0..60).map(|i| new_lead(100 + i, 60 - i)).collect();
        for (i, e) in due.iter_mut().enumerate() {
            e.time_zone = match i % 3 {
                0 => Some(tz("America/New_York")),
                1 => None,
                _ => Some(tz("Asia/Tokyo")),
            };
        }
        due.extend((0..6).map(|i| follow_up(10 + i, 1 + i % 4, 30)));
        let mut input = input(
            vec![berlin, new_york, utc, paused],
            vec![campaign(1, &[1, 2, 3, 4])],
            due,
        );
        let gap = Gap {
            min: Duration::from_secs(600),
            max: Duration::from_secs(3600),
        };
        let (mut kept, mut told) = (Planner::default(), Planner::default());
        let mut changed: Vec<usize> = Vec::new();
        let mut days: Vec<Date> = input
            .mailboxes
            .iter()
            .map(|m| mailbox_day(input.now, m.day_zone()))
            .collect();
        let (mut rounds, mut sends) = (0, 0);
        while rounds < 2_000 && !input.due.is_empty() {
            rounds += 1;
            for (i, m) in input.mailboxes.iter_mut().enumerate() {
                let today = mailbox_day(input.now, m.day_zone());
                if today != days[i] {
                    days[i] = today;
                    m.sent_today = 0;
                    changed.push(i);
                }
            }
            let fresh = plan(&input);
            assert_eq!(kept.plan(&input), fresh, "round {rounds}");
            assert_eq!(told.plan_changed(&input, &changed), fresh, "round {rounds}");
            changed.clear();
            for send in &fresh.sends {
                let at = input.due.iter().position(|e| e.id == send.enrolment_id).unwrap();
                let e = input.due.remove(at);
                input.record_send(&e, send.mailbox_id, gap);
                changed.push(
                    input
                        .mailboxes
                        .iter()
                        .position(|m| m.id == send.mailbox_id)
                        .unwrap(),
                );
                sends += 1;
            }
            if fresh.sends.is_empty() {
                let Some(wake) = fresh.next_wake else { break };
                input.now = wake;
            }
        }
        assert!(sends > 40, "{sends} sends in {rounds} rounds");
        assert!(
            days[0] > mailbox_day(ts(NOW), &tz("Europe/Berlin")),
            "crossed a midnight"
        );
    }
}

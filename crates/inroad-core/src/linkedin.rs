//! LinkedIn's limits as arithmetic: plans, rolling weekly budgets, the daily pace, notes on
//! invitations, InMail credits and the acceptance guard.
//!
//! Inroad never automates LinkedIn (its terms forbid bots). LinkedIn steps become a task
//! list that a person works through, and what Inroad owes that person is a list that can
//! be done in full without tripping LinkedIn's throttles, which restrict the account, not
//! just the day. So where LinkedIn's rule is fuzzy, every rule here errs towards less.
//!
//! # The rolling window
//!
//! LinkedIn counts invitations (and, by the accepted safe figures, messages) per rolling
//! 7 days, not per calendar week: 70 sent on Monday leave 30 until Monday's sends turn
//! 7×24 hours old, one by one. [`RollingBudget::remaining`] counts exactly that, and
//! [`RollingBudget::next_free`] says when the next unit comes back. The window is 7×24
//! hours ([`WINDOW`]), not 7 calendar days, so a daylight-saving change neither stretches
//! nor shrinks it.
//!
//! # The daily pace
//!
//! A task list is for a day, and the person may work through it at any hour of that day,
//! so a day's allowance must be safe whatever instants the sends land on. That has a
//! consequence no rule can avoid: a send at 10:00 on a Monday shares a window with 09:00
//! the next Monday, so a day's sends are free again on the eighth day, not the seventh, and
//! the most any day-by-day rule can sustain is `limit / 8` a day (12 or 13 for 100).
//! [`RollingBudget::allowance`] paces towards that, over the days the person works
//! ([`Workdays`]):
//!
//! - On a day that is not a workday the pace is 0. On a workday, for each of the next 7
//!   days (today is day 0) `room(k)` is the limit less the earlier sends that still share
//!   a window with some instant of day `k`: what is available from today to day `k`,
//!   spread over the workdays among them, `w(k)`. Today's pace is the tightest of these
//!   shares, rounded up: `min over k in 0..7 of ceil(room(k) / w(k))`.
//! - Nothing sent yet, every day a workday: every `room(k)` is the limit, so the pace is
//!   `ceil(limit / 7)` (15 for 100). After 70 on day one, day two's pace is
//!   `ceil(30 / 7)` = 5: the 30 are spread over the days until day one's 70 come back.
//! - Worked on every workday, the pace settles at the most the window sustains: `limit / 8`
//!   a day when all seven are workdays (12 or 13 for 100), 16 or 17 for 100 on Monday to
//!   Friday.
//! - A missed workday leaves more room over the coming days, so their pace rises, spread
//!   over them rather than dumped on one. It carries over as much as it can without
//!   starving later days: any 8 consecutive days hold at most the limit, so sending a
//!   missed day's share in full later forces some later day to 0, and that hole then
//!   repeats week after week. A person who wants it anyway asks for it.
//! - A person may ask for more today (`requested`): the quota rises to the request, but
//!   never above `room(0)`, the most today can hold. That term (`w(0)` is 1) is also what
//!   makes the pace safe: no 7×24-hour window ever holds more than the limit, whatever is
//!   asked or whenever in the day it is sent.
//! - Today's quota ignores today's own sends, so it stays put while the person works
//!   through the list; they come off [`Allowance::left`].
//!
//! The rule is a pure function of (limit, history, day, zone, workdays, request), so
//! `forecast` runs it day by day on a simulated clock. One call costs one pass over the
//! history with at most seven comparisons per send and no allocation; sends from before the
//! 7 days preceding `today` no longer matter, so a store may pass only the last 8 days.
//!
//! # InMail credits
//!
//! [`InMailLedger`] models the credit lots LinkedIn grants on the account's renewal day
//! (the day its subscription renews each month, which is when LinkedIn grants them; pass 1
//! when unknown): each lot expires 90 days after its grant, the oldest credits are spent
//! first, the balance never exceeds [`INMAIL_ROLLOVER_CAP`], and a reply within 90 days
//! of an InMail refunds its credit. The free plan never has a credit.
//!
//! Nothing here reads the clock or does I/O.

use std::cmp::Reverse;
use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::schedule::{day_bounds, mailbox_day};

/// LinkedIn's rolling window: 7 × 24 hours.
pub const WINDOW: SignedDuration = SignedDuration::from_hours(7 * 24);

/// Connection requests per rolling window when nothing else is known: the figure that
/// holds for most accounts.
pub const DEFAULT_INVITATIONS_PER_WEEK: u32 = 100;

/// The most an override may raise the invitation budget to: old, trusted accounts are
/// reported to get up to 200, and nobody reports more.
pub const MAX_INVITATIONS_PER_WEEK: u32 = 200;

/// Pending invitations above this many restrict an account, so invitations stop there until
/// some are accepted or withdrawn.
pub const PENDING_CEILING: u32 = 500;

/// The most InMail credits an account can hold; grants beyond it are lost.
pub const INMAIL_ROLLOVER_CAP: u32 = 150;

/// How long an InMail credit lives after its grant.
pub const INMAIL_LIFETIME: SignedDuration = SignedDuration::from_hours(90 * 24);

/// A reply this soon after an InMail gives its credit back.
pub const INMAIL_REFUND_WINDOW: SignedDuration = SignedDuration::from_hours(90 * 24);

/// The days the pace looks ahead: one window's worth, today included.
const PACE_DAYS: usize = 7;

/// An account's LinkedIn subscription, which sets its note length, its messages and its
/// InMail credits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Plan {
    Free,
    PremiumCareer,
    PremiumBusiness,
    SalesNavigator,
}

impl Plan {
    /// Every plan, cheapest first.
    pub const ALL: [Plan; 4] = [
        Plan::Free,
        Plan::PremiumCareer,
        Plan::PremiumBusiness,
        Plan::SalesNavigator,
    ];

    /// Reads a plan as the CLI and the store write it: `free`, `premium-career`,
    /// `premium-business` or `sales-navigator` (any case, surrounding space ignored).
    pub fn parse(text: &str) -> Result<Plan, LimitsError> {
        let wanted = text.trim();
        Plan::ALL
            .into_iter()
            .find(|plan| plan.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| LimitsError::UnknownPlan(text.to_string()))
    }

    /// The plan's name as [`Plan::parse`] reads it.
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::PremiumCareer => "premium-career",
            Plan::PremiumBusiness => "premium-business",
            Plan::SalesNavigator => "sales-navigator",
        }
    }

    /// The plan as a person reads it in a sentence ("the free plan allows 200").
    fn label(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::PremiumCareer => "Premium Career",
            Plan::PremiumBusiness => "Premium Business",
            Plan::SalesNavigator => "Sales Navigator",
        }
    }

    pub fn is_paid(self) -> bool {
        self != Plan::Free
    }

    /// The longest note an invitation may carry, in [`note_length`] units.
    pub fn note_chars(self) -> usize {
        if self.is_paid() {
            300
        } else {
            200
        }
    }

    /// How many invitations per calendar month may carry a note (`None`: no limit). Free
    /// accounts are reported to get 3–5 and then invitations silently go without; 5 is
    /// the figure the reports agree on.
    pub fn noted_invitations_per_month(self) -> Option<u32> {
        (!self.is_paid()).then_some(5)
    }

    /// Messages to 1st-degree connections per rolling window: LinkedIn publishes no
    /// limit, so these are the accepted safe figures.
    pub fn messages_per_week(self) -> u32 {
        if self.is_paid() {
            150
        } else {
            100
        }
    }

    /// InMail credits granted each month.
    pub fn inmail_credits_per_month(self) -> u32 {
        match self {
            Plan::Free => 0,
            Plan::PremiumCareer => 5,
            Plan::PremiumBusiness => 15,
            Plan::SalesNavigator => 50,
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Plan {
    type Err = LimitsError;

    fn from_str(text: &str) -> Result<Plan, LimitsError> {
        Plan::parse(text)
    }
}

/// Why a plan or a limit override was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LimitsError {
    UnknownPlan(String),
    InvitationsAboveMax { requested: u32 },
    MessagesAboveSafe { requested: u32, plan: Plan },
    PendingAboveCeiling { requested: u32 },
    GuardPercentAbove100 { percent: u32 },
    GuardPauseAboveHalve { pause: u32, halve: u32 },
    GuardEmptySample,
    GuardMinSampleAboveSample { min_sample: u32, sample: u32 },
    RenewalDay(u8),
}

impl fmt::Display for LimitsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitsError::UnknownPlan(plan) => write!(
                f,
                "unknown LinkedIn plan {plan:?} (expected free, premium-career, premium-business or \
                 sales-navigator)"
            ),
            LimitsError::InvitationsAboveMax { requested } => write!(
                f,
                "{requested} invitations a week is above the {MAX_INVITATIONS_PER_WEEK} that even \
                 LinkedIn's most trusted accounts get"
            ),
            LimitsError::MessagesAboveSafe { requested, plan } => write!(
                f,
                "{requested} messages a week is above the safe {} for the {} plan",
                plan.messages_per_week(),
                plan.label()
            ),
            LimitsError::PendingAboveCeiling { requested } => write!(
                f,
                "{requested} pending invitations is above {PENDING_CEILING}, where LinkedIn restricts \
                 accounts"
            ),
            LimitsError::GuardPercentAbove100 { percent } => {
                write!(f, "acceptance threshold {percent}% is above 100%")
            }
            LimitsError::GuardPauseAboveHalve { pause, halve } => write!(
                f,
                "the pause threshold ({pause}%) is above the halving threshold ({halve}%)"
            ),
            LimitsError::GuardEmptySample => {
                f.write_str("the acceptance sample must hold at least 1 invitation")
            }
            LimitsError::GuardMinSampleAboveSample { min_sample, sample } => write!(
                f,
                "the minimum sample ({min_sample}) is above the sample ({sample}), so the guard would \
                 never act"
            ),
            LimitsError::RenewalDay(day) => write!(f, "renewal day {day} is not a day of the month (1–31)"),
        }
    }
}

impl std::error::Error for LimitsError {}

/// When the acceptance guard slows or stops invitations. LinkedIn restricts accounts whose
/// invitations go ignored, so a falling acceptance rate is the warning to heed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuardThresholds {
    /// Below this acceptance rate (percent) the weekly invitation budget is halved.
    pub halve_below_percent: u32,
    /// Below this acceptance rate (percent) invitations stop.
    pub pause_below_percent: u32,
    /// The rate is taken over this many most recent invitations…
    pub sample: u32,
    /// …that are at least this many days old, so each had time to be accepted.
    pub min_age_days: u32,
    /// With fewer invitations in the sample the guard does not judge: with 10, a single
    /// ignored invitation moves the rate by 10 points.
    pub min_sample: u32,
}

impl Default for GuardThresholds {
    fn default() -> GuardThresholds {
        GuardThresholds {
            halve_below_percent: 30,
            pause_below_percent: 15,
            sample: 50,
            min_age_days: 14,
            min_sample: 20,
        }
    }
}

impl GuardThresholds {
    fn validate(&self) -> Result<(), LimitsError> {
        for percent in [self.halve_below_percent, self.pause_below_percent] {
            if percent > 100 {
                return Err(LimitsError::GuardPercentAbove100 { percent });
            }
        }
        if self.pause_below_percent > self.halve_below_percent {
            return Err(LimitsError::GuardPauseAboveHalve {
                pause: self.pause_below_percent,
                halve: self.halve_below_percent,
            });
        }
        if self.sample == 0 {
            return Err(LimitsError::GuardEmptySample);
        }
        if self.min_sample > self.sample {
            return Err(LimitsError::GuardMinSampleAboveSample {
                min_sample: self.min_sample,
                sample: self.sample,
            });
        }
        Ok(())
    }

    /// The guard's verdict on an acceptance rate.
    pub fn judge(&self, rate: Rate) -> Guard {
        if rate.sampled == 0 || rate.sampled < self.min_sample {
            return Guard::Normal;
        }
        // Compared as accepted/sampled < percent/100, in integers so 30% is exactly 15 of 50.
        let below =
            |percent: u32| u64::from(rate.accepted) * 100 < u64::from(percent) * u64::from(rate.sampled);
        if below(self.pause_below_percent) {
            Guard::Paused { rate }
        } else if below(self.halve_below_percent) {
            Guard::Halved { rate }
        } else {
            Guard::Normal
        }
    }

    /// The guard at `now`, from the outcomes of an account's invitations (any order, any
    /// number; the store may pass them all or only the old enough ones). The sample is the
    /// `sample` most recent invitations at least `min_age_days` old, each as it stands at
    /// `now` (one still pending, ignored or withdrawn counts as not accepted). Of several
    /// sent at the same instant at the sample's edge, unaccepted ones are taken first, so
    /// the verdict never depends on the input's order.
    ///
    /// A pause sends no invitations, so its sample only changes as old invitations are
    /// accepted late: it holds until then, or until a person changes the thresholds. That
    /// is deliberate; an account that got here needs its targeting looked at, not a timer.
    pub fn guard(&self, outcomes: &[InvitationOutcome], now: Timestamp) -> Guard {
        let sample = usize::try_from(self.sample).unwrap_or(usize::MAX);
        if sample == 0 {
            return Guard::Normal;
        }
        let min_age = SignedDuration::from_secs(i64::from(self.min_age_days) * 86_400);
        let old_enough = minus(now, min_age);
        let mut eligible: Vec<(Reverse<Timestamp>, bool)> = outcomes
            .iter()
            .filter(|outcome| outcome.sent_at <= old_enough)
            .map(|outcome| (Reverse(outcome.sent_at), outcome.accepted))
            .collect();
        if eligible.len() > sample {
            eligible.select_nth_unstable(sample - 1);
            eligible.truncate(sample);
        }
        self.judge(Rate {
            accepted: count(eligible.iter().filter(|(_, accepted)| *accepted)),
            sampled: count(eligible.iter()),
        })
    }
}

/// One invitation's outcome as the guard sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvitationOutcome {
    pub sent_at: Timestamp,
    pub accepted: bool,
}

/// An acceptance rate, kept as its two counts so it compares exactly and prints honestly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub accepted: u32,
    pub sampled: u32,
}

impl Rate {
    /// Whole percent, rounded down (0 for an empty sample).
    pub fn percent(&self) -> u32 {
        if self.sampled == 0 {
            return 0;
        }
        let percent = u64::from(self.accepted) * 100 / u64::from(self.sampled);
        u32::try_from(percent).unwrap_or(u32::MAX)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}% ({} of {} accepted)",
            self.percent(),
            self.accepted,
            self.sampled
        )
    }
}

/// What the acceptance guard does to invitations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guard {
    Normal,
    /// The weekly invitation budget is halved.
    Halved {
        rate: Rate,
    },
    /// No invitations until the rate recovers (see [`GuardThresholds::guard`]).
    Paused {
        rate: Rate,
    },
}

/// Overrides of a plan's defaults, as an account's settings give them; `None` keeps the
/// default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Up to [`MAX_INVITATIONS_PER_WEEK`].
    pub invitations_per_week: Option<u32>,
    /// Up to the plan's safe figure: nothing public says more is safe.
    pub messages_per_week: Option<u32>,
    /// Up to [`PENDING_CEILING`].
    pub pending_ceiling: Option<u32>,
    pub guard: Option<GuardThresholds>,
}

/// An account's limits: its plan's defaults with any overrides, checked once here so every
/// `Limits` value is one LinkedIn tolerates. Budgets may always be lowered (0 rests the
/// account); only the invitation budget may rise above its default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    plan: Plan,
    invitations_per_week: u32,
    messages_per_week: u32,
    pending_ceiling: u32,
    guard: GuardThresholds,
}

impl Limits {
    /// The plan's defaults.
    pub fn for_plan(plan: Plan) -> Limits {
        Limits {
            plan,
            invitations_per_week: DEFAULT_INVITATIONS_PER_WEEK,
            messages_per_week: plan.messages_per_week(),
            pending_ceiling: PENDING_CEILING,
            guard: GuardThresholds::default(),
        }
    }

    /// The plan's defaults with `overrides`, refused when an override goes past what
    /// LinkedIn tolerates or the guard's thresholds contradict each other.
    pub fn new(plan: Plan, overrides: &Overrides) -> Result<Limits, LimitsError> {
        let mut limits = Limits::for_plan(plan);
        if let Some(requested) = overrides.invitations_per_week {
            if requested > MAX_INVITATIONS_PER_WEEK {
                return Err(LimitsError::InvitationsAboveMax { requested });
            }
            limits.invitations_per_week = requested;
        }
        if let Some(requested) = overrides.messages_per_week {
            if requested > plan.messages_per_week() {
                return Err(LimitsError::MessagesAboveSafe { requested, plan });
            }
            limits.messages_per_week = requested;
        }
        if let Some(requested) = overrides.pending_ceiling {
            if requested > PENDING_CEILING {
                return Err(LimitsError::PendingAboveCeiling { requested });
            }
            limits.pending_ceiling = requested;
        }
        if let Some(guard) = overrides.guard {
            guard.validate()?;
            limits.guard = guard;
        }
        Ok(limits)
    }

    pub fn plan(&self) -> Plan {
        self.plan
    }

    pub fn invitations_per_week(&self) -> u32 {
        self.invitations_per_week
    }

    pub fn messages_per_week(&self) -> u32 {
        self.messages_per_week
    }

    pub fn pending_ceiling(&self) -> u32 {
        self.pending_ceiling
    }

    pub fn guard(&self) -> &GuardThresholds {
        &self.guard
    }

    /// The invitation budget per rolling window under the acceptance guard. Halving the
    /// budget rather than the day's pace keeps the rolling guarantee: a halved account's
    /// window never holds more than half, and the pace follows.
    pub fn invitation_limit(&self, guard: &Guard) -> u32 {
        match guard {
            Guard::Normal => self.invitations_per_week,
            Guard::Halved { .. } => self.invitations_per_week / 2,
            Guard::Paused { .. } => 0,
        }
    }

    /// The invitation budget over the instants invitations were `sent`: the rolling limit
    /// under the acceptance guard, and no more than keeps the account's `pending`
    /// invitations under the pending ceiling.
    pub fn invitations<'a>(&self, guard: &Guard, pending: u32, sent: &'a [Timestamp]) -> RollingBudget<'a> {
        RollingBudget {
            limit: self.invitation_limit(guard),
            history: sent,
            headroom: self.pending_ceiling.saturating_sub(pending),
        }
    }

    /// The budget of messages to connections over the instants messages were `sent`.
    pub fn messages<'a>(&self, sent: &'a [Timestamp]) -> RollingBudget<'a> {
        RollingBudget::new(self.messages_per_week, sent)
    }
}

/// The days of the week a person works through the LinkedIn tasks. The pace spreads the
/// budget over these days only: spread over all seven, a budget worked on weekdays alone
/// would leave its weekend share unused every week (about a quarter of it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Workdays {
    /// Bit `n` set: the weekday `n` days after Monday is a workday.
    mask: u8,
}

impl Workdays {
    pub const EVERY_DAY: Workdays = Workdays { mask: 0b111_1111 };
    pub const MONDAY_TO_FRIDAY: Workdays = Workdays { mask: 0b001_1111 };

    /// The given days (duplicates ignored; none at all means the pace is always 0 and
    /// only a request brings a day any invitations).
    pub fn new(days: &[Weekday]) -> Workdays {
        Workdays {
            mask: days.iter().fold(0, |mask, day| mask | Workdays::bit(*day)),
        }
    }

    pub fn contains(self, day: Weekday) -> bool {
        self.mask & Workdays::bit(day) != 0
    }

    fn bit(day: Weekday) -> u8 {
        1 << day.to_monday_zero_offset()
    }
}

/// A budget per rolling [`WINDOW`] over an account's history of one kind of action (the
/// instants its invitations, or its messages, were sent), in any order. The store may pass
/// only the last 8 days: older sends no longer matter.
#[derive(Clone, Copy, Debug)]
pub struct RollingBudget<'a> {
    limit: u32,
    history: &'a [Timestamp],
    /// At most this many more whatever the window says (for invitations, the room under the
    /// pending ceiling, which only acceptances and withdrawals free, never the clock).
    headroom: u32,
}

/// One day's share of a rolling budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allowance {
    /// Today's total: the pace, raised to the request if any, never above `ceiling`.
    pub quota: u32,
    /// The most today can hold whatever is asked: the limit less the earlier sends that
    /// share a window with some instant of today.
    pub ceiling: u32,
    /// Sent today already.
    pub sent: u32,
    /// May still be sent today.
    pub left: u32,
}

impl<'a> RollingBudget<'a> {
    pub fn new(limit: u32, history: &'a [Timestamp]) -> RollingBudget<'a> {
        RollingBudget {
            limit,
            history,
            headroom: u32::MAX,
        }
    }

    /// Units left in the window ending at `now`: the limit less the sends of the last 7×24
    /// hours. A send leaves the window exactly 7×24 hours after it was made. Sends after
    /// `now` (a clock set back, a forecast run on an old clock) count too, as a send now
    /// would share a window with them.
    pub fn remaining(&self, now: Timestamp) -> u32 {
        let since = minus(now, WINDOW);
        let used = count(self.history.iter().filter(|&&sent| sent > since));
        self.limit.saturating_sub(used).min(self.headroom)
    }

    /// The first instant at or after `now` with a unit to spend: `now` itself while
    /// [`remaining`](Self::remaining) is above 0, else when enough of the oldest sends in
    /// the window have left it. `None` when time alone frees nothing: a limit of 0, or no
    /// headroom under the pending ceiling.
    pub fn next_free(&self, now: Timestamp) -> Option<Timestamp> {
        if self.limit == 0 || self.headroom == 0 {
            return None;
        }
        let since = minus(now, WINDOW);
        let mut in_window: Vec<Timestamp> = self
            .history
            .iter()
            .copied()
            .filter(|&sent| sent > since)
            .collect();
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        if in_window.len() < limit {
            return Some(now);
        }
        // One unit is free once all but limit − 1 of these have left: the oldest
        // (len − limit + 1) of them, the last of which leaves at its instant + 7×24 h.
        let oldest_leaving = in_window.len() - limit;
        let (_, last_to_leave, _) = in_window.select_nth_unstable(oldest_leaving);
        Some(plus(*last_to_leave, WINDOW))
    }

    /// Today's share of the budget, for a person working at any hour of `today` in the
    /// account's zone `tz` on their `workdays`, and asking for `requested` today if they
    /// want more than the pace. See the module docs for the rule and why it is shaped so.
    pub fn allowance(
        &self,
        today: Date,
        tz: &TimeZone,
        workdays: Workdays,
        requested: Option<u32>,
    ) -> Allowance {
        let starts = day_starts(today, tz);
        let (today_start, today_end) = (starts[0], starts[1]);
        // A send at `t` shares a window with some instant of day k iff t > start(k) − 7×24 h:
        // the window ending at that day's first instant reaches back that far.
        let reach = starts.map(|start| minus(start, WINDOW));
        let mut earlier_sharing = [0u32; PACE_DAYS];
        let mut sharing_today = 0u32;
        let mut sent = 0u32;
        for &t in self.history {
            if t <= reach[0] {
                continue;
            }
            sharing_today = sharing_today.saturating_add(1);
            if t < today_start {
                for (k, counted) in earlier_sharing.iter_mut().enumerate() {
                    if t <= reach[k] {
                        break;
                    }
                    *counted = counted.saturating_add(1);
                }
            } else if t < today_end {
                sent = sent.saturating_add(1);
            }
        }
        let room = earlier_sharing.map(|counted| self.limit.saturating_sub(counted));
        let ceiling = room[0];
        let paced = if workdays.contains(today.weekday()) {
            let mut workdays_so_far = 0u32;
            let mut pace = ceiling;
            let mut day = Some(today);
            for room in room {
                let Some(date) = day else { break };
                if workdays.contains(date.weekday()) {
                    workdays_so_far += 1;
                }
                pace = pace.min(room.div_ceil(workdays_so_far));
                day = date.tomorrow().ok();
            }
            pace
        } else {
            0
        };
        let quota = paced.max(requested.unwrap_or(0)).min(ceiling);
        // The window bound only bites on sends recorded after today (a clock set back).
        let left = quota
            .saturating_sub(sent)
            .min(self.limit.saturating_sub(sharing_today))
            .min(self.headroom);
        Allowance {
            quota,
            ceiling,
            sent,
            left,
        }
    }
}

/// The first instants of `today` and the following days (one more than the pace looks at,
/// for today's end), saturating at the end of time.
fn day_starts(today: Date, tz: &TimeZone) -> [Timestamp; PACE_DAYS + 1] {
    let mut starts = [Timestamp::MAX; PACE_DAYS + 1];
    let mut day = Some(today);
    for start in &mut starts {
        let Some(date) = day else { break };
        *start = day_bounds(date, tz).0;
        day = date.tomorrow().ok();
    }
    starts
}

/// The instants of the calendar month `today` falls in, in `tz` (start inclusive, end
/// exclusive): where a store counts the noted invitations of "this month".
pub fn month_bounds(today: Date, tz: &TimeZone) -> (Timestamp, Timestamp) {
    let start = day_bounds(today.first_of_month(), tz).0;
    (start, day_bounds(today.last_of_month(), tz).1)
}

/// Why an invitation goes without its note.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteRefusal {
    TooLong {
        length: usize,
        allowed: usize,
        plan: Plan,
    },
    MonthlyNotesUsed {
        allowed: u32,
        plan: Plan,
    },
}

impl fmt::Display for NoteRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoteRefusal::TooLong {
                length,
                allowed,
                plan,
            } => write!(
                f,
                "note is {length} characters; the {} plan allows {allowed}",
                plan.label()
            ),
            NoteRefusal::MonthlyNotesUsed { allowed, plan } => write!(
                f,
                "the {} plan's {allowed} noted invitations this month are used",
                plan.label()
            ),
        }
    }
}

impl std::error::Error for NoteRefusal {}

/// A note's length as LinkedIn's form counts it: in UTF-16 code units, as a browser's
/// length limit does, so an emoji counts 2. Never less than the number of characters, so
/// a note that passes here is not cut short there.
pub fn note_length(note: &str) -> usize {
    note.encode_utf16().count()
}

/// Whether an invitation may carry `note`, given the account's `plan` and the invitations
/// it has already sent with a note this calendar month ([`month_bounds`]); if not, why —
/// and the invitation goes without it. A note that is too long is reported first, as it is
/// a fault to fix in the campaign whatever the month.
pub fn note_allowed(plan: Plan, noted_this_month: u32, note: &str) -> Result<(), NoteRefusal> {
    let length = note_length(note);
    let allowed = plan.note_chars();
    if length > allowed {
        return Err(NoteRefusal::TooLong {
            length,
            allowed,
            plan,
        });
    }
    match plan.noted_invitations_per_month() {
        Some(allowed) if noted_this_month >= allowed => Err(NoteRefusal::MonthlyNotesUsed { allowed, plan }),
        _ => Ok(()),
    }
}

/// How far back an account's task history matters: the acceptance guard samples the last
/// invitations at least 14 days old, the budgets the last 8 days. The task list reads this
/// much of it, and `forecast` forgets what is older, as the list would.
pub const HISTORY: SignedDuration = SignedDuration::from_hours(24 * 120);

/// What a LinkedIn task asks the person to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskKind {
    /// Send an invitation to connect.
    Connect,
    /// Message a connection.
    Message,
    /// Send an InMail (it costs a credit).
    Inmail,
}

impl TaskKind {
    /// Reads the name a store keeps: `connect`, `message` or `inmail`.
    pub fn parse(text: &str) -> Option<TaskKind> {
        Some(match text {
            "connect" => TaskKind::Connect,
            "message" => TaskKind::Message,
            "inmail" => TaskKind::Inmail,
            _ => return None,
        })
    }
}

/// A task of an account's history, as its budgets count it. A skipped task counts for
/// nothing and is left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskRecord {
    pub kind: TaskKind,
    /// When the person marked it done; `None` while it is handed out and still open.
    pub done_at: Option<Timestamp>,
    /// An invitation that carries its note.
    pub noted: bool,
    /// An invitation that was accepted (whenever that was).
    pub accepted: bool,
    pub declined: bool,
    /// An invitation taken back (a withdraw task was handed out for it): no longer pending.
    pub withdrawn: bool,
}

/// What an account's budgets are reckoned from, besides its limits.
#[derive(Clone, Copy, Debug)]
pub struct AccountHistory<'a> {
    /// The tasks still open and those done within [`HISTORY`].
    pub tasks: &'a [TaskRecord],
    /// The acceptance guard judges only invitations sent from here on (the user resumed
    /// a paused account then: what came before was already judged).
    pub judged_since: Option<Timestamp>,
    /// InMail credits available at the instant, by the account's [`InMailLedger`] (open
    /// InMail tasks not yet taken off).
    pub inmail_credits: u32,
}

/// An account's budgets at an instant: what today's task list may hand out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayBudget {
    pub guard: Guard,
    /// Today's invitations: the pace within the rolling window, under the guard and the
    /// pending ceiling.
    pub invitations: Allowance,
    /// What the list may still hand out today, once the tasks already open are counted.
    pub invitations_left: u32,
    pub messages_left: u32,
    /// The ledger's credits less the InMail tasks handed out and not done yet.
    pub inmail_left: u32,
    /// Invitations with a note this calendar month (open ones included).
    pub noted_this_month: u32,
    /// Invitations done and neither accepted nor declined yet.
    pub pending: u32,
    pub invitations_last_7_days: u32,
    pub messages_last_7_days: u32,
}

/// The budgets at `now` of an account with these `limits` whose days are counted in `tz`,
/// from its `history`, for a person who works through the list every day and asks for
/// `requested` today if they want more than the pace. The task list and `forecast` both
/// hand out what this says, so a forecast's LinkedIn days are the list's.
pub fn day_budget(
    limits: &Limits,
    history: AccountHistory<'_>,
    now: Timestamp,
    tz: &TimeZone,
    requested: Option<u32>,
) -> DayBudget {
    let tasks = history.tasks;
    let done = |kind: TaskKind| -> Vec<Timestamp> {
        tasks
            .iter()
            .filter(|t| t.kind == kind)
            .filter_map(|t| t.done_at)
            .collect()
    };
    let open = |kind: TaskKind| count(tasks.iter().filter(|t| t.kind == kind && t.done_at.is_none()));
    let invitations = done(TaskKind::Connect);
    let messages = done(TaskKind::Message);
    let connects = || tasks.iter().filter(|t| t.kind == TaskKind::Connect);
    let judged_since = history.judged_since.unwrap_or(Timestamp::MIN);
    let outcomes: Vec<InvitationOutcome> = connects()
        .filter_map(|t| {
            Some(InvitationOutcome {
                sent_at: t.done_at.filter(|&at| at >= judged_since)?,
                accepted: t.accepted,
            })
        })
        .collect();
    let pending =
        count(connects().filter(|t| t.done_at.is_some() && !t.accepted && !t.declined && !t.withdrawn));
    let guard = limits.guard().guard(&outcomes, now);
    let today = mailbox_day(now, tz);
    let invitations_today = limits.invitations(&guard, pending, &invitations).allowance(
        today,
        tz,
        Workdays::EVERY_DAY,
        requested,
    );
    let messages_today = limits
        .messages(&messages)
        .allowance(today, tz, Workdays::EVERY_DAY, requested);
    let (month_start, _) = month_bounds(today, tz);
    let this_month = |t: &&TaskRecord| t.done_at.is_none_or(|at| at >= month_start);
    let week_ago = minus(now, WINDOW);
    let within_week = |sent: &[Timestamp]| count(sent.iter().filter(|&&at| at > week_ago));
    DayBudget {
        guard,
        invitations: invitations_today,
        invitations_left: invitations_today.left.saturating_sub(open(TaskKind::Connect)),
        messages_left: messages_today.left.saturating_sub(open(TaskKind::Message)),
        inmail_left: history.inmail_credits.saturating_sub(open(TaskKind::Inmail)),
        noted_this_month: count(connects().filter(|t| t.noted).filter(this_month)),
        pending,
        invitations_last_7_days: within_week(&invitations),
        messages_last_7_days: within_week(&messages),
    }
}

/// The account a lead's LinkedIn steps go through, chosen when its first LinkedIn step
/// comes up and kept for good: of the campaign's accounts (in the campaign file's order,
/// each with what today's list may still hand out for that step), the one with the most
/// left; of equals, the last listed. `None` while none has room today: the lead waits
/// unassigned and is chosen for on a later day, so a day's overflow is not all piled onto
/// one account for good.
pub fn choose_account(accounts: impl IntoIterator<Item = (i64, u32)>) -> Option<i64> {
    accounts
        .into_iter()
        .filter(|&(_, left)| left > 0)
        .max_by_key(|&(_, left)| left)
        .map(|(id, _)| id)
}

/// Why an InMail cannot be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InMailRefusal {
    /// Free accounts have no InMail: they can only message connections.
    FreePlan,
    /// Every credit is spent or expired; the next grant comes at `next_grant`.
    NoCredit { next_grant: Option<Timestamp> },
}

impl fmt::Display for InMailRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InMailRefusal::FreePlan => f.write_str("the free plan has no InMail credits"),
            InMailRefusal::NoCredit { next_grant: Some(at) } => {
                write!(f, "no InMail credit left until the next grant at {at}")
            }
            InMailRefusal::NoCredit { next_grant: None } => f.write_str("no InMail credit left"),
        }
    }
}

impl std::error::Error for InMailRefusal {}

/// An account's InMail credits over time (see the module docs). Each call takes the
/// instant it acts at; the ledger first applies the grants and expiries up to it. Its
/// clock never runs backwards: a call with an earlier instant acts at the latest instant
/// seen, so a history replayed out of order can lose a credit but never invent one.
#[derive(Clone, Debug)]
pub struct InMailLedger {
    plan: Plan,
    credits: Credits,
    /// InMails sent within the refund window, each with the expiry of the credit it used,
    /// so a reply can give that credit back.
    spends: Vec<Spend>,
}

#[derive(Clone, Debug)]
struct Credits {
    monthly: u32,
    renewal_day: i8,
    tz: TimeZone,
    /// The (year, month) of the next grant; `None` when none will come.
    next_grant: Option<(i16, i8)>,
    clock: Timestamp,
    /// Unspent credits by expiry, soonest first; no lot is empty.
    lots: Vec<Lot>,
}

#[derive(Clone, Copy, Debug)]
struct Lot {
    expires: Timestamp,
    credits: u32,
}

#[derive(Clone, Copy, Debug)]
struct Spend {
    sent_at: Timestamp,
    credit_expires: Timestamp,
}

impl InMailLedger {
    /// A ledger from `opened` (when Inroad starts tracking the account), holding the
    /// `opening_balance` LinkedIn shows then. LinkedIn shows the balance, not the credits'
    /// ages, so the opening credits are taken as granted at `opened`. Grants follow at the
    /// start of each `renewal_day` (1–31; a shorter month grants on its last day) in `tz`,
    /// the first one after `opened`. A free plan's ledger never holds a credit.
    pub fn new(
        plan: Plan,
        renewal_day: u8,
        tz: TimeZone,
        opened: Timestamp,
        opening_balance: u32,
    ) -> Result<InMailLedger, LimitsError> {
        let renewal_day = match i8::try_from(renewal_day) {
            Ok(day @ 1..=31) => day,
            _ => return Err(LimitsError::RenewalDay(renewal_day)),
        };
        let monthly = plan.inmail_credits_per_month();
        let opening = if plan.is_paid() {
            opening_balance.min(INMAIL_ROLLOVER_CAP)
        } else {
            0
        };
        let lots = (opening > 0)
            .then(|| Lot {
                expires: plus(opened, INMAIL_LIFETIME),
                credits: opening,
            })
            .into_iter()
            .collect();
        let mut credits = Credits {
            monthly,
            renewal_day,
            tz,
            next_grant: None,
            clock: opened,
            lots,
        };
        if monthly > 0 {
            let day = mailbox_day(opened, &credits.tz);
            credits.next_grant = Some((day.year(), day.month()));
            // This month's grant is already in the opening balance if it came before.
            if credits.grant_instant().is_some_and(|at| at <= opened) {
                credits.next_grant = credits.next_grant.and_then(following_month);
            }
        }
        Ok(InMailLedger {
            plan,
            credits,
            spends: Vec::new(),
        })
    }

    /// Credits that can be spent at `now`.
    pub fn available(&self, now: Timestamp) -> u32 {
        let mut credits = self.credits.clone();
        credits.advance(now);
        credits.balance()
    }

    /// When the next monthly grant comes, from the ledger's clock; `None` on the free plan.
    pub fn next_grant(&self) -> Option<Timestamp> {
        self.credits.grant_instant()
    }

    /// Spends the credit that expires soonest for an InMail sent at `now`, or says why none
    /// can be spent. The balance never goes below 0.
    pub fn consume(&mut self, now: Timestamp) -> Result<(), InMailRefusal> {
        if !self.plan.is_paid() {
            return Err(InMailRefusal::FreePlan);
        }
        self.advance(now);
        let Some(lot) = self.credits.lots.first_mut() else {
            return Err(InMailRefusal::NoCredit {
                next_grant: self.credits.grant_instant(),
            });
        };
        lot.credits -= 1;
        let credit_expires = lot.expires;
        if lot.credits == 0 {
            self.credits.lots.remove(0);
        }
        self.spends.push(Spend {
            sent_at: self.credits.clock,
            credit_expires,
        });
        Ok(())
    }

    /// Records a reply at `replied_at` to the InMail sent at `sent_at`, and says whether
    /// its credit came back: only for a reply within [`INMAIL_REFUND_WINDOW`] to an InMail
    /// this ledger spent a credit on, once. The credit keeps its original expiry (nothing
    /// says LinkedIn extends it), so one that would have expired is not returned, and none
    /// is returned into a full balance.
    pub fn refund(&mut self, sent_at: Timestamp, replied_at: Timestamp) -> bool {
        self.advance(replied_at);
        let now = self.credits.clock;
        if sent_at > now || now > plus(sent_at, INMAIL_REFUND_WINDOW) {
            return false;
        }
        let Some(index) = self.spends.iter().position(|spend| spend.sent_at == sent_at) else {
            return false;
        };
        let spend = self.spends.swap_remove(index);
        if spend.credit_expires <= now || self.credits.balance() >= INMAIL_ROLLOVER_CAP {
            return false;
        }
        self.credits.add(spend.credit_expires, 1);
        true
    }

    fn advance(&mut self, now: Timestamp) {
        self.credits.advance(now);
        let clock = self.credits.clock;
        self.spends
            .retain(|spend| plus(spend.sent_at, INMAIL_REFUND_WINDOW) >= clock);
    }
}

impl Credits {
    fn balance(&self) -> u32 {
        self.lots
            .iter()
            .fold(0u32, |sum, lot| sum.saturating_add(lot.credits))
    }

    /// The instant of the next grant, or `None` when none will come (a free plan, or past
    /// the year 9999).
    fn grant_instant(&self) -> Option<Timestamp> {
        let (year, month) = self.next_grant?;
        let days_in_month = Date::new(year, month, 1).ok()?.days_in_month();
        let day = Date::new(year, month, self.renewal_day.min(days_in_month)).ok()?;
        Some(day_bounds(day, &self.tz).0)
    }

    fn advance(&mut self, now: Timestamp) {
        if now <= self.clock {
            return;
        }
        while let Some(at) = self.grant_instant().filter(|&at| at <= now) {
            // Expiries before the grant free room under the cap for it.
            self.expire(at);
            let granted = self
                .monthly
                .min(INMAIL_ROLLOVER_CAP.saturating_sub(self.balance()));
            self.add(plus(at, INMAIL_LIFETIME), granted);
            self.next_grant = self.next_grant.and_then(following_month);
        }
        self.expire(now);
        self.clock = now;
    }

    /// Drops the credits that have expired by `at`.
    fn expire(&mut self, at: Timestamp) {
        let expired = self.lots.partition_point(|lot| lot.expires <= at);
        self.lots.drain(..expired);
    }

    fn add(&mut self, expires: Timestamp, credits: u32) {
        if credits == 0 {
            return;
        }
        let index = self.lots.partition_point(|lot| lot.expires < expires);
        match self.lots.get_mut(index) {
            Some(lot) if lot.expires == expires => lot.credits = lot.credits.saturating_add(credits),
            _ => self.lots.insert(index, Lot { expires, credits }),
        }
    }
}

fn following_month((year, month): (i16, i8)) -> Option<(i16, i8)> {
    if month >= 12 {
        Some((year.checked_add(1)?, 1))
    } else {
        Some((year, month + 1))
    }
}

fn minus(t: Timestamp, duration: SignedDuration) -> Timestamp {
    t.saturating_sub(duration).unwrap_or(Timestamp::MIN)
}

fn plus(t: Timestamp, duration: SignedDuration) -> Timestamp {
    t.saturating_add(duration).unwrap_or(Timestamp::MAX)
}

fn count<T>(items: impl Iterator<Item = T>) -> u32 {
    u32::try_from(items.count()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    const EVERY: Workdays = Workdays::EVERY_DAY;

    fn secs(n: i64) -> SignedDuration {
        SignedDuration::from_secs(n)
    }

    /// Works `days` days from `first` on `workdays`' pace: each day takes the allowance (with the day's request
    /// from `ask`), sends what `send` decides (at most what is left), one second apart from
    /// 10:00 local, and returns each day's allowance and the whole history.
    fn work(
        limit: u32,
        first: Date,
        zone: &TimeZone,
        workdays: Workdays,
        days: usize,
        ask: impl Fn(usize) -> Option<u32>,
        send: impl Fn(usize, &Allowance) -> u32,
    ) -> (Vec<Allowance>, Vec<Timestamp>) {
        let mut history = Vec::new();
        let mut allowances = Vec::new();
        let mut day = first;
        for index in 0..days {
            let allowance = RollingBudget::new(limit, &history).allowance(day, zone, workdays, ask(index));
            let ten = day_bounds(day, zone).0 + SignedDuration::from_hours(10);
            let sends = send(index, &allowance).min(allowance.left);
            history.extend((0..i64::from(sends)).map(|i| ten + secs(i)));
            allowances.push(allowance);
            day = day.tomorrow().unwrap();
        }
        (allowances, history)
    }

    /// The most sends any 7×24-hour window holds (windows ending at a send are the fullest).
    fn fullest_window(history: &[Timestamp]) -> usize {
        let mut sorted = history.to_vec();
        sorted.sort();
        let mut start = 0;
        let mut most = 0;
        for end in 0..sorted.len() {
            while sorted[start] <= sorted[end] - WINDOW {
                start += 1;
            }
            most = most.max(end + 1 - start);
        }
        most
    }

    #[test]
    fn plans_parse_their_names_and_refuse_others() {
        for plan in Plan::ALL {
            assert_eq!(Plan::parse(plan.as_str()), Ok(plan));
            assert_eq!(plan.to_string().parse::<Plan>(), Ok(plan));
        }
        assert_eq!(Plan::parse(" Sales-Navigator "), Ok(Plan::SalesNavigator));
        for bad in ["", "premium", "sales navigator", "business", "free-plan"] {
            let error = Plan::parse(bad).unwrap_err();
            assert_eq!(error, LimitsError::UnknownPlan(bad.into()));
            assert!(error.to_string().contains("premium-career"), "{error}");
        }
    }

    #[test]
    fn plans_set_notes_messages_and_inmail() {
        let table: Vec<_> = Plan::ALL
            .iter()
            .map(|p| {
                (
                    p.note_chars(),
                    p.noted_invitations_per_month(),
                    p.messages_per_week(),
                    p.inmail_credits_per_month(),
                )
            })
            .collect();
        assert_eq!(
            table,
            [
                (200, Some(5), 100, 0),
                (300, None, 150, 5),
                (300, None, 150, 15),
                (300, None, 150, 50),
            ]
        );
        let free = Limits::for_plan(Plan::Free);
        assert_eq!(free.invitations_per_week(), 100);
        assert_eq!(free.messages_per_week(), 100);
        assert_eq!(free.pending_ceiling(), 500);
        assert_eq!(*free.guard(), GuardThresholds::default());
        assert_eq!(Limits::for_plan(Plan::SalesNavigator).messages_per_week(), 150);
        assert_eq!(
            Limits::new(Plan::Free, &Overrides::default()),
            Ok(free),
            "no overrides: the defaults"
        );
    }

    #[test]
    fn overrides_may_lower_and_only_invitations_may_rise_to_200() {
        let with = |overrides: Overrides| Limits::new(Plan::PremiumBusiness, &overrides);
        let raised = with(Overrides {
            invitations_per_week: Some(200),
            messages_per_week: Some(40),
            pending_ceiling: Some(300),
            ..Overrides::default()
        })
        .unwrap();
        assert_eq!(
            (
                raised.invitations_per_week(),
                raised.messages_per_week(),
                raised.pending_ceiling()
            ),
            (200, 40, 300)
        );
        assert_eq!(
            with(Overrides {
                invitations_per_week: Some(0),
                ..Overrides::default()
            })
            .map(|l| l.invitations_per_week()),
            Ok(0),
            "0 rests the account"
        );
        let refused = |overrides: Overrides| with(overrides).unwrap_err();
        let error = refused(Overrides {
            invitations_per_week: Some(201),
            ..Overrides::default()
        });
        assert_eq!(error, LimitsError::InvitationsAboveMax { requested: 201 });
        assert!(error.to_string().contains("200"), "{error}");
        assert_eq!(
            refused(Overrides {
                messages_per_week: Some(151),
                ..Overrides::default()
            }),
            LimitsError::MessagesAboveSafe {
                requested: 151,
                plan: Plan::PremiumBusiness
            }
        );
        assert_eq!(
            Limits::new(
                Plan::Free,
                &Overrides {
                    messages_per_week: Some(101),
                    ..Overrides::default()
                }
            )
            .unwrap_err()
            .to_string(),
            "101 messages a week is above the safe 100 for the free plan"
        );
        assert_eq!(
            refused(Overrides {
                pending_ceiling: Some(501),
                ..Overrides::default()
            }),
            LimitsError::PendingAboveCeiling { requested: 501 }
        );
        let guard = |g: GuardThresholds| {
            refused(Overrides {
                guard: Some(g),
                ..Overrides::default()
            })
        };
        let base = GuardThresholds::default();
        assert_eq!(
            guard(GuardThresholds {
                halve_below_percent: 101,
                ..base
            }),
            LimitsError::GuardPercentAbove100 { percent: 101 }
        );
        assert_eq!(
            guard(GuardThresholds {
                pause_below_percent: 40,
                ..base
            }),
            LimitsError::GuardPauseAboveHalve { pause: 40, halve: 30 }
        );
        assert_eq!(
            guard(GuardThresholds {
                sample: 0,
                min_sample: 0,
                ..base
            }),
            LimitsError::GuardEmptySample
        );
        assert_eq!(
            guard(GuardThresholds {
                min_sample: 51,
                ..base
            }),
            LimitsError::GuardMinSampleAboveSample {
                min_sample: 51,
                sample: 50
            }
        );
        let custom = GuardThresholds {
            halve_below_percent: 40,
            pause_below_percent: 20,
            sample: 100,
            min_age_days: 21,
            min_sample: 30,
        };
        assert_eq!(
            with(Overrides {
                guard: Some(custom),
                ..Overrides::default()
            })
            .map(|l| *l.guard()),
            Ok(custom)
        );
    }

    #[test]
    fn design_example_70_on_day_one_leaves_exactly_30_for_that_window() {
        let berlin = tz("Europe/Berlin");
        let monday = date(2025, 1, 6);
        // 70 invitations on Monday from 10:00 CET, one a minute.
        let first = ts("2025-01-06T09:00:00Z");
        let mondays: Vec<Timestamp> = (0..70).map(|i| first + secs(60 * i)).collect();
        let budget = RollingBudget::new(100, &mondays);
        assert_eq!(budget.remaining(first + secs(60 * 69)), 30);
        assert_eq!(
            budget.remaining(ts("2025-01-13T08:59:59Z")),
            30,
            "next Monday 09:59"
        );
        let wednesday = ts("2025-01-08T12:00:00Z");
        assert_eq!(budget.next_free(wednesday), Some(wednesday));

        // Asked for everything on Tuesday: exactly 30, whatever is asked.
        let tuesday = budget.allowance(monday.tomorrow().unwrap(), &berlin, EVERY, Some(1000));
        assert_eq!((tuesday.quota, tuesday.ceiling, tuesday.left), (30, 30, 30));
        let mut history = mondays.clone();
        history.extend((0..30).map(|i| ts("2025-01-07T11:00:00Z") + secs(i)));
        let budget = RollingBudget::new(100, &history);
        assert_eq!(budget.remaining(ts("2025-01-12T23:00:00Z")), 0);
        // Each comes back exactly 7×24 hours after it was sent, oldest first.
        let back = first + WINDOW;
        assert_eq!(budget.next_free(ts("2025-01-12T23:00:00Z")), Some(back));
        assert_eq!(budget.remaining(back - secs(1)), 0);
        assert_eq!(budget.remaining(back), 1);
        assert_eq!(budget.remaining(back + secs(60 * 69)), 70);
        assert_eq!(budget.next_free(back + secs(30)), Some(back + secs(30)));

        // Paced instead: the 30 spread from Tuesday to the next Monday, which still shares a
        // window with this Monday's sends, and nothing more in any window.
        let mut history = mondays;
        let mut paced = Vec::new();
        let mut day = monday.tomorrow().unwrap();
        for _ in 0..7 {
            let allowance = RollingBudget::new(100, &history).allowance(day, &berlin, EVERY, None);
            let noon = day_bounds(day, &berlin).0 + SignedDuration::from_hours(12);
            history.extend((0..allowance.left).map(|i| noon + secs(i.into())));
            paced.push(allowance.left);
            day = day.tomorrow().unwrap();
        }
        assert_eq!(paced, [5, 5, 4, 4, 4, 4, 4]);
        assert_eq!(paced.iter().sum::<u32>(), 30);
        // On Tuesday week, Monday's 70 are usable again; the paced 30 still count.
        let tuesday_week = RollingBudget::new(100, &history).allowance(day, &berlin, EVERY, Some(100));
        assert_eq!((day, tuesday_week.ceiling), (date(2025, 1, 14), 70));
        assert!(fullest_window(&history) <= 100);
    }

    #[test]
    fn a_fresh_budget_paces_at_a_seventh_rounded_up() {
        let day = date(2025, 5, 5);
        let pace = |limit| RollingBudget::new(limit, &[]).allowance(day, &TimeZone::UTC, EVERY, None);
        assert_eq!(pace(100).quota, 15);
        assert_eq!(pace(150).quota, 22);
        assert_eq!(pace(200).quota, 29);
        assert_eq!(pace(7).quota, 1);
        assert_eq!(pace(1).quota, 1);
        assert_eq!(
            pace(0),
            Allowance {
                quota: 0,
                ceiling: 0,
                sent: 0,
                left: 0
            }
        );
        assert_eq!(pace(100).ceiling, 100);
        assert_eq!(
            pace(u32::MAX).quota,
            u32::MAX.div_ceil(7),
            "no overflow at the top"
        );
    }

    #[test]
    fn worked_daily_the_pace_settles_at_an_eighth_of_the_limit() {
        let (allowances, history) = work(
            100,
            date(2025, 1, 1),
            &tz("America/New_York"),
            EVERY,
            60,
            |_| None,
            |_, a| a.left,
        );
        let quotas: Vec<u32> = allowances.iter().map(|a| a.quota).collect();
        assert_eq!(&quotas[..3], [15, 13, 12]);
        assert!(quotas[10..].iter().all(|q| (12..=13).contains(q)), "{quotas:?}");
        assert!(
            quotas.windows(8).skip(10).all(|w| w.iter().sum::<u32>() == 100),
            "{quotas:?}"
        );
        // Sent at the same hour every day, a 7×24-hour window holds seven days' worth.
        assert_eq!(fullest_window(&history), 88);
    }

    #[test]
    fn a_missed_day_lifts_the_following_days_without_a_burst() {
        let skipped = [20, 21, 22];
        let (allowances, history) = work(
            100,
            date(2025, 2, 3),
            &tz("Europe/Berlin"),
            EVERY,
            45,
            |_| None,
            |day, a| if skipped.contains(&day) { 0 } else { a.left },
        );
        let quotas: Vec<u32> = allowances.iter().map(|a| a.quota).collect();
        assert!(quotas[12..20].iter().all(|&q| q <= 13), "{quotas:?}");
        assert!(quotas[21..24].iter().all(|&q| q == 15), "{quotas:?}");
        assert!(
            quotas.iter().all(|&q| q <= 15),
            "never above the fresh pace: {quotas:?}"
        );
        assert!(fullest_window(&history) <= 100);
    }

    #[test]
    fn the_pace_spreads_over_workdays_only() {
        let monday = date(2025, 2, 3);
        let fresh = RollingBudget::new(100, &[]);
        let weekdays = Workdays::MONDAY_TO_FRIDAY;
        // Fresh on a Monday: 100 over the five workdays of the next seven days.
        assert_eq!(fresh.allowance(monday, &TimeZone::UTC, weekdays, None).quota, 20);
        // Not a workday: nothing paced, but a request still gets what the window allows.
        let saturday = date(2025, 2, 8);
        assert_eq!(fresh.allowance(saturday, &TimeZone::UTC, weekdays, None).quota, 0);
        assert_eq!(
            fresh
                .allowance(saturday, &TimeZone::UTC, weekdays, Some(30))
                .quota,
            30
        );
        let never = Workdays::new(&[]);
        assert_eq!(fresh.allowance(monday, &TimeZone::UTC, never, None).quota, 0);
        assert_eq!(
            Workdays::new(&[
                Weekday::Monday,
                Weekday::Tuesday,
                Weekday::Wednesday,
                Weekday::Thursday,
                Weekday::Friday,
                Weekday::Monday
            ]),
            weekdays
        );
        // Worked Monday to Friday, the pace settles at 16–17 a weekday, about 83 a week…
        let (allowances, history) = work(
            100,
            monday,
            &tz("Europe/Berlin"),
            weekdays,
            70,
            |_| None,
            |_, a| a.left,
        );
        let worked: Vec<u32> = allowances[21..]
            .iter()
            .enumerate()
            .filter(|(day, _)| day % 7 < 5)
            .map(|(_, a)| a.quota)
            .collect();
        assert!(worked.iter().all(|q| (16..=17).contains(q)), "{worked:?}");
        assert!(fullest_window(&history) <= 100);
        // …where a pace spread over all seven days would leave the weekend's share unused.
        let (allowances, _) = work(
            100,
            monday,
            &tz("Europe/Berlin"),
            EVERY,
            70,
            |_| None,
            |day, a| if day % 7 < 5 { a.left } else { 0 },
        );
        let weekly: u32 = allowances[49..63].iter().map(|a| a.sent).sum();
        let weekly_on_workdays: u32 = worked[..10].iter().sum();
        assert!(
            weekly + 30 < weekly_on_workdays,
            "{weekly} vs {weekly_on_workdays} over two weeks"
        );
    }

    #[test]
    fn a_request_raises_today_up_to_what_the_window_allows() {
        let day = date(2025, 5, 5);
        let fresh = RollingBudget::new(100, &[]);
        assert_eq!(fresh.allowance(day, &TimeZone::UTC, EVERY, Some(50)).quota, 50);
        assert_eq!(fresh.allowance(day, &TimeZone::UTC, EVERY, Some(1000)).quota, 100);
        assert_eq!(
            fresh.allowance(day, &TimeZone::UTC, EVERY, Some(3)).quota,
            15,
            "asking for less keeps the pace"
        );
        // Greedy every day: never more than 100 in a window, whatever is asked.
        let (allowances, history) = work(
            100,
            day,
            &TimeZone::UTC,
            EVERY,
            30,
            |d| Some([1000, 0, 40, 7][d % 4]),
            |_, a| a.left,
        );
        assert_eq!(allowances[0].left, 100);
        assert_eq!(fullest_window(&history), 100);
    }

    #[test]
    fn todays_sends_come_off_what_is_left_not_off_the_quota() {
        let zone = tz("Asia/Kathmandu");
        let day = date(2025, 6, 2);
        let start = day_bounds(day, &zone).0;
        let mut history = vec![start - secs(1), start];
        let morning = RollingBudget::new(100, &history).allowance(day, &zone, EVERY, None);
        assert_eq!((morning.quota, morning.sent, morning.left), (15, 1, 14));
        history.extend((1..10).map(|i| start + secs(3600 * i)));
        let afternoon = RollingBudget::new(100, &history).allowance(day, &zone, EVERY, None);
        assert_eq!((afternoon.quota, afternoon.sent, afternoon.left), (15, 10, 5));
        // Sent beyond the quota (by hand, or with an earlier request): nothing left, no wrap.
        history.extend((0..20).map(|i| start + secs(60 * i)));
        let evening = RollingBudget::new(100, &history).allowance(day, &zone, EVERY, None);
        assert_eq!((evening.sent, evening.left), (30, 0));
        // The next day's end is exclusive: a send at tomorrow's first instant is not today's.
        let tomorrow = day_bounds(day, &zone).1;
        history.push(tomorrow);
        assert_eq!(
            RollingBudget::new(100, &history)
                .allowance(day, &zone, EVERY, None)
                .sent,
            30
        );
    }

    #[test]
    fn sends_recorded_after_today_still_count() {
        let day = date(2025, 6, 2);
        let later: Vec<Timestamp> = (0..98).map(|i| ts("2025-06-05T12:00:00Z") + secs(i)).collect();
        let budget = RollingBudget::new(100, &later);
        assert_eq!(budget.allowance(day, &TimeZone::UTC, EVERY, Some(100)).left, 2);
        assert_eq!(budget.remaining(ts("2025-06-02T12:00:00Z")), 2);
    }

    #[test]
    fn the_window_is_7_times_24_hours_across_a_dst_change() {
        let berlin = tz("Europe/Berlin");
        // Sunday 23:30 CET; Berlin springs forward on 2025-03-30, so 7×24 h later it is
        // 00:30 CEST on Monday 2025-03-31, eight calendar days on.
        let sent = [ts("2025-03-23T22:30:00Z")];
        let budget = RollingBudget::new(1, &sent);
        assert_eq!(budget.remaining(ts("2025-03-30T22:29:59Z")), 0);
        assert_eq!(budget.remaining(ts("2025-03-30T22:30:00Z")), 1);
        assert_eq!(
            budget.next_free(ts("2025-03-25T00:00:00Z")),
            Some(ts("2025-03-30T22:30:00Z"))
        );
        assert_eq!(
            budget.allowance(date(2025, 3, 31), &berlin, EVERY, None).ceiling,
            0
        );
        assert_eq!(
            budget.allowance(date(2025, 4, 1), &berlin, EVERY, None).ceiling,
            1
        );
    }

    #[test]
    fn next_free_waits_for_enough_of_the_oldest_sends() {
        let base = ts("2025-01-01T00:00:00Z");
        // Over-full (entered by hand): 5 in the window against a limit of 3.
        let history: Vec<Timestamp> = [40, 10, 30, 0, 20].iter().map(|&m| base + secs(60 * m)).collect();
        let budget = RollingBudget::new(3, &history);
        let now = base + SignedDuration::from_hours(1);
        assert_eq!(budget.remaining(now), 0);
        // Three must leave (minutes 0, 10, 20) before one unit is free.
        assert_eq!(budget.next_free(now), Some(base + secs(60 * 20) + WINDOW));
        assert_eq!(RollingBudget::new(0, &[]).next_free(now), None);
        assert_eq!(
            RollingBudget::new(5, &history).next_free(now),
            Some(base + WINDOW)
        );
        assert_eq!(RollingBudget::new(6, &history).next_free(now), Some(now));
        // The ends of time saturate instead of overflowing.
        let edge = [Timestamp::MAX, Timestamp::MIN];
        let budget = RollingBudget::new(1, &edge);
        assert_eq!(budget.remaining(Timestamp::MIN), 0);
        assert_eq!(budget.next_free(Timestamp::MAX), Some(Timestamp::MAX));
        assert_eq!(
            budget.allowance(Date::MAX, &TimeZone::UTC, EVERY, Some(9)).left,
            0
        );
        assert_eq!(
            budget.allowance(Date::MIN, &TimeZone::UTC, EVERY, Some(9)).left,
            0
        );
    }

    #[test]
    fn invitations_follow_the_guard_and_the_pending_ceiling() {
        let limits = Limits::for_plan(Plan::Free);
        let day = date(2025, 5, 5);
        let utc = TimeZone::UTC;
        let rate = Rate {
            accepted: 10,
            sampled: 50,
        };
        let today = |guard: Guard, pending: u32, requested: Option<u32>| {
            limits
                .invitations(&guard, pending, &[])
                .allowance(day, &utc, EVERY, requested)
        };
        assert_eq!(today(Guard::Normal, 0, None).left, 15);
        assert_eq!(today(Guard::Halved { rate }, 0, None).left, 8, "ceil(50 / 7)");
        assert_eq!(today(Guard::Halved { rate }, 0, Some(100)).left, 50);
        assert_eq!(today(Guard::Paused { rate }, 0, Some(100)).left, 0);
        assert_eq!(today(Guard::Normal, 495, None).left, 5);
        assert_eq!(today(Guard::Normal, 500, Some(50)).left, 0);
        assert_eq!(today(Guard::Normal, 9_999, None).left, 0);
        let now = ts("2025-05-05T12:00:00Z");
        assert_eq!(limits.invitations(&Guard::Normal, 480, &[]).remaining(now), 20);
        assert_eq!(limits.invitations(&Guard::Normal, 500, &[]).next_free(now), None);
        let messages: Vec<Timestamp> = (0..100).map(|i| now - secs(i)).collect();
        assert_eq!(limits.messages(&messages).remaining(now), 0);
        assert_eq!(
            Limits::for_plan(Plan::SalesNavigator)
                .messages(&messages)
                .remaining(now),
            50
        );
    }

    #[test]
    fn notes_respect_length_and_the_free_plans_monthly_five() {
        assert_eq!(note_allowed(Plan::Free, 0, &"a".repeat(200)), Ok(()));
        let too_long = note_allowed(Plan::Free, 0, &"a".repeat(240)).unwrap_err();
        assert_eq!(
            too_long.to_string(),
            "note is 240 characters; the free plan allows 200"
        );
        assert_eq!(note_allowed(Plan::Free, 4, "Hi Ann"), Ok(()));
        let used = note_allowed(Plan::Free, 5, "Hi Ann").unwrap_err();
        assert_eq!(
            used.to_string(),
            "the free plan's 5 noted invitations this month are used"
        );
        assert_eq!(note_allowed(Plan::PremiumCareer, 5_000, &"a".repeat(300)), Ok(()));
        assert_eq!(
            note_allowed(Plan::SalesNavigator, 0, &"a".repeat(301))
                .unwrap_err()
                .to_string(),
            "note is 301 characters; the Sales Navigator plan allows 300"
        );
        // Emoji count twice, as a browser counts them; accents once.
        assert_eq!(note_length("été 👋"), 6);
        assert_eq!(
            note_allowed(Plan::Free, 0, &"👋".repeat(101)),
            Err(NoteRefusal::TooLong {
                length: 202,
                allowed: 200,
                plan: Plan::Free
            })
        );
        // Both wrong: the length, a fault to fix whatever the month, is reported.
        assert!(matches!(
            note_allowed(Plan::Free, 9, &"a".repeat(201)),
            Err(NoteRefusal::TooLong { .. })
        ));
    }

    #[test]
    fn a_month_is_counted_in_the_accounts_zone() {
        assert_eq!(
            month_bounds(date(2025, 3, 17), &tz("Europe/Berlin")),
            (ts("2025-02-28T23:00:00Z"), ts("2025-03-31T22:00:00Z"))
        );
        assert_eq!(
            month_bounds(date(2024, 2, 29), &TimeZone::UTC),
            (ts("2024-02-01T00:00:00Z"), ts("2024-03-01T00:00:00Z"))
        );
        assert_eq!(month_bounds(Date::MAX, &TimeZone::UTC).1, Timestamp::MAX);
    }

    fn days(n: i64) -> SignedDuration {
        SignedDuration::from_hours(24 * n)
    }

    #[test]
    fn free_plans_never_have_inmail() {
        let opened = ts("2025-01-01T00:00:00Z");
        let mut ledger = InMailLedger::new(Plan::Free, 1, TimeZone::UTC, opened, 100).unwrap();
        assert_eq!(ledger.available(opened + days(400)), 0);
        assert_eq!(ledger.next_grant(), None);
        assert_eq!(ledger.consume(opened + days(40)), Err(InMailRefusal::FreePlan));
        assert!(!ledger.refund(opened + days(40), opened + days(41)));
    }

    #[test]
    fn credits_are_granted_on_the_renewal_day() {
        let utc = TimeZone::UTC;
        let opened = ts("2025-01-20T15:00:00Z");
        let mut ledger = InMailLedger::new(Plan::PremiumCareer, 31, utc, opened, 0).unwrap();
        assert_eq!(ledger.available(opened), 0);
        assert_eq!(ledger.next_grant(), Some(ts("2025-01-31T00:00:00Z")));
        assert_eq!(
            ledger.consume(opened),
            Err(InMailRefusal::NoCredit {
                next_grant: Some(ts("2025-01-31T00:00:00Z"))
            })
        );
        assert_eq!(ledger.available(ts("2025-01-30T23:59:59Z")), 0);
        assert_eq!(ledger.available(ts("2025-01-31T00:00:00Z")), 5);
        // February has no 31st: its grant comes on the 28th.
        assert_eq!(ledger.available(ts("2025-02-27T12:00:00Z")), 5);
        assert_eq!(ledger.available(ts("2025-02-28T00:00:00Z")), 10);
        assert_eq!(ledger.available(ts("2025-03-31T00:00:00Z")), 15);
        // In the account's zone: Berlin's 1st starts at 23:00 UTC the day before.
        let berlin = InMailLedger::new(Plan::PremiumBusiness, 1, tz("Europe/Berlin"), opened, 0).unwrap();
        assert_eq!(berlin.available(ts("2025-01-31T22:59:59Z")), 0);
        assert_eq!(berlin.available(ts("2025-01-31T23:00:00Z")), 15);
        // Opened on the renewal day after its start: that grant is in the opening balance.
        let same_day = InMailLedger::new(Plan::PremiumCareer, 20, TimeZone::UTC, opened, 3).unwrap();
        assert_eq!(same_day.available(opened), 3);
        assert_eq!(same_day.next_grant(), Some(ts("2025-02-20T00:00:00Z")));
        for bad in [0, 32, 200] {
            assert_eq!(
                InMailLedger::new(Plan::PremiumCareer, bad, TimeZone::UTC, opened, 0).unwrap_err(),
                LimitsError::RenewalDay(bad)
            );
        }
    }

    #[test]
    fn credits_expire_after_90_days_oldest_spent_first() {
        let opened = ts("2024-12-31T12:00:00Z");
        let mut ledger = InMailLedger::new(Plan::PremiumCareer, 1, TimeZone::UTC, opened, 0).unwrap();
        let january = ts("2025-01-01T00:00:00Z");
        let february = ts("2025-02-01T00:00:00Z");
        assert_eq!(ledger.available(february), 10);
        // Two InMails in February spend January's credits; three of them remain.
        ledger.consume(february + days(1)).unwrap();
        ledger.consume(february + days(2)).unwrap();
        assert_eq!(ledger.available(february + days(2)), 8);
        // March adds 5. January's 3 expire 90 days after their grant, the instant April's
        // 5 arrive.
        let expiry = january + days(90);
        assert_eq!(expiry, ts("2025-04-01T00:00:00Z"));
        assert_eq!(ledger.available(expiry - secs(1)), 13);
        assert_eq!(ledger.available(expiry), 15);
        // Each month's credits live 90 days, so without spending a balance tops out at 15.
        assert_eq!(ledger.available(ts("2025-12-15T00:00:00Z")), 15);
    }

    #[test]
    fn the_balance_never_exceeds_150() {
        let opened = ts("2025-01-15T00:00:00Z");
        let ledger = InMailLedger::new(Plan::SalesNavigator, 1, TimeZone::UTC, opened, 500).unwrap();
        assert_eq!(ledger.available(opened), 150, "an opening balance is capped too");
        // February's 50 find no room; the opening credits expire on April 15th.
        assert_eq!(ledger.available(ts("2025-03-01T00:00:00Z")), 150);
        assert_eq!(ledger.available(ts("2025-04-14T00:00:00Z")), 150);
        assert_eq!(ledger.available(ts("2025-04-15T00:00:00Z")), 0);
        assert_eq!(ledger.available(ts("2025-05-01T00:00:00Z")), 50);
        let fresh = InMailLedger::new(Plan::SalesNavigator, 1, TimeZone::UTC, opened, 0).unwrap();
        assert_eq!(fresh.available(ts("2025-04-01T00:00:00Z")), 150);
        assert_eq!(
            fresh.available(ts("2025-05-01T00:00:00Z")),
            150,
            "the oldest 50 expire as 50 arrive"
        );
    }

    #[test]
    fn a_reply_within_90_days_refunds_the_credit_once() {
        let opened = ts("2025-01-15T00:00:00Z");
        let mut ledger = InMailLedger::new(Plan::PremiumCareer, 1, TimeZone::UTC, opened, 2).unwrap();
        let first = opened + days(1);
        let second = opened + days(2);
        ledger.consume(first).unwrap();
        ledger.consume(second).unwrap();
        assert!(matches!(
            ledger.consume(second),
            Err(InMailRefusal::NoCredit { .. })
        ));
        assert!(ledger.refund(first, first + days(3)));
        assert_eq!(ledger.available(first + days(3)), 1);
        assert!(!ledger.refund(first, first + days(4)), "only once");
        assert!(!ledger.refund(opened, first + days(4)), "no InMail was sent then");
        ledger.consume(first + days(5)).unwrap();
        assert_eq!(ledger.available(first + days(5)), 0);
        // A reply 90 days and one second later refunds nothing.
        assert!(!ledger.refund(second, second + days(90) + secs(1)));
        // A refunded credit keeps its expiry: it does not outlive the lot it came from.
        let mut ledger = InMailLedger::new(Plan::PremiumCareer, 1, TimeZone::UTC, opened, 1).unwrap();
        ledger.consume(opened).unwrap();
        assert!(
            !ledger.refund(opened, opened + days(90)),
            "its credit expired that instant"
        );
    }

    #[test]
    fn the_ledger_clock_never_runs_backwards() {
        let opened = ts("2025-01-15T00:00:00Z");
        let mut ledger = InMailLedger::new(Plan::PremiumCareer, 1, TimeZone::UTC, opened, 1).unwrap();
        let later = opened + days(100);
        assert_eq!(ledger.available(later), 15, "February's, March's and April's");
        ledger.consume(later).unwrap();
        // An earlier instant acts at the latest one: the opening credit stays expired.
        ledger.consume(opened).unwrap();
        assert_eq!(ledger.available(opened), 13);
        // The end of time saturates.
        assert_eq!(ledger.available(Timestamp::MAX), 0);
        let mut ledger = InMailLedger::new(Plan::PremiumCareer, 1, TimeZone::UTC, Timestamp::MAX, 5).unwrap();
        assert_eq!(ledger.next_grant(), None);
        assert_eq!(ledger.consume(Timestamp::MAX), Ok(()));
    }

    fn outcomes(accepted: usize, ignored: usize, sent_at: Timestamp) -> Vec<InvitationOutcome> {
        (0..accepted + ignored)
            .map(|i| InvitationOutcome {
                sent_at: sent_at - secs(i as i64),
                accepted: i < accepted,
            })
            .collect()
    }

    #[test]
    fn the_guard_halves_under_30_and_pauses_under_15_percent() {
        let thresholds = GuardThresholds::default();
        let now = ts("2025-06-01T00:00:00Z");
        let old = now - days(14);
        let guard = |accepted, ignored| thresholds.guard(&outcomes(accepted, ignored, old), now);
        assert_eq!(guard(15, 35), Guard::Normal, "30% exactly");
        let halved = guard(14, 36);
        assert_eq!(
            halved,
            Guard::Halved {
                rate: Rate {
                    accepted: 14,
                    sampled: 50
                }
            }
        );
        if let Guard::Halved { rate } = halved {
            assert_eq!(rate.to_string(), "28% (14 of 50 accepted)");
        }
        assert_eq!(
            guard(8, 42),
            Guard::Halved {
                rate: Rate {
                    accepted: 8,
                    sampled: 50
                }
            },
            "16%"
        );
        assert_eq!(
            guard(7, 43),
            Guard::Paused {
                rate: Rate {
                    accepted: 7,
                    sampled: 50
                }
            }
        );
        assert_eq!(guard(0, 19), Guard::Normal, "19 invitations: too few to judge");
        assert_eq!(
            guard(0, 20),
            Guard::Paused {
                rate: Rate {
                    accepted: 0,
                    sampled: 20
                }
            }
        );
        // Only the 50 most recent count: 100 old ignored ones behind 50 accepted are forgotten.
        let mut history = outcomes(50, 0, old);
        history.extend(outcomes(0, 100, old - days(30)));
        assert_eq!(thresholds.guard(&history, now), Guard::Normal);
        // Invitations younger than 14 days have not had their chance; they are left out.
        let mut history = outcomes(0, 40, now - days(13));
        history.extend(outcomes(20, 0, old));
        assert_eq!(thresholds.guard(&history, now), Guard::Normal);
        assert_eq!(thresholds.guard(&[], now), Guard::Normal);
    }

    #[test]
    fn the_guard_does_not_depend_on_the_input_order() {
        let thresholds = GuardThresholds::default();
        let now = ts("2025-06-01T00:00:00Z");
        let old = now - days(20);
        // 60 invitations at one instant: 10 accepted. Ignored ones fill the sample first.
        let mut history: Vec<InvitationOutcome> = (0..60)
            .map(|i| InvitationOutcome {
                sent_at: old,
                accepted: i % 6 == 0,
            })
            .collect();
        let expected = Guard::Paused {
            rate: Rate {
                accepted: 0,
                sampled: 50,
            },
        };
        assert_eq!(thresholds.guard(&history, now), expected);
        history.reverse();
        assert_eq!(thresholds.guard(&history, now), expected);
        let edge = GuardThresholds {
            min_age_days: u32::MAX,
            ..thresholds
        };
        assert_eq!(edge.guard(&history, now), Guard::Normal, "nothing that old");
        assert_eq!(
            Rate {
                accepted: 1,
                sampled: 0
            }
            .percent(),
            0
        );
    }

    fn record(kind: TaskKind, done_at: Option<&str>) -> TaskRecord {
        TaskRecord {
            kind,
            done_at: done_at.map(ts),
            noted: false,
            accepted: false,
            declined: false,
            withdrawn: false,
        }
    }

    fn budget(
        limits: &Limits,
        tasks: &[TaskRecord],
        now: Timestamp,
        zone: &TimeZone,
        asked: Option<u32>,
    ) -> DayBudget {
        let history = AccountHistory {
            tasks,
            judged_since: None,
            inmail_credits: limits.plan().inmail_credits_per_month(),
        };
        day_budget(limits, history, now, zone, asked)
    }

    #[test]
    fn day_budget_counts_open_tasks_pending_invitations_and_the_month() {
        let zone = tz("Europe/Berlin");
        let now = ts("2026-03-10T09:00:00Z");
        let limits = Limits::for_plan(Plan::PremiumCareer);
        let fresh = budget(&limits, &[], now, &zone, None);
        assert_eq!(fresh.guard, Guard::Normal);
        assert_eq!((fresh.invitations.quota, fresh.invitations_left), (15, 15));
        assert_eq!((fresh.inmail_left, fresh.pending), (5, 0));

        let accepted = TaskRecord {
            accepted: true,
            ..record(TaskKind::Connect, Some("2026-03-10T08:00:00Z"))
        };
        let declined = TaskRecord {
            declined: true,
            noted: true,
            ..record(TaskKind::Connect, Some("2026-03-10T08:10:00Z"))
        };
        let history = [
            accepted,
            declined,
            record(TaskKind::Connect, Some("2026-03-10T08:20:00Z")),
            record(TaskKind::Connect, None),
            record(TaskKind::Message, Some("2026-03-09T10:00:00Z")),
            record(TaskKind::Message, None),
            record(TaskKind::Inmail, Some("2026-02-20T10:00:00Z")),
            record(TaskKind::Inmail, Some("2026-03-02T10:00:00Z")),
            record(TaskKind::Inmail, None),
        ];
        let b = budget(&limits, &history, now, &zone, None);
        // Three done today come off today's 15; the open one is on the list already.
        assert_eq!(
            (b.invitations.quota, b.invitations.sent, b.invitations_left),
            (15, 3, 11)
        );
        let messages = limits.messages(&[ts("2026-03-09T10:00:00Z")]).allowance(
            mailbox_day(now, &zone),
            &zone,
            EVERY,
            None,
        );
        assert_eq!(b.messages_left, messages.left - 1);
        assert_eq!(b.inmail_left, 4, "the ledger's 5 less the open InMail task");
        assert_eq!((b.pending, b.noted_this_month), (1, 1));
        assert_eq!((b.invitations_last_7_days, b.messages_last_7_days), (3, 1));
        // Asking for more raises today's invitations within the window.
        assert_eq!(
            budget(&limits, &history, now, &zone, Some(40)).invitations.quota,
            40
        );
    }

    #[test]
    fn day_budget_pauses_invitations_nobody_accepts() {
        let zone = tz("UTC");
        let sent: Vec<TaskRecord> = (0..25)
            .map(|i| TaskRecord {
                done_at: Some(ts("2026-03-01T10:00:00Z") + secs(60 * i)),
                ..record(TaskKind::Connect, None)
            })
            .collect();
        let limits = Limits::for_plan(Plan::Free);
        let early = budget(&limits, &sent, ts("2026-03-10T10:00:00Z"), &zone, None);
        assert_eq!(early.guard, Guard::Normal, "not two weeks old yet");
        let later = budget(&limits, &sent, ts("2026-03-16T10:00:00Z"), &zone, None);
        assert!(matches!(later.guard, Guard::Paused { .. }), "{:?}", later.guard);
        assert_eq!((later.invitations_left, later.pending), (0, 25));
        let resumed = AccountHistory {
            tasks: &sent,
            judged_since: Some(ts("2026-03-15T00:00:00Z")),
            inmail_credits: 0,
        };
        let after_resume = day_budget(&limits, resumed, ts("2026-03-16T10:00:00Z"), &zone, None);
        assert_eq!(
            after_resume.guard,
            Guard::Normal,
            "what came before the resume was judged"
        );
        let withdrawn: Vec<TaskRecord> = sent
            .iter()
            .map(|&t| TaskRecord { withdrawn: true, ..t })
            .collect();
        let taken_back = budget(&limits, &withdrawn, ts("2026-03-16T10:00:00Z"), &zone, None);
        assert_eq!(taken_back.pending, 0, "withdrawn invitations are not pending");
    }

    #[test]
    fn choose_account_takes_the_most_room_and_of_equals_the_last_and_none_when_full() {
        assert_eq!(choose_account([(1, 3), (2, 5), (3, 4)]), Some(2));
        assert_eq!(choose_account([(1, 5), (2, 5), (3, 4)]), Some(2));
        assert_eq!(choose_account([(1, 0), (2, 0)]), None, "no room left today");
        assert_eq!(choose_account([(1, 0), (2, 1)]), Some(2));
        assert_eq!(choose_account([]), None);
    }
}

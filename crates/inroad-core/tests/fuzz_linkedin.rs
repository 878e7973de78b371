//! Property-based tests of LinkedIn's limits, where a mistake restricts a person's account.
//!
//! Properties: a person who takes each day's allowance (with or without asking for more,
//! in one sitting or several, on any days, sending at any instants of the day, in zones
//! with and without daylight saving) never puts more than the limit into any 7×24-hour
//! window; a unit `remaining` says is free can be spent at once without overfilling a
//! window, and `next_free` is the first instant one is; an InMail is spent only when a
//! credit is available, free plans never get one, and a balance never exceeds the cap;
//! a note that is allowed fits the plan; the acceptance guard ignores the input's order.
//! Deeper run: `PROPTEST_CASES=100000 cargo test --release -p inroad-core --test fuzz_linkedin`.

use inroad_core::linkedin::{
    note_allowed, note_length, GuardThresholds, InMailLedger, InMailRefusal, InvitationOutcome, NoteRefusal,
    Plan, RollingBudget, Workdays, INMAIL_ROLLOVER_CAP, WINDOW,
};
use inroad_core::schedule::day_bounds;
use jiff::civil::{date, Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

/// Case count: the default, or `PROPTEST_CASES` for a deeper run.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Zones with and without DST, half-hour offsets and a half-hour DST shift.
fn zone() -> impl Strategy<Value = TimeZone> {
    prop::sample::select(vec![
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Australia/Lord_Howe",
        "Asia/Kathmandu",
        "Pacific/Auckland",
    ])
    .prop_map(|name| TimeZone::get(name).unwrap())
}

/// Days around DST changes in both hemispheres.
fn first_day() -> impl Strategy<Value = Date> {
    (0i64..800).prop_map(|offset| date(2024, 1, 1) + SignedDuration::from_hours(24 * offset))
}

const WEEK: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

fn workdays() -> impl Strategy<Value = Workdays> {
    prop_oneof![
        Just(Workdays::EVERY_DAY),
        Just(Workdays::MONDAY_TO_FRIDAY),
        prop::collection::vec(prop::sample::select(WEEK.to_vec()), 0..7)
            .prop_map(|days| Workdays::new(&days)),
    ]
}

/// The most sends any 7×24-hour window holds (windows ending at a send are the fullest).
fn fullest_window(history: &[Timestamp]) -> u32 {
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
    u32::try_from(most).unwrap()
}

/// A history that respects `limit` (sends that would overfill a window are dropped), from
/// offsets in seconds before `end`.
fn valid_history(limit: u32, end: Timestamp, offsets: &[i64]) -> Vec<Timestamp> {
    let mut candidates: Vec<Timestamp> = offsets
        .iter()
        .map(|&s| end - SignedDuration::from_secs(s))
        .collect();
    candidates.sort();
    let mut history: Vec<Timestamp> = Vec::new();
    for sent in candidates {
        let in_window = history.iter().filter(|&&t| t > sent - WINDOW).count();
        if in_window < limit as usize {
            history.push(sent);
        }
    }
    history
}

/// One sitting: what is asked for, the share of what is left that is sent (in 1/8ths), and
/// seeds for the instants of the sends.
type Sitting = (Option<u32>, u8, Vec<u64>);

fn day_plan() -> impl Strategy<Value = Vec<Sitting>> {
    let sitting = (
        prop::option::weighted(0.3, 0u32..300),
        0u8..=8,
        prop::collection::vec(any::<u64>(), 0..40),
    );
    prop::collection::vec(sitting, 0..3)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(128)))]

    #[test]
    fn taking_the_allowance_never_overfills_a_window(
        limit in prop_oneof![0u32..=10, 90u32..=200],
        zone in zone(),
        first in first_day(),
        workdays in workdays(),
        earlier in prop::collection::vec(1i64..(10 * 86_400), 0..250),
        days in prop::collection::vec(day_plan(), 1..30),
    ) {
        let (first_start, _) = day_bounds(first, &zone);
        let mut history = valid_history(limit, first_start, &earlier);
        let mut day = first;
        for sittings in days {
            let (start, end) = day_bounds(day, &zone);
            let length = u64::try_from(end.duration_since(start).as_nanos()).unwrap();
            let mut sent_today = 0;
            for (requested, share, seeds) in sittings {
                let allowance = RollingBudget::new(limit, &history).allowance(day, &zone, workdays, requested);
                prop_assert!(allowance.quota <= allowance.ceiling);
                prop_assert!(allowance.left <= allowance.quota);
                prop_assert_eq!(allowance.sent, sent_today);
                if requested.is_none() && workdays == Workdays::EVERY_DAY {
                    prop_assert!(allowance.quota <= limit.div_ceil(7), "never above the fresh pace");
                }
                let sends = allowance.left * u32::from(share) / 8;
                for i in 0..sends {
                    let seed = seeds.get(i as usize).copied().unwrap_or(u64::from(i).wrapping_mul(0x9e37_79b9));
                    let offset = i64::try_from(seed % length).unwrap();
                    history.push(start + SignedDuration::from_nanos(offset));
                }
                sent_today += sends;
            }
            prop_assert!(fullest_window(&history) <= limit, "day {} limit {}", day, limit);
            day = day.tomorrow().unwrap();
        }
    }

    #[test]
    fn a_days_allowance_is_safe_at_the_days_edges(
        limit in 1u32..=40,
        zone in zone(),
        day in first_day(),
        workdays in workdays(),
        around in prop::collection::vec(0i64..(12 * 86_400), 0..300),
        requested in prop::option::of(0u32..60),
        seeds in prop::collection::vec(any::<u64>(), 40),
    ) {
        // History from 9 days before the day to 3 days after it (a clock set back).
        let (start, end) = day_bounds(day, &zone);
        let history = valid_history(limit, end + SignedDuration::from_hours(72), &around);
        let allowance = RollingBudget::new(limit, &history).allowance(day, &zone, workdays, requested);
        // The worst instants: the day's first and last, and any between.
        let last = end - SignedDuration::from_nanos(1);
        let length = u64::try_from(end.duration_since(start).as_nanos()).unwrap();
        let mut spent = history.clone();
        for (i, seed) in seeds.iter().take(allowance.left as usize).enumerate() {
            let offset = i64::try_from(seed % length).unwrap();
            spent.push(match i % 3 {
                0 => start,
                1 => last,
                _ => start + SignedDuration::from_nanos(offset),
            });
        }
        prop_assert!(fullest_window(&spent) <= limit);
    }

    #[test]
    fn remaining_units_can_be_spent_at_once(
        limit in 1u32..=30,
        earlier in prop::collection::vec(0i64..(9 * 86_400), 0..120),
        after in 0i64..(3 * 86_400),
    ) {
        let base: Timestamp = "2025-03-30T00:00:00Z".parse().unwrap();
        let history = valid_history(limit, base, &earlier);
        let now = base + SignedDuration::from_secs(after);
        let budget = RollingBudget::new(limit, &history);
        let remaining = budget.remaining(now);
        let mut spent = history.clone();
        spent.extend(std::iter::repeat_n(now, remaining as usize));
        prop_assert!(fullest_window(&spent) <= limit);
        let free = budget.next_free(now).unwrap();
        prop_assert!(free >= now);
        prop_assert!(budget.remaining(free) >= 1);
        if free > now {
            prop_assert_eq!(remaining, 0);
            prop_assert_eq!(budget.remaining(free - SignedDuration::from_nanos(1)), 0);
        } else {
            prop_assert!(remaining >= 1);
        }
    }

    #[test]
    fn inmail_is_spent_only_with_a_credit(
        plan in prop::sample::select(Plan::ALL.to_vec()),
        renewal_day in 1u8..=31,
        opening in 0u32..400,
        zone in zone(),
        steps in prop::collection::vec((0i64..(40 * 86_400), 0u8..4, any::<prop::sample::Index>()), 1..80),
    ) {
        let opened: Timestamp = "2024-11-15T10:00:00Z".parse().unwrap();
        let mut ledger = InMailLedger::new(plan, renewal_day, zone, opened, opening).unwrap();
        let mut now = opened;
        let mut sent: Vec<Timestamp> = Vec::new();
        let (mut consumed, mut refunded) = (0u32, 0u32);
        for (wait, action, pick) in steps {
            now += SignedDuration::from_secs(wait);
            let before = ledger.available(now);
            prop_assert!(before <= INMAIL_ROLLOVER_CAP);
            if !plan.is_paid() {
                prop_assert_eq!(before, 0);
            }
            match action {
                0 | 1 => match ledger.consume(now) {
                    Ok(()) => {
                        prop_assert!(plan.is_paid() && before >= 1);
                        prop_assert_eq!(ledger.available(now), before - 1);
                        sent.push(now);
                        consumed += 1;
                    }
                    Err(InMailRefusal::FreePlan) => prop_assert!(!plan.is_paid()),
                    Err(InMailRefusal::NoCredit { next_grant }) => {
                        prop_assert!(plan.is_paid());
                        prop_assert_eq!(before, 0);
                        prop_assert!(next_grant.is_none_or(|at| at > now));
                    }
                },
                2 if !sent.is_empty() => {
                    let sent_at = sent[pick.index(sent.len())];
                    if ledger.refund(sent_at, now) {
                        prop_assert!(now.duration_since(sent_at) <= SignedDuration::from_hours(90 * 24));
                        prop_assert_eq!(ledger.available(now), before + 1);
                        refunded += 1;
                    }
                }
                _ => {}
            }
        }
        // Never more spent than was ever credited: the opening balance, a grant a month, refunds.
        let months = u32::try_from(now.duration_since(opened).as_hours() / (24 * 28)).unwrap() + 1;
        let credited = opening.min(INMAIL_ROLLOVER_CAP) + plan.inmail_credits_per_month() * months + refunded;
        let most = if plan.is_paid() { credited } else { 0 };
        prop_assert!(consumed <= most, "{} spent, {} credited", consumed, most);
    }

    #[test]
    fn an_allowed_note_fits_the_plan(
        plan in prop::sample::select(Plan::ALL.to_vec()),
        noted in 0u32..10,
        note in prop_oneof![any::<String>(), "[a-zé👋 ]{150,320}"],
    ) {
        let length = note_length(&note);
        prop_assert!(length >= note.chars().count());
        match note_allowed(plan, noted, &note) {
            Ok(()) => {
                prop_assert!(length <= plan.note_chars());
                prop_assert!(plan.noted_invitations_per_month().is_none_or(|per_month| noted < per_month));
            }
            Err(refusal @ NoteRefusal::TooLong { length: reported, allowed, .. }) => {
                prop_assert_eq!(reported, length);
                prop_assert!(reported > allowed);
                prop_assert!(refusal.to_string().contains(&allowed.to_string()));
            }
            Err(NoteRefusal::MonthlyNotesUsed { allowed, .. }) => {
                prop_assert!(!plan.is_paid() && noted >= allowed);
            }
        }
    }

    #[test]
    fn the_guard_ignores_the_input_order(
        outcomes in prop::collection::vec((0i64..60, any::<bool>()), 0..150),
        rotate in any::<prop::sample::Index>(),
    ) {
        let now: Timestamp = "2025-06-01T00:00:00Z".parse().unwrap();
        let mut outcomes: Vec<InvitationOutcome> = outcomes
            .into_iter()
            .map(|(days_ago, accepted)| InvitationOutcome {
                sent_at: now - SignedDuration::from_hours(24 * days_ago),
                accepted,
            })
            .collect();
        let thresholds = GuardThresholds::default();
        let verdict = thresholds.guard(&outcomes, now);
        if !outcomes.is_empty() {
            let by = rotate.index(outcomes.len());
            outcomes.rotate_left(by);
        }
        prop_assert_eq!(thresholds.guard(&outcomes, now), verdict);
        outcomes.reverse();
        prop_assert_eq!(thresholds.guard(&outcomes, now), verdict);
    }

    #[test]
    fn plan_names_parse_or_are_refused(text in "\\PC{0,20}") {
        match Plan::parse(&text) {
            Ok(plan) => prop_assert!(plan.as_str().eq_ignore_ascii_case(text.trim())),
            Err(error) => prop_assert!(error.to_string().contains("unknown LinkedIn plan")),
        }
    }
}

//! One planning pass (`inroad_core::planner::plan`) over a realistic state: 1,000 mailboxes
//! in four time zones (some paused, some mid-gap, some at their cap, some warming up), ten
//! campaigns with sending windows, and N active enrolments of which a tenth are due now.
//!
//! As the planner's contract says, the store passes only the due enrolments, earliest due
//! first, plus the earliest due instant among the rest (`later_due`). The example builds the
//! whole table of N enrolments, selects and sorts the due ones (outside the timed region),
//! and times `plan()` — the median of several runs after a warm-up — for N = 1,000,000 and
//! N = 5,000,000, and again with every window closed (the worst case: both scans read the
//! whole due list).
//!
//! The anchor, measured in the same run on the same due list: one plain linear pass over the
//! due `Vec` summing a field — what merely reading every due entry once costs.
//!
//! `cargo run --release --locked -p inroad-core --example plan_bench` (see bench/plan.sh).

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use inroad_core::planner::{plan, CampaignState, DomainRecent, DueEnrolment, MailboxState, PlanInput};
use inroad_core::schedule::{Warmup, Window};

const MAILBOXES: i64 = 1_000;
const CAMPAIGNS: i64 = 10;
/// Timed runs per case (after one warm-up run); the median is reported.
const RUNS: usize = 51;
/// Wednesday 2026-01-14 14:30Z: 15:30 in Berlin, 09:30 in New York, 23:30 in Tokyo.
const NOW: &str = "2026-01-14T14:30:00Z";
/// Big mailbox providers: a fifth of the recipients are at one of them.
const PROVIDERS: [&str; 5] = ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "gmx.de"];

fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A deterministic draw in `0..n` for `(key, salt)`.
fn draw(key: i64, salt: u64, n: u64) -> u64 {
    splitmix64(splitmix64(key as u64) ^ salt) % n
}

struct Zones {
    berlin: TimeZone,
    new_york: TimeZone,
    tokyo: TimeZone,
}

impl Zones {
    fn load() -> Zones {
        let get = |name| TimeZone::get(name).expect("time zone database");
        Zones {
            berlin: get("Europe/Berlin"),
            new_york: get("America/New_York"),
            tokyo: get("Asia/Tokyo"),
        }
    }

    /// Berlin 40%, New York 30%, Tokyo 10%, UTC 20%.
    fn pick(&self, d: u64) -> TimeZone {
        match d % 10 {
            0..=3 => self.berlin.clone(),
            4..=6 => self.new_york.clone(),
            7 => self.tokyo.clone(),
            _ => TimeZone::UTC,
        }
    }
}

fn mailboxes(now: Timestamp, zones: &Zones) -> Vec<MailboxState> {
    let first_day: Date = "2025-09-01".parse().unwrap();
    let ramp_day: Date = "2026-01-11".parse().unwrap();
    (1..=MAILBOXES)
        .map(|id| {
            let daily_cap = 30 + draw(id, 1, 51) as u32;
            let gap = Duration::from_secs(90 + draw(id, 2, 211));
            let mut m = MailboxState {
                id,
                time_zone: Some(zones.pick(draw(id, 3, 10))),
                daily_cap,
                warmup: None,
                first_send_day: Some(first_day),
                sent_today: draw(id, 4, u64::from(daily_cap) / 2) as u32,
                last_send: Some(now - SignedDuration::from_mins(15)),
                gap,
                paused: false,
            };
            match draw(id, 5, 100) {
                // 3% paused (bounce breaker, auth failure).
                0..=2 => m.paused = true,
                // 5% at today's cap.
                3..=7 => m.sent_today = daily_cap,
                // 20% mid-gap: sent 30 s ago.
                8..=27 => m.last_send = Some(now - SignedDuration::from_secs(30)),
                // 10% warming up, started a few days ago (some of them at the ramp's cap).
                28..=37 => {
                    m.warmup = Some(Warmup { start: 10, step: 3 });
                    m.first_send_day = Some(ramp_day);
                    m.sent_today = draw(id, 6, 20) as u32;
                }
                // 5% never sent yet.
                38..=42 => {
                    m.first_send_day = None;
                    m.last_send = None;
                    m.sent_today = 0;
                }
                _ => {}
            }
            m
        })
        .collect()
}

fn campaigns(zones: &Zones, closed: bool) -> Vec<CampaignState> {
    let weekdays = ["mon", "tue", "wed", "thu", "fri"];
    (0..CAMPAIGNS)
        .map(|c| {
            let window = if closed {
                // A Wednesday: a Sunday-only window is closed in every zone.
                Window::parse(&["sun"], "09:00", "17:00")
            } else {
                match c % 3 {
                    0 => Window::parse(&weekdays, "08:00", "18:00"),
                    1 => Window::parse(&weekdays, "09:00", "17:00"),
                    _ => Window::parse(&["mon", "tue", "wed", "thu", "fri", "sat"], "07:00", "20:00"),
                }
            }
            .unwrap();
            let time_zone = match c % 3 {
                0 => zones.berlin.clone(),
                1 => zones.new_york.clone(),
                _ => TimeZone::UTC,
            };
            CampaignState {
                id: c,
                window,
                time_zone,
                daily_new_leads: Some(400),
                // One campaign has used up today's new leads; the others part of them.
                new_leads_today: if c == 9 { 400 } else { 40 * c as u32 },
                // Mailbox m serves campaign m % 10: each campaign has 100, in every zone.
                mailboxes: (1..=MAILBOXES).filter(|m| m % CAMPAIGNS == c).collect(),
            }
        })
        .collect()
}

/// The `k`-th mailbox of campaign `c`: mailbox m serves campaign m % 10.
fn campaign_mailbox(c: i64, k: i64) -> i64 {
    if c == 0 {
        CAMPAIGNS * (k + 1)
    } else {
        c + CAMPAIGNS * k
    }
}

/// One row of the enrolment table, as the store keeps it.
struct Row {
    id: i64,
    campaign: i64,
    lead: i64,
    mailbox: Option<i64>,
    step: usize,
    due: Timestamp,
}

/// N active enrolments: 10% due within the last three days, the rest within the next 14.
/// 70% are conversations under way (steps 1–3, with their mailbox), 30% not started.
fn table(n: i64, now: Timestamp) -> Vec<Row> {
    (0..n)
        .map(|id| {
            let campaign = draw(id, 10, CAMPAIGNS as u64) as i64;
            let started = draw(id, 11, 10) < 7;
            let offset = if draw(id, 12, 10) == 0 {
                -(draw(id, 13, 3 * 86_400) as i64)
            } else {
                1 + draw(id, 13, 14 * 86_400) as i64
            };
            Row {
                id,
                campaign,
                lead: id,
                mailbox: started.then(|| campaign_mailbox(campaign, draw(id, 14, 100) as i64)),
                step: if started { 1 + draw(id, 15, 3) as usize } else { 0 },
                due: now + SignedDuration::from_secs(offset),
            }
        })
        .collect()
}

/// What the store's query returns: the due rows, earliest first, with the lead's data.
fn due_list(rows: &[Row], now: Timestamp, zones: &Zones) -> (Vec<DueEnrolment>, Option<Timestamp>) {
    let mut due: Vec<&Row> = rows.iter().filter(|r| r.due <= now).collect();
    due.sort_unstable_by_key(|r| (r.due, r.id));
    let later_due = rows.iter().filter(|r| r.due > now).map(|r| r.due).min();
    let due = due
        .into_iter()
        .map(|r| {
            let d = draw(r.lead, 20, 100);
            let domain = if d < 20 {
                PROVIDERS[d as usize % PROVIDERS.len()].to_string()
            } else {
                format!("company{}.example", draw(r.lead, 21, 200_000))
            };
            DueEnrolment {
                id: r.id,
                campaign: r.campaign,
                lead: r.lead,
                domain,
                // 60% of leads have a known zone.
                time_zone: (draw(r.lead, 22, 10) < 6).then(|| zones.pick(draw(r.lead, 23, 10))),
                mailbox: r.mailbox,
                step: r.step,
                due: r.due,
            }
        })
        .collect();
    (due, later_due)
}

fn input(n: i64, zones: &Zones) -> PlanInput {
    let now: Timestamp = NOW.parse().unwrap();
    let rows = table(n, now);
    let (due, later_due) = due_list(&rows, now, zones);
    drop(rows);
    let oldest = now - SignedDuration::from_mins(40);
    let mut domain_recent = HashMap::new();
    // gmail.com is at its hourly limit; the other providers have had some sends.
    for (i, provider) in PROVIDERS.iter().enumerate() {
        let sends = if i == 0 { 50 } else { 10 * i as u32 };
        domain_recent.insert(provider.to_string(), DomainRecent { sends, oldest });
    }
    PlanInput {
        now,
        mailboxes: mailboxes(now, zones),
        campaigns: campaigns(zones, false),
        due,
        later_due,
        domain_limit_per_hour: Some(50),
        domain_recent,
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// The anchor: one plain pass over the due list, summing a field.
fn anchor(due: &[DueEnrolment]) -> i64 {
    due.iter()
        .fold(0i64, |sum, e| sum.wrapping_add(e.due.as_second()))
}

struct Case {
    label: &'static str,
    n: i64,
    input: PlanInput,
    plan: Vec<Duration>,
    anchor: Vec<Duration>,
}

impl Case {
    fn new(label: &'static str, n: i64, input: PlanInput) -> Case {
        Case {
            label,
            n,
            input,
            plan: Vec::with_capacity(RUNS),
            anchor: Vec::with_capacity(RUNS),
        }
    }

    /// One timed `plan()` pass and one timed anchor pass; `keep: false` for the warm-up.
    fn round(&mut self, keep: bool) {
        let start = Instant::now();
        black_box(plan(black_box(&self.input)));
        let plan_time = start.elapsed();
        let start = Instant::now();
        black_box(anchor(black_box(&self.input.due)));
        let anchor_time = start.elapsed();
        if keep {
            self.plan.push(plan_time);
            self.anchor.push(anchor_time);
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let zones = Zones::load();
    // Inputs are built before anything is timed: the store's work (selecting and sorting
    // the due rows) is not the planner's.
    let mut cases = Vec::new();
    for n in [1_000_000, 5_000_000] {
        let open = input(n, &zones);
        let closed = PlanInput {
            campaigns: campaigns(&zones, true),
            ..open.clone()
        };
        cases.push(Case::new("open windows", n, open));
        cases.push(Case::new("all windows closed", n, closed));
    }
    cases.sort_by_key(|c| c.label != "open windows");
    // Rounds interleave the cases, so a noisy moment on the machine hits them alike.
    for round in 0..=RUNS {
        for case in &mut cases {
            case.round(round > 0);
        }
    }
    println!(
        "plan(): one pass, {MAILBOXES} mailboxes, {CAMPAIGNS} campaigns, now = {NOW}; \
         median of {RUNS} interleaved runs after a warm-up"
    );
    println!(
        "{:<20} {:>10} {:>12} {:>10} {:>11} {:>14} {:>10}",
        "case", "N", "due entries", "plan ms", "anchor ms", "sends planned", "scanned"
    );
    let mut plan_ms = Vec::new();
    for case in cases {
        let result = plan(&case.input);
        let plan_time = median(case.plan);
        plan_ms.push(ms(plan_time));
        println!(
            "{:<20} {:>10} {:>12} {:>10.3} {:>11.3} {:>14} {:>10}",
            case.label,
            case.n,
            case.input.due.len(),
            ms(plan_time),
            ms(median(case.anchor)),
            result.sends.len(),
            result.scanned
        );
    }
    let (one, five) = (plan_ms[0], plan_ms[1]);
    let ratio = five / one;
    let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
    println!("1M pass ≤ 200 ms: {} ({one:.3} ms)", verdict(one <= 200.0));
    println!("5M / 1M ≤ 1.5: {} ({ratio:.2})", verdict(ratio <= 1.5));
}

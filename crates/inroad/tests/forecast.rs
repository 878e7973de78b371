//! `inroad forecast` agrees with reality: two campaigns sharing mailboxes (caps, warm-up,
//! gaps drawn at random, three time zones) and two LinkedIn accounts (paced weekly
//! budgets; leads spread over them by room left), one starting on LinkedIn and one by
//! email with a daily new-lead limit, leads in their own time zones, a recipient-domain
//! limit and a suppressed lead; half the invitations are accepted. The forecast is made
//! first; then the real binary plays the forecast's reality out — `run --once --now` at
//! each wake the
//! worker names (or, after a pass that sent, at the next due time if sooner), and each
//! weekday when the window opens a pass, the LinkedIn task list with every task done, and
//! a pass — and the ledger's dates, instants and touches a day must be the forecast's,
//! exactly.

#[path = "support/backend.rs"]
mod backend;
use backend::{inroad, json, WithDb};

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use inroad_engine::forecast::accepts;
use jiff::tz::TimeZone;
use jiff::Timestamp;

const ZONE: &str = "Europe/Berlin";

/// Starts on LinkedIn; the first email starts the conversation after a skipped message.
const LINKEDIN_FIRST: &str = r#"
name = "li-first"
mailboxes = ["a", "b", "c"]
linkedin_accounts = ["anna", "ben"]
postal_address = "Acme GmbH, Hafenstraße 1, 20457 Hamburg"
unsubscribe_url = "https://unsub.acme.example"
timezone = "Europe/Berlin"
window = { days = ["mon", "tue", "wed", "thu", "fri"], start = "09:00", end = "17:00" }

[[steps]]
channel = "linkedin_connect"
note = "Hi {{ first_name }}, fellow logistics person here."
if_not_accepted_after_days = 3

[[steps]]
channel = "linkedin_message"
wait_days = 1
body = "Thanks for connecting, {{ first_name }}!"

[[steps]]
wait_days = 1
subject = "Return runs at {{ company }}"
body = "Hi {{ first_name }}, a question."

[[steps]]
wait_days = 2
body = "Hi {{ first_name }}, following up."
"#;

/// Starts by email, a few new leads a day, then LinkedIn, then a last email.
const EMAIL_FIRST: &str = r#"
name = "email-first"
mailboxes = ["a", "b"]
linkedin_accounts = ["anna"]
postal_address = "Acme GmbH, Hafenstraße 1, 20457 Hamburg"
unsubscribe_url = "https://unsub.acme.example"
timezone = "Europe/Berlin"
window = { days = ["mon", "tue", "wed", "thu", "fri"], start = "09:00", end = "17:00" }
daily_new_leads = 6

[[steps]]
subject = "Pallets at {{ company }}"
body = "Hi {{ first_name }}, a question."

[[steps]]
channel = "linkedin_connect"
wait_days = 1
if_not_accepted_after_days = 2

[[steps]]
channel = "linkedin_message"
wait_days = 1
body = "Thanks for connecting, {{ first_name }}!"

[[steps]]
wait_days = 2
body = "Hi {{ first_name }}, one more thing."
"#;

/// The share of invitations accepted, in percent: in the forecast and in reality.
const ACCEPTANCE_RATE: u32 = 50;

struct World {
    _dir: tempfile::TempDir,
    db: PathBuf,
    out: String,
    acceptances: RefCell<Acceptances>,
}

/// Per account, the invitations done so far; and the leads whose invitation is to be
/// accepted, with when it was sent.
type Acceptances = (BTreeMap<String, u64>, Vec<(i64, Timestamp)>);

impl World {
    fn run(&self, now: Timestamp) -> serde_json::Value {
        let now = now.to_string();
        json(inroad(
            &self.db,
            &[
                "run",
                "--once",
                "--transport",
                &self.out,
                "--domain-hourly-limit",
                "2",
                "--now",
                &now,
                "--json",
            ],
        ))
    }

    /// A pass at `now`, and when the worker passes next: the wake it names or, if it sent,
    /// the first due time after `now` if sooner (what its sends made due, which a running
    /// worker sees within a minute).
    fn pass(&self, now: Timestamp) -> Option<Timestamp> {
        let report = self.run(now);
        let wake: Option<Timestamp> = report["next_wake"].as_str().map(|t| t.parse().unwrap());
        if report["sent"] == 0 {
            return wake;
        }
        let due = backend::query(
            &self.db,
            &format!(
                "SELECT min(next_due) FROM enrolments WHERE state = 'active' AND next_due > {}",
                now.as_second()
            ),
        )[0][0]
            .as_deref()
            .map(|s| Timestamp::from_second(s.parse().unwrap()).unwrap());
        match (wake, due) {
            (Some(wake), Some(due)) => Some(wake.min(due)),
            (wake, due) => wake.or(due),
        }
    }

    /// The person's session: first the invitations accepted since the last (two days after
    /// they were sent, every other one of each account), then today's list, every task
    /// done at once.
    fn linkedin_day(&self, at: Timestamp) {
        let now = at.to_string();
        let (done, to_accept) = &mut *self.acceptances.borrow_mut();
        let accepted_by = at - jiff::SignedDuration::from_hours(48);
        for (lead, _) in to_accept.iter().filter(|(_, sent)| *sent <= accepted_by) {
            inroad(
                &self.db,
                &["linkedin", "accepted", &lead.to_string(), "--now", &now],
            );
        }
        to_accept.retain(|(_, sent)| *sent > accepted_by);
        let list = json(inroad(&self.db, &["linkedin", "tasks", "--now", &now, "--json"]));
        for task in list["tasks"].as_array().unwrap() {
            let id = task["id"].to_string();
            inroad(&self.db, &["linkedin", "done", &id, "--now", &now]);
            if task["kind"] == "connect" {
                let n = done
                    .entry(task["account"].as_str().unwrap().to_owned())
                    .or_default();
                if accepts(*n, ACCEPTANCE_RATE) {
                    to_accept.push((task["lead_id"].as_i64().unwrap(), at));
                }
                *n += 1;
            }
        }
    }

    fn under_way(&self, campaign: &str) -> u64 {
        let show = json(inroad(&self.db, &["campaign", "show", campaign, "--json"]));
        show["by_state"]["active"].as_u64().unwrap() + show["by_state"]["linkedin"].as_u64().unwrap()
    }

    fn forecast(&self, campaign: &str, now: Timestamp) -> serde_json::Value {
        let now = now.to_string();
        json(inroad(
            &self.db,
            &[
                "forecast",
                campaign,
                "--now",
                &now,
                "--domain-hourly-limit",
                "2",
                "--acceptance-rate",
                &ACCEPTANCE_RATE.to_string(),
                "--json",
            ],
        ))
    }
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inroad.db");
    let zones = ["", "America/New_York", "", "Asia/Tokyo", "", "Europe/London"];
    for (list, leads) in [("li", 30), ("em", 24)] {
        let mut rows = String::from("Email,First Name,Company,LinkedIn URL,Timezone\n");
        for i in 0..leads {
            // Three leads a domain, so the domain limit (2 an hour) holds some back.
            rows.push_str(&format!(
                "{list}{i}@corp{}-{list}.com,Pat{i},Corp {i},https://www.linkedin.com/in/{list}-{i},{}\n",
                i / 3,
                zones[i % zones.len()]
            ));
        }
        let csv = dir.path().join(format!("{list}.csv"));
        std::fs::write(&csv, rows).unwrap();
        inroad(&db, &["leads", "import", csv.to_str().unwrap(), "--list", list]);
    }
    for (name, cap, warmup, gap, zone) in [
        ("a", "8", Some("3:2"), "300", "Europe/Berlin"),
        ("b", "6", None, "400-460", "UTC"),
        ("c", "5", Some("2:1"), "600", "America/New_York"),
    ] {
        let from = format!("{name} <{name}@acme.example>");
        let mut args = vec![
            "mailbox",
            "add",
            name,
            "--from",
            &from,
            "--smtp-host",
            "localhost",
            "--daily-cap",
            cap,
            "--gap",
            gap,
            "--timezone",
            zone,
        ];
        if let Some(warmup) = warmup {
            args.extend(["--warmup", warmup]);
        }
        inroad(&db, &args);
    }
    inroad(
        &db,
        &[
            "linkedin",
            "account",
            "add",
            "anna",
            "--plan",
            "premium-career",
            "--invitations-per-week",
            "70",
            "--timezone",
            ZONE,
        ],
    );
    // A second, smaller account: leads are spread over both by room left, never piled on
    // one that has none.
    inroad(
        &db,
        &[
            "linkedin",
            "account",
            "add",
            "ben",
            "--plan",
            "free",
            "--invitations-per-week",
            "14",
            "--timezone",
            ZONE,
        ],
    );
    for (file, name, list) in [
        (LINKEDIN_FIRST, "li-first", "li"),
        (EMAIL_FIRST, "email-first", "em"),
    ] {
        let path = dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, file).unwrap();
        inroad(&db, &["campaign", "create", path.to_str().unwrap()]);
        inroad(
            &db,
            &["campaign", "enroll", name, "--list", list, "--allow-unverified"],
        );
        inroad(&db, &["campaign", "start", name]);
    }
    // Suppressed after enrolment: the worker parks the lead when its first email is due.
    inroad(&db, &["suppress", "add", "li4@corp1-li.com"]);
    let out = format!("dir:{}", dir.path().join("out").display());
    World {
        _dir: dir,
        db,
        out,
        acceptances: RefCell::default(),
    }
}

/// The window's next opening (09:00 Berlin, Monday to Friday) after `t` (or at it).
fn next_opening(t: Timestamp, inclusive: bool) -> Timestamp {
    let zone = TimeZone::get(ZONE).unwrap();
    let mut day = zone.to_datetime(t).date();
    loop {
        let open = zone
            .to_ambiguous_timestamp(day.at(9, 0, 0, 0))
            .compatible()
            .unwrap();
        let weekday = day.weekday().to_monday_one_offset() <= 5;
        if weekday && (open > t || (inclusive && open == t)) {
            return open;
        }
        day = day.tomorrow().unwrap();
    }
}

/// What the ledger says of one campaign: first touches done by, last touch, touches a week.
struct Reality {
    first_touches_done_by: String,
    last_touch_by: String,
    first_touches_done_at: String,
    last_touch_at: String,
    days: BTreeMap<String, u64>,
    weeks: BTreeMap<String, u64>,
    touches: u64,
}

fn reality(db: &Path, campaign: &str) -> Reality {
    // `campaign` is one of this file's constants, so it can stand in the SQL.
    let sql = format!(
        "SELECT e.id, s.planned_at FROM sends s JOIN enrolments e ON e.id = s.enrolment_id
         JOIN campaigns c ON c.id = e.campaign_id WHERE s.state = 'sent' AND c.name = '{campaign}'
         UNION ALL
         SELECT t.enrolment_id, t.done_at FROM linkedin_tasks t JOIN campaigns c ON c.id = t.campaign_id
         WHERE t.state = 'done' AND c.name = '{campaign}'"
    );
    let number = |v: &Option<String>| v.as_deref().unwrap().parse::<i64>().unwrap();
    let touches: Vec<(i64, i64)> = backend::query(db, &sql)
        .iter()
        .map(|row| (number(&row[0]), number(&row[1])))
        .collect();
    let zone = TimeZone::get(ZONE).unwrap();
    let date = |at: i64| zone.to_datetime(Timestamp::from_second(at).unwrap()).date();
    let instant = |at: i64| Timestamp::from_second(at).unwrap().to_string();
    let mut first: BTreeMap<i64, i64> = BTreeMap::new();
    let mut days = BTreeMap::new();
    let mut weeks = BTreeMap::new();
    for &(enrolment, at) in &touches {
        let earliest = first.entry(enrolment).or_insert(at);
        *earliest = (*earliest).min(at);
        let day = date(at);
        *days.entry(day.to_string()).or_insert(0) += 1;
        let monday = day
            .checked_sub(jiff::Span::new().days(day.weekday().to_monday_zero_offset()))
            .unwrap();
        *weeks.entry(monday.to_string()).or_insert(0) += 1;
    }
    let first_touches_done = *first.values().max().unwrap();
    let last_touch = touches.iter().map(|t| t.1).max().unwrap();
    Reality {
        first_touches_done_by: date(first_touches_done).to_string(),
        last_touch_by: date(last_touch).to_string(),
        first_touches_done_at: instant(first_touches_done),
        last_touch_at: instant(last_touch),
        days,
        weeks,
        touches: touches.len() as u64,
    }
}

#[test]
fn the_forecast_is_what_the_worker_and_the_task_list_then_do() {
    let w = world();
    // Monday 7 January 2030, 09:00 in Berlin: the window opens.
    let t0: Timestamp = "2030-01-07T08:00:00Z".parse().unwrap();
    let forecasts = [
        ("li-first", w.forecast("li-first", t0)),
        ("email-first", w.forecast("email-first", t0)),
    ];
    for (name, f) in &forecasts {
        assert_eq!(f["campaign"], *name);
        assert_eq!(f["unfinished"], 0, "{f}");
        assert_eq!(f["waiting_forever"], 0, "{f}");
        assert!(f["first_touches_done_by"].is_string(), "{f}");
        assert!(f["last_touch_by"].is_string(), "{f}");
    }
    assert_eq!(forecasts[0].1["leads"], 30);
    assert_eq!(forecasts[1].1["leads"], 24);

    // Reality, as the forecast assumes it.
    let mut wake = Some(t0);
    let mut opening = next_opening(t0, true);
    for _ in 0..2_000 {
        let (at, session) = match wake {
            Some(w) if w < opening => (w, false),
            _ => (opening, true),
        };
        if session {
            w.pass(at);
            w.linkedin_day(at);
            opening = next_opening(at, false);
        }
        wake = w.pass(at);
        if session && w.under_way("li-first") == 0 && w.under_way("email-first") == 0 {
            break;
        }
    }
    assert_eq!(
        w.under_way("li-first") + w.under_way("email-first"),
        0,
        "reality finished"
    );

    for (name, f) in &forecasts {
        let real = reality(&w.db, name);
        assert_eq!(
            f["first_touches_done_by"], real.first_touches_done_by,
            "{name}: {f}"
        );
        assert_eq!(f["last_touch_by"], real.last_touch_by, "{name}: {f}");
        assert_eq!(f["touches"], real.touches, "{name}: {f}");
        assert_eq!(
            f["first_touches_done_at"], real.first_touches_done_at,
            "{name}: {f}"
        );
        assert_eq!(f["last_touch_at"], real.last_touch_at, "{name}: {f}");
        let forecast_days: BTreeMap<String, u64> = f["days"]
            .as_array()
            .unwrap()
            .iter()
            .map(|day| {
                (
                    day["date"].as_str().unwrap().to_owned(),
                    day["touches"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(forecast_days, real.days, "{name}: touches a day");
        let forecast_weeks: BTreeMap<String, u64> = f["weeks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|week| week["touches"] != 0)
            .map(|week| {
                (
                    week["week_start"].as_str().unwrap().to_owned(),
                    week["touches"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(forecast_weeks, real.weeks, "{name}: touches a week");
    }
    // The suppressed lead was parked, not mailed: one lead fewer got the emails.
    let show = json(inroad(&w.db, &["campaign", "show", "li-first", "--json"]));
    assert_eq!(show["by_state"]["unsubscribed"], 1, "{show}");
}

#[test]
fn what_ifs_and_bad_input() {
    let w = world();
    let t0 = "2030-01-07T08:00:00Z";
    let base = json(inroad(&w.db, &["forecast", "email-first", "--now", t0, "--json"]));
    let more = json(inroad(
        &w.db,
        &[
            "forecast",
            "email-first",
            "--now",
            t0,
            "--mailboxes",
            "+3",
            "--json",
        ],
    ));
    // email-first's first touches are held by its daily new-lead limit, not by mailboxes.
    assert_eq!(
        more["first_touches_done_by"], base["first_touches_done_by"],
        "{more}"
    );
    let li = json(inroad(&w.db, &["forecast", "li-first", "--now", t0, "--json"]));
    let faster = json(inroad(
        &w.db,
        &[
            "forecast",
            "li-first",
            "--now",
            t0,
            "--invites-per-week",
            "200",
            "--json",
        ],
    ));
    assert!(
        faster["first_touches_done_by"].as_str() < li["first_touches_done_by"].as_str(),
        "{faster} vs {li}"
    );
    let text = String::from_utf8(inroad(&w.db, &["forecast", "li-first", "--now", t0]).stdout).unwrap();
    assert!(text.contains("first touches done by"), "{text}");
    assert!(text.contains("bottleneck"), "{text}");

    // Nobody accepts: at 10 invitations a week the acceptance guard pauses invitations once
    // twenty are two weeks old, and email-first's leads (invited after li-first's) wait
    // months for it to forget them. At the default rate the guard never steps in.
    let at_rate = |rate: &str| {
        json(inroad(
            &w.db,
            &[
                "forecast",
                "email-first",
                "--now",
                t0,
                "--invites-per-week",
                "10",
                "--acceptance-rate",
                rate,
                "--json",
            ],
        ))
    };
    let slow = at_rate("0");
    let guard = "LinkedIn acceptance guard (0 % accepted assumed)";
    let weeks = slow["weeks"].as_array().unwrap();
    assert!(weeks.iter().any(|week| week["bottleneck"] == guard), "{slow}");
    assert!(weeks.len() > 20, "months: {slow}");
    assert_eq!(slow["unfinished"], 0, "{slow}");
    let usual = at_rate("35");
    let weeks = usual["weeks"].as_array().unwrap();
    assert!(
        weeks
            .iter()
            .all(|week| !week["bottleneck"].as_str().unwrap().contains("guard")),
        "{usual}"
    );
    assert!(weeks.len() < 20, "{usual}");
    let text = String::from_utf8(
        inroad(
            &w.db,
            &[
                "forecast",
                "email-first",
                "--now",
                t0,
                "--invites-per-week",
                "10",
                "--acceptance-rate",
                "0",
            ],
        )
        .stdout,
    )
    .unwrap();
    assert!(text.contains(" … "), "quiet weeks folded: {text}");

    // A message step with no if_not_accepted_after_days waits for good (a draft campaign
    // is forecast as if started now).
    let patient = w._dir.path().join("patient.toml");
    std::fs::write(
        &patient,
        "name = \"patient\"\nlinkedin_accounts = [\"anna\"]\n\
         [[steps]]\nchannel = \"linkedin_connect\"\n\
         [[steps]]\nchannel = \"linkedin_message\"\nwait_days = 1\nbody = \"Thanks, {{ first_name }}\"\n",
    )
    .unwrap();
    inroad(&w.db, &["campaign", "create", patient.to_str().unwrap()]);
    inroad(
        &w.db,
        &[
            "campaign",
            "enroll",
            "patient",
            "--list",
            "em",
            "--allow-other-campaigns",
        ],
    );
    let patient = |rate: &str| {
        json(inroad(
            &w.db,
            &[
                "forecast",
                "patient",
                "--now",
                t0,
                "--acceptance-rate",
                rate,
                "--json",
            ],
        ))
    };
    // Some accept: each of them gets the message, the others wait for good.
    let some = patient("25");
    let waiting = some["waiting_forever"].as_u64().unwrap();
    assert!((1..24).contains(&waiting), "{some}");
    assert_eq!(some["touches"], 24 + (24 - waiting), "{some}");
    let forever = patient("0");
    assert_eq!(forever["waiting_forever"], 24, "{forever}");
    assert_eq!(forever["touches"], 24, "the invitations: {forever}");
    assert!(forever["last_touch_by"].is_string(), "{forever}");
    let last_week = forever["weeks"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last_week["bottleneck"], "waiting for invitations to be accepted",
        "{forever}"
    );

    for (args, needle) in [
        (&["forecast", "nope"][..], "no campaign"),
        (&["forecast", "li-first", "--invites-per-week", "500"][..], "200"),
        (&["forecast", "li-first", "--mailboxes", "lots"][..], "+3"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_inroad"))
            .db(&w.db)
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

//! `inroad run --now` over simulated days into the dir transport: exact daily caps,
//! warm-up counted per day in the mailbox's time zone, windows in each lead's time
//! zone across a DST change, one mailbox per conversation with threaded follow-ups,
//! suppression honoured at send time, strict rendering, one-click headers and footer
//! on every message, and never a step twice.

#[path = "support/backend.rs"]
mod backend;
use backend::inroad;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

const CAMPAIGN: &str = r#"
name = "caps"
mailboxes = ["one", "two"]
postal_address = "Acme GmbH, Hafenstraße 1, 20457 Hamburg"
unsubscribe_url = "https://unsub.acme.example"
timezone = "Europe/Berlin"
window = { days = ["mon", "tue", "wed", "thu", "fri"], start = "09:00", end = "17:00" }
daily_new_leads = 100

[[steps]]
subject = "Hello {{ company | company }}"
body = "Hi {{ first_name | first_name }}, a question about {{ company }}."

[[steps]]
wait_days = 2
body = "Hi {{ first_name }}, following up."
html = "<p>Hi {{ first_name }}, following up.</p>"
"#;

/// Headers of an .eml file (unfolded), by lowercase name.
fn headers(raw: &str) -> HashMap<String, Vec<String>> {
    let head = raw.split("\r\n\r\n").next().unwrap().replace("\r\n ", " ");
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for line in head.split("\r\n") {
        let (name, value) = line.split_once(':').unwrap();
        out.entry(name.to_lowercase())
            .or_default()
            .push(value.trim().to_owned());
    }
    out
}

#[test]
fn a_campaign_over_simulated_days() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inroad.db");
    let leads = dir.path().join("leads.csv");
    let mut csv = String::from("Email,First Name,Company\n");
    for i in 0..10 {
        csv.push_str(&format!("lead{i}@globex{i}.com,PERSON{i},\"Globex {i}, Inc.\"\n"));
    }
    csv.push_str("nocompany@initech.com,Nia,\n"); // cannot fill the template
    std::fs::write(&leads, csv).unwrap();
    inroad(
        &db,
        &["leads", "import", leads.to_str().unwrap(), "--list", "all"],
    );
    for name in ["one", "two"] {
        let from = format!("{name} <{name}@acme.example>");
        let args = [
            "mailbox",
            "add",
            name,
            "--from",
            &from,
            "--smtp-host",
            "localhost",
            "--daily-cap",
            "3",
        ];
        inroad(
            &db,
            &[&args[..], &["--gap", "60", "--timezone", "Europe/Berlin"]].concat(),
        );
    }
    let file = dir.path().join("c.toml");
    std::fs::write(&file, CAMPAIGN).unwrap();
    inroad(&db, &["campaign", "create", file.to_str().unwrap()]);
    inroad(
        &db,
        &[
            "campaign",
            "enroll",
            "caps",
            "--list",
            "all",
            "--allow-unverified",
        ],
    );
    inroad(&db, &["campaign", "start", "caps"]);

    let out: PathBuf = dir.path().join("out");
    let transport = format!("dir:{}", out.display());
    let mut suppressed_lead3 = false;
    // Mon 7 Dec 2026 to Fri 11 Dec, passes a minute apart from 10:00 Berlin.
    for day in 7..=11 {
        for minute in 0..8 {
            let now = format!("2026-12-{day:02}T09:{minute:02}:00Z");
            inroad(&db, &["run", "--transport", &transport, "--now", &now]);
        }
        if !suppressed_lead3 {
            // After the first touches of Monday: lead3 asks to be removed.
            inroad(&db, &["suppress", "add", "lead3@globex3.com"]);
            suppressed_lead3 = true;
        }
    }

    // The ledger: per mailbox and day, never more than the cap.
    let mut per_day: BTreeMap<(i64, String), u32> = BTreeMap::new();
    for row in backend::query(&db, "SELECT mailbox_id, planned_at FROM sends") {
        let mailbox: i64 = row[0].as_deref().unwrap().parse().unwrap();
        let day = rfc3339(row[1].as_deref().unwrap())[..10].to_owned();
        *per_day.entry((mailbox, day)).or_default() += 1;
    }
    assert!(per_day.values().all(|n| *n <= 3), "{per_day:?}");
    assert_eq!(
        per_day
            .iter()
            .filter(|(k, _)| k.1 == "2026-12-07")
            .map(|(_, n)| n)
            .sum::<u32>(),
        6,
        "{per_day:?}"
    );

    // The messages.
    let mut by_recipient: BTreeMap<String, Vec<HashMap<String, Vec<String>>>> = BTreeMap::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in &files {
        let raw = std::fs::read_to_string(path).unwrap();
        let h = headers(&raw);
        for name in [
            "from",
            "to",
            "subject",
            "date",
            "message-id",
            "list-unsubscribe",
            "list-unsubscribe-post",
        ] {
            assert_eq!(h.get(name).map(Vec::len), Some(1), "{name} in {}", path.display());
        }
        assert_eq!(h["list-unsubscribe-post"][0], "List-Unsubscribe=One-Click");
        assert!(h["list-unsubscribe"][0].starts_with("<https://unsub.acme.example/u/"));
        assert!(raw.contains("20457 Hamburg"), "footer in {}", path.display());
        let to = h["to"][0].clone();
        by_recipient.entry(to).or_default().push(h);
    }
    assert!(
        !by_recipient.keys().any(|to| to.contains("nocompany")),
        "an unfillable template was sent"
    );
    for (to, messages) in &by_recipient {
        assert!(messages.len() <= 2, "{to} got {} messages", messages.len());
        if let [first, second] = &messages[..] {
            assert_eq!(
                first["from"], second["from"],
                "{to}: one mailbox per conversation"
            );
            assert_eq!(second["in-reply-to"], first["message-id"], "{to}: threaded");
            assert_eq!(second["subject"][0], format!("Re: {}", first["subject"][0]));
            assert!(first["content-type"][0].starts_with("text/plain"), "{to}");
            assert!(
                second["content-type"][0].starts_with("multipart/alternative"),
                "{to}: the follow-up has an HTML version"
            );
            assert!(!to.contains("lead3@"), "a suppressed lead got a follow-up");
        }
    }
    assert_eq!(
        by_recipient.len(),
        10,
        "every fillable lead got its first touch: {:?}",
        by_recipient.keys()
    );
    let show = inroad(&db, &["campaign", "show", "caps", "--json"]);
    let show: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(show["by_state"]["needs_attention"], 1, "{show}");
    assert_eq!(show["by_state"]["unsubscribed"], 1, "{show}");
    assert_eq!(
        show["by_state"]["finished"], 9,
        "{show}: ten fillable leads, one suppressed"
    );
    assert_eq!(show["sent"], 19, "{show}: ten first touches, nine follow-ups");
    assert_eq!(show["in_doubt"], 0);
    assert_eq!(show["steps"][0]["sent"], 10, "{show}");
    assert_eq!(show["steps"][1]["sent"], 9, "{show}");
    assert_eq!(show["attention_total"], 1, "{show}");
    assert_eq!(show["attention"][0]["email"], "nocompany@initech.com", "{show}");
    let reason = show["attention"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("company"),
        "the reason names the missing field: {reason}"
    );
}

#[test]
fn a_recipient_domain_gets_at_most_its_hourly_limit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inroad.db");
    let leads = dir.path().join("leads.csv");
    let rows: String = (0..5)
        .map(|i| format!("p{i}@bigcorp.com,Pat,\"BigCorp\"\n"))
        .collect();
    std::fs::write(&leads, format!("Email,First Name,Company\n{rows}")).unwrap();
    inroad(
        &db,
        &["leads", "import", leads.to_str().unwrap(), "--list", "all"],
    );
    for name in ["one", "two"] {
        let from = format!("{name} <{name}@acme.example>");
        let args = [
            "mailbox",
            "add",
            name,
            "--from",
            &from,
            "--smtp-host",
            "localhost",
            "--gap",
            "0",
        ];
        inroad(&db, &[&args[..], &["--timezone", "Europe/Berlin"]].concat());
    }
    let file = dir.path().join("c.toml");
    std::fs::write(&file, CAMPAIGN).unwrap();
    inroad(&db, &["campaign", "create", file.to_str().unwrap()]);
    inroad(
        &db,
        &[
            "campaign",
            "enroll",
            "caps",
            "--list",
            "all",
            "--allow-unverified",
        ],
    );
    inroad(&db, &["campaign", "start", "caps"]);
    let out = dir.path().join("out");
    let transport = format!("dir:{}", out.display());
    let sent = |now: &str| {
        let run = inroad(
            &db,
            &[
                "run",
                "--transport",
                &transport,
                "--now",
                now,
                "--domain-hourly-limit",
                "2",
                "--json",
            ],
        );
        serde_json::from_slice::<serde_json::Value>(&run.stdout).unwrap()["sent"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        sent("2026-12-07T09:00:00Z"),
        2,
        "two mailboxes, but one domain: two an hour"
    );
    assert_eq!(sent("2026-12-07T09:30:00Z"), 0, "the hour is not over");
    assert_eq!(sent("2026-12-07T10:00:01Z"), 2, "an hour after the first sends");
}

/// A workspace with `leads_csv` imported into list `all`, one mailbox `m` added with
/// `mailbox_args`, and `campaign` created, enrolled and started.
fn started(leads_csv: &str, mailbox_args: &[&str], campaign: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inroad.db");
    let leads = dir.path().join("leads.csv");
    std::fs::write(&leads, leads_csv).unwrap();
    inroad(
        &db,
        &["leads", "import", leads.to_str().unwrap(), "--list", "all"],
    );
    let add = [
        "mailbox",
        "add",
        "m",
        "--from",
        "M <m@acme.example>",
        "--smtp-host",
        "localhost",
    ];
    inroad(&db, &[&add[..], mailbox_args].concat());
    let file = dir.path().join("c.toml");
    std::fs::write(&file, campaign).unwrap();
    inroad(&db, &["campaign", "create", file.to_str().unwrap()]);
    inroad(
        &db,
        &["campaign", "enroll", "c", "--list", "all", "--allow-unverified"],
    );
    inroad(&db, &["campaign", "start", "c"]);
    (dir, db)
}

/// Every send in the ledger: (recipient, step, the instant it was made, RFC 3339).
fn ledger(db: &Path) -> Vec<(String, i64, String)> {
    backend::query(
        db,
        "SELECT recipient, step, planned_at FROM sends WHERE state = 'sent' ORDER BY planned_at, recipient",
    )
    .into_iter()
    .map(|row| {
        let value = |i: usize| row[i].clone().unwrap();
        (value(0), value(1).parse().unwrap(), rfc3339(&value(2)))
    })
    .collect()
}

/// Unix seconds (as the ledger stores them) in RFC 3339, UTC.
fn rfc3339(unix_seconds: &str) -> String {
    jiff::Timestamp::from_second(unix_seconds.parse().unwrap())
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[test]
fn windows_open_in_each_leads_time_zone_across_a_dst_change() {
    // Berlin moves to summer time on Sunday 28 March 2027; New York did on the 14th.
    // Leads without a time zone fall back to the mailbox's (Berlin).
    let csv = "Email,First Name,Time Zone\n\
               ny1@globex.com,Ann,America/New_York\n\
               ny2@initech.com,Bob,America/New_York\n\
               be1@umbrella.com,Cem,\n\
               be2@hooli.com,Dan,\n";
    let campaign = r#"
name = "c"
mailboxes = ["m"]
postal_address = "Acme GmbH, Hafenstraße 1, 20457 Hamburg"
unsubscribe_url = "https://unsub.acme.example"
timezone = "UTC"
window = { days = ["mon", "tue", "wed", "thu", "fri"], start = "09:00", end = "10:00" }

[[steps]]
subject = "Hello {{ first_name }}"
body = "Hi {{ first_name }}."

[[steps]]
wait_days = 1
body = "Hi {{ first_name }}, following up."
"#;
    let args = ["--gap", "0", "--timezone", "Europe/Berlin"];
    let (dir, db) = started(csv, &args, campaign);
    let transport = format!("dir:{}", dir.path().join("out").display());
    // A pass every half hour, Friday 26 to Monday 29 March 2027 (UTC).
    for day in 26..=29 {
        for half_hour in 0..48 {
            let now = format!("2027-03-{day}T{:02}:{:02}:00Z", half_hour / 2, half_hour % 2 * 30);
            inroad(&db, &["run", "--once", "--transport", &transport, "--now", &now]);
        }
    }
    let sends: Vec<(String, i64, String)> = ledger(&db);
    let at = |who: &str, step: i64| {
        sends
            .iter()
            .find(|(to, s, _)| to.starts_with(who) && *s == step)
            .map(|(_, _, at)| at.as_str())
            .unwrap_or_else(|| panic!("{who} step {step} not sent: {sends:?}"))
    };
    for who in ["be1", "be2"] {
        // 09:00 in Berlin: UTC+1 on Friday, UTC+2 after the change.
        assert_eq!(at(who, 0), "2027-03-26T08:00:00Z", "{sends:?}");
        assert_eq!(at(who, 1), "2027-03-29T07:00:00Z", "{sends:?}");
    }
    for who in ["ny1", "ny2"] {
        // 09:00 in New York (UTC-4 on both days); the weekend is skipped.
        assert_eq!(at(who, 0), "2027-03-26T13:00:00Z", "{sends:?}");
        assert_eq!(at(who, 1), "2027-03-29T13:00:00Z", "{sends:?}");
    }
    assert_eq!(sends.len(), 8, "{sends:?}");
}

#[test]
fn warm_up_raises_the_cap_day_by_day_from_the_first_send() {
    let csv: String = std::iter::once("Email,First Name\n".to_owned())
        .chain((0..12).map(|i| format!("p{i}@corp{i}.com,Pat\n")))
        .collect();
    let campaign = r#"
name = "c"
mailboxes = ["m"]
postal_address = "Acme GmbH, Hafenstraße 1, 20457 Hamburg"
unsubscribe_url = "https://unsub.acme.example"
timezone = "America/Los_Angeles"
window = { days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start = "00:00", end = "24:00" }

[[steps]]
subject = "Hello {{ first_name }}"
body = "Hi {{ first_name }}."
"#;
    // Today's cap = min(4, 1 + 1 × days since the first send), counted per calendar
    // day in the mailbox's zone (Tokyo): 1, 2, 3, 4 on four Tokyo days.
    let args = [
        "--gap",
        "0",
        "--daily-cap",
        "4",
        "--warmup",
        "1:1",
        "--timezone",
        "Asia/Tokyo",
    ];
    let (dir, db) = started(&csv, &args, campaign);
    let transport = format!("dir:{}", dir.path().join("out").display());
    let mut per_pass = Vec::new();
    // 23:30 and 00:30 Tokyo time (14:30 and 15:30 UTC): the second pass of each UTC
    // day is already the next Tokyo day.
    for day in 7..=9 {
        for hour in [14, 15] {
            let now = format!("2026-12-{day:02}T{hour}:30:00Z");
            let run = inroad(
                &db,
                &[
                    "run",
                    "--once",
                    "--transport",
                    &transport,
                    "--now",
                    &now,
                    "--json",
                ],
            );
            let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
            per_pass.push(report["sent"].as_u64().unwrap());
        }
    }
    assert_eq!(per_pass, [1, 2, 0, 3, 0, 4], "sends per pass");
    assert_eq!(ledger(&db).len(), 10);
}

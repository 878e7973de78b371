//! `inroad run --now` over simulated days into the dir transport: exact daily caps,
//! one mailbox per conversation with threaded follow-ups, suppression honoured at
//! send time, strict rendering, one-click headers and footer on every message, and
//! never a step twice.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn inroad(db: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_inroad"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "inroad {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

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
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut per_day: BTreeMap<(i64, String), u32> = BTreeMap::new();
    let mut stmt = conn
        .prepare("SELECT mailbox_id, date(planned_at, 'unixepoch') FROM sends")
        .unwrap();
    for row in stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
    {
        *per_day.entry(row.unwrap()).or_default() += 1;
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

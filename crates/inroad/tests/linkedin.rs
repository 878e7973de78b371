//! LinkedIn steps as a daily task list, through the real binary: the email worker
//! hands LinkedIn steps over instead of mailing them, the list is paced and stable
//! within a day, free-plan notes run out after five, a message waits for the
//! invitation to be accepted, a lead who never accepts skips to the email step, and a
//! reply on LinkedIn stops the sequence.

#[path = "support/backend.rs"]
mod backend;
use backend::{inroad, json, WithDb};

use std::path::PathBuf;
use std::process::Command;

const CAMPAIGN: &str = r#"
name = "li"
mailboxes = ["m"]
linkedin_accounts = ["anna"]
postal_address = "Acme GmbH, Hafenstraße 1, 20457 Hamburg"
unsubscribe_url = "https://unsub.acme.example"
timezone = "UTC"
window = { days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start = "00:00", end = "24:00" }

[[steps]]
channel = "linkedin_connect"
note = "Hi {{ first_name }}, fellow logistics person here."
if_not_accepted_after_days = 5

[[steps]]
channel = "linkedin_message"
wait_days = 1
body = "Thanks for connecting, {{ first_name }}!"

[[steps]]
wait_days = 2
subject = "Return runs at {{ company }}"
body = "Hi {{ first_name }}, a question."
"#;

struct World {
    _dir: tempfile::TempDir,
    db: PathBuf,
    out: String,
}

impl World {
    fn tasks(&self, now: &str, extra: &[&str]) -> Vec<serde_json::Value> {
        let args = [&["linkedin", "tasks", "--now", now, "--json"][..], extra].concat();
        json(inroad(&self.db, &args))["tasks"].as_array().unwrap().clone()
    }

    fn run(&self, now: &str) -> serde_json::Value {
        json(inroad(
            &self.db,
            &["run", "--once", "--transport", &self.out, "--now", now, "--json"],
        ))
    }

    fn done(&self, task: &serde_json::Value, now: &str, how: &[&str]) {
        let id = task["id"].to_string();
        inroad(
            &self.db,
            &[&["linkedin", "done", &id, "--now", now][..], how].concat(),
        );
    }
}

fn world(leads: usize) -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inroad.db");
    let csv = dir.path().join("leads.csv");
    let mut rows = String::from("Email,First Name,Company,LinkedIn URL\n");
    for i in 0..leads {
        rows.push_str(&format!(
            "p{i}@corp{i}.com,Pat{i},Corp {i},https://www.linkedin.com/in/pat-{i}\n"
        ));
    }
    rows.push_str("nolink@corp.com,Nia,Corp,\n");
    std::fs::write(&csv, rows).unwrap();
    inroad(&db, &["leads", "import", csv.to_str().unwrap(), "--list", "all"]);
    inroad(&db, &["linkedin", "account", "add", "anna", "--plan", "free"]);
    let mailbox = [
        "mailbox",
        "add",
        "m",
        "--from",
        "M <m@acme.example>",
        "--smtp-host",
        "localhost",
    ];
    inroad(
        &db,
        &[&mailbox[..], &["--gap", "0", "--daily-cap", "100"]].concat(),
    );
    let file = dir.path().join("c.toml");
    std::fs::write(&file, CAMPAIGN).unwrap();
    inroad(&db, &["campaign", "create", file.to_str().unwrap()]);
    let enrolled = json(inroad(
        &db,
        &[
            "campaign",
            "enroll",
            "li",
            "--list",
            "all",
            "--allow-unverified",
            "--json",
        ],
    ));
    assert_eq!(enrolled["enrolled"], leads, "{enrolled}");
    assert_eq!(
        enrolled["no_linkedin"], 1,
        "the lead without a profile URL: {enrolled}"
    );
    inroad(&db, &["campaign", "start", "li"]);
    let out = format!("dir:{}", dir.path().join("out").display());
    World { _dir: dir, db, out }
}

#[test]
fn linkedin_steps_become_paced_tasks_and_outcomes_move_the_sequence() {
    let w = world(20);
    let monday = "2026-12-07T09:00:00Z";
    // The email worker never mails a LinkedIn step: it hands it to the task list.
    assert_eq!(w.run(monday)["sent"], 0);

    // 100 invitations a rolling week, paced: 15 on a fresh account (ceil(100 / 7)).
    let first = w.tasks(monday, &[]);
    assert_eq!(first.len(), 15, "{first:?}");
    assert!(first.iter().all(|t| t["kind"] == "connect"));
    assert!(first[0]["profile_url"]
        .as_str()
        .unwrap()
        .contains("linkedin.com/in/pat-"));
    // The free plan's five noted invitations a month; then without a note, and why.
    let noted = first.iter().filter(|t| t["note"].is_string()).count();
    assert_eq!(noted, 5, "{first:?}");
    assert!(
        first[5]["why_no_note"].as_str().unwrap().contains('5'),
        "{}",
        first[5]
    );
    assert_eq!(first[0]["note"], "Hi Pat0, fellow logistics person here.");
    // Asking again the same day: the same tasks, never more.
    let again = w.tasks(monday, &[]);
    assert_eq!(
        again.iter().map(|t| t["id"].clone()).collect::<Vec<_>>(),
        first.iter().map(|t| t["id"].clone()).collect::<Vec<_>>()
    );
    // Asking for more raises today's list (within the rolling budget).
    let more = w.tasks(monday, &["--max", "18"]);
    assert_eq!(more.len(), 18);

    for task in &more {
        w.done(task, monday, &[]);
    }
    assert!(
        w.tasks(monday, &[]).is_empty(),
        "nothing left for today once 18 are done"
    );
    // Two accept: one by the task, one by the lead.
    w.done(&more[0], "2026-12-07T15:00:00Z", &["--accepted"]);
    let lead1 = more[1]["lead_id"].to_string();
    inroad(
        &w.db,
        &["linkedin", "accepted", &lead1, "--now", "2026-12-07T16:00:00Z"],
    );

    // Tuesday: messages to the two who accepted; the two invitations left over.
    let tuesday = "2026-12-08T09:00:00Z";
    assert_eq!(w.run(tuesday)["sent"], 0);
    let tue = w.tasks(tuesday, &[]);
    let kinds: Vec<&str> = tue.iter().map(|t| t["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "message").count(), 2, "{tue:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "connect").count(), 2, "{tue:?}");
    let messages: Vec<&serde_json::Value> = tue.iter().filter(|t| t["kind"] == "message").collect();
    assert_eq!(messages[0]["body"], "Thanks for connecting, Pat0!");

    // One replies on LinkedIn: the sequence stops. The other's message is sent, and
    // the email step follows two days later.
    w.done(messages[0], tuesday, &["--replied"]);
    w.done(messages[1], tuesday, &[]);
    for task in tue.iter().filter(|t| t["kind"] == "connect") {
        w.done(task, tuesday, &[]);
    }
    assert_eq!(w.run("2026-12-09T09:00:00Z")["sent"], 0, "not before its wait");
    assert_eq!(
        w.run("2026-12-10T09:00:00Z")["sent"],
        1,
        "the accepted lead's email"
    );

    // Five days after the invitations, those who never accepted skip to the email step.
    assert!(w.tasks("2026-12-12T10:00:00Z", &[]).is_empty());
    let skipped = w.run("2026-12-12T10:00:00Z");
    assert_eq!(
        skipped["sent"], 16,
        "the 16 unanswered invitations of Monday: {skipped}"
    );

    let show = json(inroad(&w.db, &["campaign", "show", "li", "--json"]));
    assert_eq!(show["by_state"]["replied"], 1, "{show}");
    let accounts = json(inroad(
        &w.db,
        &[
            "linkedin",
            "account",
            "list",
            "--now",
            "2026-12-12T10:00:00Z",
            "--json",
        ],
    ));
    assert_eq!(accounts["accounts"][0]["pending_invitations"], 18, "{accounts}");
}

#[test]
fn bad_input_is_a_one_line_error() {
    let w = world(1);
    for (args, needle) in [
        (&["linkedin", "account", "add", "x", "--plan", "gold"][..], "gold"),
        (
            &["linkedin", "account", "add", "anna", "--plan", "free"][..],
            "already exists",
        ),
        (
            &[
                "linkedin",
                "account",
                "add",
                "y",
                "--plan",
                "free",
                "--invitations-per-week",
                "500",
            ][..],
            "200",
        ),
        (&["linkedin", "done", "999"][..], "no LinkedIn task 999"),
        (
            &["linkedin", "tasks", "--account", "nobody"][..],
            "no LinkedIn account",
        ),
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

#[test]
fn lint_blocks_inmail_on_a_free_plan_and_counts_notes_too_long_for_the_plan() {
    let w = world(20);
    let dir = w.db.parent().unwrap().to_path_buf();
    let inmail = CAMPAIGN.replace("name = \"li\"", "name = \"inmail\"").replace(
        "channel = \"linkedin_message\"\nwait_days = 1\nbody",
        "channel = \"linkedin_inmail\"\nwait_days = 1\nsubject = \"Hello\"\nbody",
    );
    let file = dir.join("inmail.toml");
    std::fs::write(&file, inmail).unwrap();
    inroad(&w.db, &["campaign", "create", file.to_str().unwrap()]);
    let start = Command::new(env!("CARGO_BIN_EXE_inroad"))
        .db(&w.db)
        .args(["campaign", "start", "inmail"])
        .output()
        .unwrap();
    assert!(
        !start.status.success(),
        "an InMail step on a free account must not start"
    );
    assert!(String::from_utf8_lossy(&start.stderr).contains("free plan"));

    // Names Pat0..Pat9 fill the note to exactly 200 characters, Pat10..Pat19 to 201.
    let long = CAMPAIGN.replace("name = \"li\"", "name = \"long\"").replace(
        "note = \"Hi {{ first_name }}, fellow logistics person here.\"",
        &format!("note = \"{} {{{{ first_name }}}}\"", "x".repeat(195)),
    );
    let file = dir.join("long.toml");
    std::fs::write(&file, long).unwrap();
    inroad(&w.db, &["campaign", "create", file.to_str().unwrap()]);
    let enroll = [
        "campaign",
        "enroll",
        "long",
        "--list",
        "all",
        "--allow-unverified",
        "--allow-other-campaigns",
    ];
    inroad(&w.db, &enroll);
    let lint = json(inroad(&w.db, &["campaign", "lint", "long", "--json"]));
    let messages: Vec<&str> = lint["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("free plan's 200 characters for 10 of 20 enrolled leads")),
        "{messages:?}"
    );
}

#[test]
fn stale_invitations_are_withdrawn_and_a_poor_acceptance_rate_pauses_until_resumed() {
    let w = world(25);
    let monday = "2026-12-07T09:00:00Z";
    w.run(monday);
    let sent = w.tasks(monday, &["--max", "25"]);
    assert_eq!(sent.len(), 25);
    for task in &sent {
        w.done(task, monday, &[]);
    }
    let accounts = |now: &str| {
        json(inroad(
            &w.db,
            &["linkedin", "account", "list", "--now", now, "--json"],
        ))["accounts"][0]
            .clone()
    };
    // None of 25 accepted after 14 days: under 15 %, invitations pause.
    let guard = accounts("2026-12-22T09:00:00Z")["guard"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(guard.starts_with("invitations paused"), "{guard}");

    // After 21 days pending, each invitation becomes a withdraw task; once done, it no
    // longer counts as pending.
    let withdraws = w.tasks("2026-12-29T09:00:00Z", &[]);
    assert_eq!(withdraws.len(), 25, "{withdraws:?}");
    assert!(withdraws.iter().all(|t| t["kind"] == "withdraw"));
    for task in &withdraws {
        w.done(task, "2026-12-29T09:00:00Z", &[]);
    }
    assert_eq!(accounts("2026-12-29T10:00:00Z")["pending_invitations"], 0);
    assert!(w.tasks("2026-12-30T09:00:00Z", &[]).is_empty(), "withdrawn once");

    inroad(
        &w.db,
        &[
            "linkedin",
            "account",
            "resume",
            "anna",
            "--now",
            "2026-12-30T09:00:00Z",
        ],
    );
    assert_eq!(accounts("2026-12-30T09:00:00Z")["guard"], "normal");
}

#[test]
fn outcomes_are_recorded_in_bulk_from_a_csv_or_not_at_all() {
    let w = world(4);
    let monday = "2026-12-07T09:00:00Z";
    w.run(monday);
    for task in &w.tasks(monday, &[]) {
        w.done(task, monday, &[]);
    }
    let dir = w.db.parent().unwrap().to_path_buf();
    let file = dir.join("outcomes.csv");
    // A bad row (an unknown outcome on line 3): nothing is recorded.
    std::fs::write(
        &file,
        "profile_url,outcome\nhttps://www.linkedin.com/in/pat-0/,accepted\nlinkedin.com/in/pat-1,maybe\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_inroad"))
        .db(&w.db)
        .args(["linkedin", "outcomes", file.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("line 3"), "{stderr}");
    let now = "2026-12-07T18:00:00Z";
    let pending = |w: &World| {
        json(inroad(
            &w.db,
            &["linkedin", "account", "list", "--now", now, "--json"],
        ))["accounts"][0]["pending_invitations"]
            .clone()
    };
    assert_eq!(pending(&w), 4, "nothing recorded from the bad file");

    std::fs::write(
        &file,
        "profile_url,outcome,at\nhttps://www.linkedin.com/in/pat-0/,accepted,2026-12-07T17:00:00Z\n\
         linkedin.com/in/pat-1,declined,\nwww.linkedin.com/in/pat-2,replied,\n",
    )
    .unwrap();
    let report = json(inroad(
        &w.db,
        &[
            "linkedin",
            "outcomes",
            file.to_str().unwrap(),
            "--now",
            now,
            "--json",
        ],
    ));
    assert_eq!(
        (&report["accepted"], &report["declined"], &report["replied"]),
        (&1.into(), &1.into(), &1.into())
    );
    assert_eq!(
        pending(&w),
        2,
        "pat-2 replied but its invitation is still pending; pat-3 too"
    );
    let show = json(inroad(&w.db, &["campaign", "show", "li", "--json"]));
    assert_eq!(show["by_state"]["replied"], 1, "{show}");
}

#[test]
fn inmail_uses_credits_and_a_reply_within_90_days_refunds_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inroad.db");
    let csv = dir.path().join("leads.csv");
    let rows: String = (0..6)
        .map(|i| format!("p{i}@corp{i}.com,Pat{i},https://www.linkedin.com/in/pat-{i}\n"))
        .collect();
    std::fs::write(&csv, format!("Email,First Name,LinkedIn URL\n{rows}")).unwrap();
    inroad(&db, &["leads", "import", csv.to_str().unwrap(), "--list", "all"]);
    // Two credits shown on 7 December; the next grant (5) comes on 1 January.
    let add = [
        "linkedin",
        "account",
        "add",
        "anna",
        "--plan",
        "premium-career",
        "--inmail-credits",
        "2",
    ];
    inroad(&db, &[&add[..], &["--now", "2026-12-07T00:00:00Z"]].concat());
    let file = dir.path().join("c.toml");
    std::fs::write(
        &file,
        "name = \"in\"\nlinkedin_accounts = [\"anna\"]\n[[steps]]\nchannel = \"linkedin_inmail\"\n\
         subject = \"Hi {{ first_name }}\"\nbody = \"A question for you.\"\n",
    )
    .unwrap();
    inroad(&db, &["campaign", "create", file.to_str().unwrap()]);
    inroad(
        &db,
        &["campaign", "enroll", "in", "--list", "all", "--allow-unverified"],
    );
    inroad(&db, &["campaign", "start", "in"]);
    let out = format!("dir:{}", dir.path().join("out").display());
    let tasks = |now: &str| -> Vec<serde_json::Value> {
        inroad(&db, &["run", "--once", "--transport", &out, "--now", now]);
        json(inroad(&db, &["linkedin", "tasks", "--now", now, "--json"]))["tasks"]
            .as_array()
            .unwrap()
            .clone()
    };
    let first = tasks("2026-12-07T09:00:00Z");
    assert_eq!(first.len(), 2, "two credits: {first:?}");
    assert_eq!(first[0]["kind"], "inmail");
    assert_eq!(first[0]["subject"], "Hi Pat0");
    for task in &first {
        let id = task["id"].to_string();
        inroad(&db, &["linkedin", "done", &id, "--now", "2026-12-07T10:00:00Z"]);
    }
    assert!(tasks("2026-12-08T09:00:00Z").is_empty(), "no credit left");
    // A reply within 90 days gives the credit back.
    let lead = first[0]["lead_id"].to_string();
    inroad(
        &db,
        &["linkedin", "replied", &lead, "--now", "2026-12-08T12:00:00Z"],
    );
    assert_eq!(tasks("2026-12-09T09:00:00Z").len(), 1, "one refunded credit");
    // The monthly grant on 1 January.
    let january = tasks("2027-01-01T09:00:00Z");
    assert_eq!(january.len(), 4, "1 open + 3 more of the 5 granted: {january:?}");
}

//! `inroad campaign create|list|lint|preview` on the example file and on broken ones.

#[path = "support/backend.rs"]
mod backend;
use backend::WithDb;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn inroad(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_inroad"))
        .db(db)
        .args(args)
        .output()
        .expect("runs")
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/campaign.toml")
}

fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inroad.db");
    let leads = dir.path().join("leads.csv");
    std::fs::write(
        &leads,
        "Email,First Name,Company\nJOHN@acme.com,JOHN,\"Acme, Inc.\"\nnocompany@globex.com,Mia,\n",
    )
    .unwrap();
    assert!(inroad(&db, &["leads", "import", leads.to_str().unwrap()])
        .status
        .success());
    (dir, db)
}

#[test]
fn the_example_campaign_lints_clean_once_its_mailboxes_exist_and_previews_strictly() {
    let (_dir, db) = workspace();
    let created = inroad(
        &db,
        &["campaign", "create", example().to_str().unwrap(), "--json"],
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let id: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    let id = id["id"].to_string();
    // The example names mailboxes that do not exist yet: a blocking error.
    let lint = inroad(&db, &["campaign", "lint", &id]);
    assert_eq!(lint.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&lint.stderr).contains("anna-main"));
    for name in ["anna-main", "anna-second"] {
        let from = format!("Anna <{name}@northwind.example>");
        let args = [
            "mailbox",
            "add",
            name,
            "--from",
            &from,
            "--smtp-host",
            "smtp.northwind.example",
        ];
        assert!(inroad(&db, &args).status.success());
    }
    let lint = inroad(&db, &["campaign", "lint", &id, "--json"]);
    assert!(lint.status.success(), "{}", String::from_utf8_lossy(&lint.stderr));

    let preview = inroad(&db, &["campaign", "preview", &id, "--sample", "5", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&preview.stdout).unwrap();
    let leads = json["leads"].as_array().unwrap();
    assert_eq!(leads.len(), 2);
    let john = &leads[0]["steps"];
    let opener = john[0]["subject"].as_str().unwrap().to_owned();
    assert!(opener.contains("John") || opener.contains("Acme"), "{opener}");
    assert!(
        !opener.contains("Inc"),
        "the company filter drops legal suffixes: {opener}"
    );
    assert_eq!(
        john[1]["subject"],
        format!("Re: {opener}"),
        "follow-ups reply in the thread"
    );
    // Mia has no company: every step that needs it is parked, with the reason.
    let mia = &leads[1]["steps"];
    assert!(mia[0]["problem"].as_str().unwrap().contains("company"), "{mia}");
    assert!(mia[0]["body"].is_null());
    // Previews are stable: the same lead renders the same text every time.
    let again = inroad(&db, &["campaign", "preview", &id, "--sample", "5", "--json"]);
    assert_eq!(again.stdout, preview.stdout);
}

#[test]
fn broken_campaign_files_are_one_line_errors() {
    let (dir, db) = workspace();
    for (text, needle) in [
        ("name = \"x\"\nmailboxs = [\"a\"]\n", "mailboxs"),
        (
            "name = \"x\"\n[[steps]]\nchannel = \"linkedin_connect\"\nbody = \"hi\"\n",
            "use note",
        ),
        ("name = \"x\"\n[[steps]]\nbody = \"hi\"\n", "subject"),
        (
            "name = \"x\"\n[[steps]]\nsubject = \"{{ first_name \"\nbody = \"hi\"\n",
            "syntax",
        ),
    ] {
        let file = dir.path().join("c.toml");
        std::fs::write(&file, text).unwrap();
        let out = inroad(&db, &["campaign", "create", file.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        if needle == "syntax" {
            // A template syntax error is a lint error: the draft is stored, and lint blocks it.
            assert!(errors.iter().any(|l| l.contains("syntax")), "{stderr}");
            continue;
        }
        assert_eq!(out.status.code(), Some(1), "{text}: {stderr}");
        assert_eq!(errors.len(), 1, "{stderr}");
        assert!(errors[0].contains(needle), "{needle}: {stderr}");
    }
}

#[test]
fn enrolment_policy_show_counts_and_start_refused_until_lint_passes() {
    let (_dir, db) = workspace();
    let list = _dir.path().join("leads.csv");
    assert!(
        inroad(&db, &["leads", "import", list.to_str().unwrap(), "--list", "q4"])
            .status
            .success()
    );
    assert!(inroad(&db, &["suppress", "add", "nocompany@globex.com"])
        .status
        .success());
    let created = inroad(
        &db,
        &["campaign", "create", example().to_str().unwrap(), "--json"],
    );
    let id = serde_json::from_slice::<serde_json::Value>(&created.stdout).unwrap()["id"].to_string();

    // Nothing is verified: the default policy enrols nobody; the suppressed lead never.
    let strict = inroad(&db, &["campaign", "enroll", &id, "--list", "q4", "--json"]);
    let strict: serde_json::Value = serde_json::from_slice(&strict.stdout).unwrap();
    assert_eq!(
        (strict["enrolled"].as_u64(), strict["suppressed"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(strict["email_not_usable"], 1);
    let loose = inroad(
        &db,
        &[
            "campaign",
            "enroll",
            &id,
            "--list",
            "q4",
            "--allow-unverified",
            "--json",
        ],
    );
    let loose: serde_json::Value = serde_json::from_slice(&loose.stdout).unwrap();
    assert_eq!(
        (loose["enrolled"].as_u64(), loose["suppressed"].as_u64()),
        (Some(1), Some(1))
    );

    let show = inroad(&db, &["campaign", "show", &id, "--json"]);
    let show: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(
        (
            show["enrolled"].as_u64(),
            show["sent"].as_u64(),
            show["in_doubt"].as_u64()
        ),
        (Some(1), Some(0), Some(0))
    );
    assert_eq!(show["by_state"]["active"], 1);
    assert_eq!(show["by_state"]["needs_attention"], 0);
    assert_eq!(show["status"], "draft");

    // Its mailboxes do not exist: lint blocks, so the campaign refuses to start.
    let start = inroad(&db, &["campaign", "start", &id]);
    assert_eq!(start.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&start.stderr).contains("cannot start"));
    for name in ["anna-main", "anna-second"] {
        let from = format!("Anna <{name}@northwind.example>");
        assert!(inroad(
            &db,
            &[
                "mailbox",
                "add",
                name,
                "--from",
                &from,
                "--smtp-host",
                "smtp.example"
            ]
        )
        .status
        .success());
    }
    assert!(inroad(&db, &["campaign", "start", &id]).status.success());
    assert!(inroad(&db, &["campaign", "pause", &id]).status.success());
    assert!(inroad(&db, &["campaign", "stop", &id]).status.success());
    assert_eq!(
        inroad(&db, &["campaign", "resume", &id]).status.code(),
        Some(1),
        "stopped is for good"
    );
}

#[test]
fn lint_counts_enrolled_leads_the_templates_cannot_fill_with_examples() {
    let (dir, db) = workspace();
    let list = dir.path().join("leads.csv");
    inroad(&db, &["leads", "import", list.to_str().unwrap(), "--list", "q4"]);
    for name in ["anna-main", "anna-second"] {
        let from = format!("Anna <{name}@northwind.example>");
        let add = [
            "mailbox",
            "add",
            name,
            "--from",
            &from,
            "--smtp-host",
            "smtp.example",
        ];
        assert!(inroad(&db, &add).status.success());
    }
    let created = inroad(
        &db,
        &["campaign", "create", example().to_str().unwrap(), "--json"],
    );
    let id = serde_json::from_slice::<serde_json::Value>(&created.stdout).unwrap()["id"].to_string();
    let enroll = ["campaign", "enroll", &id, "--list", "q4", "--allow-unverified"];
    assert!(inroad(&db, &enroll).status.success());

    let lint = inroad(&db, &["campaign", "lint", &id, "--json"]);
    assert!(lint.status.success(), "warnings do not block");
    let lint: serde_json::Value = serde_json::from_slice(&lint.stdout).unwrap();
    let unfillable: Vec<&str> = lint["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "warning")
        .filter_map(|f| f["message"].as_str())
        .filter(|m| m.contains("enrolled leads"))
        .collect();
    assert!(!unfillable.is_empty(), "{lint}");
    for message in unfillable {
        assert!(message.contains("1 of 2 enrolled leads"), "{message}");
        assert!(message.contains("nocompany@globex.com"), "an example: {message}");
        assert!(message.contains("company"), "names the missing field: {message}");
    }
}

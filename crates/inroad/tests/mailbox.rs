//! `inroad mailbox add|list`: settings checked up front, and no secret stored.

use std::path::Path;
use std::process::{Command, Output};

fn inroad(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_inroad"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("ACME_SMTP_PASSWORD", "correct-horse-battery-staple")
        .output()
        .expect("inroad runs")
}

const ADD: &[&str] = &[
    "mailbox",
    "add",
    "primary",
    "--from",
    "Ann Lee <Ann@Acme.com>",
    "--smtp-host",
    "smtp.acme.com",
    "--password-env",
    "ACME_SMTP_PASSWORD",
    "--daily-cap",
    "40",
    "--warmup",
    "15:2",
    "--gap",
    "60-180",
    "--timezone",
    "Europe/Berlin",
];

#[test]
fn a_mailbox_is_listed_and_its_password_is_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inroad.db");
    let added = inroad(&db, ADD);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let listed = inroad(&db, &["mailbox", "list", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let m = &json["mailboxes"][0];
    assert_eq!(m["from_address"], "ann@acme.com");
    assert_eq!(m["from_name"], "Ann Lee");
    assert_eq!(m["password_env"], "ACME_SMTP_PASSWORD");
    assert_eq!(m["warmup"]["start"], 15);
    assert_eq!(m["gap_secs"], serde_json::json!([60, 180]));
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(
            !bytes.windows(12).any(|w| w == b"correct-hors"),
            "the password reached a database file"
        );
    }
    let again = inroad(&db, ADD);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));
}

#[test]
fn bad_settings_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inroad.db");
    for (flag, value, needle) in [
        ("--timezone", "Mars/Olympus", "time zone"),
        ("--gap", "180-60", "--gap"),
        ("--warmup", "fast", "--warmup"),
        ("--password-env", "hunter2!", "NAME of an environment variable"),
        ("--from", "Ann <ann@acme", "--from"),
    ] {
        let mut args: Vec<&str> = ADD.to_vec();
        let i = args.iter().position(|a| *a == flag).unwrap();
        args[i + 1] = value;
        let out = inroad(&db, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{flag} {value}: {stderr}");
        assert!(
            stderr.starts_with("error:") && stderr.contains(needle),
            "{flag}: {stderr}"
        );
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    }
}

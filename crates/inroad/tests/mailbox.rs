//! `inroad mailbox add|list|set-password|test`: settings checked up front, no
//! password ever in plain text in the database, and a test that logs in to a real
//! (fake) SMTP server without sending anything.

#[path = "support/backend.rs"]
mod backend;
use backend::WithDb;

use std::io::Write;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use inroad_testkit::{FakeMx, HostScript};

const PASSWORD: &str = "correct-horse-battery-staple";

fn command(db: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_inroad"));
    cmd.env_remove("INROAD_KEY_FILE")
        .env_remove("INROAD_HELO_NAME")
        .db(db);
    cmd
}

fn inroad(db: &Path, args: &[&str]) -> Output {
    command(db)
        .args(args)
        .env("ACME_SMTP_PASSWORD", PASSWORD)
        .output()
        .expect("inroad runs")
}

/// `inroad` with `stdin` piped in (and no password in its environment).
fn inroad_with_stdin(db: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = command(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("inroad runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[track_caller]
fn assert_ok(out: &Output) {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The stderr of a failed command, which must be a one-line error.
#[track_caller]
fn one_line_error(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error:"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    stderr
}

/// Whether `needle` is in the database or its WAL and shared-memory files.
fn in_database_files(db: &Path, needle: &[u8]) -> bool {
    ["", "-wal", "-shm"].iter().any(|suffix| {
        let path = format!("{}{suffix}", db.display());
        std::fs::read(path).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
    })
}

/// A mailbox on a plain-text fake server at `ip:port`, logging in as ann@acme.com.
fn add_mailbox(db: &Path, name: &str, (ip, port): (Ipv4Addr, u16), password: &[&str]) -> Output {
    let (host, port) = (ip.to_string(), port.to_string());
    let mut args = vec![
        "mailbox",
        "add",
        name,
        "--from",
        "Ann <ann@acme.com>",
        "--smtp-host",
        &host,
        "--smtp-port",
        &port,
        "--smtp-tls",
        "none",
    ];
    args.extend(password);
    inroad_with_stdin(db, &args, &format!("{PASSWORD}\n"))
}

/// A submission server that wants ann@acme.com to log in with [`PASSWORD`].
fn submission_server(ip: Ipv4Addr) -> FakeMx {
    FakeMx::builder()
        .host(ip, HostScript::normal().auth("ann@acme.com", PASSWORD))
        .start()
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

#[test]
fn a_password_from_stdin_is_stored_only_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inroad.db");
    let added = add_mailbox(&db, "m1", (Ipv4Addr::LOCALHOST, 2525), &["--password-stdin"]);
    assert_ok(&added);
    let key = dir.path().join("inroad.db.key");
    assert!(
        String::from_utf8_lossy(&added.stderr).contains("created the install key"),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the install key is the owner's only");
    }
    assert!(!in_database_files(&db, PASSWORD.as_bytes()));
    assert!(!in_database_files(&db, b"horse"));
    let listed = inroad(&db, &["mailbox", "list", "--json"]);
    assert_ok(&listed);
    let stdout = String::from_utf8_lossy(&listed.stdout);
    assert!(!stdout.contains("horse"), "{stdout}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["mailboxes"][0]["password"], "stored (encrypted)", "{json}");
    assert_eq!(json["mailboxes"][0]["password_env"], serde_json::Value::Null);

    let empty = inroad_with_stdin(&db, &["mailbox", "set-password", "m1", "--password-stdin"], "\n");
    assert!(one_line_error(&empty).contains("empty"));
    let moved = inroad(
        &db,
        &[
            "mailbox",
            "set-password",
            "m1",
            "--password-env",
            "ACME_SMTP_PASSWORD",
        ],
    );
    assert_ok(&moved);
    let json: serde_json::Value =
        serde_json::from_slice(&inroad(&db, &["mailbox", "list", "--json"]).stdout).unwrap();
    assert_eq!(
        json["mailboxes"][0]["password"], "env:ACME_SMTP_PASSWORD",
        "{json}"
    );
    let nobody = inroad(&db, &["mailbox", "set-password", "m9", "--password-env", "X"]);
    assert!(one_line_error(&nobody).contains("no mailbox named"));
}

#[test]
fn mailbox_test_logs_in_and_sends_nothing() {
    let ip = Ipv4Addr::new(127, 0, 11, 1);
    let mx = submission_server(ip);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inroad.db");
    assert_ok(&add_mailbox(&db, "m1", (ip, mx.port()), &["--password-stdin"]));

    let tested = inroad(
        &db,
        &[
            "mailbox",
            "test",
            "m1",
            "--helo-name",
            "test.local",
            "--timeout",
            "5",
        ],
    );
    assert_ok(&tested);
    let line = String::from_utf8_lossy(&tested.stdout);
    assert_eq!(
        line.trim_end(),
        format!(
            "mailbox m1: smtp {ip}:{} (none) — connected to mx.fake.test, authenticated as \
             ann@acme.com; nothing sent",
            mx.port()
        )
    );
    let json = inroad(
        &db,
        &["mailbox", "test", "m1", "--helo-name", "test.local", "--json"],
    );
    assert_ok(&json);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        (&json["mailbox"], &json["smtp"]["ok"]),
        (&"m1".into(), &true.into()),
        "{json}"
    );

    let changed = inroad_with_stdin(
        &db,
        &["mailbox", "set-password", "m1", "--password-stdin"],
        "wrong-password\n",
    );
    assert_ok(&changed);
    let refused = inroad(
        &db,
        &["mailbox", "test", "m1", "--helo-name", "test.local", "--json"],
    );
    let error = one_line_error(&refused);
    assert!(
        error.contains("authentication failed") && error.contains("set-password"),
        "{error}"
    );
    let json: serde_json::Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(json["smtp"]["ok"], false, "{json}");

    let stats = mx.stats();
    assert_eq!((stats.auth_successes, stats.auth_failures), (2, 1));
    assert_eq!(stats.mail_froms, 0, "a test never starts a transaction");
    assert_eq!(stats.messages, 0);
}

#[test]
fn another_install_key_cannot_open_a_stored_password() {
    let ip = Ipv4Addr::new(127, 0, 11, 2);
    let mx = submission_server(ip);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inroad.db");
    assert_ok(&add_mailbox(&db, "m1", (ip, mx.port()), &["--password-stdin"]));
    let other_key = dir.path().join("other.key");
    std::fs::write(&other_key, [7u8; 32]).unwrap();
    let out = inroad(
        &db,
        &["--key-file", other_key.to_str().unwrap(), "mailbox", "test", "m1"],
    );
    let error = one_line_error(&out);
    assert!(
        error.contains("the install key is not the one it was stored with"),
        "{error}"
    );
    assert_eq!(mx.stats().connections, 0, "no password, no connection");
    // The environment variable names the same file as --key-file.
    let out = command(&db)
        .env("INROAD_KEY_FILE", &other_key)
        .args(["mailbox", "test", "m1"])
        .output()
        .unwrap();
    assert!(one_line_error(&out).contains("install key"));
}

#[test]
fn a_password_variable_that_is_not_set_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inroad.db");
    let added = add_mailbox(
        &db,
        "m2",
        (Ipv4Addr::LOCALHOST, 2525),
        &["--password-env", "INROAD_TEST_UNSET_PASSWORD"],
    );
    assert_ok(&added);
    let out = inroad(&db, &["mailbox", "test", "m2"]);
    let error = one_line_error(&out);
    assert!(
        error.contains("INROAD_TEST_UNSET_PASSWORD, which is not set"),
        "{error}"
    );
    assert!(
        !dir.path().join("inroad.db.key").exists(),
        "testing a mailbox without a stored password creates no key"
    );
    let both = add_mailbox(
        &db,
        "m3",
        (Ipv4Addr::LOCALHOST, 2525),
        &["--password-env", "X", "--password-stdin"],
    );
    assert_eq!(both.status.code(), Some(2), "clap refuses both sources at once");
}

//! `inroad run` over real SMTP: Postfix's smtp-sink keeps what it receives (DKIM
//! signed, the signatures checked with openssl against the public key; one-click
//! headers), a scripted server refuses a recipient (a hard bounce: suppressed, never
//! retried), and one that requires AUTH takes the mailbox's stored password or pauses
//! the mailbox.

#[path = "support/backend.rs"]
mod backend;
use backend::{inroad, WithDb};

use std::io::Write;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Stdio};

#[path = "support/sink.rs"]
mod sink;

use inroad_testkit::dkim::{crlf, DkimSignature};
use inroad_testkit::{AfterData, FakeMx, HostScript, Script};

fn campaign(dir: &Path, db: &Path, (host, port): (&str, u16), emails: &[&str], dkim: Option<&Path>) {
    let leads = dir.join("leads.csv");
    let rows: String = emails.iter().map(|e| format!("{e},Ann,Acme Inc\n")).collect();
    std::fs::write(&leads, format!("Email,First Name,Company\n{rows}")).unwrap();
    inroad(db, &["leads", "import", leads.to_str().unwrap(), "--list", "all"]);
    let port = port.to_string();
    let mut args = vec![
        "mailbox",
        "add",
        "m",
        "--from",
        "Mo <mo@acme.example>",
        "--smtp-host",
        host,
    ];
    args.extend([
        "--smtp-port",
        &port,
        "--smtp-tls",
        "none",
        "--gap",
        "0",
        "--timezone",
        "UTC",
        "--daily-cap",
        "200",
    ]);
    let key;
    if let Some(path) = dkim {
        key = path.to_str().unwrap().to_owned();
        args.extend(["--dkim-selector", "s1", "--dkim-key", &key]);
    }
    inroad(db, &args);
    let file = dir.join("c.toml");
    std::fs::write(
        &file,
        "name = \"c\"\nmailboxes = [\"m\"]\npostal_address = \"Acme, 1 Road, Hamburg\"\n\
         unsubscribe_url = \"https://u.acme.example\"\ntimezone = \"UTC\"\n\
         window = { days = [\"mon\"], start = \"00:00\", end = \"24:00\" }\n\
         [[steps]]\nsubject = \"Hi {{ first_name }}\"\nbody = \"About {{ company | company }}.\"\n",
    )
    .unwrap();
    inroad(db, &["campaign", "create", file.to_str().unwrap()]);
    inroad(
        db,
        &["campaign", "enroll", "c", "--list", "all", "--allow-unverified"],
    );
    inroad(db, &["campaign", "start", "c"]);
}

#[test]
fn messages_reach_smtp_sink_signed_and_with_one_click_headers() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    let key = dir.path().join("dkim.pem");
    let made = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&key)
        .output()
        .expect("openssl");
    assert!(made.status.success());
    let public_key = dir.path().join("dkim.pub.pem");
    let derived = Command::new("openssl")
        .args(["pkey", "-in"])
        .arg(&key)
        .args(["-pubout", "-out"])
        .arg(&public_key)
        .output()
        .expect("openssl");
    assert!(derived.status.success());
    let sink = sink::Sink::start(&dump);
    let db = dir.path().join("inroad.db");
    let emails = ["a@globex.com", "b@initech.com", "c@hooli.com"];
    campaign(dir.path(), &db, ("127.0.0.1", sink.port), &emails, Some(&key));
    let run = inroad(
        &db,
        &[
            "run",
            "--now",
            "2026-12-07T09:00:00Z",
            "--helo-name",
            "test.local",
            "--json",
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["sent"], 3, "{report}");
    // A second pass sends nothing more: each step at most once.
    let again = inroad(
        &db,
        &[
            "run",
            "--now",
            "2026-12-07T09:05:00Z",
            "--helo-name",
            "test.local",
            "--json",
        ],
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&again.stdout).unwrap()["sent"],
        0
    );
    drop(sink);
    let dumps: Vec<String> = std::fs::read_dir(&dump)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(dumps.len(), 3);
    for message in &dumps {
        for needle in [
            "DKIM-Signature:",
            "d=acme.example",
            "s=s1",
            "List-Unsubscribe: <https://u.acme.example/u/",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "Hamburg",
        ] {
            assert!(message.contains(needle), "{needle} missing in:\n{message}");
        }
        // smtp-sink stores LF line ends and puts its own X-Client-Addr .. X-Rcpt-Args and
        // Received headers on top (unsigned, as a receiving server's would be): the
        // checker takes the wire form and the signed headers by name from the bottom.
        assert!(message.starts_with("X-Client-Addr: "), "{message}");
        let raw = crlf(message.as_bytes());
        let dkim = DkimSignature::parse(&raw);
        assert_eq!(
            (dkim.tag("a"), dkim.tag("d"), dkim.tag("s")),
            ("rsa-sha256", "acme.example", "s1")
        );
        // RFC 8058 §4: one-click unsubscribe needs both headers under the DKIM signature.
        let signed = dkim.signed_headers();
        for name in ["from", "subject", "list-unsubscribe", "list-unsubscribe-post"] {
            assert!(signed.iter().any(|s| s == name), "{name} not signed: {signed:?}");
        }
        assert!(dkim.body_hash_matches(), "body hash mismatch in:\n{message}");
        assert!(
            dkim.verifies_with_openssl(&public_key),
            "DKIM signature does not verify with openssl:\n{message}"
        );
    }
    // Negative control: the same message with its Subject changed does not verify.
    let raw = String::from_utf8(crlf(dumps[0].as_bytes())).unwrap();
    assert!(raw.contains("\r\nSubject: Hi Ann\r\n"), "{raw}");
    let tampered = DkimSignature::parse(
        raw.replacen("\r\nSubject: Hi Ann", "\r\nSubject: Hi Bob", 1)
            .as_bytes(),
    );
    assert!(tampered.body_hash_matches());
    assert!(
        !tampered.verifies_with_openssl(&public_key),
        "a changed Subject verified"
    );
}

#[test]
fn a_recipient_refused_at_rcpt_is_a_hard_bounce_and_suppressed() {
    let ip = Ipv4Addr::new(127, 0, 10, 1);
    let mx = FakeMx::builder()
        .hosts(&[ip])
        .domain("globex.com", Script::known(["known"]))
        .start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inroad.db");
    campaign(
        dir.path(),
        &db,
        (&ip.to_string(), mx.port()),
        &["nobody@globex.com"],
        None,
    );
    let run = inroad(
        &db,
        &[
            "run",
            "--now",
            "2026-12-07T09:00:00Z",
            "--helo-name",
            "test.local",
            "--json",
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(
        (report["sent"].as_u64(), report["bounced"].as_u64()),
        (Some(0), Some(1)),
        "{report}"
    );
    let list = inroad(&db, &["suppress", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list["suppressions"][0]["value"], "nobody@globex.com");
    let show = inroad(&db, &["campaign", "show", "c", "--json"]);
    let show: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(show["by_state"]["bounced"], 1, "{show}");
    let again = inroad(
        &db,
        &[
            "run",
            "--now",
            "2026-12-07T10:00:00Z",
            "--helo-name",
            "test.local",
            "--json",
        ],
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&again.stdout).unwrap()["bounced"],
        0
    );
    assert_eq!(mx.stats().rcpts, 1, "a bounced address is never tried again");
}

#[test]
fn a_mailbox_pauses_itself_at_two_percent_hard_bounces() {
    let ip = Ipv4Addr::new(127, 0, 10, 2);
    let known: Vec<String> = (0..60).map(|i| format!("k{i}")).collect();
    let mx = FakeMx::builder()
        .hosts(&[ip])
        .accept_data(true)
        .domain("globex.com", Script::known(known))
        .start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inroad.db");
    // 49 good addresses, then one that bounces (the 50th send), then 5 more.
    let mut emails: Vec<String> = (0..49).map(|i| format!("k{i}@globex.com")).collect();
    emails.push("gone@globex.com".into());
    emails.extend((49..54).map(|i| format!("k{i}@globex.com")));
    let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
    campaign(dir.path(), &db, (&ip.to_string(), mx.port()), &refs, None);
    let run = inroad(
        &db,
        &[
            "run",
            "--now",
            "2026-12-07T09:00:00Z",
            "--helo-name",
            "test.local",
            "--json",
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(
        (report["sent"].as_u64(), report["bounced"].as_u64()),
        (Some(49), Some(1)),
        "{report}"
    );
    assert_eq!(
        report["mailboxes_paused"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );
    let list = inroad(&db, &["mailbox", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert!(
        list["mailboxes"][0]["paused_reason"]
            .as_str()
            .unwrap()
            .contains("hard bounces"),
        "{list}"
    );
    let paused = inroad(
        &db,
        &[
            "run",
            "--now",
            "2026-12-07T09:10:00Z",
            "--helo-name",
            "test.local",
            "--json",
        ],
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&paused.stdout).unwrap()["sent"],
        0
    );
    inroad(&db, &["mailbox", "resume", "m"]);
    let resumed = inroad(
        &db,
        &[
            "run",
            "--now",
            "2026-12-07T09:20:00Z",
            "--helo-name",
            "test.local",
            "--json",
        ],
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&resumed.stdout).unwrap()["sent"],
        5
    );
}

/// One lead, one mailbox aimed at a scripted server; returns the run's JSON report.
fn one_send(ip: Ipv4Addr, mx: &FakeMx, db: &Path, dir: &Path) -> serde_json::Value {
    campaign(dir, db, (&ip.to_string(), mx.port()), &["ann@globex.com"], None);
    run_at(db, "2026-12-07T09:00:00Z")
}

fn run_at(db: &Path, now: &str) -> serde_json::Value {
    let out = inroad(
        db,
        &[
            "run",
            "--now",
            now,
            "--helo-name",
            "test.local",
            "--timeout",
            "1",
            "--json",
        ],
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ledger_state(db: &Path) -> String {
    let rows = backend::query(db, "SELECT state FROM sends");
    rows[0][0].clone().unwrap()
}

#[test]
fn temporary_refusals_before_data_are_retried_later_as_the_same_send() {
    for (i, reply) in ["451 4.3.0 Try again later", "452 4.2.2 Mailbox full"]
        .into_iter()
        .enumerate()
    {
        let ip = Ipv4Addr::new(127, 0, 10, 10 + i as u8);
        let mx = FakeMx::builder()
            .hosts(&[ip])
            .accept_data(true)
            .domain("globex.com", Script::reply(reply))
            .start();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("inroad.db");
        let report = one_send(ip, &mx, &db, dir.path());
        assert_eq!(
            (report["sent"].as_u64(), report["failed"].as_u64()),
            (Some(0), Some(1)),
            "{reply}: {report}"
        );
        assert_eq!(ledger_state(&db), "failed");
        assert_eq!(
            run_at(&db, "2026-12-07T09:05:00Z")["failed"],
            0,
            "not before the retry time"
        );
        assert_eq!(
            run_at(&db, "2026-12-07T09:16:00Z")["failed"],
            1,
            "{reply}: retried after 15 minutes"
        );
        assert_eq!(mx.stats().rcpts, 2);
    }
}

#[test]
fn a_busy_server_at_connect_is_retried_later() {
    let ip = Ipv4Addr::new(127, 0, 10, 20);
    let mx = FakeMx::builder().host(ip, HostScript::busy()).start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inroad.db");
    let report = one_send(ip, &mx, &db, dir.path());
    assert_eq!(report["failed"], 1, "{report}");
    assert_eq!(ledger_state(&db), "failed");
}

#[test]
fn a_refusal_after_data_is_a_bounce() {
    let ip = Ipv4Addr::new(127, 0, 10, 21);
    let mx = FakeMx::builder()
        .hosts(&[ip])
        .accept_data(true)
        .after_data(AfterData::Reply("550 5.7.1 Message rejected".into()))
        .domain("globex.com", Script::known(["ann"]))
        .start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inroad.db");
    let report = one_send(ip, &mx, &db, dir.path());
    assert_eq!(report["bounced"], 1, "{report}");
    assert_eq!(ledger_state(&db), "bounced");
}

#[test]
fn a_send_broken_after_data_began_is_in_doubt_and_never_resent() {
    for (i, after) in [AfterData::Drop, AfterData::Hang].into_iter().enumerate() {
        let ip = Ipv4Addr::new(127, 0, 10, 22 + i as u8);
        let mx = FakeMx::builder()
            .hosts(&[ip])
            .accept_data(true)
            .after_data(after.clone())
            .domain("globex.com", Script::known(["ann"]))
            .start();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("inroad.db");
        let report = one_send(ip, &mx, &db, dir.path());
        assert_eq!(
            (report["sent"].as_u64(), report["in_doubt"].as_u64()),
            (Some(0), Some(1)),
            "{after:?}: {report}"
        );
        assert_eq!(ledger_state(&db), "in_doubt");
        let later = run_at(&db, "2026-12-08T09:00:00Z");
        assert_eq!(
            (later["sent"].as_u64(), later["failed"].as_u64()),
            (Some(0), Some(0)),
            "{after:?}: {later}"
        );
        assert_eq!(mx.stats().mail_froms, 1, "{after:?}: never tried again");
        let show = inroad(&db, &["campaign", "show", "c", "--json"]);
        let show: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
        assert_eq!(show["in_doubt"], 1, "{show}");
        assert_eq!(show["attention"][0]["email"], "ann@globex.com", "{show}");
        let reason = show["attention"][0]["reason"].as_str().unwrap();
        assert!(reason.contains("may have been delivered"), "{reason}");

        // The user checks the Sent folder and settles it by hand.
        let lead = show["attention"][0]["lead_id"].to_string();
        let how = if i == 0 { "--delivered" } else { "--resend" };
        inroad(&db, &["campaign", "release", "c", "--lead", &lead, how]);
        let again = Command::new(env!("CARGO_BIN_EXE_inroad"))
            .db(&db)
            .args(["campaign", "release", "c", "--lead", &lead, how])
            .output()
            .unwrap();
        assert!(!again.status.success(), "released twice");
        let after = run_at(&db, "2026-12-14T09:00:00Z"); // the next Monday: the window
        let show = inroad(&db, &["campaign", "show", "c", "--json"]);
        let show: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
        if i == 0 {
            assert_eq!(show["sent"], 1, "{show}");
            assert_eq!(show["by_state"]["finished"], 1, "{show}");
            assert_eq!(mx.stats().mail_froms, 1, "delivered: not sent again");
        } else {
            assert_eq!(
                after["in_doubt"], 1,
                "sent again, and the server hangs again: {after}"
            );
            assert_eq!(mx.stats().mail_froms, 2, "resend: sent once more");
        }
    }
}

/// `inroad mailbox set-password m --password-stdin`, the password piped in.
fn store_password(db: &Path, extra: &[&str], password: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_inroad"))
        .db(db)
        .args(extra)
        .args(["mailbox", "set-password", "m", "--password-stdin"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{password}").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn paused_reason(db: &Path) -> String {
    let list = inroad(db, &["mailbox", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    list["mailboxes"][0]["paused_reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_stored_password_logs_in_and_a_refused_one_pauses_the_mailbox() {
    const PASSWORD: &str = "s3cret pass";
    for (i, (stored, key_file)) in [(PASSWORD, None), ("wrong", None), (PASSWORD, Some("other.key"))]
        .into_iter()
        .enumerate()
    {
        let ip = Ipv4Addr::new(127, 0, 10, 30 + i as u8);
        let mx = FakeMx::builder()
            .host(ip, HostScript::normal().auth("mo@acme.example", PASSWORD))
            .accept_data(true)
            .domain("globex.com", Script::known(["ann"]))
            .start();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("inroad.db");
        campaign(
            dir.path(),
            &db,
            (&ip.to_string(), mx.port()),
            &["ann@globex.com"],
            None,
        );
        store_password(&db, &[], stored);
        let mut args = vec![
            "run",
            "--now",
            "2026-12-07T09:00:00Z",
            "--helo-name",
            "test.local",
            "--json",
        ];
        let other_key = dir.path().join(key_file.unwrap_or_default());
        if key_file.is_some() {
            args.extend(["--key-file", other_key.to_str().unwrap()]);
        }
        let report: serde_json::Value = serde_json::from_slice(&inroad(&db, &args).stdout).unwrap();
        let stats = mx.stats();
        match i {
            0 => {
                assert_eq!(report["sent"], 1, "{report}");
                assert_eq!((stats.auth_successes, stats.messages), (1, 1));
                assert_eq!(paused_reason(&db), "");
            }
            _ => {
                assert_eq!(
                    (report["sent"].as_u64(), report["failed"].as_u64()),
                    (Some(0), Some(1)),
                    "{stored} {key_file:?}: {report}"
                );
                assert_eq!(report["mailboxes_paused"].as_array().map(Vec::len), Some(1));
                let why = paused_reason(&db);
                let expected = if key_file.is_some() {
                    "install key"
                } else {
                    "authentication failed"
                };
                assert!(why.contains(expected), "{key_file:?}: {why}");
                assert_eq!(stats.mail_froms, 0, "nothing is sent without logging in");
                assert_eq!(ledger_state(&db), "failed", "retried once the mailbox is fixed");
            }
        }
    }
}

//! Inbox sync end to end against a real Dovecot: `inroad run` reads what came back
//! (placed with IMAP APPEND) before it sends, and acts — a reply stops the lead (and
//! colleagues, with `stop_company_on_reply`), a hard bounce suppresses, a soft one does
//! not, an out-of-office moves the next step past the return date, an unsubscribe
//! request suppresses, our own copies are ignored, a quoted "unsubscribe" is not a
//! request. Nothing is handled twice, not after a restart and not after a UIDVALIDITY
//! change, and nothing in the mailbox is marked read.

#[path = "support/backend.rs"]
mod backend;
use backend::WithDb;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use inroad_testkit::Dovecot;

const USER: &str = "ann@acme.example";
const PASSWORD: &str = "imap-secret-1";

fn inroad(db: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_inroad"))
        .db(db)
        .args(args)
        .env("INBOX_TEST_PASSWORD", PASSWORD)
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
name = "c"
mailboxes = ["ann"]
postal_address = "Acme GmbH, Hafenstraße 1, 20457 Hamburg"
unsubscribe_url = "https://unsub.acme.example"
timezone = "UTC"
window = { days = ["mon", "tue", "wed", "thu", "fri"], start = "00:00", end = "24:00" }
stop_company_on_reply = true

[[steps]]
subject = "Hello {{ first_name }}"
body = "Hi {{ first_name }}, a question."

[[steps]]
wait_days = 2
body = "Hi {{ first_name }}, following up."
"#;

struct World {
    _dir: tempfile::TempDir,
    db: PathBuf,
    out: PathBuf,
    dovecot: Dovecot,
}

impl World {
    fn run(&self, now: &str) -> serde_json::Value {
        let transport = format!("dir:{}", self.out.display());
        let args = [
            "run",
            "--once",
            "--transport",
            &transport,
            "--now",
            now,
            "--timeout",
            "10",
            "--json",
        ];
        serde_json::from_slice(&inroad(&self.db, &args).stdout).unwrap()
    }

    /// Every message written so far, by recipient: (step order) raw messages.
    fn sent(&self) -> BTreeMap<String, Vec<String>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let mut by_recipient: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for path in files {
            let raw = std::fs::read_to_string(path).unwrap();
            let to = header(&raw, "To");
            let address = to
                .rsplit_once('<')
                .map_or(to.clone(), |(_, a)| a.trim_end_matches('>').to_owned());
            by_recipient.entry(address).or_default().push(raw);
        }
        by_recipient
    }

    fn append(&self, message: &str) {
        self.dovecot
            .append(USER, PASSWORD, "INBOX", message.replace('\n', "\r\n").as_bytes());
    }

    fn events(&self) -> Vec<(String, String)> {
        backend::query(
            &self.db,
            "SELECT l.email, e.kind FROM events e JOIN leads l ON l.id = e.lead_id ORDER BY e.id",
        )
        .into_iter()
        .map(|row| (row[0].clone().unwrap(), row[1].clone().unwrap()))
        .collect()
    }
}

fn header(raw: &str, name: &str) -> String {
    let head = raw.split("\r\n\r\n").next().unwrap().replace("\r\n ", " ");
    head.split("\r\n")
        .find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no {name} header"))
}

fn message_id(raw: &str) -> String {
    header(raw, "Message-ID").trim_matches(['<', '>']).to_owned()
}

fn world() -> World {
    let dovecot = Dovecot::start();
    dovecot.add_user(USER, PASSWORD);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inroad.db");
    let leads = dir.path().join("leads.csv");
    std::fs::write(
        &leads,
        "Email,First Name\n\
         a@globex.com,Ann\nb@initech.com,Bob\nc@umbrella.com,Cem\nd@hooli.com,Dan\n\
         e@stark.com,Eve\nf@wayne.com,Fay\ng@acmecorp.com,Gus\nh@globex.com,Hal\n",
    )
    .unwrap();
    inroad(
        &db,
        &["leads", "import", leads.to_str().unwrap(), "--list", "all"],
    );
    let port = dovecot.port().to_string();
    let mailbox = [
        "mailbox",
        "add",
        "ann",
        "--from",
        "Ann <ann@acme.example>",
        "--smtp-host",
        "localhost",
        "--gap",
        "0",
        "--password-env",
        "INBOX_TEST_PASSWORD",
        "--imap-host",
        "127.0.0.1",
        "--imap-port",
        &port,
        "--imap-tls",
        "none",
    ];
    inroad(&db, &mailbox);
    let file = dir.path().join("c.toml");
    std::fs::write(&file, CAMPAIGN).unwrap();
    inroad(&db, &["campaign", "create", file.to_str().unwrap()]);
    inroad(
        &db,
        &["campaign", "enroll", "c", "--list", "all", "--allow-unverified"],
    );
    inroad(&db, &["campaign", "start", "c"]);
    let out = dir.path().join("out");
    World {
        _dir: dir,
        db,
        out,
        dovecot,
    }
}

fn reply(from: &str, to_id: &str, body: &str) -> String {
    format!(
        "From: <{from}>\nTo: Ann <ann@acme.example>\nSubject: Re: Hello\nDate: Tue, 8 Dec 2026 08:00:00 +0000\n\
         Message-ID: <reply.{from}>\nIn-Reply-To: <{to_id}>\nReferences: <{to_id}>\n\n{body}\n"
    )
}

fn dsn(recipient: &str, original_id: &str, action: &str, status: &str) -> String {
    format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example>\nTo: ann@acme.example\n\
         Subject: Undelivered Mail Returned to Sender\nDate: Tue, 8 Dec 2026 08:00:00 +0000\n\
         Message-ID: <dsn.{recipient}>\nMIME-Version: 1.0\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n\n\
         --b1\nContent-Type: text/plain\n\nI'm sorry to have to inform you that your message could not\n\
         be delivered to one or more recipients.\n\n\
         --b1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\n\
         Final-Recipient: rfc822; {recipient}\nAction: {action}\nStatus: {status}\n\
         Diagnostic-Code: smtp; {status} mailbox problem\n\n\
         --b1\nContent-Type: text/rfc822-headers\n\nFrom: Ann <ann@acme.example>\nTo: <{recipient}>\n\
         Subject: Hello\nMessage-ID: <{original_id}>\n\n--b1--\n"
    )
}

#[test]
fn what_comes_back_is_read_before_sending_and_acted_on_once() {
    let w = world();
    let first = w.run("2026-12-07T09:00:00Z");
    assert_eq!(first["sent"], 8, "{first}");
    let sent = w.sent();
    let id = |who: &str| message_id(&sent[who][0]);

    w.append(&reply(
        "a@globex.com",
        &id("a@globex.com"),
        "Yes, let's talk on Thursday.",
    ));
    w.append(&dsn("b@initech.com", &id("b@initech.com"), "failed", "5.1.1"));
    w.append(&format!(
        "From: <c@umbrella.com>\nTo: ann@acme.example\nSubject: Out of Office: Hello\n\
         Auto-Submitted: auto-replied\nDate: Tue, 8 Dec 2026 08:00:00 +0000\nMessage-ID: <ooo.c>\n\
         In-Reply-To: <{}>\n\nI am out of the office until 14 December 2026 with limited access to email.\n",
        id("c@umbrella.com")
    ));
    w.append(&reply(
        "d@hooli.com",
        &id("d@hooli.com"),
        "Please remove me from your list.\n\nOn Mon, 7 Dec 2026, Ann wrote:\n> Hi Dan, a question.",
    ));
    w.append(&sent["e@stark.com"][0].replace("\r\n", "\n")); // our own copy, e.g. by Bcc
    w.append(&reply(
        "f@wayne.com",
        &id("f@wayne.com"),
        "Sounds interesting, call me.\n\nOn Mon, 7 Dec 2026, Ann wrote:\n> Hi Fay\n> -- \n\
         > Unsubscribe: https://unsub.acme.example/u/x",
    ));
    w.append(&dsn("g@acmecorp.com", &id("g@acmecorp.com"), "delayed", "4.2.2"));

    let second = w.run("2026-12-08T09:00:00Z");
    let inbox = &second["inbox"];
    assert_eq!(inbox["read"], 7, "{second}");
    assert_eq!(
        [
            &inbox["replies"],
            &inbox["hard_bounces"],
            &inbox["soft_bounces"],
            &inbox["auto_replies"]
        ],
        [2, 1, 1, 1],
        "{inbox}"
    );
    assert_eq!(
        (&inbox["unsubscribes"], &inbox["own"]),
        (&1.into(), &1.into()),
        "{inbox}"
    );
    assert!(inbox["errors"].as_array().unwrap().is_empty(), "{inbox}");

    // The follow-ups are due on Wednesday: only where nothing stopped them.
    let third = w.run("2026-12-09T09:00:00Z");
    let sent = w.sent();
    let followed_up: Vec<&str> = sent
        .iter()
        .filter(|(_, messages)| messages.len() == 2)
        .map(|(to, _)| to.as_str())
        .collect();
    assert_eq!(followed_up, ["e@stark.com", "g@acmecorp.com"], "{third}");

    // The out-of-office: not before the day after 14 December.
    assert_eq!(w.run("2026-12-14T09:00:00Z")["sent"], 0);
    assert_eq!(w.run("2026-12-15T09:00:00Z")["sent"], 1);
    assert_eq!(w.sent()["c@umbrella.com"].len(), 2);

    let suppressed = String::from_utf8(inroad(&w.db, &["suppress", "list"]).stdout).unwrap();
    for (address, expected) in [
        ("b@initech.com", true),
        ("d@hooli.com", true),
        ("f@wayne.com", false),
    ] {
        assert_eq!(suppressed.contains(address), expected, "{address}: {suppressed}");
    }
    let show: serde_json::Value =
        serde_json::from_slice(&inroad(&w.db, &["campaign", "show", "c", "--json"]).stdout).unwrap();
    assert_eq!(
        show["by_state"]["replied"], 3,
        "a, f, and h at a's company: {show}"
    );
    assert_eq!(show["by_state"]["bounced"], 1, "{show}");
    assert_eq!(show["by_state"]["unsubscribed"], 1, "{show}");

    let stats: serde_json::Value =
        serde_json::from_slice(&inroad(&w.db, &["stats", "c", "--json"]).stdout).unwrap();
    let c = &stats["campaigns"][0];
    assert_eq!(
        (&c["contacted"], &c["replied"], &c["reply_rate"]),
        (&8.into(), &2.into(), &0.25.into()),
        "{c}"
    );
    assert_eq!(
        (&c["hard_bounces"], &c["unsubscribes"]),
        (&1.into(), &1.into()),
        "{c}"
    );
    assert_eq!(c["steps"][0]["replies"], 2, "both replies answer step 1: {c}");
    let ann = &stats["mailboxes"][0];
    assert_eq!(
        (&ann["name"], &ann["bounced"]),
        (&"ann".into(), &1.into()),
        "{stats}"
    );

    // Each message acted on once: not again after a restart, nor after the server
    // renumbers the folder.
    let events = w.events();
    assert_eq!(events.len(), 6, "{events:?}");
    assert!(events.contains(&("a@globex.com".into(), "reply".into())));
    assert_eq!(w.run("2026-12-16T09:00:00Z")["inbox"]["read"], 0);
    w.dovecot.change_uidvalidity(USER, "INBOX", 777);
    w.run("2026-12-17T09:00:00Z");
    assert_eq!(
        w.events(),
        events,
        "nothing handled twice after a UIDVALIDITY change"
    );

    // The mailbox is as it was: nothing read, nothing removed.
    assert_eq!(w.dovecot.count(USER, PASSWORD, "INBOX"), 7);
    for uid in 1..=7 {
        let flags = w.dovecot.flags(USER, PASSWORD, "INBOX", uid);
        assert!(!flags.contains("\\Seen"), "message {uid}: {flags}");
    }
}

//! Several workers on one PostgreSQL database: four `inroad run` processes share 20
//! mailboxes and 2,000 leads, sending into smtp-sink; the one holding the most
//! mailboxes is SIGKILLed midway. No lead gets its step twice, no mailbox exceeds its
//! daily cap, every lead ends sent, pending or in doubt, and the dead worker's
//! mailboxes are taken over by live workers once its leases expire — measured from the
//! lease rows, by the database's clock.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/sink.rs"]
mod sink;

const LEADS: usize = 2_000;
const MAILBOXES: usize = 20;
const WORKERS: usize = 4;
/// Binding: 20 × 90 = 1,800 < 2,000, so caps decide who waits.
const DAILY_CAP: i64 = 90;
const LEASE_SECS: i64 = 6;
/// A worker's heartbeat: a third of the lease (`RunOptions::heartbeat`).
const HEARTBEAT_SECS: i64 = LEASE_SECS / 3;
/// Generous bound on each wait; every wait ends on its condition.
const DEADLINE: Duration = Duration::from_secs(300);

struct Db {
    url: String,
    key: std::path::PathBuf,
}

impl Db {
    fn inroad(&self, args: &[&str]) {
        let out = Command::new(env!("CARGO_BIN_EXE_inroad"))
            .args(["--db", &self.url, "--key-file"])
            .arg(&self.key)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "inroad {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn rows(&self, sql: &str) -> Vec<Vec<i64>> {
        let mut client = postgres::Client::connect(&self.url, postgres::NoTls).unwrap();
        client
            .query(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .iter()
            .map(|r| (0..r.len()).map(|i| r.get::<_, i64>(i)).collect())
            .collect()
    }

    fn one(&self, sql: &str) -> i64 {
        self.rows(sql)[0][0]
    }

    /// (resource, owner, acquired_at, expires_at) of every mailbox lease.
    fn leases(&self) -> Vec<(i64, String, i64, i64)> {
        let mut client = postgres::Client::connect(&self.url, postgres::NoTls).unwrap();
        client
            .query(
                "SELECT resource_id, owner, acquired_at, expires_at FROM leases \
                 WHERE kind = 'mailbox' ORDER BY resource_id",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect()
    }
}

/// Polls `condition` until it holds; panics with `what` at the deadline.
fn wait_for(what: &str, workers: &mut [(String, Child)], mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        for (id, child) in workers.iter_mut() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("worker {id} ended ({status}) while waiting for {what}");
            }
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20)); // a polling interval; the condition ends the wait
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GET over loopback: (status code, body).
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n")?.1.to_owned();
    Some((status, body))
}

#[test]
fn four_workers_share_the_mailboxes_and_take_over_a_killed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    let sink = sink::Sink::start(&dump);
    let pg = inroad_testkit::PgDatabase::create();
    let db = Db {
        url: pg.url().to_owned(),
        key: dir.path().join("inroad.key"),
    };
    db.inroad(&["init"]);

    let leads = dir.path().join("leads.csv");
    let rows: String = (0..LEADS)
        .map(|i| format!("lead{i}@globex{}.com,Ann\n", i % 97))
        .collect();
    std::fs::write(&leads, format!("Email,First Name\n{rows}")).unwrap();
    db.inroad(&["leads", "import", leads.to_str().unwrap(), "--list", "all"]);
    let port = sink.port.to_string();
    let cap = DAILY_CAP.to_string();
    let mut names = Vec::new();
    for i in 0..MAILBOXES {
        let name = format!("m{i}");
        let from = format!("M <m{i}@acme.example>");
        db.inroad(&[
            "mailbox",
            "add",
            &name,
            "--from",
            &from,
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            &port,
            "--smtp-tls",
            "none",
            "--gap",
            "0",
            "--daily-cap",
            &cap,
        ]);
        names.push(format!("\"{name}\""));
    }
    let file = dir.path().join("c.toml");
    std::fs::write(
        &file,
        format!(
            "name = \"c\"\nmailboxes = [{}]\npostal_address = \"Acme, 1 Road, Hamburg\"\n\
             unsubscribe_url = \"https://u.acme.example\"\ntimezone = \"UTC\"\n\
             window = {{ days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"], \
             start = \"00:00\", end = \"24:00\" }}\n\
             [[steps]]\nsubject = \"Hi {{{{ first_name }}}}\"\nbody = \"Hello.\"\n",
            names.join(", ")
        ),
    )
    .unwrap();
    db.inroad(&["campaign", "create", file.to_str().unwrap()]);
    db.inroad(&["campaign", "enroll", "c", "--list", "all", "--allow-unverified"]);
    db.inroad(&["campaign", "start", "c"]);

    // Real time, not --now: leases expire by the database's clock, and the workers must
    // live on to take over. The last worker also serves its metrics.
    let metrics_port = free_port();
    let lease = LEASE_SECS.to_string();
    let mut workers: Vec<(String, Child)> = (0..WORKERS)
        .map(|i| {
            let id = format!("w{i}");
            let log = std::fs::File::create(dir.path().join(format!("{id}.log"))).unwrap();
            let mut command = Command::new(env!("CARGO_BIN_EXE_inroad"));
            command
                .args(["--db", &db.url, "--key-file"])
                .arg(&db.key)
                .args([
                    "run",
                    "--worker-id",
                    &id,
                    "--lease-seconds",
                    &lease,
                    "--helo-name",
                    "test.local",
                    "--domain-hourly-limit",
                    "0",
                ])
                .stdout(Stdio::null())
                .stderr(log);
            if i == WORKERS - 1 {
                command.args(["--metrics-listen", &format!("127.0.0.1:{metrics_port}")]);
            }
            (id, command.spawn().unwrap())
        })
        .collect();

    // Each takes its share (20 / 4), and sending is under way.
    let share = MAILBOXES / WORKERS;
    wait_for("a fair share of the mailboxes each", &mut workers, || {
        let mut per_owner: BTreeMap<String, usize> = BTreeMap::new();
        for (_, owner, _, _) in db.leases() {
            *per_owner.entry(owner).or_default() += 1;
        }
        per_owner.len() == WORKERS && per_owner.values().all(|n| *n == share)
    });
    wait_for("progress in the ledger", &mut workers, || {
        db.one("SELECT count(*) FROM sends WHERE state = 'sent'") >= 200
    });
    let sent_before_kill = db.one("SELECT count(*) FROM sends WHERE state = 'sent'");
    assert!(
        sent_before_kill < MAILBOXES as i64 * DAILY_CAP,
        "everything was sent before the kill"
    );

    // SIGKILL the worker holding the most mailboxes (not the one serving metrics).
    let leases = db.leases();
    let victim_index = (0..WORKERS - 1)
        .max_by_key(|i| leases.iter().filter(|l| l.1 == workers[*i].0).count())
        .unwrap();
    let (victim, mut child) = workers.remove(victim_index);
    child.kill().unwrap();
    child.wait().unwrap();
    let killed_at = db.one("SELECT floor(extract(epoch FROM now()))::bigint");
    // What it held when it died: its last renewal is in expires_at.
    let orphaned: BTreeMap<i64, i64> = db
        .leases()
        .into_iter()
        .filter(|l| l.1 == victim)
        .map(|l| (l.0, l.3))
        .collect();
    assert!(!orphaned.is_empty(), "{victim} held no mailbox when killed");

    wait_for("the dead worker's mailboxes taken over", &mut workers, || {
        let leases = db.leases();
        orphaned
            .keys()
            .all(|id| leases.iter().any(|l| l.0 == *id && l.1 != victim))
    });
    let live: BTreeSet<&str> = workers.iter().map(|(id, _)| id.as_str()).collect();
    let mut takeover_secs = Vec::new();
    for (resource, owner, acquired_at, _) in db.leases() {
        let Some(&expired_at) = orphaned.get(&resource) else {
            continue;
        };
        assert!(
            live.contains(owner.as_str()),
            "mailbox {resource} went to {owner}"
        );
        // Never before the dead worker's lease ran out (a lease is never stolen), and
        // within a heartbeat of it (rounding to whole seconds: one more).
        assert!(
            acquired_at >= expired_at,
            "mailbox {resource} taken at {acquired_at}, before its lease ended at {expired_at}"
        );
        assert!(
            acquired_at <= expired_at + HEARTBEAT_SECS + 1,
            "mailbox {resource} taken at {acquired_at}, its lease ended at {expired_at}"
        );
        // And so within the lease time (plus that heartbeat) of the kill.
        assert!(
            expired_at <= killed_at + LEASE_SECS,
            "{expired_at} > {killed_at} + lease"
        );
        takeover_secs.push(acquired_at - killed_at);
    }

    // Let the live workers finish: every mailbox at its cap, or nothing left to send.
    wait_for("the caps reached or the leads all sent", &mut workers, || {
        let open = db.one("SELECT count(*) FROM sends WHERE state IN ('planned', 'sending')");
        let at_cap = db.one(&format!(
            "SELECT count(*) FROM (SELECT mailbox_id FROM sends WHERE state <> 'failed' \
             AND planned_at / 86400 = floor(extract(epoch FROM now()))::bigint / 86400 \
             GROUP BY mailbox_id HAVING count(*) >= {DAILY_CAP}) full_today"
        ));
        let due = db.one(
            "SELECT count(*) FROM enrolments WHERE state = 'active' \
             AND next_due <= floor(extract(epoch FROM now()))::bigint",
        );
        open == 0 && (at_cap == MAILBOXES as i64 || due == 0)
    });

    // The metrics endpoint, scraped over loopback: the ledger's figures and the leases.
    let sent = db.one("SELECT count(*) FROM sends WHERE state = 'sent'");
    let metrics_worker = format!("w{}", WORKERS - 1);
    let mut scraped = String::new();
    wait_for("the metrics to show the final ledger", &mut workers, || {
        scraped = match http_get(metrics_port, "/metrics") {
            Some((200, body)) => body,
            _ => return false,
        };
        scraped
            .lines()
            .any(|l| l == format!("inroad_sends_total{{state=\"sent\"}} {sent}"))
            && !scraped.contains(&format!("owner=\"{victim}\""))
    });
    assert!(
        scraped
            .lines()
            .any(|l| l == format!("inroad_worker_up{{worker=\"{metrics_worker}\"}} 1")),
        "{scraped}"
    );
    for series in ["inroad_in_doubt ", "inroad_queue_depth "] {
        assert!(
            scraped.lines().any(|l| l.starts_with(series)),
            "{series}: {scraped}"
        );
    }
    let owners = scraped
        .lines()
        .filter(|l| l.starts_with("inroad_lease_owner{kind=\"mailbox\""))
        .count();
    assert_eq!(owners, MAILBOXES, "{scraped}");
    assert_eq!(
        http_get(metrics_port, "/health").map(|r| r.0),
        Some(200),
        "health"
    );

    // A clean stop (SIGTERM): each live worker ends its pass and releases its leases.
    for (id, child) in &mut workers {
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM {id}");
    }
    for (id, child) in &mut workers {
        let status = child.wait().unwrap();
        let log = std::fs::read_to_string(dir.path().join(format!("{id}.log"))).unwrap_or_default();
        assert!(status.success(), "{id} ended with {status}: {log}");
    }
    assert!(db.leases().is_empty(), "leases left after a clean stop");
    drop(sink);

    // smtp-sink: never two messages to one lead.
    let per_recipient = sink::messages_per_recipient(&dump);
    let twice: Vec<_> = per_recipient.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "leads that got the step twice: {twice:?}");

    // The ledger: one row per (enrolment, step) by its UNIQUE key, so count messages
    // handed over per enrolment instead — and no mailbox over its cap on any day.
    let over_cap = db.rows(&format!(
        "SELECT mailbox_id, planned_at / 86400, count(*) FROM sends WHERE state <> 'failed' \
         GROUP BY 1, 2 HAVING count(*) > {DAILY_CAP}"
    ));
    assert!(over_cap.is_empty(), "mailboxes over their cap: {over_cap:?}");
    let in_doubt = db.one("SELECT count(*) FROM sends WHERE state = 'in_doubt'");
    assert!(in_doubt <= 1, "{in_doubt} in doubt after one kill");
    let received = per_recipient.len() as i64;
    assert!(
        (sent..=sent + in_doubt).contains(&received),
        "received {received}, sent {sent}, in doubt {in_doubt}"
    );

    // Every lead: sent, pending (active, no send or a failed one to retry), or in doubt.
    let mut client = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    let outcomes: Vec<(String, String, i64)> = client
        .query(
            "SELECT e.state, coalesce(s.state, 'none'), count(*) FROM enrolments e \
             LEFT JOIN sends s ON s.enrolment_id = e.id GROUP BY 1, 2 ORDER BY 1, 2",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let allowed = [
        ("finished", "sent"),
        ("active", "none"),
        ("active", "failed"),
        ("active", "in_doubt"),
        ("paused", "in_doubt"),
    ];
    let total: i64 = outcomes.iter().map(|o| o.2).sum();
    assert_eq!(total, LEADS as i64, "{outcomes:?}");
    for (enrolment, send, n) in &outcomes {
        assert!(
            allowed.contains(&(enrolment.as_str(), send.as_str())),
            "{n} enrolments {enrolment} with a send {send}: {outcomes:?}"
        );
    }
    let capacity = MAILBOXES as i64 * DAILY_CAP;
    assert!(
        sent + in_doubt <= capacity,
        "sent {sent} + in doubt {in_doubt} > {capacity}"
    );
    eprintln!(
        "workers: {sent} sent ({sent_before_kill} before the kill), {in_doubt} in doubt, \
         {received} received; {victim} killed holding {} mailboxes, taken over {:?} s after the kill \
         (lease {LEASE_SECS} s)",
        orphaned.len(),
        takeover_secs
    );
}

//! SIGKILL `inroad run` again and again while it sends 1,500 messages into
//! smtp-sink: no lead gets its step twice, every lead ends sent or in doubt, and
//! sends in doubt never outnumber the kills.

#[path = "support/backend.rs"]
mod backend;
use backend::WithDb;

use std::path::Path;
use std::process::{Command, Stdio};

#[path = "support/sink.rs"]
mod sink;

const LEADS: usize = 1_500;
const KILLS: usize = 25;

fn inroad(db: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_inroad"))
        .db(db)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "inroad {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn dumped(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

#[test]
fn killing_the_worker_never_sends_a_step_twice() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    let sink = sink::Sink::start(&dump);
    let port = sink.port;

    let db = dir.path().join("inroad.db");
    let leads = dir.path().join("leads.csv");
    let rows: String = (0..LEADS)
        .map(|i| format!("lead{i}@globex{}.com,Ann\n", i % 97))
        .collect();
    std::fs::write(&leads, format!("Email,First Name\n{rows}")).unwrap();
    inroad(
        &db,
        &["leads", "import", leads.to_str().unwrap(), "--list", "all"],
    );
    let mut names = Vec::new();
    for i in 0..5 {
        let name = format!("m{i}");
        let from = format!("M <m{i}@acme.example>");
        let port = port.to_string();
        let args = [
            "mailbox",
            "add",
            &name,
            "--from",
            &from,
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            &port,
        ];
        inroad(
            &db,
            &[
                &args[..],
                &["--smtp-tls", "none", "--gap", "0", "--daily-cap", "1000"],
            ]
            .concat(),
        );
        names.push(format!("\"{name}\""));
    }
    let file = dir.path().join("c.toml");
    std::fs::write(
        &file,
        format!(
            "name = \"c\"\nmailboxes = [{}]\npostal_address = \"Acme, 1 Road, Hamburg\"\n\
             unsubscribe_url = \"https://u.acme.example\"\ntimezone = \"UTC\"\n\
             window = {{ days = [\"mon\"], start = \"00:00\", end = \"24:00\" }}\n\
             [[steps]]\nsubject = \"Hi {{{{ first_name }}}}\"\nbody = \"Hello.\"\n",
            names.join(", ")
        ),
    )
    .unwrap();
    inroad(&db, &["campaign", "create", file.to_str().unwrap()]);
    inroad(
        &db,
        &["campaign", "enroll", "c", "--list", "all", "--allow-unverified"],
    );
    inroad(&db, &["campaign", "start", "c"]);

    // Kill a worker each time a few more messages have landed (a pseudo-random
    // number, so kills fall at different points of a send).
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut kills = 0;
    for attempt in 0..KILLS * 4 {
        if kills == KILLS || dumped(&dump) >= LEADS {
            break;
        }
        let mut worker = Command::new(env!("CARGO_BIN_EXE_inroad"))
            .db(&db)
            .args([
                "run",
                "--now",
                "2026-12-07T09:00:00Z",
                "--helo-name",
                "test.local",
                // The same worker restarted: it takes its leases back at once, where a
                // new worker would wait for them to expire.
                "--worker-id",
                "crash-test",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let target = dumped(&dump) + 1 + (seed % 60) as usize;
        // Poll the sink's output (a condition, bounded by the worker's own end).
        loop {
            if worker.try_wait().unwrap().is_some() {
                break;
            }
            if dumped(&dump) >= target {
                worker.kill().unwrap();
                kills += 1;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2)); // a polling interval; the condition ends the wait
        }
        worker.wait().unwrap();
        assert!(attempt < KILLS * 4 - 1, "the run did not progress");
    }
    assert!(kills >= 20, "only {kills} kills happened");
    // One last, uninterrupted pass finishes what is left.
    inroad(
        &db,
        &[
            "run",
            "--now",
            "2026-12-07T09:00:00Z",
            "--helo-name",
            "test.local",
            "--worker-id",
            "crash-test",
        ],
    );
    drop(sink);

    // What smtp-sink received: never two messages to one lead.
    let per_recipient = sink::messages_per_recipient(&dump);
    let twice: Vec<_> = per_recipient.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "leads that got the step twice: {twice:?}");

    // The ledger: every lead sent or in doubt, and no more in doubt than kills.
    let count = |sql: &str| backend::query_i64(&db, sql);
    let sent = count("SELECT count(*) FROM sends WHERE state = 'sent'");
    let in_doubt = count("SELECT count(*) FROM sends WHERE state = 'in_doubt'");
    assert_eq!(sent + in_doubt, LEADS as i64, "sent {sent}, in doubt {in_doubt}");
    assert!(in_doubt <= kills as i64, "in doubt {in_doubt} > kills {kills}");
    // Every sent message reached the sink; one in doubt may or may not have.
    let received = per_recipient.len() as i64;
    assert!(
        (sent..=sent + in_doubt).contains(&received),
        "received {received}, sent {sent}, in doubt {in_doubt}"
    );
}

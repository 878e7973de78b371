//! `inroad verify` when things go wrong: hosts that refuse with 421, close at once,
//! never greet or hang at RCPT; hosts without PIPELINING or with a per-session RCPT
//! cap; suppressed addresses and domains; full mailboxes; `--file` input; and
//! missing identity flags. Each test runs the real binary against its own fake DNS
//! and scripted MX, on its own loopback IPs (127.0.4.x–127.0.9.x).

#[path = "support/backend.rs"]
mod backend;
use backend::WithDb;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

mod common;

use inroad_testkit::{DnsZone, FakeDns, FakeMx, FakeMxBuilder, HostScript, Script};
use serde_json::Value;

/// A fake DNS, a fake MX and a scratch database for one test.
struct World {
    dns: FakeDns,
    mx: FakeMx,
    dir: tempfile::TempDir,
}

/// `ok.test` (MX `mx.ok.test` at `ok_ip`, users `ann` and `bob`) plus whatever the
/// test adds, so every run has a healthy domain to compare with.
fn world(ok_ip: Ipv4Addr, zone: DnsZone, mx: FakeMxBuilder) -> World {
    let zone = zone.mx("ok.test", 10, "mx.ok.test").a("mx.ok.test", ok_ip);
    let mx = mx
        .host(ok_ip, HostScript::normal())
        .domain("ok.test", Script::known(["ann", "bob"]))
        .start();
    World {
        dns: FakeDns::start(zone),
        mx,
        dir: tempfile::tempdir().unwrap(),
    }
}

impl World {
    fn db(&self) -> PathBuf {
        self.dir.path().join("inroad.db")
    }

    /// `inroad --db DB ARGS...` with no identity from the environment.
    fn inroad(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_inroad"));
        cmd.env_remove("INROAD_HELO_NAME")
            .env_remove("INROAD_MAIL_FROM")
            .env_remove("INROAD_DB")
            .db(&self.db());
        cmd
    }

    /// `inroad verify --json` with identity, resolver and port set, plus `extra`
    /// (retry schedule, timeout, `--file`, addresses) as given.
    fn run_verify(&self, extra: &[&str]) -> Output {
        common::verify_command(&self.db(), self.dns.addr(), self.mx.port())
            .args(extra)
            .output()
            .expect("inroad runs")
    }

    /// Like [`World::run_verify`], but the run must succeed; returns its results.
    fn verify(&self, extra: &[&str]) -> Vec<Value> {
        let out = self.run_verify(extra);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "inroad verify failed: {stderr}");
        let json: Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
        let results = json["results"].as_array().expect("results").clone();
        // Clients QUIT without waiting for the reply: let the server see them go
        // before anyone reads its counters.
        assert!(
            self.mx.wait_idle(Duration::from_secs(10)),
            "MX sessions still open"
        );
        results
    }
}

fn field<'a>(results: &'a [Value], email: &str) -> &'a Value {
    results
        .iter()
        .find(|r| r["email"] == email)
        .unwrap_or_else(|| panic!("no result for {email} in {results:?}"))
}

/// The result is `unknown` with a non-empty reason.
fn assert_unknown(results: &[Value], email: &str) {
    let r = field(results, email);
    assert_eq!(r["status"], "unknown", "{email}: {r}");
    let reason = r["reason"].as_str().unwrap_or_default();
    assert!(!reason.trim().is_empty(), "{email} has no reason: {r}");
}

/// The healthy control domain was answered as usual.
fn assert_control(results: &[Value]) {
    assert_eq!(field(results, "ann@ok.test")["status"], "deliverable");
}

/// The one line an `inroad` failure prints on stderr.
fn one_line_error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "exit code: {out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "want one line on stderr, got {stderr:?}");
    assert!(lines[0].starts_with("error: "), "{stderr:?}");
    lines[0].to_owned()
}

#[test]
fn a_host_that_greets_with_421_is_unknown_and_contacted_a_bounded_number_of_times() {
    let busy = Ipv4Addr::new(127, 0, 4, 1);
    let w = world(
        Ipv4Addr::new(127, 0, 4, 2),
        DnsZone::new()
            .mx("busy.test", 10, "mx.busy.test")
            .a("mx.busy.test", busy),
        FakeMx::builder()
            .host(busy, HostScript::busy())
            .domain("busy.test", Script::known(["ann"])),
    );
    let results = w.verify(&["--retry-after", "0,0", "ann@busy.test", "ann@ok.test"]);
    assert_eq!(results.len(), 2);
    assert_unknown(&results, "ann@busy.test");
    assert_control(&results);
    let stats = w.mx.stats();
    let connections = stats.connections_to(busy);
    // One first try and at most one per retry: 421 is not a reason to hammer.
    assert!(
        (1..=3).contains(&connections),
        "connections to the busy host: {connections}"
    );
    assert_eq!(stats.rcpts_for("ann@busy.test"), 0);
}

#[test]
fn a_host_that_closes_at_once_is_unknown() {
    let closing = Ipv4Addr::new(127, 0, 4, 3);
    let w = world(
        Ipv4Addr::new(127, 0, 4, 4),
        DnsZone::new()
            .mx("closing.test", 10, "mx.closing.test")
            .a("mx.closing.test", closing),
        FakeMx::builder()
            .host(closing, HostScript::close_on_accept())
            .domain("closing.test", Script::known(["ann"])),
    );
    let results = w.verify(&["--retry-after", "0", "ann@closing.test", "ann@ok.test"]);
    assert_eq!(results.len(), 2);
    assert_unknown(&results, "ann@closing.test");
    assert_control(&results);
    assert!(w.mx.stats().connections_to(closing) >= 1);
}

#[test]
fn a_tarpit_that_never_greets_is_unknown_and_the_run_finishes() {
    let tarpit = Ipv4Addr::new(127, 0, 5, 1);
    let w = world(
        Ipv4Addr::new(127, 0, 5, 2),
        DnsZone::new()
            .mx("tarpit.test", 10, "mx.tarpit.test")
            .a("mx.tarpit.test", tarpit),
        FakeMx::builder()
            .host(tarpit, HostScript::hang())
            .domain("tarpit.test", Script::known(["ann"])),
    );
    let results = w.verify(&[
        "--retry-after",
        "0",
        "--timeout",
        "1",
        "ann@tarpit.test",
        "ann@ok.test",
    ]);
    assert_eq!(results.len(), 2);
    assert_unknown(&results, "ann@tarpit.test");
    assert_control(&results);
    assert_eq!(w.mx.stats().rcpts_for("ann@tarpit.test"), 0);
}

#[test]
fn a_server_that_hangs_at_rcpt_is_unknown() {
    let hang = Ipv4Addr::new(127, 0, 5, 3);
    let w = world(
        Ipv4Addr::new(127, 0, 5, 4),
        DnsZone::new()
            .mx("hang.test", 10, "mx.hang.test")
            .a("mx.hang.test", hang),
        FakeMx::builder()
            .host(hang, HostScript::normal())
            .domain("hang.test", Script::hang()),
    );
    let results = w.verify(&[
        "--retry-after",
        "0",
        "--timeout",
        "1",
        "ann@hang.test",
        "ann@ok.test",
    ]);
    assert_eq!(results.len(), 2);
    assert_unknown(&results, "ann@hang.test");
    assert_control(&results);
    // The RCPT did reach the server (it is the reply that never came).
    assert!(w.mx.stats().rcpts_for("ann@hang.test") >= 1);
}

#[test]
fn a_host_without_pipelining_gets_one_command_at_a_time() {
    let plain = Ipv4Addr::new(127, 0, 6, 1);
    let w = world(
        Ipv4Addr::new(127, 0, 6, 2),
        DnsZone::new()
            .mx("plain.test", 10, "mx.plain.test")
            .a("mx.plain.test", plain),
        FakeMx::builder()
            .host(plain, HostScript::normal().pipelining(false))
            .domain("plain.test", Script::known(["ann", "bob"])),
    );
    let results = w.verify(&[
        "--retry-after",
        "0",
        "ann@plain.test",
        "bob@plain.test",
        "zed@plain.test",
        "yan@plain.test",
    ]);
    let expect = [
        ("ann@plain.test", "deliverable"),
        ("bob@plain.test", "deliverable"),
        ("zed@plain.test", "undeliverable"),
        ("yan@plain.test", "undeliverable"),
    ];
    assert_eq!(results.len(), expect.len());
    for (email, status) in expect {
        let r = field(&results, email);
        assert_eq!(r["status"], status, "{email}: {r}");
    }
    assert_eq!(field(&results, "zed@plain.test")["enhanced_code"], "5.1.1");
    let stats = w.mx.stats();
    assert_eq!(stats.improper_pipelining, 0, "{stats:?}");
    assert!(stats.connections_to(plain) >= 1);
}

#[test]
fn a_per_session_rcpt_cap_on_the_server_still_gets_every_address_its_verdict() {
    let capped = Ipv4Addr::new(127, 0, 6, 3);
    let known: Vec<String> = (0..15).map(|i| format!("user{i}")).collect();
    let w = world(
        Ipv4Addr::new(127, 0, 6, 4),
        DnsZone::new()
            .mx("capped.test", 10, "mx.capped.test")
            .a("mx.capped.test", capped),
        FakeMx::builder()
            .host(capped, HostScript::normal().max_rcpts_per_session(10))
            .domain("capped.test", Script::known(known)),
    );
    // user0..user14 exist, user15..user29 do not.
    let addresses: Vec<String> = (0..30).map(|i| format!("user{i}@capped.test")).collect();
    let mut args = vec!["--retry-after", "0,0,0"];
    args.extend(addresses.iter().map(String::as_str));
    let results = w.verify(&args);
    assert_eq!(results.len(), 30);
    // Regression: RCPTs the server answered before its 421 keep their answers; only
    // the unanswered ones are retried, so a 10-per-session cap still gets all 30 (and
    // the catch-all probe) answered over the rounds.
    let wrong: Vec<String> = addresses
        .iter()
        .enumerate()
        .filter_map(|(i, email)| {
            let want = if i < 15 { "deliverable" } else { "undeliverable" };
            let r = field(&results, email);
            (r["status"] != want).then(|| format!("{email}: want {want}, got {r}"))
        })
        .collect();
    let stats = w.mx.stats();
    assert!(
        wrong.is_empty(),
        "{} of 30 wrong (connections {}, RCPTs per session {:?}), e.g.:\n{}",
        wrong.len(),
        stats.connections_to(capped),
        stats.rcpts_per_session,
        wrong.iter().take(3).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn suppressed_addresses_and_domains_are_never_probed() {
    let known = Ipv4Addr::new(127, 0, 7, 1);
    let blocked = Ipv4Addr::new(127, 0, 7, 2);
    let w = world(
        Ipv4Addr::new(127, 0, 7, 3),
        DnsZone::new()
            .mx("known.test", 10, "mx.known.test")
            .a("mx.known.test", known)
            .mx("blocked.test", 10, "mx.blocked.test")
            .a("mx.blocked.test", blocked),
        FakeMx::builder()
            .hosts(&[known, blocked])
            .domain("known.test", Script::known(["ann", "x"]))
            .domain("blocked.test", Script::catch_all()),
    );
    let out = w
        .inroad()
        .args(["suppress", "add", "x@known.test", "@blocked.test"])
        .output()
        .expect("inroad runs");
    assert!(
        out.status.success(),
        "suppress add failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results = w.verify(&[
        "--retry-after",
        "0",
        "x@known.test",
        "y@blocked.test",
        "ann@known.test",
    ]);
    assert_eq!(results.len(), 3);
    for email in ["x@known.test", "y@blocked.test"] {
        let r = field(&results, email);
        assert_ne!(r["status"], "deliverable", "{email}: {r}");
        let reason = r["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("suppress"), "{email}: {r}");
    }
    assert_eq!(field(&results, "ann@known.test")["status"], "deliverable");
    let stats = w.mx.stats();
    for email in ["x@known.test", "y@blocked.test"] {
        assert!(
            !stats.rcpts_per_address.contains_key(email),
            "{email} was probed: {:?}",
            stats.rcpts_per_address
        );
    }
    // Nothing at all was asked of the suppressed domain's host.
    assert_eq!(stats.connections_to(blocked), 0);
}

#[test]
fn a_full_mailbox_is_risky_not_undeliverable() {
    let full = Ipv4Addr::new(127, 0, 8, 1);
    let w = world(
        Ipv4Addr::new(127, 0, 8, 2),
        DnsZone::new()
            .mx("full.test", 10, "mx.full.test")
            .a("mx.full.test", full),
        FakeMx::builder()
            .host(full, HostScript::normal())
            .domain("full.test", Script::reply("452 4.2.2 Mailbox full")),
    );
    let results = w.verify(&["--retry-after", "0,0", "ann@full.test", "ann@ok.test"]);
    assert_eq!(results.len(), 2);
    let r = field(&results, "ann@full.test");
    assert_eq!(r["status"], "risky", "{r}");
    assert_eq!(
        (r["smtp_code"].as_u64(), r["enhanced_code"].as_str()),
        (Some(452), Some("4.2.2")),
        "{r}"
    );
    assert!(w.mx.stats().rcpts_for("ann@full.test") >= 1);
    assert_control(&results);
}

#[test]
fn addresses_come_from_a_csv_or_a_plain_file_and_an_unreadable_file_is_an_error() {
    let known = Ipv4Addr::new(127, 0, 8, 3);
    let w = world(
        Ipv4Addr::new(127, 0, 8, 4),
        DnsZone::new()
            .mx("known.test", 10, "mx.known.test")
            .a("mx.known.test", known),
        FakeMx::builder()
            .host(known, HostScript::normal())
            .domain("known.test", Script::known(["ann", "bob"])),
    );
    let write = |name: &str, text: &str| -> PathBuf {
        let path = w.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let path_arg = |path: &Path| path.to_str().expect("UTF-8 temp path").to_owned();

    let csv = write(
        "people.csv",
        "Name,Email,Company\nAnn,ann@known.test,Acme\nZed,zed@known.test,Acme\n",
    );
    let results = w.verify(&["--retry-after", "0", "--file", &path_arg(&csv)]);
    let emails: Vec<&str> = results.iter().filter_map(|r| r["email"].as_str()).collect();
    assert_eq!(emails, ["ann@known.test", "zed@known.test"], "{results:?}");
    assert_eq!(field(&results, "ann@known.test")["status"], "deliverable");
    assert_eq!(field(&results, "zed@known.test")["status"], "undeliverable");

    let plain = write("list.txt", "bob@known.test\nyan@known.test\n");
    let results = w.verify(&["--retry-after", "0", "--file", &path_arg(&plain)]);
    let emails: Vec<&str> = results.iter().filter_map(|r| r["email"].as_str()).collect();
    assert_eq!(emails, ["bob@known.test", "yan@known.test"], "{results:?}");
    assert_eq!(field(&results, "bob@known.test")["status"], "deliverable");
    assert_eq!(field(&results, "yan@known.test")["status"], "undeliverable");

    // A file that does not exist, and a directory: exit 1, one line naming the file.
    let missing = w.dir.path().join("missing.csv");
    let directory = w.dir.path().join("a-directory");
    std::fs::create_dir(&directory).unwrap();
    for path in [missing, directory] {
        let out = w.run_verify(&["--retry-after", "0", "--file", &path_arg(&path)]);
        let line = one_line_error(&out);
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(line.contains(name), "{line}");
        assert!(out.stdout.is_empty(), "{out:?}");
    }
}

#[test]
fn missing_helo_name_or_mail_from_is_a_one_line_error_naming_the_flag() {
    let w = world(Ipv4Addr::new(127, 0, 9, 1), DnsZone::new(), FakeMx::builder());
    let port = w.mx.port().to_string();
    let dns = w.dns.addr().to_string();
    let net = ["--dns", dns.as_str(), "--smtp-port", port.as_str()];
    let cases: [(&[&str], &str); 3] = [
        (&["--mail-from", "check@inroad.test"], "--helo-name"),
        (&["--helo-name", "probe.inroad.test"], "--mail-from"),
        (&[], "--helo-name"),
    ];
    for (identity, flag) in cases {
        let out = w
            .inroad()
            .args(["verify", "--json"])
            .args(identity)
            .args(net)
            .arg("ann@ok.test")
            .output()
            .expect("inroad runs");
        let line = one_line_error(&out);
        assert!(line.contains(flag), "{identity:?}: {line}");
        assert!(out.stdout.is_empty(), "{out:?}");
    }
    // Nothing was probed without an identity.
    assert_eq!(w.mx.stats().connections, 0);
}

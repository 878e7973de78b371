//! `inroad verify` against a real DNS server and scripted SMTP servers on loopback:
//! every verdict path, MX fallback, session reuse and the per-host session limit,
//! and the result cache.

#[path = "support/backend.rs"]
mod backend;

use std::net::Ipv4Addr;

mod common;

use inroad_testkit::{DnsZone, FakeDns, FakeMx, HostScript, Script};
use serde_json::Value;

const KNOWN: Ipv4Addr = Ipv4Addr::new(127, 0, 1, 1);
const CATCH: Ipv4Addr = Ipv4Addr::new(127, 0, 1, 2);
const GREY: Ipv4Addr = Ipv4Addr::new(127, 0, 1, 3);
const MS: Ipv4Addr = Ipv4Addr::new(127, 0, 1, 4);
const BLOCK: Ipv4Addr = Ipv4Addr::new(127, 0, 1, 5);
const IMPLICIT: Ipv4Addr = Ipv4Addr::new(127, 0, 1, 6);
const DOWN: Ipv4Addr = Ipv4Addr::new(127, 0, 1, 7);

struct World {
    dns: FakeDns,
    mx: FakeMx,
    dir: tempfile::TempDir,
}

fn world() -> World {
    let zone = DnsZone::new()
        .mx("known.test", 10, "mx.known.test")
        .a("mx.known.test", KNOWN)
        .mx("catch.test", 10, "mx.catch.test")
        .a("mx.catch.test", CATCH)
        .mx("grey.test", 10, "mx.grey.test")
        .a("mx.grey.test", GREY)
        .mx("ms.test", 10, "mx.ms.test")
        .a("mx.ms.test", MS)
        .mx("block.test", 10, "mx.block.test")
        .a("mx.block.test", BLOCK)
        .a("implicit.test", IMPLICIT)
        .null_mx("null.test")
        .mx("fallback.test", 10, "mx1.fallback.test")
        .a("mx1.fallback.test", DOWN)
        .mx("fallback.test", 20, "mx2.fallback.test")
        .a("mx2.fallback.test", KNOWN);
    let users: Vec<String> = (0..40)
        .map(|i| format!("user{i}"))
        .chain(["ann".into()])
        .collect();
    let mx = FakeMx::builder()
        .hosts(&[KNOWN, CATCH, GREY, MS, BLOCK, IMPLICIT])
        .host(DOWN, HostScript::refuse())
        .domain("known.test", Script::known(users.clone()))
        .domain("fallback.test", Script::known(["ann"]))
        .domain("implicit.test", Script::known(["ann"]))
        .domain("catch.test", Script::catch_all())
        .domain("grey.test", Script::known(["ann"]).greylist(1))
        .domain("ms.test", Script::microsoft(["ann"]))
        .domain("block.test", Script::policy_block())
        .start();
    World {
        dns: FakeDns::start(zone),
        mx,
        dir: tempfile::tempdir().unwrap(),
    }
}

impl World {
    fn verify(&self, addresses: &[&str]) -> Vec<Value> {
        let db = self.dir.path().join("inroad.db");
        let out = common::verify_command(&db, self.dns.addr(), self.mx.port())
            .args(["--retry-after", "0", "--timeout", "10"])
            .args(addresses)
            .output()
            .expect("inroad runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "inroad verify failed: {stderr}");
        let json: Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
        json["results"].as_array().expect("results").clone()
    }
}

fn field<'a>(results: &'a [Value], email: &str) -> &'a Value {
    results
        .iter()
        .find(|r| r["email"] == email)
        .unwrap_or_else(|| panic!("no result for {email}"))
}

#[test]
fn every_verdict_path() {
    let w = world();
    let addresses = [
        "ann@known.test",
        "zed@known.test",
        "x@catch.test",
        "ann@grey.test",
        "zed@ms.test",
        "ann@block.test",
        "ann@implicit.test",
        "a@nowhere.test",
        "a@null.test",
        "ann@fallback.test",
        "not an email",
    ];
    let results = w.verify(&addresses);
    assert_eq!(results.len(), addresses.len());
    let expect = [
        ("ann@known.test", "deliverable"),
        ("zed@known.test", "undeliverable"),
        ("x@catch.test", "risky"),
        ("ann@grey.test", "deliverable"),
        ("zed@ms.test", "undeliverable"),
        ("ann@block.test", "unknown"),
        ("ann@implicit.test", "deliverable"),
        ("a@nowhere.test", "undeliverable"),
        ("a@null.test", "undeliverable"),
        ("ann@fallback.test", "deliverable"),
        ("not an email", "undeliverable"),
    ];
    for (email, status) in expect {
        let r = field(&results, email);
        assert_eq!(r["status"], status, "{email}: {r}");
    }
    let zed = field(&results, "zed@known.test");
    assert_eq!(
        (zed["smtp_code"].as_u64(), zed["enhanced_code"].as_str()),
        (Some(550), Some("5.1.1"))
    );
    assert_eq!(field(&results, "zed@ms.test")["enhanced_code"], "5.4.1");
    assert_eq!(field(&results, "x@catch.test")["catch_all"], true);
    assert_eq!(field(&results, "ann@known.test")["catch_all"], false);
    assert_eq!(field(&results, "ann@fallback.test")["mx"], "mx2.fallback.test");
    for key in [
        "reason",
        "mx",
        "disposable",
        "role",
        "free",
        "confidence",
        "checked_at",
    ] {
        assert!(field(&results, "ann@known.test").get(key).is_some(), "key {key}");
    }
    // The greylisted address was asked twice: once refused with 451, then accepted.
    assert_eq!(w.mx.stats().rcpts_per_address.get("ann@grey.test"), Some(&2));
}

#[test]
fn sessions_are_reused_and_limited_per_host_and_results_cached() {
    let w = world();
    let addresses: Vec<String> = (0..40).map(|i| format!("user{i}@known.test")).collect();
    let refs: Vec<&str> = addresses.iter().map(String::as_str).collect();
    let results = w.verify(&refs);
    assert!(
        results.iter().all(|r| r["status"] == "deliverable"),
        "{results:?}"
    );
    let stats = w.mx.stats();
    // 40 addresses and one catch-all probe over at most two sessions, never more at once.
    assert!(
        stats.connections_to(KNOWN) <= 2,
        "connections: {}",
        stats.connections_to(KNOWN)
    );
    assert!(stats.max_peak_concurrent_per_host() <= 2);
    assert!(stats.rcpts >= 41);
    // A second run answers from the cache: no new connection, no new RCPT.
    let again = w.verify(&refs);
    assert_eq!(again, results);
    let after = w.mx.stats();
    assert_eq!((after.connections, after.rcpts), (stats.connections, stats.rcpts));
}

#[test]
fn the_deadline_ends_a_run_against_a_tarpit() {
    let tarpit = Ipv4Addr::new(127, 0, 1, 20);
    let dns = FakeDns::start(
        DnsZone::new()
            .mx("tarpit.test", 10, "mx.tarpit.test")
            .a("mx.tarpit.test", tarpit),
    );
    let mx = FakeMx::builder().host(tarpit, HostScript::hang()).start();
    let dir = tempfile::tempdir().unwrap();
    let out = common::verify_command(&dir.path().join("inroad.db"), dns.addr(), mx.port())
        .args(["--timeout", "600", "--deadline", "1", "ann@tarpit.test"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let result = &json["results"][0];
    assert_eq!(result["status"], "unknown", "{result}");
    assert!(
        result["reason"].as_str().unwrap().contains("deadline"),
        "{result}"
    );
}

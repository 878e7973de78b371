//! `inroad find` on a generated prospect list whose mail servers know the true
//! addresses (../shared/tools/gen_leads.py --truth): accuracy at domains that
//! reject unknown users, top-pick accuracy at catch-all domains, and never a wrong
//! address marked deliverable.

#[path = "support/backend.rs"]
mod backend;
use backend::WithDb;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

use inroad_testkit::{loopback_ips, DnsZone, FakeDns, FakeMx, Script};
use serde_json::Value;

fn shared_dir() -> PathBuf {
    let dir = std::env::var_os("INROAD_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    assert!(
        dir.join("tools/gen_leads.py").is_file(),
        "set INROAD_SHARED to the shared/ directory"
    );
    dir
}

fn inroad(db: &Path, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_inroad"))
        .db(db)
        .args(args)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "inroad {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// The generator's canonical LinkedIn URL (our key to join leads with the truth).
fn profile(url: &str) -> String {
    url.trim_end_matches('/').to_lowercase()
}

#[test]
fn finder_accuracy_on_generated_leads() {
    let dir = tempfile::tempdir().unwrap();
    let (leads, truth) = (dir.path().join("leads.csv"), dir.path().join("truth.csv"));
    let status = Command::new("python3")
        .arg(shared_dir().join("tools/gen_leads.py"))
        .args([
            "800",
            leads.to_str().unwrap(),
            "--style",
            "salesnav",
            "--seed",
            "21",
        ])
        .args(["--truth", truth.to_str().unwrap()])
        .status()
        .expect("python3 runs");
    assert!(status.success());

    // The truth, per LinkedIn profile; and every true address, per domain.
    let mut rows = csv::Reader::from_path(&leads).unwrap();
    let mut truths = csv::Reader::from_path(&truth).unwrap();
    let mut true_email: HashMap<String, String> = HashMap::new();
    let mut users: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (row, t) in rows.records().zip(truths.records()) {
        let (row, t) = (row.unwrap(), t.unwrap());
        let (email, domain) = (&t[1], &t[2]);
        if email.is_empty() {
            continue; // a duplicate row
        }
        true_email.insert(profile(&row[6]), email.to_owned());
        users
            .entry(domain.to_owned())
            .or_default()
            .insert(email.split('@').next().unwrap().to_owned());
    }
    // Every fifth domain accepts anything; each domain has its own mail host.
    let domains: Vec<&String> = users.keys().collect();
    let ips = loopback_ips(Ipv4Addr::new(127, 0, 3, 1), domains.len());
    let mut zone = DnsZone::new();
    let mut mx = FakeMx::builder().hosts(&ips);
    let mut catch_all = BTreeSet::new();
    for (i, (domain, ip)) in domains.iter().zip(&ips).enumerate() {
        let host = format!("mx.{domain}");
        zone = zone.mx(domain, 10, &host).a(&host, *ip);
        let script = if i % 5 == 0 {
            catch_all.insert((*domain).clone());
            Script::catch_all()
        } else {
            Script::known(users[*domain].iter().cloned())
        };
        mx = mx.domain(domain, script);
    }
    let (dns, mx) = (FakeDns::start(zone), mx.start());

    let db = dir.path().join("inroad.db");
    inroad(&db, &["leads", "import", leads.to_str().unwrap(), "--json"]);
    // Known addresses per domain, before the finder adds any.
    let listed = inroad(&db, &["leads", "list", "--json", "--limit", "100000"]);
    let mut known: HashMap<String, usize> = HashMap::new();
    for l in listed["leads"].as_array().unwrap() {
        if let (Some(email), Some(domain)) = (l["email"].as_str(), l["domain"].as_str()) {
            if email.ends_with(&format!("@{domain}")) {
                *known.entry(domain.to_owned()).or_default() += 1;
            }
        }
    }
    let by_id: HashMap<i64, String> = listed["leads"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| Some((l["id"].as_i64()?, profile(l["linkedin_url"].as_str()?))))
        .collect();

    let report = inroad(
        &db,
        &[
            "find",
            "--json",
            "--helo-name",
            "probe.inroad.test",
            "--mail-from",
            "check@inroad.test",
            "--dns",
            &dns.addr().to_string(),
            "--smtp-port",
            &mx.port().to_string(),
            "--retry-after",
            "0",
        ],
    );
    let (mut strict, mut strict_right, mut wrong_deliverable) = (0, 0, 0);
    let (mut catch, mut catch_right) = (0, 0);
    for r in report["results"].as_array().unwrap() {
        let domain = r["domain"].as_str().unwrap();
        let Some(truth) = by_id
            .get(&r["lead_id"].as_i64().unwrap())
            .and_then(|p| true_email.get(p))
        else {
            continue;
        };
        let right = r["email"].as_str() == Some(truth.as_str());
        if r["status"] == "deliverable" && !right {
            wrong_deliverable += 1;
        }
        if catch_all.contains(domain) {
            if known.get(domain).copied().unwrap_or(0) >= 3 {
                catch += 1;
                catch_right += usize::from(right);
                assert_ne!(r["status"], "deliverable", "catch-all: {r}");
            }
        } else {
            strict += 1;
            strict_right += usize::from(right);
        }
    }
    assert!(
        strict > 100 && catch > 20,
        "enough leads to judge: {strict} strict, {catch} catch-all"
    );
    assert_eq!(wrong_deliverable, 0, "wrong addresses marked deliverable");
    let strict_rate = strict_right as f64 / strict as f64;
    let catch_rate = catch_right as f64 / catch as f64;
    assert!(
        strict_rate >= 0.98,
        "non-catch-all accuracy {strict_rate:.3} ({strict_right}/{strict})"
    );
    assert!(
        catch_rate >= 0.80,
        "catch-all top-pick accuracy {catch_rate:.3} ({catch_right}/{catch})"
    );
    eprintln!(
        "finder: {strict_right}/{strict} at non-catch-all, {catch_right}/{catch} top picks at catch-all"
    );
}

#[test]
fn no_verify_infers_without_touching_the_network() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("leads.csv");
    std::fs::write(
        &file,
        "First Name,Last Name,Email,Website\nAnn,Lee,ann.lee@acme.com,acme.com\nBo,Chan,bo.chan@acme.com,acme.com\n\
         Cy,Dorn,cy.dorn@acme.com,acme.com\nJosé,Núñez,,https://www.acme.com/\nDee,Eck,,optout.com\n",
    )
    .unwrap();
    let db = dir.path().join("inroad.db");
    inroad(&db, &["leads", "import", file.to_str().unwrap(), "--json"]);
    let status = Command::new(env!("CARGO_BIN_EXE_inroad"))
        .db(&db)
        .args(["suppress", "add", "@optout.com"])
        .status()
        .unwrap();
    assert!(status.success());
    // Dee Eck's domain is suppressed: not considered at all.
    let report = inroad(&db, &["find", "--no-verify", "--json"]);
    assert_eq!(
        (report["considered"].as_u64(), report["unverified"].as_u64()),
        (Some(1), Some(1))
    );
    let found = &report["results"][0];
    assert_eq!(found["email"], "jose.nunez@acme.com", "{found}");
    assert_eq!(found["status"], "unverified");
    let export = Command::new(env!("CARGO_BIN_EXE_inroad"))
        .db(&db)
        .args(["leads", "export"])
        .output()
        .unwrap();
    let text = String::from_utf8(export.stdout).unwrap();
    assert!(
        text.lines().next().unwrap().contains("email_status,email_source"),
        "{text}"
    );
    assert!(
        text.contains("jose.nunez@acme.com") && text.contains("unverified,found"),
        "{text}"
    );
}

//! The `inroad-fake-mx` binary: DNS + SMTP fleet from a users file.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};

use common::Client;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::Resolver;

const USERS: &str = "\
email,name
ann@acme.test,Ann
bob@acme.test,Bob
cy@beta.test,Cy
*@catch.test
dee@delta.test
";

struct Fleet {
    child: Child,
    dns: SocketAddr,
    smtp_port: u16,
    _dir: tempfile::TempDir,
}

fn start(base: &str, stdin: Stdio, extra: &[&str]) -> Fleet {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.txt");
    std::fs::write(&users, USERS).unwrap();
    let port_file = dir.path().join("smtp.port");
    let dns_file = dir.path().join("dns.port");
    let mut child = Command::new(env!("CARGO_BIN_EXE_inroad-fake-mx"))
        .arg("--users-file")
        .arg(&users)
        .args(["--base", base, "--delay-ms", "1"])
        .arg("--port-file")
        .arg(&port_file)
        .arg("--dns-zone-port-file")
        .arg(&dns_file)
        .args(extra)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let dns: SocketAddr = line.trim().strip_prefix("DNS=").expect(&line).parse().unwrap();
    line.clear();
    stdout.read_line(&mut line).unwrap();
    let smtp_port: u16 = line
        .trim()
        .strip_prefix("SMTP_PORT=")
        .expect(&line)
        .parse()
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(&port_file).unwrap().trim(),
        smtp_port.to_string()
    );
    assert_eq!(
        std::fs::read_to_string(&dns_file).unwrap().trim(),
        dns.port().to_string()
    );
    Fleet {
        child,
        dns,
        smtp_port,
        _dir: dir,
    }
}

/// The IP of `domain`'s MX host, through the fleet's DNS.
fn mx_ip(dns: SocketAddr, domain: &str) -> Ipv4Addr {
    let mut connection = ConnectionConfig::udp();
    connection.port = dns.port();
    let config = ResolverConfig::from_parts(
        None,
        vec![],
        vec![NameServerConfig::new(dns.ip(), true, vec![connection])],
    );
    let mut builder = Resolver::builder_with_config(config, TokioRuntimeProvider::default());
    builder.options_mut().use_hosts_file = ResolveHosts::Never;
    let resolver = builder.build().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let lookup = resolver.mx_lookup(format!("{domain}.")).await.unwrap();
        let RData::MX(mx) = &lookup.answers()[0].data else {
            panic!("{lookup:?}")
        };
        let ips = resolver.lookup_ip(mx.exchange.clone()).await.unwrap();
        match ips.iter().next().unwrap() {
            IpAddr::V4(ip) => ip,
            other => panic!("{other}"),
        }
    })
}

fn finish(mut child: Child) -> serde_json::Value {
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    serde_json::from_str(stderr.trim()).unwrap_or_else(|e| panic!("{e}: {stderr:?}"))
}

#[test]
fn serves_each_domain_from_its_own_host_until_stdin_closes() {
    let mut fleet = start("127.0.3.1", Stdio::piped(), &[]);
    let acme = mx_ip(fleet.dns, "acme.test");
    let beta = mx_ip(fleet.dns, "beta.test");
    let catch = mx_ip(fleet.dns, "catch.test");
    // Domains in sorted order: acme, beta, catch, delta.
    assert_eq!(
        [acme, beta, catch],
        [
            Ipv4Addr::new(127, 0, 3, 1),
            Ipv4Addr::new(127, 0, 3, 2),
            Ipv4Addr::new(127, 0, 3, 3)
        ]
    );

    let mut client = Client::ready(SocketAddr::from((acme, fleet.smtp_port)));
    let replies = client.pipeline(&[
        "RCPT TO:<ann@acme.test>",
        "RCPT TO:<bob@acme.test>",
        "RCPT TO:<zed@acme.test>",
    ]);
    assert_eq!(
        replies.iter().map(|r| r.code).collect::<Vec<_>>(),
        [250, 250, 550]
    );
    client.quit();
    let mut client = Client::ready(SocketAddr::from((catch, fleet.smtp_port)));
    assert_eq!(client.rcpt("whoever@catch.test").code, 250);
    client.quit();

    drop(fleet.child.stdin.take());
    let stats = finish(fleet.child);
    assert_eq!(stats["reason"], "stdin closed");
    assert_eq!(stats["domains"], 4);
    assert_eq!(stats["hosts"], 4);
    assert_eq!(stats["connections"], 2);
    assert_eq!(stats["rcpts"], 4);
    assert_eq!(stats["peak_concurrency_per_host_max"], 1);
    assert_eq!(stats["peak_concurrency_total"], 1);
}

#[test]
fn shares_hosts_and_stops_on_sigterm_with_stdin_at_dev_null() {
    let fleet = start("127.0.4.1", Stdio::null(), &["--domains-per-host", "2"]);
    let acme = mx_ip(fleet.dns, "acme.test");
    assert_eq!(mx_ip(fleet.dns, "beta.test"), acme);
    assert_eq!(mx_ip(fleet.dns, "catch.test"), Ipv4Addr::new(127, 0, 4, 2));
    let mut client = Client::ready(SocketAddr::from((acme, fleet.smtp_port)));
    assert_eq!(client.rcpt("cy@beta.test").code, 250);
    client.quit();

    let status = Command::new("kill")
        .args(["-TERM", &fleet.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let stats = finish(fleet.child);
    assert_eq!(stats["reason"], "SIGTERM");
    assert_eq!(stats["hosts"], 2);
    assert_eq!(stats["rcpts"], 1);
}

#[test]
fn stops_on_sigterm_while_stdin_is_still_open() {
    let mut fleet = start("127.0.5.1", Stdio::piped(), &[]);
    let stdin = fleet.child.stdin.take();
    let status = Command::new("kill")
        .args(["-TERM", &fleet.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let stats = finish(fleet.child);
    drop(stdin);
    assert_eq!(stats["reason"], "SIGTERM");
    assert_eq!(stats["connections"], 0);
}

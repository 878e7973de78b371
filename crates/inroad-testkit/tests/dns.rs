//! FakeDns queried by hickory-resolver configured with only the fake server.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::Resolver;
use inroad_testkit::{DnsZone, FakeDns};

const MX1: Ipv4Addr = Ipv4Addr::new(127, 0, 1, 1);
const MX2: Ipv4Addr = Ipv4Addr::new(127, 0, 1, 2);
const BARE: Ipv4Addr = Ipv4Addr::new(127, 0, 1, 9);

fn zone() -> DnsZone {
    DnsZone::new()
        .mx("acme.test", 20, "mx2.acme.test")
        .mx("acme.test", 10, "mx1.acme.test")
        .a("mx1.acme.test", MX1)
        .a("mx2.acme.test", MX2)
        .null_mx("nomail.test")
        .a("bare.test", BARE)
}

fn resolver(addr: SocketAddr, tcp: bool) -> Resolver<TokioRuntimeProvider> {
    let mut connection = if tcp {
        ConnectionConfig::tcp()
    } else {
        ConnectionConfig::udp()
    };
    connection.port = addr.port();
    let server = NameServerConfig::new(addr.ip(), true, vec![connection]);
    let config = ResolverConfig::from_parts(None, vec![], vec![server]);
    let mut builder = Resolver::builder_with_config(config, TokioRuntimeProvider::default());
    builder.options_mut().use_hosts_file = ResolveHosts::Never;
    builder.build().expect("resolver")
}

/// `(preference, exchange)` of the MX answers, by preference.
async fn mx(resolver: &Resolver<TokioRuntimeProvider>, domain: &str) -> Vec<(u16, String)> {
    let lookup = resolver.mx_lookup(domain).await.expect("MX lookup");
    let mut out: Vec<(u16, String)> = lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::MX(mx) => Some((mx.preference, mx.exchange.to_string())),
            _ => None,
        })
        .collect();
    out.sort();
    out
}

async fn a(resolver: &Resolver<TokioRuntimeProvider>, host: &str) -> Vec<IpAddr> {
    resolver.lookup_ip(host).await.expect("A lookup").iter().collect()
}

#[tokio::test]
async fn mx_and_a_records_over_udp() {
    let dns = FakeDns::start(zone());
    assert_eq!(dns.addr().ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    let resolver = resolver(dns.addr(), false);
    assert_eq!(
        mx(&resolver, "acme.test.").await,
        [
            (10, "mx1.acme.test.".to_string()),
            (20, "mx2.acme.test.".to_string())
        ]
    );
    assert_eq!(a(&resolver, "mx1.acme.test.").await, [IpAddr::V4(MX1)]);
    assert_eq!(a(&resolver, "MX2.Acme.Test.").await, [IpAddr::V4(MX2)]);
    assert_eq!(dns.query_count("acme.test", "MX"), 1);
}

#[tokio::test]
async fn same_port_answers_over_tcp() {
    let dns = FakeDns::start(zone());
    let resolver = resolver(dns.addr(), true);
    assert_eq!(
        mx(&resolver, "acme.test.").await[0],
        (10, "mx1.acme.test.".to_string())
    );
    assert_eq!(a(&resolver, "mx2.acme.test.").await, [IpAddr::V4(MX2)]);
}

#[tokio::test]
async fn unknown_names_are_nxdomain() {
    let dns = FakeDns::start(zone());
    let resolver = resolver(dns.addr(), false);
    let err = resolver.mx_lookup("nosuch.test.").await.unwrap_err();
    assert!(err.is_nx_domain(), "{err:?}");
    let err = resolver.ipv4_lookup("mx9.acme.test.").await.unwrap_err();
    assert!(err.is_nx_domain(), "{err:?}");
}

#[tokio::test]
async fn null_mx_is_preference_zero_root() {
    let dns = FakeDns::start(zone());
    let resolver = resolver(dns.addr(), false);
    let lookup = resolver.mx_lookup("nomail.test.").await.unwrap();
    let answers: Vec<_> = lookup.answers().iter().map(|r| r.data.clone()).collect();
    assert_eq!(answers.len(), 1);
    let RData::MX(null) = &answers[0] else {
        panic!("{answers:?}")
    };
    assert_eq!(null.preference, 0);
    assert!(null.exchange.is_root(), "{null:?}");
}

#[tokio::test]
async fn a_only_domain_has_no_mx_but_exists() {
    let dns = FakeDns::start(zone());
    let resolver = resolver(dns.addr(), false);
    let err = resolver.mx_lookup("bare.test.").await.unwrap_err();
    assert!(err.is_no_records_found(), "{err:?}");
    assert!(!err.is_nx_domain(), "NOERROR/NODATA expected, got {err:?}");
    // The implicit MX: the domain's own address.
    assert_eq!(a(&resolver, "bare.test.").await, [IpAddr::V4(BARE)]);
}

#[test]
fn starts_without_a_runtime_and_stops_on_drop() {
    let dns = FakeDns::start(zone());
    let addr = dns.addr();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let found = runtime.block_on(async { mx(&resolver(addr, false), "acme.test.").await });
    assert_eq!(found.len(), 2);
    assert_eq!(dns.queries()[0].record_type, "MX");
    assert_eq!(dns.queries()[0].name, "acme.test.");
    TcpStream::connect(addr).expect("TCP is listening while running");
    drop(dns);
    let err = TcpStream::connect(addr).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[test]
fn rejects_bad_names() {
    let err = FakeDns::try_start(DnsZone::new().a("bad..name", BARE)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

//! Real-protocol fakes for Inroad's tests and benchmarks, on loopback only.
//!
//! - [`FakeDns`]: an authoritative DNS server (hickory-server) on `127.0.0.1:<port>`, UDP
//!   and TCP, for a [`DnsZone`] of MX / A / AAAA / null-MX records. Other names: NXDOMAIN.
//! - [`FakeMx`]: a scripted SMTP server on several `127.x.y.z` IPs sharing one port, with
//!   per-domain [`Script`]s (known users, catch-all, greylisting, Microsoft-style
//!   rejections, policy blocks, hangs) and per-IP [`HostScript`]s (refuse, close at once,
//!   421 at greeting or after N RCPTs, tarpit delay, no PIPELINING, required AUTH), plus
//!   [`MxStats`].
//! - [`Dovecot`]: not a fake — a real Dovecot IMAP server on a free loopback port, with
//!   users and maildirs in a temporary directory; messages are placed with IMAP APPEND.
//! - [`PgDatabase`]: not a fake either — a database of its own on a throwaway PostgreSQL
//!   cluster (initdb + postgres on a free loopback port), shared by a test binary's tests
//!   and stopped when it exits; [`TestDatabase`]: that or a SQLite file, as
//!   `INROAD_TEST_BACKEND` says.
//! - [`dkim`]: an independent DKIM checker (relaxed canonicalisation written out, the
//!   signature verified by the `openssl` command, RSA and Ed25519) for tests that must not
//!   trust the signing library.
//!
//! The fakes run on their own thread with their own Tokio runtime, so they work the same from
//! a plain `#[test]` and from `#[tokio::test]`; all three stop when dropped.
//!
//! ```no_run
//! use std::net::Ipv4Addr;
//! use inroad_testkit::{DnsZone, FakeDns, FakeMx, Script};
//!
//! let mx_ip = Ipv4Addr::new(127, 0, 1, 1);
//! let dns = FakeDns::start(DnsZone::new().mx("acme.test", 10, "mx.acme.test").a("mx.acme.test", mx_ip));
//! let mx = FakeMx::builder()
//!     .hosts(&[mx_ip])
//!     .domain("acme.test", Script::known(["ann", "bob"]))
//!     .start();
//! // point the code under test at dns.addr() and port mx.port(), then:
//! assert_eq!(mx.stats().connections, 0);
//! ```

mod background;
pub mod dkim;
mod dns;
mod dovecot;
mod mx;
mod pg;

use std::net::Ipv4Addr;

pub use dns::{DnsQuery, DnsZone, FakeDns};
pub use dovecot::Dovecot;
pub use mx::{
    AfterData, FakeMx, FakeMxBuilder, HostScript, Mailbox, MxStats, Script, DEFAULT_HOST, GREYLISTED,
    MICROSOFT_UNKNOWN, POLICY_BLOCK, RCPT_OK, RELAY_DENIED, TOO_MANY_CONNECTIONS, USER_UNKNOWN,
};
pub use pg::{postgres_backend, PgDatabase, TestDatabase};

/// `count` consecutive loopback IPs from `base`, skipping `.0` and `.255` in the last
/// octet (so `127.0.1.254` is followed by `127.0.2.1`). Panics if they run past
/// `127.255.255.254`.
pub fn loopback_ips(base: Ipv4Addr, count: usize) -> Vec<Ipv4Addr> {
    assert!(base.is_loopback(), "{base} is not a loopback address");
    let mut out = Vec::with_capacity(count);
    let mut next = u32::from(base);
    while out.len() < count {
        let ip = Ipv4Addr::from(next);
        assert!(
            ip.is_loopback(),
            "ran out of loopback addresses after {} from {base}",
            out.len()
        );
        if !matches!(ip.octets()[3], 0 | 255) {
            out.push(ip);
        }
        next += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_ips_skip_network_and_broadcast() {
        let ips = loopback_ips(Ipv4Addr::new(127, 0, 1, 253), 4);
        assert_eq!(
            ips,
            [
                Ipv4Addr::new(127, 0, 1, 253),
                Ipv4Addr::new(127, 0, 1, 254),
                Ipv4Addr::new(127, 0, 2, 1),
                Ipv4Addr::new(127, 0, 2, 2)
            ]
        );
        assert_eq!(
            loopback_ips(Ipv4Addr::new(127, 0, 1, 1), 254).last(),
            Some(&Ipv4Addr::new(127, 0, 1, 254))
        );
    }
}

//! Where mail for a domain goes: MX records by preference, the implicit MX (the
//! domain's own A/AAAA) when there is none, and the two answers that mean "no mail
//! here": NXDOMAIN and the RFC 7505 null MX.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::NetError;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::{Resolver, TokioResolver};

/// One mail host of a domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MxHost {
    /// The host name, without the trailing dot (the domain itself for an implicit MX).
    pub name: String,
    pub preference: u16,
    pub addrs: Vec<IpAddr>,
}

/// What DNS says about mail for a domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailHosts {
    /// In order of preference; hosts whose names did not resolve are left out.
    Hosts(Vec<MxHost>),
    /// NXDOMAIN: the domain does not exist.
    NoSuchDomain,
    /// RFC 7505 null MX ("MX 0 ."): the domain accepts no mail.
    NullMx,
    /// The domain exists but has neither MX nor A/AAAA records (or its MX hosts do
    /// not resolve).
    NoMailHost,
    /// The lookup itself failed (timeout, SERVFAIL): no verdict.
    Failed(String),
}

/// A DNS client for mail-host lookups.
#[derive(Clone)]
pub struct MailResolver {
    resolver: TokioResolver,
}

impl MailResolver {
    /// Uses `nameserver` (UDP, with TCP for truncated answers) when given, else the
    /// system's resolver configuration.
    pub fn new(nameserver: Option<SocketAddr>) -> Result<MailResolver, String> {
        let builder = match nameserver {
            Some(addr) => {
                let connections = [ConnectionConfig::udp(), ConnectionConfig::tcp()]
                    .into_iter()
                    .map(|mut c| {
                        c.port = addr.port();
                        c
                    })
                    .collect();
                let server = NameServerConfig::new(addr.ip(), true, connections);
                Resolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![server]),
                    TokioRuntimeProvider::default(),
                )
            }
            None => Resolver::builder_tokio().map_err(|e| {
                format!("cannot read the system DNS configuration: {e}; pass --dns ADDR:PORT")
            })?,
        };
        let mut builder = builder;
        let options = builder.options_mut();
        options.timeout = Duration::from_secs(5);
        options.attempts = 2;
        let resolver = builder
            .build()
            .map_err(|e| format!("cannot start the DNS resolver: {e}"))?;
        Ok(MailResolver { resolver })
    }

    /// The mail hosts of `domain` (an ASCII/punycode domain).
    pub async fn mail_hosts(&self, domain: &str) -> MailHosts {
        let fqdn = format!("{}.", domain.trim_end_matches('.'));
        match self.resolver.mx_lookup(fqdn.as_str()).await {
            Ok(lookup) => {
                let mut mx: Vec<(u16, hickory_resolver::proto::rr::Name)> = lookup
                    .answers()
                    .iter()
                    .filter_map(|record| match &record.data {
                        RData::MX(mx) => Some((mx.preference, mx.exchange.clone())),
                        _ => None,
                    })
                    .collect();
                if mx.len() == 1 && mx[0].1.is_root() {
                    return MailHosts::NullMx;
                }
                if mx.is_empty() {
                    return self.implicit_mx(&fqdn, domain).await;
                }
                mx.sort_by_key(|(preference, _)| *preference);
                let mut hosts = Vec::with_capacity(mx.len());
                for (preference, exchange) in mx {
                    if exchange.is_root() {
                        continue;
                    }
                    let name = exchange.to_ascii().trim_end_matches('.').to_owned();
                    let addrs = self.addresses(&exchange.to_ascii()).await;
                    if !addrs.is_empty() {
                        hosts.push(MxHost {
                            name,
                            preference,
                            addrs,
                        });
                    }
                }
                if hosts.is_empty() {
                    MailHosts::NoMailHost
                } else {
                    MailHosts::Hosts(hosts)
                }
            }
            Err(e) if e.is_nx_domain() => MailHosts::NoSuchDomain,
            Err(e) if e.is_no_records_found() => self.implicit_mx(&fqdn, domain).await,
            Err(e) => MailHosts::Failed(failure(&e)),
        }
    }

    /// The TXT records at `name`, each as one string (its character-strings joined, as
    /// SPF, DKIM and DMARC read them). `Ok(empty)`: the name has none, or does not exist.
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, String> {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match self.resolver.txt_lookup(fqdn.as_str()).await {
            Ok(lookup) => Ok(lookup
                .answers()
                .iter()
                .filter_map(|record| match &record.data {
                    RData::TXT(txt) => Some(
                        txt.txt_data
                            .iter()
                            .map(|part| String::from_utf8_lossy(part))
                            .collect::<String>(),
                    ),
                    _ => None,
                })
                .collect()),
            Err(e) if e.is_nx_domain() || e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(failure(&e)),
        }
    }

    /// RFC 5321 §5.1: with no MX, the domain itself is the mail host.
    async fn implicit_mx(&self, fqdn: &str, domain: &str) -> MailHosts {
        let addrs = self.addresses(fqdn).await;
        if addrs.is_empty() {
            MailHosts::NoMailHost
        } else {
            MailHosts::Hosts(vec![MxHost {
                name: domain.to_owned(),
                preference: 0,
                addrs,
            }])
        }
    }

    async fn addresses(&self, host: &str) -> Vec<IpAddr> {
        match self.resolver.lookup_ip(host).await {
            Ok(ips) => ips.iter().collect(),
            Err(_) => Vec::new(),
        }
    }
}

fn failure(e: &NetError) -> String {
    format!("DNS lookup failed: {e}")
}

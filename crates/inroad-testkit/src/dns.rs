//! `FakeDns`: an authoritative DNS server (hickory-server) for a small zone, on loopback.
//!
//! The server is authoritative for the root zone, so it answers every name: names that
//! appear in the [`DnsZone`] get their records (or NOERROR with no answers for a type they
//! lack, with the root SOA in the authority section), every other name gets NXDOMAIN.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_proto::rr::rdata::{A, AAAA, MX, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record};
use hickory_server::net::runtime::{Time, TokioRuntimeProvider};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneHandler, ZoneType};
use hickory_server::Server;
use tokio::net::{TcpListener, UdpSocket};

use crate::background::{self, Background};

const TTL: u32 = 300;
const SERIAL: u32 = 1;

/// A zone description: MX, A, AAAA, TXT and null-MX records, added builder-style.
///
/// Names are domain names without the trailing dot (`"acme.test"`); a trailing dot is
/// accepted too. Unicode names are stored in their ASCII (punycode) form.
#[derive(Clone, Debug, Default)]
pub struct DnsZone {
    records: Vec<(String, ZoneRecord)>,
}

#[derive(Clone, Debug)]
enum ZoneRecord {
    Mx(u16, String),
    NullMx,
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Txt(String),
}

impl DnsZone {
    /// An empty zone: every name is NXDOMAIN.
    pub fn new() -> Self {
        Self::default()
    }

    /// `domain. MX preference host.`
    pub fn mx(mut self, domain: &str, preference: u16, host: &str) -> Self {
        self.records
            .push((domain.to_string(), ZoneRecord::Mx(preference, host.to_string())));
        self
    }

    /// `host. A addr`
    pub fn a(mut self, host: &str, addr: Ipv4Addr) -> Self {
        self.records.push((host.to_string(), ZoneRecord::A(addr)));
        self
    }

    /// `host. AAAA addr`
    pub fn aaaa(mut self, host: &str, addr: Ipv6Addr) -> Self {
        self.records.push((host.to_string(), ZoneRecord::Aaaa(addr)));
        self
    }

    /// `name. TXT "text"` (SPF, DKIM and DMARC records); long texts are split into
    /// 255-byte character-strings as a real zone would hold them.
    pub fn txt(mut self, name: &str, text: &str) -> Self {
        self.records
            .push((name.to_string(), ZoneRecord::Txt(text.to_string())));
        self
    }

    /// RFC 7505 null MX: `domain. MX 0 .` (the domain accepts no mail).
    pub fn null_mx(mut self, domain: &str) -> Self {
        self.records.push((domain.to_string(), ZoneRecord::NullMx));
        self
    }

    fn to_records(&self) -> io::Result<Vec<Record>> {
        let mut out = Vec::with_capacity(self.records.len() + 1);
        let soa = SOA::new(
            fqdn("ns.fake-dns.test")?,
            fqdn("hostmaster.fake-dns.test")?,
            SERIAL,
            3600,
            600,
            86400,
            60,
        );
        out.push(Record::from_rdata(Name::root(), TTL, RData::SOA(soa)));
        for (name, record) in &self.records {
            let name = fqdn(name)?;
            let rdata = match record {
                ZoneRecord::Mx(preference, host) => RData::MX(MX::new(*preference, fqdn(host)?)),
                ZoneRecord::NullMx => RData::MX(MX::new(0, Name::root())),
                ZoneRecord::A(addr) => RData::A(A(*addr)),
                ZoneRecord::Aaaa(addr) => RData::AAAA(AAAA(*addr)),
                ZoneRecord::Txt(text) => RData::TXT(TXT::new(
                    text.as_bytes()
                        .chunks(255)
                        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
                        .collect(),
                )),
            };
            out.push(Record::from_rdata(name, TTL, rdata));
        }
        Ok(out)
    }
}

fn fqdn(name: &str) -> io::Result<Name> {
    let trimmed = name.trim_end_matches('.');
    if trimmed.is_empty() {
        return Ok(Name::root());
    }
    let mut parsed = Name::from_utf8(trimmed).map_err(|err| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad DNS name {name:?}: {err}"),
        )
    })?;
    parsed.set_fqdn(true);
    Ok(parsed)
}

/// One query the server received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsQuery {
    /// The queried name as received, with its trailing dot (`"acme.test."`).
    pub name: String,
    /// The record type, e.g. `"MX"`, `"A"`.
    pub record_type: String,
}

type QueryLog = Arc<Mutex<Vec<DnsQuery>>>;

/// Logs each query, then lets the catalog answer it.
struct LoggingHandler {
    catalog: Catalog,
    log: QueryLog,
}

#[async_trait::async_trait]
impl RequestHandler for LoggingHandler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        response_handle: R,
    ) -> ResponseInfo {
        if let Ok(info) = request.request_info() {
            let query = DnsQuery {
                name: info.query.name().to_string(),
                record_type: info.query.query_type().to_string(),
            };
            self.log.lock().unwrap_or_else(|e| e.into_inner()).push(query);
        }
        self.catalog
            .handle_request::<R, T>(request, response_handle)
            .await
    }
}

/// An authoritative DNS server on `127.0.0.1:<free port>`, UDP and TCP on the same port,
/// running on its own thread. Stops on drop.
#[derive(Debug)]
pub struct FakeDns {
    addr: SocketAddr,
    log: QueryLog,
    _background: Background,
}

impl FakeDns {
    /// Starts the server; panics if it cannot (bad zone name, no free port).
    pub fn start(zone: DnsZone) -> FakeDns {
        Self::try_start(zone).unwrap_or_else(|err| panic!("FakeDns failed to start: {err}"))
    }

    /// Starts the server.
    pub fn try_start(zone: DnsZone) -> io::Result<FakeDns> {
        let records = zone.to_records()?;
        let mut handler = InMemoryZoneHandler::<TokioRuntimeProvider>::empty(
            Name::root(),
            ZoneType::Primary,
            AxfrPolicy::Deny,
        );
        for record in records {
            let text = record.to_string();
            if !handler.upsert_mut(record, SERIAL) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("zone rejected record {text}"),
                ));
            }
        }
        let mut catalog = Catalog::new();
        let handlers: Vec<Arc<dyn ZoneHandler>> = vec![Arc::new(handler)];
        catalog.upsert(Name::root().into(), handlers);
        let log: QueryLog = Arc::default();
        let handler = LoggingHandler {
            catalog,
            log: log.clone(),
        };

        let (addr, background) = background::spawn("inroad-fake-dns", 0, move || async move {
            let (udp, tcp) = bind_udp_and_tcp().await?;
            let addr = udp.local_addr()?;
            let mut server = Server::new(handler);
            server.register_socket(udp);
            server.register_listener(tcp, Duration::from_secs(30), 64);
            let run = async move {
                // Keeps the server (and its tasks) alive until the runtime stops.
                let _ = server.block_until_done().await;
                std::future::pending::<()>().await;
            };
            Ok((addr, run))
        })?;
        Ok(FakeDns {
            addr,
            log,
            _background: background,
        })
    }

    /// The address to query, `127.0.0.1:<port>` (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port, the same for UDP and TCP.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every query received so far, in arrival order.
    pub fn queries(&self) -> Vec<DnsQuery> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// How many queries for `name` (without or with trailing dot, any case) of type
    /// `record_type` (`"MX"`, `"A"`, ...) were received.
    pub fn query_count(&self, name: &str, record_type: &str) -> usize {
        let name = name.trim_end_matches('.');
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|q| {
                q.name.trim_end_matches('.').eq_ignore_ascii_case(name)
                    && q.record_type.eq_ignore_ascii_case(record_type)
            })
            .count()
    }
}

/// Binds UDP on `127.0.0.1:0`, then TCP on the same port, retrying if TCP is taken.
async fn bind_udp_and_tcp() -> io::Result<(UdpSocket, TcpListener)> {
    let mut last_err = None;
    for _ in 0..64 {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let port = udp.local_addr()?.port();
        match TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(err) => last_err = Some(err),
        }
    }
    Err(last_err.unwrap_or_else(|| io::Error::other("no free port")))
}

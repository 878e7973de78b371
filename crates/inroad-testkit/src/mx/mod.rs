//! `FakeMx`: a scripted SMTP server listening on several loopback IPs, all on one port.

mod script;
mod session;
mod stats;

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket};

pub use script::{
    HostScript, Mailbox, Script, GREYLISTED, MICROSOFT_UNKNOWN, POLICY_BLOCK, RCPT_OK, RELAY_DENIED,
    TOO_MANY_CONNECTIONS, USER_UNKNOWN,
};
pub use stats::MxStats;

use crate::background::{self, Background};
use script::HostMode;
use session::{Host, Shared};
use stats::Stats;

/// The IP the builder uses when no host is given.
pub const DEFAULT_HOST: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

/// Configures a [`FakeMx`]; see [`FakeMx::builder`].
#[derive(Clone, Debug)]
pub struct FakeMxBuilder {
    hosts: Vec<(Ipv4Addr, HostScript)>,
    scripts: HashMap<String, Script>,
    default_script: Script,
    delay: Duration,
    pipelining: bool,
    max_rcpts_per_session: Option<u32>,
    max_concurrent_per_host: Option<u32>,
    log_commands: bool,
    hostname: String,
    worker_threads: usize,
    accept_data: bool,
    after_data: AfterData,
}

/// What the server does once DATA is accepted (with [`FakeMxBuilder::accept_data`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum AfterData {
    /// Reads the message and answers `250 2.0.0 Ok: queued`.
    #[default]
    Queue,
    /// Reads the message and answers with this reply instead (e.g. a 550 or a 451).
    Reply(String),
    /// Reads the message and never answers the final dot.
    Hang,
    /// Closes the connection in the middle of the message.
    Drop,
}

impl Default for FakeMxBuilder {
    fn default() -> Self {
        Self {
            hosts: Vec::new(),
            scripts: HashMap::new(),
            default_script: Script::reply(RELAY_DENIED),
            delay: Duration::ZERO,
            pipelining: true,
            max_rcpts_per_session: None,
            max_concurrent_per_host: None,
            log_commands: true,
            hostname: "mx.fake.test".to_string(),
            worker_threads: 2,
            accept_data: false,
            after_data: AfterData::Queue,
        }
    }
}

impl FakeMxBuilder {
    /// Listens on these IPs (well-behaved hosts). Must be loopback (127.0.0.0/8).
    /// Default when no host is added at all: [`DEFAULT_HOST`].
    pub fn hosts(mut self, ips: &[Ipv4Addr]) -> Self {
        for ip in ips {
            self = self.host(*ip, HostScript::normal());
        }
        self
    }

    /// Adds (or replaces) one IP with its own behaviour.
    pub fn host(mut self, ip: Ipv4Addr, script: HostScript) -> Self {
        match self.hosts.iter_mut().find(|(existing, _)| *existing == ip) {
            Some(entry) => entry.1 = script,
            None => self.hosts.push((ip, script)),
        }
        self
    }

    /// How RCPT TO for `domain` (case-insensitive) is answered, on every host.
    pub fn domain(mut self, domain: &str, script: Script) -> Self {
        self.scripts.insert(normalize_domain(domain), script);
        self
    }

    /// How RCPT TO for domains without a script is answered.
    /// Default: `554 5.7.1 <addr>: Relay access denied`.
    pub fn default_script(mut self, script: Script) -> Self {
        self.default_script = script;
        self
    }

    /// Delay before every reply (greeting included) on every host without its own delay.
    /// Replies to pipelined commands are each delayed in turn.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Whether EHLO advertises PIPELINING on hosts that do not say otherwise (default true).
    pub fn pipelining(mut self, on: bool) -> Self {
        self.pipelining = on;
        self
    }

    /// Default for [`HostScript::max_rcpts_per_session`].
    pub fn max_rcpts_per_session(mut self, n: u32) -> Self {
        self.max_rcpts_per_session = Some(n);
        self
    }

    /// Default for [`HostScript::max_concurrent`].
    pub fn max_concurrent_per_host(mut self, n: u32) -> Self {
        self.max_concurrent_per_host = Some(n);
        self
    }

    /// Whether to keep the per-session command log (default true; turn off for big runs).
    pub fn log_commands(mut self, on: bool) -> Self {
        self.log_commands = on;
        self
    }

    /// Accept messages: DATA gets 354, the message is read to its final dot and
    /// answered 250 (counted in [`MxStats::messages`]). By default DATA is refused,
    /// as a verifier never sends it.
    pub fn accept_data(mut self, on: bool) -> Self {
        self.accept_data = on;
        self
    }

    /// What happens after DATA (see [`AfterData`]); only with `accept_data`.
    pub fn after_data(mut self, behaviour: AfterData) -> Self {
        self.after_data = behaviour;
        self
    }

    /// The name in the greeting and the EHLO reply (default `mx.fake.test`).
    pub fn hostname(mut self, name: &str) -> Self {
        self.hostname = name.to_string();
        self
    }

    /// Worker threads of the server's runtime (default 2; 0 = a current-thread runtime).
    pub fn worker_threads(mut self, n: usize) -> Self {
        self.worker_threads = n;
        self
    }

    /// Starts the server; panics if it cannot.
    pub fn start(self) -> FakeMx {
        self.try_start()
            .unwrap_or_else(|err| panic!("FakeMx failed to start: {err}"))
    }

    /// Starts the server on its own thread and runtime.
    pub fn try_start(self) -> io::Result<FakeMx> {
        let mut configured = self.hosts.clone();
        if configured.is_empty() {
            configured.push((DEFAULT_HOST, HostScript::normal()));
        }
        if let Some((ip, _)) = configured.iter().find(|(ip, _)| !ip.is_loopback()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{ip} is not a loopback address"),
            ));
        }
        let hosts: Vec<Arc<Host>> = configured
            .iter()
            .map(|(ip, s)| {
                Arc::new(Host {
                    ip: *ip,
                    mode: s.mode,
                    policy_block: s.policy_block,
                    delay: s.delay.unwrap_or(self.delay),
                    pipelining: s.pipelining.unwrap_or(self.pipelining),
                    ehlo: s.ehlo,
                    max_rcpts_per_session: s.max_rcpts_per_session.or(self.max_rcpts_per_session),
                    max_concurrent: s.max_concurrent.or(self.max_concurrent_per_host),
                    auth: s.auth.clone(),
                })
            })
            .collect();
        let shared = Arc::new(Shared {
            hostname: self.hostname,
            scripts: self.scripts,
            default_script: self.default_script,
            stats: Stats::new(self.log_commands),
            accept_data: self.accept_data,
            after_data: self.after_data,
        });
        let ips = hosts.iter().map(|h| h.ip).collect();
        let server_shared = shared.clone();
        let (port, background) =
            background::spawn("inroad-fake-mx", self.worker_threads, move || async move {
                let (port, bound) = bind_all(&hosts)?;
                let run = async move {
                    let mut reserved = Vec::new();
                    for (host, socket) in bound {
                        match socket {
                            Bound::Listening(listener) => {
                                tokio::spawn(accept_loop(listener, host, server_shared.clone()));
                            }
                            Bound::Reserved(socket) => reserved.push(socket),
                        }
                    }
                    std::future::pending::<()>().await;
                    drop(reserved);
                };
                Ok((port, run))
            })?;
        Ok(FakeMx {
            port,
            ips,
            shared,
            _background: background,
        })
    }
}

type BoundHost = (Arc<Host>, Bound);

enum Bound {
    Listening(TcpListener),
    /// Bound but not listening: connections are refused.
    Reserved(TcpSocket),
}

/// Binds every host on one port: the first on port 0, the others on the port it got;
/// starts over with a new port if one is taken.
fn bind_all(hosts: &[Arc<Host>]) -> io::Result<(u16, Vec<BoundHost>)> {
    let mut seen = HashSet::new();
    if let Some(host) = hosts.iter().find(|h| !seen.insert(h.ip)) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("host {} given twice", host.ip),
        ));
    }
    let mut last_err = None;
    'attempt: for _ in 0..100 {
        let mut port = 0u16;
        let mut bound = Vec::with_capacity(hosts.len());
        for (i, host) in hosts.iter().enumerate() {
            let socket = TcpSocket::new_v4()?;
            socket.set_reuseaddr(true)?;
            let addr = SocketAddr::V4(SocketAddrV4::new(host.ip, port));
            if let Err(err) = socket.bind(addr) {
                if i == 0 {
                    return Err(err);
                }
                last_err = Some(err);
                continue 'attempt;
            }
            if i == 0 {
                port = socket.local_addr()?.port();
            }
            let entry = if host.mode == HostMode::Refuse {
                Bound::Reserved(socket)
            } else {
                match socket.listen(1024) {
                    Ok(listener) => Bound::Listening(listener),
                    Err(err) if i > 0 => {
                        last_err = Some(err);
                        continue 'attempt;
                    }
                    Err(err) => return Err(err),
                }
            };
            bound.push((host.clone(), entry));
        }
        return Ok((port, bound));
    }
    Err(last_err.unwrap_or_else(|| io::Error::other("no port free on every host")))
}

async fn accept_loop(listener: TcpListener, host: Arc<Host>, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(session::serve(shared.clone(), host.clone(), stream));
            }
            // Out of file descriptors and the like: back off a little, keep serving.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

fn normalize_domain(domain: &str) -> String {
    domain.trim_end_matches('.').to_ascii_lowercase()
}

/// A scripted SMTP server on one port of several loopback IPs, running on its own
/// thread. Stops on drop (listeners and open sessions are closed).
#[derive(Debug)]
pub struct FakeMx {
    port: u16,
    ips: Vec<Ipv4Addr>,
    shared: Arc<Shared>,
    _background: Background,
}

impl FakeMx {
    /// A builder with no hosts, no domain scripts, no delay, PIPELINING on.
    pub fn builder() -> FakeMxBuilder {
        FakeMxBuilder::default()
    }

    /// The port every host listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every configured IP, in the order given (refusing ones included).
    pub fn hosts(&self) -> &[Ipv4Addr] {
        &self.ips
    }

    /// `ip:port` for one host.
    pub fn addr(&self, ip: Ipv4Addr) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(ip, self.port))
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> MxStats {
        self.shared.stats.snapshot()
    }

    /// Blocks until no session is open (every client has closed or been closed), at most
    /// `timeout`; true if idle. Useful before asserting on counters after a client that
    /// does not wait for the server's last reply.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        self.shared.stats.wait_idle(timeout)
    }
}

//! SMTP recipient probing: does this mail host accept RCPT TO for this address?
//!
//! Public verifiers open one connection per address, which is slow and is exactly
//! what gets a prober's IP blocked. Here addresses are grouped by mail host; each
//! host gets at most `sessions_per_host` sessions (a global cap bounds them all),
//! and one session carries many RCPTs, pipelined when the server offers PIPELINING,
//! a transaction at a time with RSET between. A domain's catch-all probe (a random
//! local part) comes after its real addresses. A 4xx is not a verdict: those
//! addresses are tried again in later rounds, on the configured schedule.
//!
//! Nothing is ever sent past RCPT TO: no DATA, no message.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use inroad_core::smtp::{classify_rcpt, ehlo_extensions, parse_reply, RcptOutcome, Reply};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::time::{timeout, Instant};

use crate::dns::MxHost;

/// Limits and identity of the prober. The defaults are polite to real servers.
#[derive(Clone, Debug)]
pub struct ProbeConfig {
    /// The name given in EHLO: should resolve back to the probing host.
    pub helo_name: String,
    /// The envelope sender of the probes.
    pub mail_from: String,
    /// 25 on the internet; a test port on loopback.
    pub port: u16,
    pub sessions_per_host: usize,
    pub max_sessions: usize,
    /// RCPTs one session carries before it says QUIT (servers count them).
    pub rcpts_per_session: usize,
    /// RCPTs per transaction (MAIL FROM … RSET).
    pub rcpts_per_transaction: usize,
    pub connect_timeout: Duration,
    /// For the greeting and for every reply.
    pub command_timeout: Duration,
    /// How long a run may take, retries included; addresses without an answer by
    /// then get [`Probe::DeadlineExceeded`]. Domains are probed side by side, so this
    /// is each domain's deadline too.
    pub domain_deadline: Duration,
    /// At most this many RCPTs per second to one mail host (`None`: no pacing
    /// beyond the session limits).
    pub host_rcpts_per_second: Option<f64>,
    /// Waits before the second, third, … round for addresses that got a 4xx.
    pub retry_delays: Vec<Duration>,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            helo_name: "localhost".into(),
            mail_from: String::new(),
            port: 25,
            sessions_per_host: 2,
            max_sessions: 64,
            rcpts_per_session: 100,
            rcpts_per_transaction: 50,
            connect_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(30),
            domain_deadline: Duration::from_secs(600),
            retry_delays: vec![Duration::from_secs(120), Duration::from_secs(300)],
            host_rcpts_per_second: None,
        }
    }
}

/// The addresses of one domain to probe, with where its mail goes.
#[derive(Clone, Debug)]
pub struct DomainJob {
    pub domain: String,
    pub hosts: Vec<MxHost>,
    pub addresses: Vec<String>,
    /// Also probe a random local part, to learn whether the domain accepts anything.
    pub probe_catch_all: bool,
}

/// What became of one RCPT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probe {
    /// The server answered the RCPT (possibly with a 4xx after the last retry).
    Replied { reply: Reply, outcome: RcptOutcome },
    /// No session could be had (connection refused or failed, greeting refused).
    NoSession(String),
    /// The session broke or timed out before the RCPT's reply came.
    Interrupted(String),
    /// The domain's deadline passed first.
    DeadlineExceeded,
}

#[derive(Clone, Debug)]
pub struct AddressProbe {
    pub address: String,
    pub probe: Probe,
    /// The host that answered, if any.
    pub mx: Option<String>,
    pub attempts: u32,
}

#[derive(Clone, Debug)]
pub struct DomainProbe {
    pub domain: String,
    pub addresses: Vec<AddressProbe>,
    /// Whether a random local part was accepted; `None` when that was not learned.
    pub catch_all: Option<bool>,
}

/// Counters for benchmarks and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProbeStats {
    pub connections: u64,
    pub rcpts: u64,
    pub peak_sessions: usize,
}

/// One RCPT to send.
#[derive(Clone, Debug)]
struct Item {
    domain: usize,
    /// Index in the domain's addresses; `None` for the catch-all probe.
    address: Option<usize>,
    rcpt: String,
    attempts: u32,
}

/// Work of one mail host for one round, shared by its sessions.
struct HostQueue {
    hosts: Vec<MxHost>,
    items: Mutex<VecDeque<Item>>,
    /// RCPTs per transaction: the work split evenly over the host's sessions, so
    /// they finish together, within the configured cap.
    batch: usize,
    pacer: Option<Pacer>,
}

/// Spaces one host's RCPTs to at most a given rate, over all its sessions.
struct Pacer {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    fn new(rcpts_per_second: f64, now: Instant) -> Option<Pacer> {
        (rcpts_per_second > 0.0 && rcpts_per_second.is_finite()).then(|| Pacer {
            interval: Duration::from_secs_f64(1.0 / rcpts_per_second),
            next: Mutex::new(now),
        })
    }

    /// When a transaction of `rcpts` RCPTs may start, booking the time it takes.
    fn reserve(&self, rcpts: usize, now: Instant) -> Instant {
        let mut next = self.next.lock().expect("not poisoned");
        let start = (*next).max(now);
        *next = start + self.interval * u32::try_from(rcpts).unwrap_or(u32::MAX);
        start
    }
}

#[derive(Default)]
struct Shared {
    results: Mutex<Vec<(Item, Probe, Option<String>)>>,
    stats: Mutex<ProbeStats>,
    live_sessions: Mutex<usize>,
}

/// Probes every job; returns one result per job, addresses in the given order.
pub async fn probe_domains(
    config: &ProbeConfig,
    jobs: &[DomainJob],
    progress: &(dyn Fn(usize) + Sync),
) -> (Vec<DomainProbe>, ProbeStats) {
    let started = Instant::now();
    let mut pending: Vec<Item> = Vec::new();
    for (d, job) in jobs.iter().enumerate() {
        for (a, address) in job.addresses.iter().enumerate() {
            pending.push(Item {
                domain: d,
                address: Some(a),
                rcpt: address.clone(),
                attempts: 0,
            });
        }
        if job.probe_catch_all && !job.hosts.is_empty() {
            let rcpt = format!("{}@{}", random_local_part(d), job.domain);
            pending.push(Item {
                domain: d,
                address: None,
                rcpt,
                attempts: 0,
            });
        }
    }
    let shared = Arc::new(Shared::default());
    let global = Arc::new(Semaphore::new(config.max_sessions.max(1)));
    let mut finals: Vec<(Item, Probe, Option<String>)> = Vec::new();
    for round in 0..=config.retry_delays.len() {
        if pending.is_empty() {
            break;
        }
        let remaining = config.domain_deadline.saturating_sub(started.elapsed());
        if round > 0 {
            tokio::time::sleep(config.retry_delays[round - 1].min(remaining)).await;
        }
        let remaining = config.domain_deadline.saturating_sub(started.elapsed());
        let sent: Vec<(usize, Option<usize>)> = pending.iter().map(|i| (i.domain, i.address)).collect();
        let live = std::mem::take(&mut pending);
        let finished = !remaining.is_zero()
            && timeout(remaining, run_round(config, jobs, live.clone(), &shared, &global))
                .await
                .is_ok();
        let mut answered: Vec<(Item, Probe, Option<String>)> =
            shared.results.lock().expect("not poisoned").drain(..).collect();
        if !finished {
            // The deadline cut the round short: whatever has no answer now never will.
            let have: HashSet<(usize, Option<usize>)> =
                answered.iter().map(|(i, _, _)| (i.domain, i.address)).collect();
            let missing = live.into_iter().zip(sent).filter(|(_, key)| !have.contains(key));
            answered.extend(missing.map(|(item, _)| (item, Probe::DeadlineExceeded, None)));
        }
        let last_round = round == config.retry_delays.len() || !finished;
        for (mut item, probe, mx) in answered {
            item.attempts += 1;
            if is_temporary(&probe) && !last_round {
                pending.push(item);
            } else {
                if item.address.is_some() {
                    progress(1);
                }
                finals.push((item, probe, mx));
            }
        }
    }
    let stats = *shared.stats.lock().expect("not poisoned");
    (assemble(jobs, finals), stats)
}

fn is_temporary(probe: &Probe) -> bool {
    match probe {
        Probe::Replied { outcome, .. } => *outcome == RcptOutcome::TemporaryFailure,
        Probe::Interrupted(_) | Probe::NoSession(_) => true,
        Probe::DeadlineExceeded => false,
    }
}

fn assemble(jobs: &[DomainJob], finals: Vec<(Item, Probe, Option<String>)>) -> Vec<DomainProbe> {
    let mut out: Vec<DomainProbe> = jobs
        .iter()
        .map(|job| DomainProbe {
            domain: job.domain.clone(),
            addresses: job
                .addresses
                .iter()
                .map(|address| AddressProbe {
                    address: address.clone(),
                    probe: Probe::NoSession("no mail host".into()),
                    mx: None,
                    attempts: 0,
                })
                .collect(),
            catch_all: None,
        })
        .collect();
    for (item, probe, mx) in finals {
        match item.address {
            Some(a) => {
                out[item.domain].addresses[a] = AddressProbe {
                    address: item.rcpt,
                    probe,
                    mx,
                    attempts: item.attempts,
                }
            }
            None => {
                out[item.domain].catch_all = match probe {
                    Probe::Replied {
                        outcome: RcptOutcome::Accepted,
                        ..
                    } => Some(true),
                    Probe::Replied {
                        outcome: RcptOutcome::NoSuchUser | RcptOutcome::Disabled,
                        ..
                    } => Some(false),
                    _ => None,
                }
            }
        }
    }
    out
}

/// One round: every host's queue drained by its sessions, all hosts at once.
async fn run_round(
    config: &ProbeConfig,
    jobs: &[DomainJob],
    items: Vec<Item>,
    shared: &Arc<Shared>,
    global: &Arc<Semaphore>,
) {
    // Group by the domain's primary mail host: domains hosted together (one
    // provider's MX for many domains) share sessions.
    let mut by_host: HashMap<String, (Vec<MxHost>, VecDeque<Item>)> = HashMap::new();
    for item in items {
        let hosts = &jobs[item.domain].hosts;
        let Some(primary) = hosts.first() else {
            shared.results.lock().expect("not poisoned").push((
                item,
                Probe::NoSession("no mail host".into()),
                None,
            ));
            continue;
        };
        by_host
            .entry(primary.name.clone())
            .or_insert_with(|| (hosts.clone(), VecDeque::new()))
            .1
            .push_back(item);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (_, (hosts, mut items)) in by_host {
        // Catch-all probes last, so a session's real RCPTs come first.
        items.make_contiguous().sort_by_key(|item| item.address.is_none());
        let sessions = items
            .len()
            .div_ceil(config.rcpts_per_transaction)
            .clamp(1, config.sessions_per_host.max(1));
        let batch = items
            .len()
            .div_ceil(sessions)
            .min(config.rcpts_per_transaction)
            .max(1);
        let pacer = config
            .host_rcpts_per_second
            .and_then(|rate| Pacer::new(rate, Instant::now()));
        let queue = Arc::new(HostQueue {
            hosts,
            items: Mutex::new(items),
            batch,
            pacer,
        });
        for _ in 0..sessions {
            let (queue, shared, global, config) =
                (queue.clone(), shared.clone(), global.clone(), config.clone());
            tasks.spawn(async move {
                let _permit = global
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed");
                run_sessions(&config, &queue, &shared).await;
            });
        }
    }
    while tasks.join_next().await.is_some() {}
}

/// Keeps opening sessions to the host until its queue is empty or it cannot be
/// reached; a session ends at its RCPT cap.
async fn run_sessions(config: &ProbeConfig, queue: &HostQueue, shared: &Shared) {
    loop {
        if queue.items.lock().expect("not poisoned").is_empty() {
            return;
        }
        let (mut session, mx) = match connect(config, &queue.hosts).await {
            Ok(connected) => connected,
            Err(why) => {
                // Nobody can have the queue's items: they are all `NoSession`.
                let items: Vec<Item> = queue.items.lock().expect("not poisoned").drain(..).collect();
                let mut results = shared.results.lock().expect("not poisoned");
                results.extend(
                    items
                        .into_iter()
                        .map(|item| (item, Probe::NoSession(why.clone()), None)),
                );
                return;
            }
        };
        *shared.live_sessions.lock().expect("not poisoned") += 1;
        {
            let live = *shared.live_sessions.lock().expect("not poisoned");
            let mut stats = shared.stats.lock().expect("not poisoned");
            stats.connections += 1;
            stats.peak_sessions = stats.peak_sessions.max(live);
        }
        let outcome = run_transactions(config, queue, shared, &mut session, &mx).await;
        *shared.live_sessions.lock().expect("not poisoned") -= 1;
        if outcome == SessionEnd::Broken {
            // Don't hammer a host that just dropped us: the rest waits for the
            // next round.
            let items: Vec<Item> = queue.items.lock().expect("not poisoned").drain(..).collect();
            let mut results = shared.results.lock().expect("not poisoned");
            results.extend(items.into_iter().map(|item| {
                (
                    item,
                    Probe::Interrupted("the server ended the session".into()),
                    None,
                )
            }));
            return;
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SessionEnd {
    /// Cap reached or queue empty; QUIT was sent.
    Done,
    /// Timeout, disconnect, or a 421.
    Broken,
}

/// Runs transactions on an open session until the session's cap or the queue's end.
async fn run_transactions(
    config: &ProbeConfig,
    queue: &HostQueue,
    shared: &Shared,
    session: &mut Session,
    mx: &str,
) -> SessionEnd {
    let mut sent_in_session = 0;
    loop {
        let room = config.rcpts_per_session.saturating_sub(sent_in_session);
        let (batch, more) = take_batch(queue, queue.batch.min(room));
        if batch.is_empty() {
            session.quit().await;
            return SessionEnd::Done;
        }
        if let Some(pacer) = &queue.pacer {
            tokio::time::sleep_until(pacer.reserve(batch.len(), Instant::now())).await;
        }
        sent_in_session += batch.len();
        let last = !more || sent_in_session >= config.rcpts_per_session;
        let (probes, broken) = transaction(config, session, &batch, last).await;
        {
            let mut results = shared.results.lock().expect("not poisoned");
            shared.stats.lock().expect("not poisoned").rcpts += batch.len() as u64;
            for (item, probe) in batch.into_iter().zip(probes) {
                let mx = matches!(probe, Probe::Replied { .. }).then(|| mx.to_owned());
                results.push((item, probe, mx));
            }
        }
        if broken.is_some() {
            return SessionEnd::Broken;
        }
        if last {
            return SessionEnd::Done;
        }
    }
}

/// The next transaction's RCPTs (a domain's catch-all probe is queued after its
/// real addresses, so it never precedes them in a transaction), and whether more
/// remain in the queue.
fn take_batch(queue: &HostQueue, max: usize) -> (Vec<Item>, bool) {
    let mut items = queue.items.lock().expect("not poisoned");
    let take = max.max(1).min(items.len());
    let batch: Vec<Item> = items.drain(..take).collect();
    (batch, !items.is_empty())
}

/// MAIL FROM and the RCPTs, pipelined when the server allows it, then RSET — or,
/// for the session's last transaction, QUIT, whose reply nobody needs. Returns one
/// probe per item, and why the session broke if it did: RCPTs answered before a
/// 421 or a lost connection keep their answers; only the rest are `Interrupted`
/// (and retried).
async fn transaction(
    config: &ProbeConfig,
    session: &mut Session,
    batch: &[Item],
    last: bool,
) -> (Vec<Probe>, Option<String>) {
    let mail = format!("MAIL FROM:<{}>", config.mail_from);
    let rcpts = batch.iter().map(|item| format!("RCPT TO:<{}>", item.rcpt));
    let (mut replies, mut broken) = if session.pipelining {
        session
            .pipeline(config, std::iter::once(mail).chain(rcpts).collect())
            .await
    } else {
        session.one_by_one(config, mail, rcpts).await
    };
    if let Some(closed) = replies.iter().position(|r| r.code == 421) {
        replies.truncate(closed);
        broken.get_or_insert_with(|| "the server closed the session (421)".into());
    }
    if broken.is_none() {
        if let Err(why) = session.end_transaction(config, last).await {
            broken = Some(why);
        }
    }
    let interrupted = Probe::Interrupted(broken.clone().unwrap_or_else(|| "no reply".into()));
    let probes = match replies.first() {
        None => vec![interrupted; batch.len()],
        // The sender was refused: no verdict on any recipient.
        Some(mail) if mail.code / 100 != 2 => {
            let probe = Probe::Replied {
                reply: mail.clone(),
                outcome: classify_sender_refusal(mail),
            };
            vec![probe; batch.len()]
        }
        Some(_) => (0..batch.len())
            .map(|i| match replies.get(i + 1) {
                Some(reply) => Probe::Replied {
                    reply: reply.clone(),
                    outcome: classify_rcpt(reply),
                },
                None => interrupted.clone(),
            })
            .collect(),
    };
    (probes, broken)
}

/// A refused MAIL FROM says nothing about the recipients: a 4xx is retried, a 5xx
/// is a policy block on us.
fn classify_sender_refusal(reply: &Reply) -> RcptOutcome {
    if reply.code / 100 == 4 {
        RcptOutcome::TemporaryFailure
    } else {
        RcptOutcome::Policy
    }
}

/// Connects to the first host (by preference, then address) that takes a TCP
/// connection and greets with 220, then says EHLO (HELO if EHLO is refused).
async fn connect(config: &ProbeConfig, hosts: &[MxHost]) -> Result<(Session, String), String> {
    let mut last_error = String::from("no address to connect to");
    for host in hosts {
        for ip in &host.addrs {
            match open(config, *ip).await {
                Ok(mut session) => {
                    match session.hello(config).await {
                        Ok(()) => return Ok((session, host.name.clone())),
                        // The host answered: a refusal is its word, not a reason to
                        // try the next MX.
                        Err(why) => return Err(format!("{}: {why}", host.name)),
                    }
                }
                Err(why) => last_error = format!("{} ({ip}): {why}", host.name),
            }
        }
    }
    Err(last_error)
}

async fn open(config: &ProbeConfig, ip: IpAddr) -> Result<Session, String> {
    let addr = SocketAddr::new(ip, config.port);
    let stream = timeout(config.connect_timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| "connection timed out".to_owned())?
        .map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    Ok(Session {
        stream,
        buffer: Vec::with_capacity(4096),
        pipelining: false,
    })
}

/// An open SMTP connection.
struct Session {
    stream: TcpStream,
    buffer: Vec<u8>,
    pipelining: bool,
}

impl Session {
    async fn hello(&mut self, config: &ProbeConfig) -> Result<(), String> {
        let greeting = self.reply(config).await?;
        if greeting.code != 220 {
            return Err(format!("greeting {} {}", greeting.code, first_line(&greeting)));
        }
        let ehlo = self
            .command(config, &format!("EHLO {}", config.helo_name))
            .await?;
        if ehlo.code == 250 {
            self.pipelining = ehlo_extensions(&ehlo).iter().any(|e| e == "PIPELINING");
            return Ok(());
        }
        let helo = self
            .command(config, &format!("HELO {}", config.helo_name))
            .await?;
        if helo.code == 250 {
            Ok(())
        } else {
            Err(format!("HELO refused: {} {}", helo.code, first_line(&helo)))
        }
    }

    /// RSET between transactions; QUIT (without waiting for its reply) after the last.
    async fn end_transaction(&mut self, config: &ProbeConfig, last: bool) -> Result<(), String> {
        if last {
            self.quit().await;
            return Ok(());
        }
        let reset = self.command(config, "RSET").await?;
        if reset.code / 100 == 2 {
            Ok(())
        } else {
            Err(format!("RSET refused: {} {}", reset.code, first_line(&reset)))
        }
    }

    /// Says goodbye; the reply only costs time, and the verdicts are in.
    async fn quit(&mut self) {
        let _ = self.send("QUIT\r\n").await;
        let _ = self.stream.shutdown().await;
    }

    async fn command(&mut self, config: &ProbeConfig, command: &str) -> Result<Reply, String> {
        self.send(&format!("{command}\r\n")).await?;
        self.reply(config).await
    }

    /// Sends all commands in one write, then reads one reply per command.
    /// Sends all commands in one write, then reads one reply per command. Returns
    /// the replies that came (stopping after a 421), and what broke the session.
    async fn pipeline(
        &mut self,
        config: &ProbeConfig,
        commands: Vec<String>,
    ) -> (Vec<Reply>, Option<String>) {
        let mut wire = String::with_capacity(commands.iter().map(|c| c.len() + 2).sum());
        for command in &commands {
            wire.push_str(command);
            wire.push_str("\r\n");
        }
        if let Err(why) = self.send(&wire).await {
            return (Vec::new(), Some(why));
        }
        let mut replies = Vec::with_capacity(commands.len());
        for _ in &commands {
            match self.reply(config).await {
                Ok(reply) => {
                    let closing = reply.code == 421;
                    replies.push(reply);
                    if closing {
                        break;
                    }
                }
                Err(why) => return (replies, Some(why)),
            }
        }
        (replies, None)
    }

    /// MAIL FROM, then (if accepted) each RCPT, each awaiting its reply; stops at a
    /// 421 or a broken connection.
    async fn one_by_one(
        &mut self,
        config: &ProbeConfig,
        mail: String,
        rcpts: impl Iterator<Item = String>,
    ) -> (Vec<Reply>, Option<String>) {
        let mut replies = Vec::new();
        for (i, command) in std::iter::once(mail).chain(rcpts).enumerate() {
            match self.command(config, &command).await {
                Ok(reply) => {
                    let stop = reply.code == 421 || (i == 0 && reply.code / 100 != 2);
                    replies.push(reply);
                    if stop {
                        break;
                    }
                }
                Err(why) => return (replies, Some(why)),
            }
        }
        (replies, None)
    }

    async fn send(&mut self, wire: &str) -> Result<(), String> {
        self.stream
            .write_all(wire.as_bytes())
            .await
            .map_err(|e| format!("write failed: {e}"))
    }

    async fn reply(&mut self, config: &ProbeConfig) -> Result<Reply, String> {
        loop {
            match parse_reply(&self.buffer) {
                Ok(Some((reply, used))) => {
                    self.buffer.drain(..used);
                    return Ok(reply);
                }
                Ok(None) => {}
                Err(e) => return Err(format!("unreadable reply: {e}")),
            }
            let mut chunk = [0u8; 4096];
            let n = timeout(config.command_timeout, self.stream.read(&mut chunk))
                .await
                .map_err(|_| "no reply in time".to_owned())?
                .map_err(|e| format!("read failed: {e}"))?;
            if n == 0 {
                return Err("the server closed the connection".into());
            }
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }
}

fn first_line(reply: &Reply) -> &str {
    reply.text.lines().next().unwrap_or_default()
}

/// A local part nobody has: long, random, and recognisable in the server's logs.
fn random_local_part(salt: usize) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_usize(salt);
    format!("inroad-check-{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacer_books_time_for_every_rcpt_across_sessions() {
        let t0 = Instant::now();
        let pacer = Pacer::new(10.0, t0).unwrap();
        assert_eq!(pacer.reserve(5, t0), t0);
        assert_eq!(pacer.reserve(5, t0), t0 + Duration::from_millis(500));
        assert_eq!(pacer.reserve(1, t0), t0 + Duration::from_millis(1000));
        let later = t0 + Duration::from_secs(5);
        assert_eq!(pacer.reserve(1, later), later, "idle time is not saved up");
        assert!(Pacer::new(0.0, t0).is_none() && Pacer::new(f64::NAN, t0).is_none());
    }
}

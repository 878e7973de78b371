//! Counters of a fake MX, updated by the sessions and read as snapshots.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;

/// A snapshot of a fake MX's counters (see [`crate::FakeMx::stats`]).
///
/// Every counter a session updates for a command is updated before the reply to that
/// command is written, so a client that has read a reply sees its effect here.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MxStats {
    /// TCP connections accepted, on all IPs (including ones closed at once or refused with 421).
    pub connections: u64,
    /// Connections accepted per listening IP.
    pub connections_per_host: BTreeMap<Ipv4Addr, u64>,
    /// Highest number of simultaneously open connections per IP.
    pub peak_concurrent_per_host: BTreeMap<Ipv4Addr, u64>,
    /// Highest number of simultaneously open connections over all IPs.
    pub peak_concurrent_total: u64,
    /// Connections open at the time of the snapshot.
    pub active_sessions: u64,
    /// RCPT TO commands received (whatever their reply).
    pub rcpts: u64,
    /// RCPT TO commands per session, indexed like [`MxStats::sessions`].
    pub rcpts_per_session: Vec<u64>,
    /// The most RCPT TO commands seen in one session.
    pub max_rcpts_per_session: u64,
    /// RCPT TO commands per address (lower-cased).
    pub rcpts_per_address: BTreeMap<String, u64>,
    /// MAIL FROM commands received.
    pub mail_froms: u64,
    /// RSET commands received.
    pub rsets: u64,
    /// Messages accepted after DATA (only with `accept_data`).
    pub messages: u64,
    /// AUTH exchanges that ended in `235` (only on hosts with [`crate::HostScript::auth`]).
    pub auth_successes: u64,
    /// AUTH exchanges refused with `535`: wrong login or password.
    pub auth_failures: u64,
    /// QUIT commands received.
    pub quits: u64,
    /// Commands that arrived while an earlier reply was still due (the client pipelined).
    /// A lower bound: commands still in the kernel's buffer are not seen.
    pub pipelined_commands: u64,
    /// Pipelined commands in sessions where PIPELINING was not advertised (a client bug).
    pub improper_pipelining: u64,
    /// Commands received, per session (in order of connection), as sent, without CRLF.
    /// Empty when command logging is off.
    pub sessions: Vec<Vec<String>>,
    /// The listening IP of each session, indexed like [`MxStats::sessions`].
    pub session_hosts: Vec<Ipv4Addr>,
}

impl MxStats {
    /// The highest peak concurrency of any single IP.
    pub fn max_peak_concurrent_per_host(&self) -> u64 {
        self.peak_concurrent_per_host.values().copied().max().unwrap_or(0)
    }

    /// Connections accepted on `ip`.
    pub fn connections_to(&self, ip: Ipv4Addr) -> u64 {
        self.connections_per_host.get(&ip).copied().unwrap_or(0)
    }

    /// Peak concurrency on `ip`.
    pub fn peak_concurrent_on(&self, ip: Ipv4Addr) -> u64 {
        self.peak_concurrent_per_host.get(&ip).copied().unwrap_or(0)
    }

    /// RCPT TO commands received for `address` (any case).
    pub fn rcpts_for(&self, address: &str) -> u64 {
        self.rcpts_per_address
            .get(&address.to_ascii_lowercase())
            .copied()
            .unwrap_or(0)
    }
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub(crate) snapshot: MxStats,
    pub(crate) active_per_host: HashMap<Ipv4Addr, u64>,
    pub(crate) greylist_seen: HashMap<String, u32>,
}

#[derive(Debug, Default)]
pub(crate) struct Stats {
    inner: Mutex<Inner>,
    idle: Condvar,
    pub(crate) log_commands: bool,
}

impl Stats {
    pub(crate) fn new(log_commands: bool) -> Self {
        Self {
            log_commands,
            ..Self::default()
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn snapshot(&self) -> MxStats {
        self.lock().snapshot.clone()
    }

    /// Registers a new connection on `ip`; returns its session index and the number of
    /// sessions now open on `ip` (this one included).
    pub(crate) fn open(&self, ip: Ipv4Addr) -> (usize, u64) {
        let mut inner = self.lock();
        let Inner {
            snapshot,
            active_per_host,
            ..
        } = &mut *inner;
        snapshot.connections += 1;
        *snapshot.connections_per_host.entry(ip).or_default() += 1;
        snapshot.active_sessions += 1;
        snapshot.peak_concurrent_total = snapshot.peak_concurrent_total.max(snapshot.active_sessions);
        let active = active_per_host.entry(ip).or_default();
        *active += 1;
        let active = *active;
        let peak = snapshot.peak_concurrent_per_host.entry(ip).or_default();
        *peak = (*peak).max(active);
        let index = snapshot.rcpts_per_session.len();
        snapshot.rcpts_per_session.push(0);
        if self.log_commands {
            snapshot.sessions.push(Vec::new());
            snapshot.session_hosts.push(ip);
        }
        (index, active)
    }

    pub(crate) fn close(&self, ip: Ipv4Addr) {
        let mut inner = self.lock();
        inner.snapshot.active_sessions = inner.snapshot.active_sessions.saturating_sub(1);
        if let Some(active) = inner.active_per_host.get_mut(&ip) {
            *active = active.saturating_sub(1);
        }
        drop(inner);
        self.idle.notify_all();
    }

    pub(crate) fn log(&self, session: usize, line: &str) {
        if self.log_commands {
            if let Some(log) = self.lock().snapshot.sessions.get_mut(session) {
                log.push(line.to_string());
            }
        }
    }

    /// Blocks until no session is open or `timeout` passes; true if idle.
    pub(crate) fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut inner = self.lock();
        while inner.snapshot.active_sessions > 0 {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            inner = match self.idle.wait_timeout(inner, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }
}

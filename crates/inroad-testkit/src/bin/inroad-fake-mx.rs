//! `inroad-fake-mx`: a DNS zone and a fleet of fake MX hosts on loopback, for benchmarks.
//!
//! Reads known addresses (one a line; CSV lines use their first field containing `@`;
//! a line `*@domain` makes that domain catch-all), gives each domain an MX host
//! `mx.<domain>` on its own loopback IP (`--base`, `--base`+1, ... skipping .0/.255),
//! serves the zone with FakeDns and SMTP with FakeMx, prints
//! `DNS=127.0.0.1:PORT` and `SMTP_PORT=PORT` on stdout, then runs until SIGTERM/SIGINT or,
//! when stdin is a pipe or terminal, until stdin closes. On exit it prints its counters
//! as JSON on stderr.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Parser;
use inroad_testkit::{loopback_ips, DnsZone, FakeDns, FakeMx, Script};
use tokio::io::AsyncReadExt;

#[derive(Parser, Debug)]
#[command(
    name = "inroad-fake-mx",
    about = "Fake DNS + scripted SMTP MX hosts on loopback, for benchmarks"
)]
struct Args {
    /// File of known addresses, one a line (`*@domain` marks a catch-all domain).
    #[arg(long)]
    users_file: PathBuf,
    /// First host IP (must be in 127.0.0.0/8).
    #[arg(long, default_value = "127.0.1.1")]
    base: Ipv4Addr,
    /// Domains sharing one host IP (consecutive domains in sorted order).
    #[arg(long, default_value_t = 1)]
    domains_per_host: usize,
    /// Use at most this many host IPs (domains wrap around them).
    #[arg(long)]
    hosts: Option<usize>,
    /// Delay before every SMTP reply, in milliseconds.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Greet a host's connections beyond this many open ones with 421.
    #[arg(long)]
    max_concurrent_per_host: Option<u32>,
    /// Do not advertise PIPELINING.
    #[arg(long)]
    no_pipelining: bool,
    /// Keep each session's command log (memory grows with the run).
    #[arg(long)]
    log_commands: bool,
    /// Also write the SMTP port to this file.
    #[arg(long)]
    port_file: Option<PathBuf>,
    /// Also write the DNS port to this file.
    #[arg(long)]
    dns_zone_port_file: Option<PathBuf>,
    /// Also write the final JSON stats to this file.
    #[arg(long)]
    stats_file: Option<PathBuf>,
}

struct Domain {
    users: BTreeSet<String>,
    catch_all: bool,
}

fn read_domains(path: &PathBuf) -> Result<BTreeMap<String, Domain>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut domains: BTreeMap<String, Domain> = BTreeMap::new();
    for line in text.lines() {
        let Some(field) = line
            .split(',')
            .map(|f| f.trim().trim_matches('"'))
            .find(|f| f.contains('@'))
        else {
            continue;
        };
        let Some((local, domain)) = field.rsplit_once('@') else {
            continue;
        };
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        if local.is_empty() || domain.is_empty() {
            continue;
        }
        let entry = domains.entry(domain).or_insert_with(|| Domain {
            users: BTreeSet::new(),
            catch_all: false,
        });
        if local == "*" {
            entry.catch_all = true;
        } else {
            entry.users.insert(local.to_ascii_lowercase());
        }
    }
    if domains.is_empty() {
        bail!("no addresses in {}", path.display());
    }
    Ok(domains)
}

/// Whether stdin can tell us to stop by closing (a pipe, socket or terminal), as opposed
/// to `/dev/null` or a file, which would end at once.
fn stdin_is_a_channel() -> bool {
    use std::io::IsTerminal;
    use std::os::unix::fs::FileTypeExt;
    if std::io::stdin().is_terminal() {
        return true;
    }
    std::fs::metadata("/dev/stdin")
        .map(|m| m.file_type().is_fifo() || m.file_type().is_socket())
        .unwrap_or(false)
}

/// SIGTERM and SIGINT handlers, installed before the ready lines are printed so a
/// signal sent right after them is never lost.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn wait(mut self, watch_stdin: bool) -> &'static str {
        let stdin_closed = async {
            if !watch_stdin {
                return std::future::pending::<()>().await;
            }
            let mut stdin = tokio::io::stdin();
            let mut buf = [0u8; 1024];
            while matches!(stdin.read(&mut buf).await, Ok(n) if n > 0) {}
        };
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
            _ = stdin_closed => "stdin closed",
        }
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    if !args.base.is_loopback() {
        bail!("--base {} is not in 127.0.0.0/8", args.base);
    }
    if args.domains_per_host == 0 {
        bail!("--domains-per-host must be at least 1");
    }
    let domains = read_domains(&args.users_file)?;
    let mut hosts_needed = domains.len().div_ceil(args.domains_per_host);
    if let Some(max) = args.hosts {
        if max == 0 {
            bail!("--hosts must be at least 1");
        }
        hosts_needed = hosts_needed.min(max);
    }
    let ips = loopback_ips(args.base, hosts_needed);

    let mut zone = DnsZone::new();
    let mut builder = FakeMx::builder()
        .hosts(&ips)
        .delay(Duration::from_millis(args.delay_ms))
        .pipelining(!args.no_pipelining)
        .log_commands(args.log_commands)
        .hostname("mx.fake-mx.test");
    if let Some(n) = args.max_concurrent_per_host {
        builder = builder.max_concurrent_per_host(n);
    }
    // Domains in one group share the MX host name of the group's first domain, so a client
    // grouping by MX host sees one host per IP. With --hosts, groups wrap around the IPs.
    let names: Vec<&String> = domains.keys().collect();
    let host_names: Vec<String> = (0..ips.len())
        .map(|h| format!("mx.{}", names[h * args.domains_per_host]))
        .collect();
    for (host_name, ip) in host_names.iter().zip(&ips) {
        zone = zone.a(host_name, *ip);
    }
    for (i, (name, domain)) in domains.iter().enumerate() {
        zone = zone.mx(name, 10, &host_names[(i / args.domains_per_host) % ips.len()]);
        let script = if domain.catch_all {
            Script::catch_all()
        } else {
            Script::known(&domain.users)
        };
        builder = builder.domain(name, script);
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let signals = {
        let _context = runtime.enter();
        Signals::install()?
    };
    let dns = FakeDns::try_start(zone).context("starting the DNS server")?;
    let mx = builder.try_start().context("starting the SMTP hosts")?;
    if let Some(path) = &args.port_file {
        std::fs::write(path, format!("{}\n", mx.port()))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.dns_zone_port_file {
        std::fs::write(path, format!("{}\n", dns.port()))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "DNS={}\nSMTP_PORT={}\n", dns.addr(), mx.port())?;
    stdout.flush()?;
    drop(stdout);

    let reason = runtime.block_on(signals.wait(stdin_is_a_channel()));

    let stats = mx.stats();
    let json = serde_json::json!({
        "reason": reason,
        "domains": domains.len(),
        "hosts": ips.len(),
        "connections": stats.connections,
        "rcpts": stats.rcpts,
        "mail_froms": stats.mail_froms,
        "rsets": stats.rsets,
        "quits": stats.quits,
        "max_rcpts_per_session": stats.max_rcpts_per_session,
        "peak_concurrency_per_host_max": stats.max_peak_concurrent_per_host(),
        "peak_concurrency_total": stats.peak_concurrent_total,
        "improper_pipelining": stats.improper_pipelining,
        "dns_queries": dns.queries().len(),
    });
    let text = serde_json::to_string(&json)?;
    if let Some(path) = &args.stats_file {
        std::fs::write(path, format!("{text}\n")).with_context(|| format!("writing {}", path.display()))?;
    }
    eprintln!("{text}");
    drop(mx);
    drop(dns);
    // The stdin reader is a blocking thread that may never return (SIGTERM with stdin
    // still open): do not wait for it.
    runtime.shutdown_background();
    Ok(())
}

//! `inroad run`: the worker loop. Several may share one database (PostgreSQL): each
//! holds leases on its share of the mailboxes, renewed by every pass and by a
//! heartbeat thread in between, and released when it stops (SIGINT, SIGTERM, --once).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use inroad_engine::worker::{run_once, Holdings, RunOptions, Transport};
use inroad_store::Store;
use inroad_web::{MetricsBoard, WorkerMetrics};

use crate::cli::RunArgs;
use crate::key::{install_key, KeyFile};
use crate::print_json;

pub fn run(db: &str, key_file: &KeyFile, args: &RunArgs) -> anyhow::Result<()> {
    let transport = match (args.transport.as_str(), args.transport.strip_prefix("dir:")) {
        ("smtp", _) => Transport::Smtp {
            hello_name: args.helo_name.clone().unwrap_or_else(host_name),
            timeout: std::time::Duration::from_secs(args.timeout.max(1)),
        },
        (_, Some(dir)) if !dir.is_empty() => {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {dir}"))?;
            Transport::Dir(PathBuf::from(dir))
        }
        _ => bail!("--transport {:?}: use smtp or dir:PATH", args.transport),
    };
    let key_path = key_file.path()?;
    // The database before the key: one that cannot be opened must not leave a new
    // key behind.
    let mut store = inroad_store::open(db)?;
    let install_key = install_key(key_path)?;
    let worker_id = args
        .worker_id
        .clone()
        .unwrap_or_else(|| format!("{}:{}", host_name(), std::process::id()));
    if worker_id.trim().is_empty() {
        bail!("--worker-id must not be empty");
    }
    let board = match args.metrics_listen {
        Some(address) => {
            let listener = std::net::TcpListener::bind(address).with_context(|| {
                format!("cannot listen on {address} (choose another with --metrics-listen)")
            })?;
            let bound = listener.local_addr().context("cannot read the metrics address")?;
            // Unhealthy once a whole lease has gone by without a pass or heartbeat
            // reaching the database: by then its mailboxes may be taken over.
            let board = MetricsBoard::new(Duration::from_secs(u64::from(args.lease_seconds)));
            inroad_web::spawn_metrics_server(listener, board.clone())
                .context("cannot start the metrics server")?;
            eprintln!("metrics on http://{bound}/metrics, health on http://{bound}/health");
            Some(board)
        }
        None => None,
    };
    // New mail and stop signals wake the loop early; `wake` stays here so the channel
    // never closes.
    let (wake, woken) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    if args.now.is_none() && !args.once {
        watch_stop_signals(stop.clone(), wake.clone())?;
    }
    let heartbeat = Heartbeat::start(db, &worker_id, args.lease_seconds, board.clone())?;
    let worked = work(
        store.as_mut(),
        args,
        &Work {
            transport,
            install_key,
            worker_id: &worker_id,
            board: board.as_ref(),
            stop: &stop,
            wake,
            woken,
        },
    );
    heartbeat.stop();
    // Released whatever happened: the next worker need not wait for the leases to expire.
    let released = store.release_leases(&worker_id);
    worked?;
    released?;
    Ok(())
}

/// What the loop needs besides the store and the arguments.
struct Work<'a> {
    transport: Transport,
    install_key: Vec<u8>,
    worker_id: &'a str,
    board: Option<&'a MetricsBoard>,
    stop: &'a AtomicBool,
    wake: mpsc::Sender<()>,
    woken: mpsc::Receiver<()>,
}

fn work(store: &mut dyn Store, args: &RunArgs, w: &Work<'_>) -> anyhow::Result<()> {
    let imap_timeout = Duration::from_secs(args.timeout.max(1));
    let mut holdings = Holdings::default();
    let mut watching = false;
    loop {
        let now = args.now.unwrap_or_else(jiff::Timestamp::now);
        let options = RunOptions {
            now,
            transport: w.transport.clone(),
            install_key: w.install_key.clone(),
            domain_limit_per_hour: (args.domain_hourly_limit > 0).then_some(args.domain_hourly_limit),
            imap_timeout,
            worker_id: w.worker_id.to_owned(),
            lease_secs: args.lease_seconds,
        };
        let report = run_once(store, &options, &mut holdings)?;
        if let Some(board) = w.board {
            board.publish(&WorkerMetrics {
                worker_id: w.worker_id.to_owned(),
                sends: store.send_totals()?,
                queue_depth: store.due_count(now.as_second())?,
                leases: store.leases()?,
            });
        }
        if args.json {
            print_json(&report)?;
        } else {
            let inbox = &report.inbox;
            if inbox.read > 0 {
                eprintln!(
                    "{now}: inbox: {} read — {} replies, {} hard and {} soft bounces, {} auto-replies, \
                     {} unsubscribes, {} other, {} own copies",
                    inbox.read,
                    inbox.replies,
                    inbox.hard_bounces,
                    inbox.soft_bounces,
                    inbox.auto_replies,
                    inbox.unsubscribes,
                    inbox.other,
                    inbox.own
                );
            }
            for error in &inbox.errors {
                eprintln!("{now}: inbox not read: {error}");
            }
            eprintln!(
                "{now}: {}: {} mailboxes held; {} sent, {} failed (retried later), {} bounced, {} in doubt, \
                 {} need attention, {} suppressed, {} found in doubt; next: {}",
                w.worker_id,
                report.mailboxes_held,
                report.sent,
                report.failed,
                report.bounced,
                report.in_doubt,
                report.needs_attention,
                report.suppressed,
                report.in_doubt_found,
                report.next_wake.as_deref().unwrap_or("nothing pending")
            );
        }
        if args.once || args.now.is_some() || w.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        if report.leases_changed {
            continue; // workers came or went: plan again with the new share at once
        }
        // Wake when the planner says something can happen, when new mail arrives (IMAP
        // IDLE), and at least once a minute to see new enrolments and campaigns — and
        // every heartbeat, to take over the mailboxes of a worker that died.
        let wait = report
            .next_wake
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map(|t| t.duration_since(jiff::Timestamp::now()))
            .and_then(|d| std::time::Duration::try_from(d).ok())
            .unwrap_or(std::time::Duration::from_secs(60))
            .min(std::time::Duration::from_secs(60))
            .min(options.heartbeat());
        if !watching {
            // The mailboxes held now; one taken over later is read by every pass, and a
            // restart watches it too.
            inroad_engine::inbox::watch(store, &w.install_key, imap_timeout, &w.wake, holdings.mailboxes())?;
            watching = true;
        }
        if w.woken.recv_timeout(wait).is_ok() {
            while w.woken.try_recv().is_ok() {} // one pass reads all of it
        }
        if w.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
    }
}

/// On SIGINT or SIGTERM: stop after the pass in progress (its sends are settled, then
/// the leases released) instead of dying mid-send.
fn watch_stop_signals(stop: Arc<AtomicBool>, wake: mpsc::Sender<()>) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the signal handler")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            runtime.block_on(async {
                let mut terminate =
                    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                        Ok(terminate) => terminate,
                        Err(_) => return,
                    };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
                eprintln!("stopping: finishing the pass in progress, then releasing the leases");
                stop.store(true, Ordering::SeqCst);
                let _ = wake.send(());
            });
        })
        .context("cannot start the signal handler")?;
    Ok(())
}

/// Renews this worker's leases on a timer of its own connection, so a long pass (a slow
/// SMTP or IMAP server) never lets them expire while the worker is alive.
struct Heartbeat {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Heartbeat {
    fn start(
        db: &str,
        worker_id: &str,
        lease_secs: u32,
        board: Option<MetricsBoard>,
    ) -> anyhow::Result<Heartbeat> {
        let mut store = inroad_store::open(db)?;
        let worker_id = worker_id.to_owned();
        let every = Duration::from_secs(u64::from(lease_secs / 3).max(1));
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("heartbeat".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    match store.renew_leases(&worker_id, lease_secs) {
                        Ok(()) => board.iter().for_each(MetricsBoard::alive),
                        Err(e) => eprintln!("heartbeat: cannot renew the leases: {e}"),
                    }
                }
            })
            .context("cannot start the heartbeat")?;
        Ok(Heartbeat { stop, thread })
    }

    fn stop(self) {
        drop(self.stop);
        let _ = self.thread.join();
    }
}

/// The EHLO name when none is given: this machine's host name.
pub fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

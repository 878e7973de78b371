//! `inroad run --metrics-listen ADDR`: a worker's `/metrics` (Prometheus text
//! exposition, version 0.0.4) and `/health`, on a small server of its own.
//!
//! The worker renders a snapshot after each pass (the ledger by state, the queue, who
//! holds which lease) and the server only hands out the latest one, so a scrape never
//! touches the database nor waits on a pass.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use inroad_store::Lease;

/// What a snapshot reports.
#[derive(Clone, Debug, Default)]
pub struct WorkerMetrics {
    pub worker_id: String,
    /// The whole ledger's sends by state (every worker's).
    pub sends: BTreeMap<String, u64>,
    /// Active enrolments due now.
    pub queue_depth: u64,
    pub leases: Vec<Lease>,
}

impl WorkerMetrics {
    /// The Prometheus text exposition of this snapshot.
    pub fn exposition(&self) -> String {
        let mut out = String::new();
        let worker = escape(&self.worker_id);
        let family = |out: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        family(&mut out, "inroad_worker_up", "gauge", "1 while this worker runs.");
        let _ = writeln!(out, "inroad_worker_up{{worker=\"{worker}\"}} 1");
        family(
            &mut out,
            "inroad_sends_total",
            "gauge",
            "Sends in the ledger by state, all workers together.",
        );
        for state in ["planned", "sending", "sent", "failed", "bounced", "in_doubt"] {
            let n = self.sends.get(state).copied().unwrap_or(0);
            let _ = writeln!(out, "inroad_sends_total{{state=\"{state}\"}} {n}");
        }
        family(
            &mut out,
            "inroad_in_doubt",
            "gauge",
            "Sends interrupted after DATA began: never re-sent, settle them with `campaign release`.",
        );
        let in_doubt = self.sends.get("in_doubt").copied().unwrap_or(0);
        let _ = writeln!(out, "inroad_in_doubt {in_doubt}");
        family(
            &mut out,
            "inroad_queue_depth",
            "gauge",
            "Active enrolments due now.",
        );
        let _ = writeln!(out, "inroad_queue_depth {}", self.queue_depth);
        family(
            &mut out,
            "inroad_lease_owner",
            "gauge",
            "1 per lease: which worker holds each mailbox and LinkedIn account.",
        );
        for lease in &self.leases {
            let _ = writeln!(
                out,
                "inroad_lease_owner{{kind=\"{}\",resource=\"{}\",owner=\"{}\"}} 1",
                escape(&lease.kind),
                lease.resource_id,
                escape(&lease.owner)
            );
        }
        out
    }
}

/// A label value as the exposition format writes it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The latest snapshot, shared by the worker (writing) and the server (reading), and
/// when the worker last showed it is alive.
#[derive(Clone)]
pub struct MetricsBoard {
    latest: Arc<Mutex<Option<String>>>,
    alive_at: Arc<Mutex<Option<Instant>>>,
    /// `/health` fails when the worker has not shown it is alive for this long.
    stale_after: Duration,
}

impl MetricsBoard {
    pub fn new(stale_after: Duration) -> MetricsBoard {
        MetricsBoard {
            latest: Arc::new(Mutex::new(None)),
            alive_at: Arc::new(Mutex::new(None)),
            stale_after,
        }
    }

    /// A pass ended: its snapshot replaces the last one.
    pub fn publish(&self, metrics: &WorkerMetrics) {
        *self.latest.lock().unwrap_or_else(PoisonError::into_inner) = Some(metrics.exposition());
        self.alive();
    }

    /// The worker reached its database (a pass or a heartbeat): a long pass is not a
    /// dead worker.
    pub fn alive(&self) {
        *self.alive_at.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
    }

    fn latest(&self) -> Option<String> {
        self.latest.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn alive_at(&self) -> Option<Instant> {
        *self.alive_at.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn metrics(State(board): State<MetricsBoard>) -> Response {
    match board.latest() {
        Some(text) => ([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, "no pass has ended yet\n").into_response(),
    }
}

async fn health(State(board): State<MetricsBoard>) -> Response {
    match board.alive_at() {
        Some(at) if at.elapsed() <= board.stale_after => (StatusCode::OK, "ok\n").into_response(),
        Some(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the worker has not reported lately\n",
        )
            .into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, "starting\n").into_response(),
    }
}

/// Serves `/metrics` and `/health` on `listener` from a thread of its own (with its own
/// runtime) for as long as the process lives.
pub fn spawn_metrics_server(listener: std::net::TcpListener, board: MetricsBoard) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            runtime.block_on(async move {
                let app = Router::new()
                    .route("/metrics", get(metrics))
                    .route("/health", get(health))
                    .fallback(crate::not_found)
                    .with_state(board);
                match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => {
                        if let Err(e) = axum::serve(listener, app).await {
                            eprintln!("the metrics server stopped: {e}");
                        }
                    }
                    Err(e) => eprintln!("the metrics server cannot start: {e}"),
                }
            });
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_every_series_with_escaped_labels() {
        let metrics = WorkerMetrics {
            worker_id: "host:1\"x".into(),
            sends: BTreeMap::from([("sent".into(), 7), ("in_doubt".into(), 1)]),
            queue_depth: 3,
            leases: vec![Lease {
                kind: "mailbox".into(),
                resource_id: 4,
                owner: "w\\2".into(),
                acquired_at: 0,
                expires_at: 60,
            }],
        };
        let text = metrics.exposition();
        for line in [
            "inroad_worker_up{worker=\"host:1\\\"x\"} 1",
            "inroad_sends_total{state=\"sent\"} 7",
            "inroad_sends_total{state=\"failed\"} 0",
            "inroad_in_doubt 1",
            "inroad_queue_depth 3",
            "inroad_lease_owner{kind=\"mailbox\",resource=\"4\",owner=\"w\\\\2\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing from\n{text}");
        }
    }
}

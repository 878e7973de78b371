//! `inroad serve`: the HTTP endpoint behind every campaign's `unsubscribe_url`, and the
//! dashboard behind its login.

use anyhow::{bail, Context};

use crate::cli::ServeArgs;
use crate::key::{install_key, KeyFile};

pub fn run(db: &str, key_file: &KeyFile, args: &ServeArgs) -> anyhow::Result<()> {
    let key_file = key_file.path()?;
    // Unlike `inroad run`, never create the key: a new one would verify none of the
    // links already sent, and every recipient clicking one would get "Not found".
    if !key_file.exists() {
        bail!(
            "no unsubscribe signing key at {}: point --key-file at the key `inroad run` uses",
            key_file.display()
        );
    }
    let key = install_key(key_file)?;
    let store = inroad_store::open(db)?;
    let no_users = store.users()?.is_empty();
    let state = inroad_web::AppState::with_connections(store, more_connections(db)?, key)
        .behind_proxy(args.behind_proxy)
        .secure_cookies(args.secure_cookies)
        .dns_server(args.dns);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the HTTP server's runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {} (choose another with --listen)", args.listen))?;
        let address = listener
            .local_addr()
            .context("cannot read the listening address")?;
        eprintln!("listening on http://{address}");
        if no_users {
            eprintln!(
                "note: nobody can log in to the dashboard yet: `inroad user add NAME --password-stdin`"
            );
        }
        inroad_web::serve(listener, state, stop_requested())
            .await
            .context("the HTTP server failed")
    })
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM (service managers, containers).
async fn stop_requested() {
    let interrupt = async {
        // Without a signal handler the server can still be killed; it just cannot finish
        // its requests first.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    eprintln!("stopping: finishing the requests in flight");
}

/// Connections besides the first: one per further core (at most 3), so dashboard pages
/// are served in parallel (SQLite's WAL lets readers run beside each other and a writer).
fn more_connections(db: &str) -> anyhow::Result<Vec<Box<dyn inroad_store::Store>>> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    (1..cores.min(4)).map(|_| Ok(inroad_store::open(db)?)).collect()
}

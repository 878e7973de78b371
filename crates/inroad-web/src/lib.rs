//! Inroad over HTTP: the public one-click unsubscribe link that every campaign email
//! carries (RFC 8058), and the dashboard with its JSON API under `/api/v1`, behind a login.
//!
//! The [`router`] is built from two tables. `public_routes` is the short list of what
//! answers strangers: unsubscribe links (providers and recipients follow them cold), the
//! login form and the static assets it needs. Everything in `protected_routes` sits
//! behind `auth::require_login`, so a page added there cannot be forgotten by the login
//! check, and the tests walk [`protected_paths`] to prove it. Paths in neither table get
//! the same plain 404 whoever asks: a 404 reveals nothing the source does not.
//!
//! The server speaks plain HTTP/1.1: TLS, public host names and connection-level abuse
//! limits are the job of the reverse proxy in front of it.

mod api;
mod assets;
mod auth;
mod chart;
mod html;
mod metrics;
mod pages;
mod unsubscribe;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::DefaultBodyLimit;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{middleware, Router};
use inroad_store::Store;
use tokio::net::TcpListener;

pub use metrics::{spawn_metrics_server, MetricsBoard, WorkerMetrics};

/// Largest request body read. An RFC 8058 one-click body is 26 bytes (a few hundred as
/// multipart), a login form a few hundred; anything bigger is not a real request and is
/// refused unread.
const MAX_BODY_BYTES: usize = 4 * 1024;

/// What every handler shares: the database, the install key, how to trust the proxy,
/// and the memory of failed logins.
#[derive(Clone)]
pub struct AppState {
    /// A `Box<dyn Store>` is `Send` but not `Sync` (it owns one SQLite connection), so
    /// requests take turns at each behind a mutex; with several connections (see
    /// [`AppState::with_connections`]) requests run side by side, as SQLite's WAL lets
    /// readers do. See [`AppState::with_store`].
    stores: Arc<Vec<Mutex<Box<dyn Store>>>>,
    /// Spreads requests over `stores` when every connection is busy.
    next_store: Arc<std::sync::atomic::AtomicUsize>,
    /// Signs unsubscribe links; CSRF tokens use a key derived from it.
    install_key: Arc<[u8]>,
    behind_proxy: bool,
    secure_cookies: bool,
    login_failures: Arc<Mutex<auth::LoginFailures>>,
    /// Permits for argon2id checks; see `auth::PARALLEL_PASSWORD_CHECKS`.
    password_checks: Arc<tokio::sync::Semaphore>,
    /// The DNS server the mailbox page asks about SPF, DKIM and DMARC (`None`: the
    /// system's resolver).
    dns_server: Option<SocketAddr>,
    /// The leads pages' window widths per filter (`inroad_engine::browse`).
    lead_widths: Arc<inroad_engine::browse::WidthCache>,
}

impl AppState {
    pub fn new(store: Box<dyn Store>, install_key: Vec<u8>) -> AppState {
        AppState::with_connections(store, Vec::new(), install_key)
    }

    /// Like [`AppState::new`] with several connections to the same database, so that
    /// requests (each one store call on the blocking pool) use every core instead of
    /// queueing for one.
    pub fn with_connections(
        first: Box<dyn Store>,
        more: Vec<Box<dyn Store>>,
        install_key: Vec<u8>,
    ) -> AppState {
        let stores = std::iter::once(first).chain(more).map(Mutex::new).collect();
        AppState {
            stores: Arc::new(stores),
            next_store: Arc::default(),
            install_key: install_key.into(),
            behind_proxy: false,
            secure_cookies: false,
            login_failures: Arc::default(),
            password_checks: Arc::new(tokio::sync::Semaphore::new(auth::PARALLEL_PASSWORD_CHECKS)),
            dns_server: None,
            lead_widths: Arc::default(),
        }
    }

    /// Ask this DNS server (instead of the system's) for the mailbox page's records.
    pub fn dns_server(self, dns_server: Option<SocketAddr>) -> AppState {
        AppState { dns_server, ..self }
    }

    /// Believe the reverse proxy's `X-Forwarded-Proto` (HTTPS → `Secure` cookies) and
    /// `X-Forwarded-For` (the client address that failed logins are counted by). Only
    /// true when every request comes through that proxy: anyone else could send them.
    pub fn behind_proxy(self, behind_proxy: bool) -> AppState {
        AppState { behind_proxy, ..self }
    }

    /// Mark cookies `Secure` whatever the request says (the site is only served over HTTPS).
    pub fn secure_cookies(self, secure_cookies: bool) -> AppState {
        AppState {
            secure_cookies,
            ..self
        }
    }

    /// Runs `job` on the store on tokio's blocking pool. A store call can block for a long
    /// time: SQLite waits out its busy timeout (seconds) while `inroad run` holds the write
    /// lock. On the blocking pool that wait (and the queue behind the mutex) holds up only
    /// the requests that need the database, never the threads that accept connections and
    /// answer everything else. One connection is plenty for unsubscribe clicks and a
    /// handful of dashboard users.
    async fn with_store<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut dyn Store) -> inroad_engine::Result<T> + Send + 'static,
    ) -> Result<T, ServerError> {
        let stores = Arc::clone(&self.stores);
        let next = Arc::clone(&self.next_store);
        let outcome = tokio::task::spawn_blocking(move || {
            // A free connection if there is one, else the next in turn.
            let mut store = stores
                .iter()
                .find_map(|store| match store.try_lock() {
                    Ok(guard) => Some(guard),
                    Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                    Err(std::sync::TryLockError::WouldBlock) => None,
                })
                .unwrap_or_else(|| {
                    let turn = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % stores.len();
                    // A panic in an earlier request poisons the lock, but SQLite rolled
                    // back whatever that request left half-done: the store is still sound.
                    stores[turn].lock().unwrap_or_else(PoisonError::into_inner)
                });
            job(store.as_mut())
        })
        .await;
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(ServerError::logged(e)),
            Err(e) => Err(ServerError::logged(format!("a request failed: {e}"))),
        }
    }
}

/// What answers without a login. Each entry is a deliberate exception, and the tests pin
/// this list: adding to it is a security decision.
fn public_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/u/{token}", unsubscribe::route()),
        ("/login", get(auth::login_form).post(auth::login)),
        ("/static/{file}", get(assets::asset)),
    ]
}

/// Every page and API route of the dashboard: all behind the login (pages redirect to
/// `/login`, `/api/…` answers 401) and, for sessions, the CSRF check on anything but
/// GET and HEAD. New pages go here.
fn protected_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/", get(pages::overview)),
        ("/logout", post(auth::logout)),
        ("/campaigns", get(pages::campaigns)),
        ("/campaigns/{id}", get(pages::campaign)),
        ("/campaigns/{id}/status", post(pages::set_campaign_status)),
        ("/leads", get(pages::leads)),
        ("/leads/{id}", get(pages::lead)),
        ("/mailboxes", get(pages::mailboxes)),
        ("/linkedin", get(pages::linkedin)),
        ("/linkedin/tasks/{id}", post(pages::linkedin_task_outcome)),
        ("/inbox", get(pages::inbox)),
        ("/inbox/{id}/handled", post(pages::reply_handled)),
        (
            "/suppressions",
            get(pages::suppressions).post(pages::add_suppression),
        ),
        (
            "/suppressions/remove",
            get(pages::confirm_remove).post(pages::remove_suppression),
        ),
        ("/api/v1/me", get(api::me)),
        ("/api/v1/openapi.json", get(api::openapi)),
        ("/api/v1/overview", get(api::overview)),
        ("/api/v1/stats", get(api::stats)),
        ("/api/v1/campaigns", get(api::campaigns)),
        ("/api/v1/campaigns/{id}", get(api::campaign)),
        ("/api/v1/leads", get(api::leads)),
        ("/api/v1/leads/{id}", get(api::lead)),
        ("/api/v1/mailboxes", get(api::mailboxes)),
        ("/api/v1/linkedin/accounts", get(api::linkedin_accounts)),
        ("/api/v1/linkedin/tasks", get(api::linkedin_tasks)),
        ("/api/v1/linkedin/tasks/{id}/done", post(api::linkedin_done)),
        (
            "/api/v1/suppressions",
            get(api::suppressions)
                .post(api::add_suppressions)
                .delete(api::remove_suppressions),
        ),
    ]
}

/// The paths of `public_routes`, as axum writes them (`{param}` for a segment).
pub fn public_paths() -> Vec<&'static str> {
    public_routes().into_iter().map(|(path, _)| path).collect()
}

/// The paths of `protected_routes`, as axum writes them (`{param}` for a segment).
pub fn protected_paths() -> Vec<&'static str> {
    protected_routes().into_iter().map(|(path, _)| path).collect()
}

/// Every route Inroad serves over HTTP, with its limits and headers.
pub fn router(state: AppState) -> Router {
    let public = public_routes()
        .into_iter()
        .fold(Router::new(), |router, (path, route)| router.route(path, route));
    // A route layer runs for every request that matches a protected path, whatever its
    // method: an anonymous POST to a GET-only page is sent to the login, not told 405.
    let protected = protected_routes()
        .into_iter()
        .fold(Router::new(), |router, (path, route)| router.route(path, route))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require_login));
    public
        .merge(protected)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::map_response(security_headers))
        .with_state(state)
}

/// Serves [`router`] on `listener` until `shutdown` completes, then lets the requests in
/// flight finish. Each request knows the address it came from (failed logins are
/// counted per client).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// The one answer for anything that does not exist, a bad unsubscribe token included:
/// identical bytes whatever was asked, so a response never tells a near miss from a
/// wild guess.
async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not found\n").into_response()
}

/// A failure on our side; the details go to the server's log, not to the visitor.
struct ServerError;

impl ServerError {
    /// Logs what failed and gives the visitor the generic answer.
    fn logged(e: impl std::fmt::Display) -> ServerError {
        eprintln!("error: {e}");
        ServerError
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let message = "Something went wrong on our side; please try again later.\n";
        (StatusCode::INTERNAL_SERVER_ERROR, message).into_response()
    }
}

/// Headers for every response. Pages name recipients and users, and some URLs are
/// credentials: no copy kept by a browser or proxy unless a handler says otherwise
/// (static assets), the URL never leaked to another site through `Referer`, and no
/// scripts, no outside resources (only our own stylesheet), no framing (a hidden frame
/// could trick someone into pressing a button) and forms posting only here.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    for (name, value) in [
        (REFERRER_POLICY, "no-referrer"),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; \
             base-uri 'none'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

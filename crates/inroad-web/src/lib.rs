//! Inroad over HTTP. Today it serves one public page: the one-click unsubscribe link that
//! every campaign email carries (RFC 8058), which must work without any login because mail
//! providers and recipients follow it cold. The dashboard (login, pages, a JSON API under
//! `/api/v1`) will join this [`router`] as modules beside `unsubscribe`, sharing
//! [`AppState`], so request limits and security headers keep covering every route.
//!
//! The server speaks plain HTTP/1.1: TLS, public host names and connection-level abuse
//! limits are the job of the reverse proxy in front of it.

mod unsubscribe;

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::DefaultBodyLimit;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{middleware, Router};
use inroad_store::Store;
use tokio::net::TcpListener;

/// Largest request body read. An RFC 8058 one-click body is 26 bytes (a few hundred as
/// multipart); anything bigger is not a real request and is refused unread.
const MAX_BODY_BYTES: usize = 4 * 1024;

/// What every handler shares: the database and the key that signs unsubscribe links.
#[derive(Clone)]
pub struct AppState {
    /// A `Box<dyn Store>` is `Send` but not `Sync` (it owns one SQLite connection), so
    /// requests take turns at it behind a mutex; see [`AppState::with_store`].
    store: Arc<Mutex<Box<dyn Store>>>,
    unsubscribe_key: Arc<[u8]>,
}

impl AppState {
    pub fn new(store: Box<dyn Store>, unsubscribe_key: Vec<u8>) -> AppState {
        AppState {
            store: Arc::new(Mutex::new(store)),
            unsubscribe_key: unsubscribe_key.into(),
        }
    }

    /// Runs `job` on the store on tokio's blocking pool. A store call can block for a long
    /// time: SQLite waits out its busy timeout (seconds) while `inroad run` holds the write
    /// lock. On the blocking pool that wait (and the queue behind the mutex) holds up only
    /// the requests that need the database, never the threads that accept connections and
    /// answer everything else. One connection is plenty for unsubscribe clicks.
    async fn with_store<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut dyn Store) -> inroad_engine::Result<T> + Send + 'static,
    ) -> Result<T, ServerError> {
        let store = Arc::clone(&self.store);
        let outcome = tokio::task::spawn_blocking(move || {
            // A panic in an earlier request poisons the lock, but SQLite rolled back
            // whatever that request left half-done: the store is still sound.
            let mut store = store.lock().unwrap_or_else(PoisonError::into_inner);
            job(store.as_mut())
        })
        .await;
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                eprintln!("error: {e}");
                Err(ServerError)
            }
            Err(e) => {
                eprintln!("error: a request failed: {e}");
                Err(ServerError)
            }
        }
    }
}

/// Every route Inroad serves over HTTP, with its limits and headers.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(unsubscribe::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::map_response(security_headers))
        .with_state(state)
}

/// Serves [`router`] on `listener` until `shutdown` completes, then lets the requests in
/// flight finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The one answer for anything that does not exist, a bad unsubscribe token included:
/// identical bytes whatever was asked, so a response never tells a near miss from a
/// wild guess.
async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not found\n").into_response()
}

/// A failure on our side; the details go to the server's log, not to the visitor.
struct ServerError;

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let message = "Something went wrong on our side; please try again later.\n";
        (StatusCode::INTERNAL_SERVER_ERROR, message).into_response()
    }
}

/// Headers for pages shown to strangers whose URL is a credential: no copy kept by a
/// browser or proxy (the page names the recipient), the URL never leaked to another site
/// through `Referer`, and no scripts, no outside resources, no framing (a hidden frame
/// could trick someone into pressing the button) and forms posting only here.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (CACHE_CONTROL, "no-store"),
        (REFERRER_POLICY, "no-referrer"),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            CONTENT_SECURITY_POLICY,
            "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

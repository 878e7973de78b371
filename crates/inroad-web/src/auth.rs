//! Logging in and out, and the gate in front of every protected route
//! ([`require_login`]). The secrets themselves are `inroad_engine::auth`'s; this module
//! decides how they travel over HTTP.
//!
//! - A browser is known by its session cookie: HttpOnly (no script reads it),
//!   SameSite=Strict (no other site makes the browser send it), `Secure` when the
//!   request came over HTTPS. Each login makes a new session id and ends the one the
//!   browser had, so an id planted before login never becomes a logged-in one.
//! - With a session, anything but GET and HEAD must carry the session's CSRF token (form
//!   field `csrf` or header `X-CSRF-Token`). SameSite=Strict already stops other sites in
//!   current browsers; the token also covers old browsers and sibling subdomains, which
//!   count as the same site.
//! - The login form has no session yet, so its token is bound to a pre-login cookie: a
//!   login posted from elsewhere (logging the victim into the attacker's account) fails.
//! - Scripts send an API token (`Authorization: Bearer`), to `/api/…` only. A browser
//!   never adds that header on its own, so those requests need no CSRF token.
//! - Failed logins are counted per user name and per client address: after
//!   [`MAX_FAILURES`] within [`FAILURE_WINDOW_SECS`], 429 until the oldest ages out.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, MutexGuard, PoisonError};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{
    AUTHORIZATION, CONTENT_TYPE, COOKIE, LOCATION, RETRY_AFTER, SET_COOKIE, WWW_AUTHENTICATE,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Json};
use inroad_engine::auth::{self as engine, CsrfScope, SESSION_MAX_SECS};
use serde_json::json;

use crate::html::{app_page, escape};
use crate::{AppState, ServerError, MAX_BODY_BYTES};

const SESSION_COOKIE: &str = "inroad_session";
/// Scoped to `/login`: the pre-login cookie is never sent anywhere else.
const LOGIN_COOKIE: &str = "inroad_login";
/// How long a login form stays usable (seconds).
const LOGIN_FORM_SECS: i64 = 60 * 60;
/// The form field that carries the CSRF token.
const CSRF_FIELD: &str = "csrf";
const CSRF_HEADER: &str = "x-csrf-token";
pub(crate) const MAX_FAILURES: usize = 5;
pub(crate) const FAILURE_WINDOW_SECS: i64 = 15 * 60;
/// At most this many argon2id checks run at once. Each holds ~19 MiB for tens of
/// milliseconds; a flood of logins (from more names and addresses than the failure
/// limits see) then waits its turn instead of filling memory and the blocking pool.
pub(crate) const PARALLEL_PASSWORD_CHECKS: usize = 2;
/// Past this many names and addresses, those whose failures aged out are forgotten.
const PRUNE_ABOVE: usize = 10_000;

/// Who a request to a protected route comes from. (No `Debug`: it holds the session id,
/// which must never reach a log.)
#[derive(Clone)]
pub(crate) enum Principal {
    User(LoggedIn),
    /// A script, by its API token's name.
    Token(String),
}

/// A logged-in browser: what pages need to greet the user and to build forms.
#[derive(Clone)]
pub(crate) struct LoggedIn {
    pub(crate) user: String,
    session_id: String,
    /// What every form of this session posts back as its `csrf` field.
    csrf: String,
}

impl LoggedIn {
    /// What this session's forms post back as their `csrf` field.
    pub(crate) fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The gate of every protected route: a valid API token (under `/api/` only) or session,
/// and for a session's state-changing request its CSRF token. The anonymous are sent to
/// `/login` (pages) or told 401 (API); a wrong CSRF token is 403.
pub(crate) async fn require_login(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ServerError> {
    let api = request.uri().path().starts_with("/api/");
    let now = unix_now();
    if let (true, Some(value)) = (api, request.headers().get(AUTHORIZATION)) {
        // A token that does not check out is refused outright, not tried as a session:
        // a script should learn that its token is wrong.
        let found = match bearer(value) {
            Some(token) => {
                state
                    .with_store(move |store| engine::token(store, &token, now))
                    .await?
            }
            None => None,
        };
        let Some(token) = found else {
            return Ok(api_error(
                StatusCode::UNAUTHORIZED,
                "this API token is not valid (revoked or mistyped); `inroad token list` shows the live ones",
            ));
        };
        request.extensions_mut().insert(Principal::Token(token.name));
        return Ok(next.run(request).await);
    }

    let Some(session_id) = cookie(request.headers(), SESSION_COOKIE) else {
        return Ok(anonymous(api));
    };
    let id = session_id.clone();
    let Some(session) = state
        .with_store(move |store| engine::session(store, &id, now))
        .await?
    else {
        return Ok(anonymous(api));
    };
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        request = match with_csrf_token(&state, &session_id, request).await {
            Ok(request) => request,
            Err(refusal) => return Ok(refusal.into_response(api)),
        };
    }
    let me = LoggedIn {
        user: session.user_name,
        csrf: engine::csrf_token(&state.install_key, CsrfScope::Session, &session_id),
        session_id,
    };
    request.extensions_mut().insert(Principal::User(me.clone()));
    request.extensions_mut().insert(me);
    Ok(next.run(request).await)
}

/// Why a state-changing request was turned away before its handler.
enum Refusal {
    NoCsrfToken,
    TooLarge,
}

impl Refusal {
    fn into_response(self, api: bool) -> Response {
        match (self, api) {
            (Refusal::TooLarge, _) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "Request body too large\n").into_response()
            }
            (Refusal::NoCsrfToken, true) => api_error(
                StatusCode::FORBIDDEN,
                "missing or wrong CSRF token: send the session's token in the X-CSRF-Token header, \
                 or use an API token instead of the session cookie",
            ),
            (Refusal::NoCsrfToken, false) => (
                StatusCode::FORBIDDEN,
                Html(app_page(
                    "Forbidden",
                    "<h1>Forbidden</h1>\n<p>This form has expired or did not come from this site. \
                     Go back, reload the page and try again.</p>",
                )),
            )
                .into_response(),
        }
    }
}

/// The request, if it carries the session's CSRF token: in the header, or as the form
/// field of a URL-encoded body (read here, then handed on unchanged to the handler).
async fn with_csrf_token(state: &AppState, session_id: &str, request: Request) -> Result<Request, Refusal> {
    let valid = |token: &str| engine::csrf_matches(&state.install_key, CsrfScope::Session, session_id, token);
    if let Some(header) = request.headers().get(CSRF_HEADER) {
        return match header.to_str() {
            Ok(token) if valid(token) => Ok(request),
            _ => Err(Refusal::NoCsrfToken),
        };
    }
    let is_form = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(Refusal::NoCsrfToken);
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| Refusal::TooLarge)?;
    match form_field(&bytes, CSRF_FIELD) {
        Some(token) if valid(&token) => Ok(Request::from_parts(parts, Body::from(bytes))),
        _ => Err(Refusal::NoCsrfToken),
    }
}

fn anonymous(api: bool) -> Response {
    if api {
        api_error(
            StatusCode::UNAUTHORIZED,
            "log in first, or send an API token: Authorization: Bearer <token> (`inroad token create NAME`)",
        )
    } else {
        see_other("/login")
    }
}

/// `{"error": message}`; a 401 also names the scheme it wants (RFC 6750).
fn api_error(status: StatusCode, message: &str) -> Response {
    let mut response = (status, Json(json!({ "error": message }))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// `GET /login`: the form, with a fresh pre-login cookie its CSRF token is bound to. A
/// new one each time, never the one the browser sent: an attacker who plants a cookie
/// must never be able to get the token that goes with it.
pub(crate) async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let form_id = engine::random_token().map_err(ServerError::logged)?;
    Ok(login_page(&state, &headers, &form_id, StatusCode::OK, "", ""))
}

/// `POST /login`: form fields `user`, `password`, `csrf`. A right password starts a new
/// session and goes to `/`; a wrong one shows the form again with 401 (which a proxy's
/// log, and fail2ban behind it, can see).
pub(crate) async fn login(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ServerError> {
    let field = |name| form_field(&body, name).unwrap_or_default();
    let (user, password, csrf) = (field("user"), field("password"), field(CSRF_FIELD));
    let Some(form_id) = cookie(&headers, LOGIN_COOKIE)
        .filter(|form_id| engine::csrf_matches(&state.install_key, CsrfScope::Login, form_id, &csrf))
    else {
        let body = "<h1>Log in</h1>\n<p>This login form has expired or did not come from this site. \
                    <a href=\"/login\">Try again</a>.</p>";
        return Ok((StatusCode::FORBIDDEN, Html(app_page("Log in", body))).into_response());
    };

    let now = unix_now();
    let user_key = format!("user {user}");
    let client_key = client_ip(&state, &headers, peer).map(client_key);
    if let Err(wait) = state
        .login_failures()
        .attempt(&user_key, client_key.as_deref(), now)
    {
        let minutes = (wait + 59) / 60;
        let message = format!("Too many failed logins: try again in {minutes} minute(s).");
        let mut page = login_page(
            &state,
            &headers,
            &form_id,
            StatusCode::TOO_MANY_REQUESTS,
            &user,
            &message,
        );
        page.headers_mut().insert(RETRY_AFTER, HeaderValue::from(wait));
        return Ok(page);
    }

    let name = user.clone();
    let stored = state
        .with_store(move |store| Ok(store.user_by_name(&name)?))
        .await?;
    let hash = stored.as_ref().map(|user| user.password_hash.clone());
    // Off the async threads (argon2id takes tens of milliseconds on purpose) and outside
    // the store's lock, which other requests are waiting for. The permit goes with the
    // check, so it is held even if the client hangs up mid-way.
    let permit = Arc::clone(&state.password_checks)
        .acquire_owned()
        .await
        .map_err(ServerError::logged)?;
    let valid = tokio::task::spawn_blocking(move || {
        let valid = engine::verify_password(hash.as_deref(), &password);
        drop(permit);
        valid
    })
    .await
    .map_err(ServerError::logged)?;
    let (true, Some(stored)) = (valid, stored) else {
        let message = "Wrong user name or password.";
        return Ok(login_page(
            &state,
            &headers,
            &form_id,
            StatusCode::UNAUTHORIZED,
            &user,
            message,
        ));
    };
    state.login_failures().succeeded(&user_key, client_key.as_deref());

    let replaces = cookie(&headers, SESSION_COOKIE);
    let session_id = state
        .with_store(move |store| engine::start_session(store, stored.id, replaces.as_deref(), now))
        .await?;
    let secure = is_secure(&state, &headers);
    let mut response = see_other("/");
    let headers = response.headers_mut();
    headers.append(
        SET_COOKIE,
        set_cookie(SESSION_COOKIE, &session_id, "/", SESSION_MAX_SECS, secure),
    );
    headers.append(SET_COOKIE, set_cookie(LOGIN_COOKIE, "", "/login", 0, secure));
    Ok(response)
}

fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    form_id: &str,
    status: StatusCode,
    user: &str,
    error: &str,
) -> Response {
    let csrf = engine::csrf_token(&state.install_key, CsrfScope::Login, form_id);
    let error = match error {
        "" => String::new(),
        error => format!("<p class=\"error\" role=\"alert\">{}</p>\n", escape(error)),
    };
    let body = format!(
        "<h1>Inroad</h1>\n{error}<form class=\"login\" method=\"post\" action=\"/login\">\n\
         <input type=\"hidden\" name=\"{CSRF_FIELD}\" value=\"{csrf}\">\n\
         <label>User name <input name=\"user\" value=\"{}\" autocomplete=\"username\" required autofocus></label>\n\
         <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\n\
         <button type=\"submit\">Log in</button>\n</form>",
        escape(user)
    );
    let cookie = set_cookie(
        LOGIN_COOKIE,
        form_id,
        "/login",
        LOGIN_FORM_SECS,
        is_secure(state, headers),
    );
    (status, [(SET_COOKIE, cookie)], Html(app_page("Log in", &body))).into_response()
}

/// `POST /logout` (behind the gate, so with the session's CSRF token): ends the session
/// in the database, not just in the browser.
pub(crate) async fn logout(
    State(state): State<AppState>,
    Extension(me): Extension<LoggedIn>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let session_id = me.session_id;
    state
        .with_store(move |store| engine::end_session(store, &session_id))
        .await?;
    let mut response = see_other("/login");
    let clear = set_cookie(SESSION_COOKIE, "", "/", 0, is_secure(&state, &headers));
    response.headers_mut().insert(SET_COOKIE, clear);
    Ok(response)
}

impl AppState {
    fn login_failures(&self) -> MutexGuard<'_, LoginFailures> {
        // The counts stay meaningful even if a request panicked while holding them.
        self.login_failures.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Recent failed logins per user name and per client address, in memory: a restart
/// forgets them, but nothing an attacker sends restarts the server.
#[derive(Default)]
pub(crate) struct LoginFailures {
    recent: HashMap<String, VecDeque<i64>>,
}

impl LoginFailures {
    /// Counts an attempt against the name and the address before its password is
    /// checked, so that a burst of parallel guesses cannot slip past the limit. When
    /// either is at the limit: `Err(seconds until the next attempt may be made)`.
    fn attempt(&mut self, user: &str, client: Option<&str>, now: i64) -> Result<(), i64> {
        if self.recent.len() > PRUNE_ABOVE {
            self.recent
                .retain(|_, times| times.back().is_some_and(|&t| now - t < FAILURE_WINDOW_SECS));
        }
        let keys = || std::iter::once(user).chain(client);
        let mut wait = None;
        for key in keys() {
            let Some(times) = self.recent.get_mut(key) else {
                continue;
            };
            while times.front().is_some_and(|&t| now - t >= FAILURE_WINDOW_SECS) {
                times.pop_front();
            }
            if times.len() >= MAX_FAILURES {
                // Below the limit again once this one ages out.
                let frees = times[times.len() - MAX_FAILURES] + FAILURE_WINDOW_SECS;
                wait = wait.max(Some(frees - now));
            }
        }
        if let Some(wait) = wait {
            return Err(wait.max(1));
        }
        for key in keys() {
            self.recent.entry(key.to_owned()).or_default().push_back(now);
        }
        Ok(())
    }

    /// The right password: the name starts afresh and the address gets its attempt back
    /// (but keeps its other failures: one valid account must not reset an address
    /// that guesses at others).
    fn succeeded(&mut self, user: &str, client: Option<&str>) {
        self.recent.remove(user);
        if let Some(times) = client.and_then(|client| self.recent.get_mut(client)) {
            times.pop_back();
        }
    }
}

/// Where the request came from: the address the proxy saw when we are behind one (the
/// last `X-Forwarded-For` entry, the one our proxy added), else the peer's.
fn client_ip(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Option<IpAddr> {
    let forwarded = || {
        let last = headers.get_all("x-forwarded-for").iter().next_back()?;
        last.to_str().ok()?.rsplit(',').next()?.trim().parse().ok()
    };
    state
        .behind_proxy
        .then(forwarded)
        .flatten()
        .or_else(|| peer.map(|Extension(ConnectInfo(address))| address.ip()))
}

/// The key failures are counted under: an IPv6 client usually holds a whole /64, so
/// that is what counts as one client.
fn client_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => format!("client {v4}"),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("client {:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// Whether cookies get `Secure`: always with `--secure-cookies`; otherwise only when the
/// trusted proxy says the browser used HTTPS (this server itself speaks plain HTTP).
fn is_secure(state: &AppState, headers: &HeaderMap) -> bool {
    let https = || {
        headers
            .get("x-forwarded-proto")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
    };
    state.secure_cookies || (state.behind_proxy && https())
}

/// A `Set-Cookie` value no script can read and no other site can make the browser send;
/// `max_age` 0 deletes it.
fn set_cookie(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}");
    HeaderValue::try_from(cookie).expect("cookie values are base64url, made here")
}

/// The value of cookie `name`, from any `Cookie` header of the request.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then(|| value.to_owned())
        })
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case).
fn bearer(value: &HeaderValue) -> Option<String> {
    let (scheme, token) = value.to_str().ok()?.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

fn see_other(location: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response()
}

fn unix_now() -> i64 {
    jiff::Timestamp::now().as_second()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_block_a_name_or_an_address_for_the_window() {
        let mut failures = LoginFailures::default();
        for i in 0..MAX_FAILURES as i64 {
            assert_eq!(failures.attempt("user ann", Some("client 1"), 100 + i), Ok(()));
        }
        assert_eq!(
            failures.attempt("user ann", Some("client 2"), 200),
            Err(100 + FAILURE_WINDOW_SECS - 200),
            "the name is blocked from anywhere"
        );
        assert!(
            failures.attempt("user bo", Some("client 1"), 200).is_err(),
            "so is the address"
        );
        assert_eq!(failures.attempt("user bo", Some("client 2"), 200), Ok(()));
        assert_eq!(
            failures.attempt("user ann", Some("client 2"), 100 + FAILURE_WINDOW_SECS),
            Ok(()),
            "the oldest failure aged out"
        );
    }

    #[test]
    fn success_clears_the_name_but_not_the_address() {
        let mut failures = LoginFailures::default();
        for _ in 0..MAX_FAILURES - 1 {
            failures.attempt("user bo", Some("client 1"), 0).unwrap();
        }
        failures.attempt("user ann", Some("client 1"), 0).unwrap();
        failures.succeeded("user ann", Some("client 1"));
        assert_eq!(failures.attempt("user ann", None, 0), Ok(()));
        assert_eq!(
            failures.attempt("user eve", Some("client 1"), 0),
            Ok(()),
            "4 failures + 1"
        );
        assert!(failures.attempt("user eve", Some("client 1"), 0).is_err());
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_eq!(
            client_key("::ffff:192.0.2.1".parse().unwrap()),
            "client 192.0.2.1"
        );
    }

    #[test]
    fn cookies_and_bearer_tokens_are_read_leniently() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; inroad_session=abc"));
        headers.append(COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&headers, "inroad_session").as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, "b").as_deref(), Some("2"));
        assert_eq!(cookie(&headers, "inroad"), None);
        assert_eq!(
            bearer(&HeaderValue::from_static("bearer  xyz ")).as_deref(),
            Some("xyz")
        );
        assert_eq!(bearer(&HeaderValue::from_static("Basic xyz")), None);
        assert_eq!(bearer(&HeaderValue::from_static("Bearer")), None);
    }
}

//! `/u/{token}`: the one-click unsubscribe link of every campaign email (RFC 8058).
//!
//! GET only asks: mail scanners and link previews fetch every URL in a message, and a
//! fetch must never unsubscribe anyone. POST does it, whether it comes from a mail
//! provider's one-click button or from the page's own button. The signed token (see
//! `inroad_core::unsubscribe`) is the only authorisation, so there is deliberately no CSRF
//! token or cookie: providers post without either, and a forged request could at worst
//! unsubscribe the very person the link was sent to.
//!
//! Every bad token gets the router's one "Not found", so nothing here tells whether a
//! lead or campaign exists.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use inroad_core::unsubscribe::verify;

use crate::html::{escape, page};
use crate::{not_found, AppState, ServerError};

/// Longer than any token, so an oversized path is turned away before any cryptography.
const MAX_TOKEN_LEN: usize = 64;

/// The route of `/u/{token}`. `get` answers HEAD too, as scanners that only probe links
/// expect.
pub(crate) fn route() -> MethodRouter<AppState> {
    get(confirm).post(unsubscribe)
}

/// The (lead, campaign) a token was signed for, if it was signed with our key. A path
/// that does not decode (bad percent-encoding, not UTF-8) is just another bad token.
fn signed_ids(state: &AppState, token: Result<Path<String>, PathRejection>) -> Option<(i64, i64)> {
    let Path(token) = token.ok()?;
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    verify(&state.install_key, &token)
}

async fn confirm(
    State(state): State<AppState>,
    token: Result<Path<String>, PathRejection>,
) -> Result<Response, ServerError> {
    let Some((lead_id, _)) = signed_ids(&state, token) else {
        return Ok(not_found().await);
    };
    let email = state
        .with_store(move |store| Ok(store.lead(lead_id)?.and_then(|stored| stored.lead.email)))
        .await?;
    let question = match email {
        Some(email) => format!("Unsubscribe {} from these emails?", masked(&email)),
        None => "Unsubscribe from these emails?".to_owned(),
    };
    Ok(Html(page(
        "Unsubscribe",
        &format!(
            "<p>{question}</p>\n\
             <form method=\"post\">\n\
             <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\n\
             <button type=\"submit\">Unsubscribe</button>\n\
             </form>"
        ),
    ))
    .into_response())
}

/// The body is read (so the size limit applies) but not parsed: RFC 8058 says it is
/// `List-Unsubscribe=One-Click`, yet senders vary in encoding (form or multipart), and
/// the decision rests on the signed URL and the POST itself, not on what the body says.
async fn unsubscribe(
    State(state): State<AppState>,
    token: Result<Path<String>, PathRejection>,
    _body: Bytes,
) -> Result<Response, ServerError> {
    let Some((lead_id, campaign_id)) = signed_ids(&state, token) else {
        return Ok(not_found().await);
    };
    let at = jiff::Timestamp::now().as_second();
    state
        .with_store(move |store| {
            inroad_engine::suppress::one_click_unsubscribe(store, lead_id, campaign_id, at)
        })
        .await?;
    // The same page whether or not the lead still exists: the answer reveals nothing.
    Ok(Html(page(
        "Unsubscribed",
        "<p>You are unsubscribed: you will get no more emails from us.</p>",
    ))
    .into_response())
}

/// `ann@example.com` → `a***@example.com`, HTML-escaped: enough for the recipient to
/// recognise, too little to harvest the address from a forwarded link.
fn masked(email: &str) -> String {
    let (local, domain) = email.rsplit_once('@').unwrap_or(("", email));
    let first: String = local.chars().take(1).collect();
    format!("{}***@{}", escape(&first), escape(domain))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{header, Method, Request, StatusCode};
    use inroad_core::unsubscribe::sign;
    use inroad_core::Lead;
    use inroad_store::Store;
    use tower::ServiceExt;

    use axum::Router;

    use super::*;
    use crate::router;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const ONE_CLICK: &str = "List-Unsubscribe=One-Click";

    /// A database with one lead enrolled in two campaigns (both ids returned), and the app.
    struct Fixture {
        _database: (tempfile::TempDir, inroad_testkit::TestDatabase),
        db: String,
        lead: i64,
        campaigns: [i64; 2],
        app: Router,
    }

    impl Fixture {
        fn new() -> Fixture {
            let dir = tempfile::tempdir().unwrap();
            let database = inroad_testkit::TestDatabase::new(&dir.path().join("inroad.db"));
            let mut store = inroad_store::open(database.url()).unwrap();
            let mut import = store.begin_import(1).unwrap();
            let lead = Lead {
                email: Some("ann@example.com".into()),
                first_name: Some("Ann".into()),
                ..Lead::default()
            };
            let lead = import.insert(&lead, None).unwrap();
            import.commit().unwrap();
            let campaigns = ["first", "second"].map(|name| {
                let campaign = store.create_campaign(name, "").unwrap();
                store.enroll(campaign, &[lead], 0).unwrap();
                campaign
            });
            Fixture {
                app: router(AppState::new(store, KEY.to_vec())),
                db: database.url().to_owned(),
                _database: (dir, database),
                lead,
                campaigns,
            }
        }

        /// A second connection, as another process would see the database.
        fn store(&self) -> Box<dyn Store> {
            inroad_store::open(&self.db).unwrap()
        }

        fn path(&self) -> String {
            format!("/u/{}", sign(KEY, self.lead, self.campaigns[0]))
        }

        async fn call(&self, method: Method, path: &str, body: &str) -> (StatusCode, String, Response) {
            let request = Request::builder()
                .method(method)
                .uri(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body.to_owned()))
                .unwrap();
            let response = self.app.clone().oneshot(request).await.unwrap();
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            let text = String::from_utf8(bytes.to_vec()).unwrap();
            (parts.status, text, Response::from_parts(parts, Body::empty()))
        }
    }

    #[tokio::test]
    async fn get_asks_and_changes_nothing() {
        let fx = Fixture::new();
        let (status, body, response) = fx.call(Method::GET, &fx.path(), "").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            body.contains("Unsubscribe a***@example.com from these emails?"),
            "{body}"
        );
        assert!(body.contains("<form method=\"post\">"), "{body}");
        assert!(!body.contains("ann@"), "the address is masked: {body}");
        let headers = response.headers();
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'"));

        let (status, body, _) = fx.call(Method::HEAD, &fx.path(), "").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, ""));

        let store = fx.store();
        assert!(!store.is_suppressed("ann@example.com").unwrap());
        assert_eq!(store.open_enrolments(fx.lead).unwrap().len(), 2);
        assert!(store.lead_events(fx.lead).unwrap().is_empty());
    }

    #[tokio::test]
    async fn post_suppresses_stops_every_campaign_and_records_it_once() {
        let fx = Fixture::new();
        let (status, body, _) = fx.call(Method::POST, &fx.path(), ONE_CLICK).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("You are unsubscribed"), "{body}");

        let store = fx.store();
        assert!(store.is_suppressed("ann@example.com").unwrap());
        let reason = &store.suppressions().unwrap()[0].reason;
        let expected = format!("unsubscribed via one-click link (campaign {})", fx.campaigns[0]);
        assert_eq!(reason.as_deref(), Some(expected.as_str()));
        assert!(store.open_enrolments(fx.lead).unwrap().is_empty());
        for campaign in fx.campaigns {
            let rows = store
                .campaign_enrolments(campaign, Some("unsubscribed"), 0, 10)
                .unwrap();
            assert_eq!(rows.len(), 1, "campaign {campaign}");
        }
        let events = store.lead_events(fx.lead).unwrap();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].kind, "unsubscribe");
        assert_eq!(events[0].campaign_id, Some(fx.campaigns[0]));

        // A provider's retry or a second click: the same answer, nothing more recorded.
        let (status, again, _) = fx.call(Method::POST, &fx.path(), "").await;
        assert_eq!((status, again), (StatusCode::OK, body));
        assert_eq!(store.lead_events(fx.lead).unwrap().len(), 1);
        assert_eq!(store.suppressions().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_valid_token_for_a_lead_that_is_gone_answers_the_same_and_does_nothing() {
        let fx = Fixture::new();
        let path = format!("/u/{}", sign(KEY, fx.lead + 1000, fx.campaigns[0]));
        let (status, gone, _) = fx.call(Method::POST, &path, ONE_CLICK).await;
        let (_, real, _) = fx.call(Method::POST, &fx.path(), ONE_CLICK).await;
        assert_eq!((status, gone), (StatusCode::OK, real));
        assert_eq!(fx.store().suppressions().unwrap().len(), 1, "only the real lead");
    }

    #[tokio::test]
    async fn every_bad_token_is_the_same_not_found() {
        let fx = Fixture::new();
        let token = sign(KEY, fx.lead, fx.campaigns[0]);
        let mut altered = token.clone().into_bytes();
        altered[20] = if altered[20] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        let other_key = sign(b"another install's key", fx.lead, fx.campaigns[0]);
        let paths = [
            format!("/u/{altered}"),
            format!("/u/{other_key}"),
            format!("/u/{token}A"),
            format!("/u/{}", &token[1..]),
            "/u/garbage".to_owned(),
            "/u/%FF%FE".to_owned(),
            format!("/u/{}", "A".repeat(10_000)),
            format!("/u/{token}/more"),
            "/u/".to_owned(),
            "/nothing-here".to_owned(),
        ];
        let (_, expected, _) = fx.call(Method::GET, "/nothing-here", "").await;
        assert_eq!(expected, "Not found\n");
        for path in &paths {
            let shown = &path[..path.len().min(60)];
            for method in [Method::GET, Method::POST] {
                let (status, body, response) = fx.call(method.clone(), path, ONE_CLICK).await;
                assert_eq!(status, StatusCode::NOT_FOUND, "{method} {shown}");
                assert_eq!(body, expected, "{method} {shown}");
                assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
            }
        }
        let store = fx.store();
        assert!(store.suppressions().unwrap().is_empty());
        assert_eq!(store.open_enrolments(fx.lead).unwrap().len(), 2);
    }

    #[tokio::test]
    async fn an_oversized_body_is_refused_unread() {
        let fx = Fixture::new();
        let body = format!("{ONE_CLICK}&{}", "x".repeat(8 * 1024));
        let (status, _, _) = fx.call(Method::POST, &fx.path(), &body).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(!fx.store().is_suppressed("ann@example.com").unwrap());
    }

    #[test]
    fn masking_keeps_the_first_letter_and_the_domain_and_escapes_both() {
        assert_eq!(masked("ann@example.com"), "a***@example.com");
        assert_eq!(masked("&x@example.com"), "&amp;***@example.com");
        assert_eq!(masked("é@b.de"), "é***@b.de");
    }
}

//! The dashboard's login, tested through the public router the way a browser or a script
//! would use it: every protected route refuses the anonymous, only a short list answers
//! them, sessions are new at every login and end at logout, CSRF tokens are required,
//! API tokens work until revoked, failed logins are limited, and cookies get `Secure`
//! exactly when the request came over HTTPS.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use inroad_store::Store;
use inroad_web::{protected_paths, public_paths, router, AppState};
use tower::ServiceExt;

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
const PASSWORD: &str = "correct horse battery";

struct Fixture {
    _database: (tempfile::TempDir, inroad_testkit::TestDatabase),
    db: String,
    app: Router,
}

/// A response, read whole.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    /// The full `Set-Cookie` header that sets cookie `name`, if any.
    fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .find(|cookie| cookie.starts_with(&format!("{name}=")))
    }

    /// The value cookie `name` is set to, if it is set (not deleted).
    fn cookie(&self, name: &str) -> Option<String> {
        let cookie = self.set_cookie(name)?;
        let value = cookie[name.len() + 1..].split(';').next().unwrap();
        (!value.is_empty()).then(|| value.to_owned())
    }

    fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .map(|value| value.to_str().unwrap())
    }

    /// The `csrf` field of the first form on the page.
    fn csrf(&self) -> String {
        let start = self.body.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
        let end = start + self.body[start..].find('"').unwrap();
        self.body[start..end].to_owned()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// A browser: the cookies it sends, and where it connects from.
#[derive(Clone, Default)]
struct Browser {
    cookies: Vec<(String, String)>,
    from: Option<SocketAddr>,
    headers: Vec<(&'static str, String)>,
}

impl Browser {
    fn from(address: &str) -> Browser {
        Browser {
            from: Some(address.parse().unwrap()),
            ..Browser::default()
        }
    }

    fn with_cookie(mut self, name: &str, value: &str) -> Browser {
        self.cookies.retain(|(n, _)| n != name);
        self.cookies.push((name.to_owned(), value.to_owned()));
        self
    }

    fn with_header(mut self, name: &'static str, value: &str) -> Browser {
        self.headers.push((name, value.to_owned()));
        self
    }

    fn session(&self) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(name, _)| name == "inroad_session")
            .map(|(_, value)| value.as_str())
    }
}

impl Fixture {
    /// A database with user `ann` (password [`PASSWORD`]), served as `configure` says.
    fn new(configure: impl FnOnce(AppState) -> AppState) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let database = inroad_testkit::TestDatabase::new(&dir.path().join("inroad.db"));
        let mut store = inroad_store::open(database.url()).unwrap();
        inroad_engine::auth::add_user(store.as_mut(), "ann", PASSWORD, 0).unwrap();
        Fixture {
            app: router(configure(AppState::new(store, KEY.to_vec()))),
            db: database.url().to_owned(),
            _database: (dir, database),
        }
    }

    /// A second connection, as the CLI would open it.
    fn store(&self) -> Box<dyn Store> {
        inroad_store::open(&self.db).unwrap()
    }

    async fn send(&self, browser: &Browser, method: Method, path: &str, body: &str) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if !browser.cookies.is_empty() {
            let cookies: Vec<String> = browser.cookies.iter().map(|(n, v)| format!("{n}={v}")).collect();
            request = request.header(header::COOKIE, cookies.join("; "));
        }
        for (name, value) in &browser.headers {
            request = request.header(*name, value);
        }
        let mut request = request.body(Body::from(body.to_owned())).unwrap();
        if let Some(from) = browser.from {
            request.extensions_mut().insert(ConnectInfo(from));
        }
        let response = self.app.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    async fn get(&self, browser: &Browser, path: &str) -> Reply {
        self.send(browser, Method::GET, path, "").await
    }

    /// Fetches the login form and posts it: the browser (with the pre-login cookie and
    /// any session it had) and the answer.
    async fn login(&self, browser: &Browser, user: &str, password: &str) -> (Browser, Reply) {
        let form = self.get(browser, "/login").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let pre = form.cookie("inroad_login").expect("a pre-login cookie");
        let browser = browser.clone().with_cookie("inroad_login", &pre);
        let body = form_body(&[("csrf", &form.csrf()), ("user", user), ("password", password)]);
        let reply = self.send(&browser, Method::POST, "/login", &body).await;
        (browser, reply)
    }

    /// A browser logged in as ann.
    async fn logged_in(&self, browser: &Browser) -> Browser {
        let (browser, reply) = self.login(browser, "ann", PASSWORD).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let session = reply.cookie("inroad_session").expect("a session cookie");
        browser.with_cookie("inroad_session", &session)
    }

    /// The CSRF token of the logged-in browser's pages (from the logout button).
    async fn csrf(&self, browser: &Browser) -> String {
        let page = self.get(browser, "/").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        page.csrf()
    }
}

fn form_body(fields: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// A concrete path for a route pattern: each `{param}` becomes `x`.
fn concrete(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|segment| if segment.starts_with('{') { "x" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

/// The refusal an anonymous request to `path` must get (a HEAD's without its body).
fn assert_refused(reply: &Reply, path: &str, what: &str) {
    if path.starts_with("/api/") {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}: {}", reply.body);
        assert_eq!(reply.headers[header::WWW_AUTHENTICATE], "Bearer", "{what}");
        if !what.starts_with("HEAD") {
            assert!(reply.json()["error"].is_string(), "{what}: {}", reply.body);
        }
    } else {
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{what}: {}", reply.body);
        assert_eq!(reply.location(), Some("/login"), "{what}");
    }
    assert!(reply.set_cookie("inroad_session").is_none(), "{what}");
}

#[tokio::test]
async fn every_protected_route_refuses_anonymous_access() {
    let fx = Fixture::new(|state| state);
    let paths = protected_paths();
    for expected in ["/", "/logout", "/api/v1/me"] {
        assert!(paths.contains(&expected), "{expected} is protected: {paths:?}");
    }
    let strangers = [
        ("no cookie", Browser::default()),
        (
            "a made-up session",
            Browser::default().with_cookie("inroad_session", &"A".repeat(43)),
        ),
        (
            "a garbage session",
            Browser::default().with_cookie("inroad_session", "x%00y\u{e9}"),
        ),
        (
            "a pre-login cookie",
            Browser::default().with_cookie("inroad_login", &"A".repeat(43)),
        ),
        (
            "a made-up token",
            Browser::default().with_header("authorization", "Bearer inroad_nope"),
        ),
    ];
    for pattern in &paths {
        let path = concrete(pattern);
        for (who, browser) in &strangers {
            for method in [
                Method::GET,
                Method::HEAD,
                Method::POST,
                Method::PUT,
                Method::DELETE,
            ] {
                let reply = fx.send(browser, method.clone(), &path, "csrf=x").await;
                assert_refused(&reply, &path, &format!("{method} {path} with {who}"));
            }
        }
    }
}

#[tokio::test]
async fn only_unsubscribe_login_and_static_answer_the_anonymous() {
    let fx = Fixture::new(|state| state);
    assert_eq!(public_paths(), ["/u/{token}", "/login", "/static/{file}"]);
    let stranger = Browser::default();

    let login = fx.get(&stranger, "/login").await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login
        .body
        .contains("<form class=\"login\" method=\"post\" action=\"/login\">"));
    assert!(login.body.contains("type=\"password\""));
    assert_eq!(login.headers[header::CACHE_CONTROL], "no-store");

    let css = fx.get(&stranger, "/static/inroad.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
    assert_eq!(
        fx.get(&stranger, "/static/other.css").await.status,
        StatusCode::NOT_FOUND
    );

    // A bad unsubscribe token is the public 404, not a login page.
    let unsubscribe = fx.send(&stranger, Method::POST, "/u/garbage", "").await;
    assert_eq!(
        (unsubscribe.status, unsubscribe.body.as_str()),
        (StatusCode::NOT_FOUND, "Not found\n")
    );
    assert_eq!(
        fx.get(&stranger, "/nothing-here").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_wrong_password_or_an_unknown_user_gets_no_session() {
    let fx = Fixture::new(|state| state);
    for (user, password) in [
        ("ann", "correct horse batterz"),
        ("bo", PASSWORD),
        ("ann", ""),
        ("", ""),
    ] {
        let (browser, reply) = fx.login(&Browser::default(), user, password).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{user}/{password}");
        assert!(
            reply.body.contains("Wrong user name or password."),
            "{}",
            reply.body
        );
        assert!(reply.set_cookie("inroad_session").is_none(), "{user}/{password}");
        assert_eq!(fx.get(&browser, "/").await.status, StatusCode::SEE_OTHER);
    }
    // The form comes back filled in with the name, escaped.
    let (_, reply) = fx.login(&Browser::default(), "<b>", "x").await;
    assert!(reply.body.contains("value=\"&lt;b&gt;\""), "{}", reply.body);
}

#[tokio::test]
async fn login_sets_a_strict_http_only_cookie_with_a_new_id_each_time() {
    let fx = Fixture::new(|state| state);
    let (browser, reply) = fx.login(&Browser::default(), "ann", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), Some("/"));
    let cookie = reply.set_cookie("inroad_session").unwrap();
    for attribute in ["; Path=/;", "; HttpOnly", "; SameSite=Strict"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let first = reply.cookie("inroad_session").unwrap();
    assert_eq!(first.len(), 43, "32 random bytes");
    let pre_login = browser.cookies[0].1.clone();
    assert_ne!(first, pre_login, "the pre-login cookie never becomes the session");
    assert!(
        reply.set_cookie("inroad_login").unwrap().contains("Max-Age=0"),
        "the pre-login cookie goes"
    );

    let browser = browser.with_cookie("inroad_session", &first);
    let page = fx.get(&browser, "/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<h1>Overview</h1>"), "{}", page.body);
    assert!(page.body.contains("<strong>ann</strong>"), "{}", page.body);
    assert!(page.body.contains("action=\"/logout\""), "{}", page.body);

    // Logging in again with the first session (or a planted one) in the browser: a new
    // id, and the old one is dead.
    let (_, again) = fx.login(&browser, "ann", PASSWORD).await;
    let second = again.cookie("inroad_session").unwrap();
    assert_ne!(second, first);
    assert_eq!(
        fx.get(&browser, "/").await.status,
        StatusCode::SEE_OTHER,
        "the old id"
    );
    let browser = browser.with_cookie("inroad_session", &second);
    assert_eq!(fx.get(&browser, "/").await.status, StatusCode::OK);

    // Another browser's login leaves this one's session alone.
    let other = fx.logged_in(&Browser::default()).await;
    assert_ne!(other.session(), browser.session());
    assert_eq!(fx.get(&browser, "/").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_login_form_needs_its_own_csrf_token() {
    let fx = Fixture::new(|state| state);
    let stranger = Browser::default();
    let form = fx.get(&stranger, "/login").await;
    let pre = form.cookie("inroad_login").unwrap();
    let cookie = form.set_cookie("inroad_login").unwrap();
    for attribute in ["; Path=/login;", "; HttpOnly", "; SameSite=Strict"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let other_form = fx.get(&stranger, "/login").await;
    assert_ne!(
        other_form.cookie("inroad_login").unwrap(),
        pre,
        "a new form, a new cookie"
    );

    let with_cookie = stranger.clone().with_cookie("inroad_login", &pre);
    let credentials = [("user", "ann"), ("password", PASSWORD)];
    let cases = [
        ("no token", with_cookie.clone(), form_body(&credentials)),
        (
            "a wrong token",
            with_cookie.clone(),
            form_body(&[credentials[0], credentials[1], ("csrf", &"A".repeat(43))]),
        ),
        (
            "another form's token",
            with_cookie.clone(),
            form_body(&[credentials[0], credentials[1], ("csrf", &other_form.csrf())]),
        ),
        (
            "no pre-login cookie",
            stranger.clone(),
            form_body(&[credentials[0], credentials[1], ("csrf", &form.csrf())]),
        ),
    ];
    for (what, browser, body) in cases {
        let reply = fx.send(&browser, Method::POST, "/login", &body).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{what}: {}", reply.body);
        assert!(reply.set_cookie("inroad_session").is_none(), "{what}");
    }
    let body = form_body(&[credentials[0], credentials[1], ("csrf", &form.csrf())]);
    let reply = fx.send(&with_cookie, Method::POST, "/login", &body).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "the form's own token");
}

#[tokio::test]
async fn logout_needs_the_csrf_token_and_ends_the_session() {
    let fx = Fixture::new(|state| state);
    let browser = fx.logged_in(&Browser::default()).await;
    let csrf = fx.csrf(&browser).await;
    let another = fx.logged_in(&Browser::default()).await;
    let another_csrf = fx.csrf(&another).await;
    assert_ne!(csrf, another_csrf, "each session has its own token");

    let refused = [
        ("no token", browser.clone(), String::new()),
        (
            "a wrong token",
            browser.clone(),
            form_body(&[("csrf", &"A".repeat(43))]),
        ),
        (
            "another session's token",
            browser.clone(),
            form_body(&[("csrf", &another_csrf)]),
        ),
        (
            "a wrong header",
            browser.clone().with_header("x-csrf-token", "nope"),
            form_body(&[("csrf", &csrf)]),
        ),
    ];
    for (what, browser, body) in refused {
        let reply = fx.send(&browser, Method::POST, "/logout", &body).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{what}: {}", reply.body);
    }
    assert_eq!(
        fx.get(&browser, "/").await.status,
        StatusCode::OK,
        "still logged in"
    );

    let reply = fx
        .send(&browser, Method::POST, "/logout", &form_body(&[("csrf", &csrf)]))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), Some("/login"));
    assert!(reply.set_cookie("inroad_session").unwrap().contains("Max-Age=0"));
    assert_eq!(
        fx.get(&browser, "/").await.status,
        StatusCode::SEE_OTHER,
        "the id is dead"
    );

    // The header works as well as the form field.
    let by_header = another.clone().with_header("x-csrf-token", &another_csrf);
    let reply = fx.send(&by_header, Method::POST, "/logout", "").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(fx.get(&another, "/").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn api_tokens_open_the_api_until_revoked() {
    let fx = Fixture::new(|state| state);
    let token = inroad_engine::auth::create_token(fx.store().as_mut(), "ci", 0).unwrap();
    let script = Browser::default().with_header("authorization", &format!("Bearer {token}"));
    let reply = fx.get(&script, "/api/v1/me").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json(), serde_json::json!({"user": null, "token": "ci"}));
    // No CSRF token needed: a non-GET gets past the gate (to the route's 405).
    let post = fx.send(&script, Method::POST, "/api/v1/me", "").await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    // Tokens are for the API: pages still want a login.
    assert_refused(&fx.get(&script, "/").await, "/", "a token on a page");

    let browser = fx.logged_in(&Browser::default()).await;
    let reply = fx.get(&browser, "/api/v1/me").await;
    assert_eq!(reply.json(), serde_json::json!({"user": "ann", "token": null}));
    let post = fx.send(&browser, Method::POST, "/api/v1/me", "").await;
    assert_eq!(
        post.status,
        StatusCode::FORBIDDEN,
        "a session needs its CSRF token"
    );
    assert!(post.json()["error"].as_str().unwrap().contains("CSRF"));

    assert!(fx.store().revoke_api_token("ci").unwrap());
    let reply = fx.get(&script, "/api/v1/me").await;
    assert_refused(&reply, "/api/v1/me", "a revoked token");
    assert!(reply.json()["error"].as_str().unwrap().contains("not valid"));
    // A bad token is refused even next to a good session: the script learns it is wrong.
    let both = browser.with_header("authorization", &format!("Bearer {token}"));
    assert_eq!(fx.get(&both, "/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn failed_logins_are_limited_per_user_name_and_per_address() {
    let fx = Fixture::new(|state| state);
    let laptop = Browser::from("192.0.2.10:40000");
    for _ in 0..5 {
        let (_, reply) = fx.login(&laptop, "ann", "not the password").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let (_, reply) = fx.login(&Browser::from("198.51.100.7:1"), "ann", PASSWORD).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password, from anywhere"
    );
    assert!(reply.set_cookie("inroad_session").is_none());
    let wait: i64 = reply.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=15 * 60).contains(&wait), "{wait}");
    assert!(reply.body.contains("Too many failed logins"), "{}", reply.body);

    // Guessing at many names from one address.
    let fx = Fixture::new(|state| state);
    for n in 0..5 {
        let (_, reply) = fx.login(&laptop, &format!("user{n}"), "guess").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let (_, reply) = fx.login(&laptop, "ann", PASSWORD).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the address is blocked"
    );
    let (_, reply) = fx
        .login(&Browser::from("192.0.2.11:40000"), "ann", PASSWORD)
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "another address is not");
}

#[tokio::test]
async fn behind_a_proxy_the_forwarded_address_counts() {
    let fx = Fixture::new(|state| state.behind_proxy(true));
    // Everyone arrives from the proxy on loopback; only X-Forwarded-For tells them apart.
    let proxy = Browser::from("127.0.0.1:50000");
    let attacker = proxy.clone().with_header("x-forwarded-for", "203.0.113.9");
    for n in 0..5 {
        let (_, reply) = fx.login(&attacker, &format!("user{n}"), "guess").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let (_, reply) = fx.login(&attacker, "ann", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    // A spoofed first entry does not help: the proxy's own (last) entry counts.
    let spoofing = proxy
        .clone()
        .with_header("x-forwarded-for", "10.0.0.1, 203.0.113.9");
    assert_eq!(
        fx.login(&spoofing, "ann", PASSWORD).await.1.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    let user = proxy.with_header("x-forwarded-for", "198.51.100.20");
    assert_eq!(
        fx.login(&user, "ann", PASSWORD).await.1.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn cookies_are_secure_exactly_when_the_request_came_over_https() {
    let https = Browser::default().with_header("x-forwarded-proto", "https");
    let http = Browser::default().with_header("x-forwarded-proto", "http");
    let cases = [
        (
            "X-Forwarded-Proto without --behind-proxy",
            Fixture::new(|s| s),
            &https,
            false,
        ),
        (
            "--behind-proxy, https",
            Fixture::new(|s| s.behind_proxy(true)),
            &https,
            true,
        ),
        (
            "--behind-proxy, http",
            Fixture::new(|s| s.behind_proxy(true)),
            &http,
            false,
        ),
        (
            "--behind-proxy, no header",
            Fixture::new(|s| s.behind_proxy(true)),
            &Browser::default(),
            false,
        ),
        (
            "--secure-cookies",
            Fixture::new(|s| s.secure_cookies(true)),
            &http,
            true,
        ),
    ];
    for (what, fx, browser, secure) in cases {
        let (_, reply) = fx.login(browser, "ann", PASSWORD).await;
        let session = reply
            .set_cookie("inroad_session")
            .unwrap_or_else(|| panic!("{what}"));
        assert_eq!(session.ends_with("; Secure"), secure, "{what}: {session}");
        let form = fx.get(browser, "/login").await;
        let pre = form.set_cookie("inroad_login").unwrap();
        assert_eq!(pre.ends_with("; Secure"), secure, "{what}: {pre}");
    }
}

/// A lead whose fields try to inject markup, a campaign, and a reply in the inbox.
fn seed_dashboard(store: &mut dyn Store) {
    let mut import = store.begin_import(1).unwrap();
    let lead = inroad_core::Lead {
        email: Some("jo@acme.test".into()),
        first_name: Some("<script>alert(1)</script>".into()),
        last_name: Some("O'Neil".into()),
        company: Some("Acme \"&\" Sons".into()),
        ..inroad_core::Lead::default()
    };
    let id = import.insert(&lead, None).unwrap();
    import.add_to_list("q4", id).unwrap();
    import.commit().unwrap();
    inroad_engine::campaign::create(store, include_str!("../../../examples/campaign.toml")).unwrap();
    store
        .add_event(&inroad_store::NewEvent {
            lead_id: Some(id),
            campaign_id: Some(1),
            kind: "reply".into(),
            subject: Some("Re: <b>hello</b>".into()),
            snippet: Some("Sounds <i>good</i>".into()),
            at: 1_700_000_000,
            ..inroad_store::NewEvent::default()
        })
        .unwrap();
}

#[tokio::test]
async fn every_page_renders_for_a_logged_in_user_and_escapes_what_it_shows() {
    let fx = Fixture::new(|state| state);
    seed_dashboard(fx.store().as_mut());
    let browser = fx.logged_in(&Browser::default()).await;
    for path in [
        "/",
        "/campaigns",
        "/campaigns/1",
        "/leads",
        "/leads?q=%3Cscript&list=q4&status=unchecked&campaign=1&suppressed=no&page=1",
        "/leads/1",
        "/mailboxes",
        "/linkedin",
        "/inbox",
        "/suppressions?q=%3Cx",
        "/suppressions/remove?value=%3Cb%3E%40acme.test",
    ] {
        let page = fx.get(&browser, path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        for raw in ["<script>", "<b>", "<i>"] {
            assert!(
                !page.body.contains(raw),
                "{path} shows {raw} unescaped: {}",
                page.body
            );
        }
    }
    let overview = fx.get(&browser, "/").await;
    assert!(
        overview.body.contains("<svg class=\"chart\" id=\"activity\""),
        "{}",
        overview.body
    );
    assert!(
        overview.body.contains("<title id=\"activity-title\">"),
        "the chart has a text alternative"
    );
    let lead = fx.get(&browser, "/leads/1").await;
    assert!(lead.body.contains("&#60;script&#62;alert(1)"), "{}", lead.body);
    assert!(
        lead.body.contains("reply"),
        "the reply is on the timeline: {}",
        lead.body
    );
    let inbox = fx.get(&browser, "/inbox").await;
    assert!(inbox.body.contains("Sounds &#60;i&#62;good"), "{}", inbox.body);
    for (path, why) in [
        ("/leads?page=0", "not a page number"),
        ("/leads?status=great", "not one of"),
        ("/leads?campaign=abc", "not a campaign id"),
    ] {
        let page = fx.get(&browser, path).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(page.body.contains(why), "{path}: {}", page.body);
    }
    for path in ["/campaigns/99", "/campaigns/x", "/leads/99", "/leads/-1"] {
        assert_eq!(
            fx.get(&browser, path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[tokio::test]
async fn every_state_changing_route_needs_the_csrf_token() {
    let fx = Fixture::new(|state| state);
    seed_dashboard(fx.store().as_mut());
    let browser = fx.logged_in(&Browser::default()).await;
    let changes = [
        (Method::POST, "/logout", ""),
        (Method::POST, "/campaigns/1/status", "status=active"),
        (Method::POST, "/linkedin/tasks/1", "outcome=done"),
        (Method::POST, "/inbox/1/handled", ""),
        (Method::POST, "/suppressions", "value=jo%40acme.test"),
        (Method::POST, "/suppressions/remove", "value=jo%40acme.test"),
        (Method::POST, "/api/v1/linkedin/tasks/1/done", ""),
        (Method::POST, "/api/v1/suppressions", ""),
        (Method::DELETE, "/api/v1/suppressions", ""),
    ];
    for (method, path, body) in changes {
        for csrf in ["", "&csrf=wrong"] {
            let reply = fx
                .send(&browser, method.clone(), path, &format!("{body}{csrf}"))
                .await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{method} {path} {csrf:?}: {}",
                reply.body
            );
        }
    }
    assert!(
        fx.store().suppressions().unwrap().is_empty(),
        "nothing was suppressed"
    );
    assert_eq!(fx.store().campaigns().unwrap()[0].status, "draft");

    // With the token, the same forms do their work and send the browser back (303).
    let csrf = fx.csrf(&browser).await;
    let body = form_body(&[("csrf", &csrf), ("value", "jo@acme.test"), ("reason", "asked")]);
    let reply = fx.send(&browser, Method::POST, "/suppressions", &body).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(fx.store().suppressions().unwrap()[0].value, "jo@acme.test");
    let body = form_body(&[("csrf", &csrf), ("value", "jo@acme.test")]);
    let reply = fx
        .send(&browser, Method::POST, "/suppressions/remove", &body)
        .await;
    assert_eq!(
        reply.location(),
        Some("/suppressions?notice=removed"),
        "{}",
        reply.body
    );
    assert!(fx.store().suppressions().unwrap().is_empty());
    let body = form_body(&[("csrf", &csrf)]);
    let reply = fx.send(&browser, Method::POST, "/inbox/1/handled", &body).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(
        fx.store().inbox(i64::MAX, 10).unwrap().is_empty(),
        "the reply is handled"
    );
    let body = form_body(&[("csrf", &csrf), ("value", "not an address")]);
    let reply = fx.send(&browser, Method::POST, "/suppressions", &body).await;
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "a bad value is a clear error: {}",
        reply.body
    );
}

#[tokio::test]
async fn the_openapi_document_describes_every_api_route() {
    let fx = Fixture::new(|state| state);
    seed_dashboard(fx.store().as_mut());
    let token = inroad_engine::auth::create_token(fx.store().as_mut(), "ci", 0).unwrap();
    let script = Browser::default().with_header("authorization", &format!("Bearer {token}"));
    let doc = fx.get(&script, "/api/v1/openapi.json").await.json();
    assert_eq!(doc["openapi"], "3.0.3");
    let described = doc["paths"].as_object().expect("paths");
    let routed: Vec<&str> = protected_paths()
        .into_iter()
        .filter(|p| p.starts_with("/api/"))
        .collect();
    for path in &routed {
        assert!(
            described.contains_key(*path),
            "{path} is routed but not in openapi.json"
        );
    }
    for (path, operations) in described {
        assert!(
            routed.contains(&path.as_str()),
            "{path} is described but not routed"
        );
        for method in operations.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let concrete = path.replace("{id}", "1");
            let reply = fx
                .send(&script, method.clone(), &concrete, "{\"values\": []}")
                .await;
            assert_ne!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                reply.body.starts_with('{'),
                "{method} {path} answers JSON: {}",
                reply.body
            );
        }
    }
    let leads = fx.get(&script, "/api/v1/leads?q=jo&list=q4").await;
    assert_eq!(leads.json()["leads"][0]["email"], "jo@acme.test");
    let bad = fx.get(&script, "/api/v1/leads?page=-2").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.json()["error"].as_str().unwrap().contains("page"));
}

#[tokio::test]
async fn the_mailbox_page_checks_spf_dkim_and_dmarc_on_the_configured_dns() {
    use inroad_testkit::{DnsZone, FakeDns};
    let dns = FakeDns::start(
        DnsZone::new()
            .txt("good.test", "v=spf1 include:_spf.good.test -all")
            .txt(
                "s1._domainkey.good.test",
                "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A",
            )
            .txt("_dmarc.good.test", "v=DMARC1; p=quarantine")
            .txt("bad.test", "v=spf1 +all"),
    );
    let addr = dns.addr();
    let fx = Fixture::new(move |state| state.dns_server(Some(addr)));
    let mut store = fx.store();
    for (name, from, selector) in [
        ("good", "ann@good.test", Some("s1")),
        ("bad", "bo@bad.test", None),
    ] {
        store
            .add_mailbox(&inroad_store::Mailbox {
                id: 0,
                name: name.into(),
                from_name: None,
                from_address: from.into(),
                smtp_host: "127.0.0.1".into(),
                smtp_port: 2525,
                smtp_tls: "none".into(),
                smtp_user: None,
                password_env: None,
                sealed_secret: None,
                daily_cap: 40,
                warmup: Some((15, 2)),
                gap_secs: (60, 120),
                timezone: "Europe/Berlin".into(),
                dkim_selector: selector.map(str::to_owned),
                dkim_key_file: None,
                dkim_domain: None,
                imap_host: None,
                imap_port: None,
                imap_tls: None,
                imap_user: None,
                imap_junk_folder: None,
                paused_reason: None,
            })
            .unwrap();
    }
    let browser = fx.logged_in(&Browser::default()).await;
    let page = fx.get(&browser, "/mailboxes").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Good: SPF, DKIM and DMARC are all published"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("Not ready: SPF, DKIM, DMARC are missing or broken"),
        "{}",
        page.body
    );
    assert!(page.body.contains("warming up"), "{}", page.body);
    assert!(
        dns.query_count("_dmarc.good.test", "TXT") >= 1,
        "asked the fake DNS"
    );
}

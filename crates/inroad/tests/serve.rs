//! `inroad serve` end to end: the link in a message the worker really wrote, followed by
//! a GET (asks, changes nothing) and an RFC 8058 POST (suppresses), after which the next
//! pass sends that lead nothing more; a missing key is refused; SIGTERM stops it cleanly.
//! A user and an API token made with `inroad user` / `inroad token` log in over HTTP, and
//! removing or revoking them shuts them out.

#[path = "support/backend.rs"]
mod backend;
use backend::{inroad, WithDb};

use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStderr, Command};

const CAMPAIGN: &str = r#"
name = "c"
mailboxes = ["m"]
postal_address = "Acme GmbH, Hafenstraße 1, 20457 Hamburg"
unsubscribe_url = "https://unsub.acme.example"
timezone = "UTC"
window = { days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start = "00:00", end = "24:00" }

[[steps]]
subject = "Hello {{ first_name }}"
body = "Hi {{ first_name }}."

[[steps]]
wait_days = 1
body = "Hi {{ first_name }}, following up."
"#;

/// `inroad serve` running in the background; killed if the test fails before it stops.
struct Server {
    child: Child,
    stderr: BufReader<ChildStderr>,
    address: SocketAddr,
}

impl Server {
    /// Starts it on a free loopback port and waits for it to say where it listens.
    fn start(db: &Path) -> Server {
        let (child, stderr, address) = backend::serve(db, &[]);
        Server {
            child,
            stderr,
            address,
        }
    }

    /// One request over a fresh connection: (status, body).
    fn request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let reply = self.exchange(method, path, &[], body);
        (reply.status, reply.body)
    }

    /// One request with extra header lines over a fresh connection.
    fn exchange(&self, method: &str, path: &str, headers: &[String], body: &str) -> Reply {
        let mut stream = TcpStream::connect(self.address).unwrap();
        let extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{extra}\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            self.address,
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").expect("a whole response");
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status");
        Reply {
            status,
            head: head.to_owned(),
            body: body.to_owned(),
        }
    }
}

/// A response as it came over the wire.
struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    /// The value of header `name` (the first, if repeated).
    fn header(&self, name: &str) -> Option<&str> {
        self.head.split("\r\n").find_map(|line| {
            let (key, value) = line.split_once(": ")?;
            key.eq_ignore_ascii_case(name).then_some(value)
        })
    }

    /// The whole `Set-Cookie` line that sets cookie `name`.
    fn set_cookie(&self, name: &str) -> Option<&str> {
        self.head.split("\r\n").find_map(|line| {
            let (key, value) = line.split_once(": ")?;
            (key.eq_ignore_ascii_case("set-cookie") && value.starts_with(&format!("{name}=")))
                .then_some(value)
        })
    }

    /// `name=value` of cookie `name`, ready for a `Cookie` header.
    fn cookie(&self, name: &str) -> String {
        let line = self
            .set_cookie(name)
            .unwrap_or_else(|| panic!("no {name} cookie in {}", self.head));
        line.split(';').next().unwrap().to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Already gone after a clean stop; this only matters when an assertion failed.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The suppressed addresses, as `inroad suppress list --json` gives them.
fn suppressed(db: &Path) -> Vec<String> {
    let out = inroad(db, &["suppress", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    list["suppressions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["value"].as_str().unwrap().to_owned())
        .collect()
}

/// The https link of the one message in `dir`'s List-Unsubscribe header.
fn unsubscribe_link(dir: &Path) -> String {
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let raw = std::fs::read_to_string(&files[0]).unwrap();
    let head = raw.split("\r\n\r\n").next().unwrap().replace("\r\n ", " ");
    let header = head
        .split("\r\n")
        .find_map(|line| line.strip_prefix("List-Unsubscribe: "))
        .expect("a List-Unsubscribe header");
    let start = header.find("<https://").expect("an https link") + 1;
    let end = start + header[start..].find('>').unwrap();
    header[start..end].to_owned()
}

#[test]
fn the_link_in_a_sent_message_unsubscribes_on_post_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inroad.db");
    let leads = dir.path().join("leads.csv");
    std::fs::write(&leads, "Email,First Name\nann@globex.com,Ann\n").unwrap();
    inroad(
        &db,
        &["leads", "import", leads.to_str().unwrap(), "--list", "all"],
    );
    let mailbox = [
        "mailbox",
        "add",
        "m",
        "--from",
        "M <m@acme.example>",
        "--smtp-host",
        "localhost",
    ];
    inroad(&db, &[&mailbox[..], &["--gap", "0"]].concat());
    let file = dir.path().join("c.toml");
    std::fs::write(&file, CAMPAIGN).unwrap();
    inroad(&db, &["campaign", "create", file.to_str().unwrap()]);
    inroad(
        &db,
        &["campaign", "enroll", "c", "--list", "all", "--allow-unverified"],
    );
    inroad(&db, &["campaign", "start", "c"]);
    let out = dir.path().join("out");
    let transport = format!("dir:{}", out.display());
    let sent = |now: &str| {
        let run = inroad(&db, &["run", "--transport", &transport, "--now", now, "--json"]);
        let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        report["sent"].as_u64().unwrap()
    };
    assert_eq!(sent("2026-12-07T09:00:00Z"), 1, "the first step");

    let link = unsubscribe_link(&out);
    let path = link
        .strip_prefix("https://unsub.acme.example")
        .unwrap_or_else(|| panic!("the campaign's unsubscribe_url: {link}"));
    let server = Server::start(&db);

    let (status, page) = server.request("GET", path, "");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("a***@globex.com"), "{page}");
    assert!(suppressed(&db).is_empty(), "a GET never unsubscribes");

    let (status, page) = server.request("POST", path, "List-Unsubscribe=One-Click");
    assert_eq!(status, 200, "{page}");
    assert_eq!(suppressed(&db), ["ann@globex.com"]);
    let (status, _) = server.request("POST", path, "List-Unsubscribe=One-Click");
    assert_eq!(status, 200, "repeating is harmless");
    assert_eq!(suppressed(&db), ["ann@globex.com"]);

    let mut altered = path.to_owned();
    let last = if altered.ends_with('A') { "B" } else { "A" };
    altered.replace_range(altered.len() - 1.., last);
    assert_eq!(
        server.request("POST", &altered, "List-Unsubscribe=One-Click"),
        (404, "Not found\n".into())
    );

    assert_eq!(sent("2026-12-09T09:00:00Z"), 0, "the follow-up is not sent");
    let show = inroad(&db, &["campaign", "show", "c", "--json"]);
    let show: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(show["by_state"]["unsubscribed"], 1, "{show}");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1, "still one message");

    stop_with_sigterm(server);
}

/// SIGTERM lets the server finish and exit 0.
fn stop_with_sigterm(mut server: Server) {
    let pid = server.child.id().to_string();
    let kill = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(kill.success());
    let status = server.child.wait().unwrap();
    let mut rest = String::new();
    server.stderr.read_to_string(&mut rest).unwrap();
    assert!(status.success(), "{status}: {rest}");
}

#[test]
fn serve_refuses_to_start_without_the_key_run_uses() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inroad.db");
    let out = Command::new(env!("CARGO_BIN_EXE_inroad"))
        .db(&db)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--key-file"), "{stderr}");
    assert!(!dir.path().join("inroad.db.key").exists(), "no key is made up");
}

#[test]
fn a_user_made_on_the_command_line_logs_in_and_a_token_reads_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inroad.db");
    std::fs::write(dir.path().join("inroad.db.key"), [7u8; 32]).unwrap();
    let user_add = |password: &str| {
        Command::new(env!("CARGO_BIN_EXE_inroad"))
            .db(&db)
            .args(["user", "add", "ann", "--password-env", "INROAD_TEST_PASSWORD"])
            .env("INROAD_TEST_PASSWORD", password)
            .output()
            .unwrap()
    };
    let short = user_add("too short");
    assert_eq!(short.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&short.stderr);
    assert!(stderr.contains("at least 12 characters"), "{stderr}");
    assert!(user_add("correct-horse-battery").status.success());
    let users = inroad(&db, &["user", "list", "--json"]);
    let users: serde_json::Value = serde_json::from_slice(&users.stdout).unwrap();
    assert_eq!(users["users"][0]["name"], "ann", "{users}");
    let created = inroad(&db, &["token", "create", "ci", "--json"]);
    let created: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    let token = created["token"].as_str().unwrap().to_owned();

    let server = Server::start(&db);
    let anonymous = server.exchange("GET", "/", &[], "");
    assert_eq!(
        (anonymous.status, anonymous.header("location")),
        (303, Some("/login"))
    );

    let form = server.exchange("GET", "/login", &[], "");
    assert_eq!(form.status, 200, "{}", form.body);
    let start = form.body.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = &form.body[start..start + form.body[start..].find('"').unwrap()];
    let pre_login = format!("Cookie: {}", form.cookie("inroad_login"));
    let body = format!("csrf={csrf}&user=ann&password=correct-horse-battery");
    let login = server.exchange("POST", "/login", std::slice::from_ref(&pre_login), &body);
    assert_eq!(
        (login.status, login.header("location")),
        (303, Some("/")),
        "{}",
        login.body
    );
    let cookie = login.set_cookie("inroad_session").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = format!("Cookie: {}", login.cookie("inroad_session"));

    let overview = server.exchange("GET", "/", std::slice::from_ref(&session), "");
    assert_eq!(overview.status, 200, "{}", overview.body);
    assert!(
        overview.body.contains("<strong>ann</strong>"),
        "{}",
        overview.body
    );

    let bearer = [format!("Authorization: Bearer {token}")];
    let me = server.exchange("GET", "/api/v1/me", &bearer, "");
    assert_eq!(me.status, 200, "{}", me.body);
    let me: serde_json::Value = serde_json::from_str(&me.body).unwrap();
    assert_eq!(me, serde_json::json!({"user": null, "token": "ci"}));

    inroad(&db, &["token", "revoke", "ci"]);
    assert_eq!(server.exchange("GET", "/api/v1/me", &bearer, "").status, 401);
    inroad(&db, &["user", "remove", "ann"]);
    let after = server.exchange("GET", "/", &[session], "");
    assert_eq!(
        (after.status, after.header("location")),
        (303, Some("/login")),
        "sessions ended"
    );

    stop_with_sigterm(server);
}

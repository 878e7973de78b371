//! The dashboard in a real browser: headless Chromium, driven through chromedriver by
//! fantoccini, against the real `inroad serve` on a database seeded through the CLI.
//! It logs in, sees the overview's chart, opens a campaign (funnel and forecast), marks a
//! LinkedIn task done and suppresses an address — then checks with the CLI that each
//! change was recorded.
//! Screenshots land in target/dashboard-screenshots/ as artifacts.
//!
//! Everything talks over loopback: chromedriver on a free port, `inroad serve` on port 0,
//! and the mailbox page's DNS pointed at a fake server.

#[path = "support/backend.rs"]
mod backend;
use backend::{inroad, json, WithDb};

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use inroad_testkit::{DnsZone, FakeDns};

const PASSWORD: &str = "correct horse battery";

const CAMPAIGN: &str = r#"
name = "Q4 logistics"
mailboxes = ["main"]
linkedin_accounts = ["anna"]
postal_address = "Acme GmbH, Hafenstraße 1, 20457 Hamburg"
unsubscribe_url = "https://unsub.acme.example"
timezone = "UTC"
window = { days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start = "00:00", end = "24:00" }

[[steps]]
channel = "linkedin_connect"
note = "Hi {{ first_name }}, fellow logistics person here."

[[steps]]
wait_days = 2
subject = "Return runs at {{ company }}"
body = "Hi {{ first_name }}, a question."
"#;

/// A child process killed when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls until something accepts connections at `addr`, for at most 20 s.
fn wait_for_listener(addr: SocketAddr, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(addr).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not start listening on {addr}"
        );
        std::thread::yield_now();
    }
}

/// A database with leads, a mailbox, a LinkedIn account, an active campaign whose first
/// step is a LinkedIn invitation (handed to the task list by one worker pass) and a user.
fn seed(dir: &Path) -> PathBuf {
    let db = dir.join("inroad.db");
    let csv = dir.join("leads.csv");
    let mut rows = String::from("Email,First Name,Last Name,Company,LinkedIn URL\n");
    for i in 0..5 {
        rows.push_str(&format!(
            "p{i}@corp{i}.com,Pat{i},Lee,Corp {i},https://www.linkedin.com/in/pat-{i}\n"
        ));
    }
    std::fs::write(&csv, rows).unwrap();
    inroad(&db, &["leads", "import", csv.to_str().unwrap(), "--list", "q4"]);
    inroad(
        &db,
        &[
            "mailbox",
            "add",
            "main",
            "--from",
            "Ann <ann@acme.test>",
            "--smtp-host",
            "localhost",
            "--daily-cap",
            "40",
            "--warmup",
            "15:2",
        ],
    );
    inroad(
        &db,
        &[
            "linkedin",
            "account",
            "add",
            "anna",
            "--plan",
            "sales-navigator",
            "--timezone",
            "UTC",
        ],
    );
    let file = dir.join("campaign.toml");
    std::fs::write(&file, CAMPAIGN).unwrap();
    inroad(&db, &["campaign", "create", file.to_str().unwrap()]);
    inroad(
        &db,
        &["campaign", "enroll", "1", "--list", "q4", "--allow-unverified"],
    );
    inroad(&db, &["campaign", "start", "1"]);
    let out = format!("dir:{}", dir.join("out").display());
    inroad(&db, &["run", "--once", "--transport", &out]);
    let mut add = Command::new(env!("CARGO_BIN_EXE_inroad"))
        .db(&db)
        .args(["user", "add", "ann", "--password-stdin"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(add.stdin.as_mut().unwrap(), format!("{PASSWORD}\n").as_bytes()).unwrap();
    assert!(add.wait().unwrap().success());
    db
}

/// `inroad serve` on a free port, its DNS at `dns`; returns it and its address.
fn serve(db: &Path, dns: SocketAddr) -> (Killed, SocketAddr) {
    let (child, mut stderr, address) = backend::serve(db, &["--dns", &dns.to_string()]);
    // Keep reading its log so that the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    (Killed(child), address)
}

/// chromedriver on a free loopback port, and a headless Chromium session through it.
async fn browser() -> (Killed, Client) {
    let port = free_port();
    let driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver runs (Debian package chromium-driver; scripts/test installs it)");
    let driver = Killed(driver);
    wait_for_listener(SocketAddr::from(([127, 0, 0, 1], port)), "chromedriver");
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,1000", "--no-first-run", "--disable-extensions"],
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session");
    (driver, client)
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/dashboard-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_logs_in_sees_the_overview_works_a_task_and_suppresses_an_address() {
    let dir = tempfile::tempdir().unwrap();
    let db = seed(dir.path());
    let tasks = json(inroad(&db, &["linkedin", "tasks", "--json"]));
    let task_id = tasks["tasks"][0]["id"].as_i64().expect("a LinkedIn task today");
    let dns = FakeDns::start(
        DnsZone::new()
            .txt("acme.test", "v=spf1 include:_spf.acme.test -all")
            .txt("_dmarc.acme.test", "v=DMARC1; p=none"),
    );
    let (_server, address) = serve(&db, dns.addr());
    let base = format!("http://{address}");
    let (_driver, client) = browser().await;

    // Logging in.
    client.goto(&format!("{base}/")).await.unwrap();
    let form = client.form(Locator::Css("form.login")).await.unwrap();
    form.set_by_name("user", "ann").await.unwrap();
    form.set_by_name("password", PASSWORD).await.unwrap();
    form.submit().await.unwrap();
    let chart = client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("svg#activity"))
        .await
        .expect("the overview's chart after logging in");
    assert!(
        chart.html(false).await.unwrap().contains("<title"),
        "the chart has a title"
    );
    let heading = client
        .find(Locator::Css("main h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(heading, "Overview");
    screenshot(&client, "overview").await;

    // A campaign, opened from the list.
    client.goto(&format!("{base}/campaigns")).await.unwrap();
    client
        .find(Locator::LinkText("Q4 logistics"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let funnel = client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("svg#funnel"))
        .await
        .expect("the campaign's funnel");
    assert!(funnel.html(false).await.unwrap().contains("Enrolled"));
    // The forecast, planned against done, beside it.
    let forecast = client
        .find(Locator::Css("svg#forecast"))
        .await
        .expect("the campaign's forecast chart");
    assert!(forecast
        .html(false)
        .await
        .unwrap()
        .contains("Planned against done"));
    screenshot(&client, "campaign").await;

    // Today's LinkedIn task, marked done with its button.
    client.goto(&format!("{base}/linkedin")).await.unwrap();
    let profile = client
        .find(Locator::Css(&format!("#task-{task_id} a[target=_blank]")))
        .await
        .unwrap();
    assert_eq!(
        profile.attr("rel").await.unwrap().as_deref(),
        Some("noopener noreferrer")
    );
    screenshot(&client, "linkedin").await;
    client
        .find(Locator::Css(&format!("#task-{task_id} button[value=done]")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("the task is recorded");
    let accounts = json(inroad(&db, &["linkedin", "account", "list", "--json"]));
    assert_eq!(
        accounts["accounts"][0]["invitations_last_7_days"], 1,
        "the invitation counts against the budget: {accounts}"
    );

    // A suppression, added through the form.
    client.goto(&format!("{base}/suppressions")).await.unwrap();
    let form = client.form(Locator::Css("form.inline")).await.unwrap();
    form.set_by_name("value", "jo@competitor.test").await.unwrap();
    form.set_by_name("reason", "asked in a reply").await.unwrap();
    form.submit().await.unwrap();
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("the suppression is confirmed");
    screenshot(&client, "suppressions").await;
    let list = json(inroad(&db, &["suppress", "list", "--json"]));
    assert_eq!(list["suppressions"][0]["value"], "jo@competitor.test", "{list}");

    // The mailbox page reads the fake DNS: SPF and DMARC found, DKIM has no selector.
    client.goto(&format!("{base}/mailboxes")).await.unwrap();
    let verdict = client
        .find(Locator::Css("p.verdict"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(verdict.starts_with("Not ready: DKIM"), "{verdict}");
    screenshot(&client, "mailboxes").await;
    client.close().await.unwrap();
}

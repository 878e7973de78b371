//! FakeMx driven by a plain blocking SMTP client over real TCP.

mod common;

use std::io;
use std::net::{Ipv4Addr, TcpStream};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use common::{Client, Reply};
use inroad_testkit::{FakeMx, HostScript, Script};

const A: Ipv4Addr = Ipv4Addr::new(127, 0, 1, 1);
const B: Ipv4Addr = Ipv4Addr::new(127, 0, 1, 2);
const C: Ipv4Addr = Ipv4Addr::new(127, 0, 1, 3);

fn acme() -> FakeMx {
    FakeMx::builder()
        .hosts(&[A, B])
        .domain("acme.test", Script::known(["ann", "bob"]))
        .start()
}

fn texts(replies: &[Reply]) -> Vec<&str> {
    replies.iter().map(Reply::text).collect()
}

#[test]
fn speaks_smtp_and_advertises_pipelining() {
    let mx = acme();
    let mut client = Client::connect(mx.addr(A)).unwrap();
    let greeting = client.read_reply().unwrap();
    assert_eq!(greeting.text(), "220 mx.fake.test ESMTP Inroad fake MX");
    let ehlo = client.cmd("EHLO probe.test");
    assert_eq!(ehlo.code, 250);
    assert_eq!(ehlo.lines[0], "250-mx.fake.test");
    assert!(ehlo.lines.iter().any(|l| &l[4..] == "PIPELINING"), "{ehlo:?}");
    assert!(
        ehlo.lines.iter().any(|l| &l[4..] == "ENHANCEDSTATUSCODES"),
        "{ehlo:?}"
    );
    assert_eq!(client.cmd("NOOP").text(), "250 2.0.0 Ok");
    assert_eq!(client.cmd("MAIL FROM:<bounce@probe.test>").text(), "250 2.1.0 Ok");
    assert_eq!(client.cmd("DATA").code, 554);
    client.quit();
}

#[test]
fn helo_and_protocol_errors() {
    let mx = FakeMx::builder()
        .host(A, HostScript::normal().no_ehlo())
        .domain("acme.test", Script::known(["ann"]))
        .start();
    let mut client = Client::open(mx.addr(A));
    assert_eq!(
        client.cmd("MAIL FROM:<x@probe.test>").text(),
        "503 5.5.1 Error: send HELO/EHLO first"
    );
    assert_eq!(client.cmd("EHLO probe.test").code, 502);
    assert_eq!(client.cmd("HELO probe.test").text(), "250 mx.fake.test");
    assert_eq!(
        client.rcpt("ann@acme.test").text(),
        "503 5.5.1 Error: need MAIL command"
    );
    assert_eq!(client.cmd("MAIL FROM:<>").text(), "250 2.1.0 Ok");
    assert_eq!(
        client.cmd("MAIL FROM:<x@probe.test>").text(),
        "503 5.5.1 Error: nested MAIL command"
    );
    assert_eq!(
        client.cmd("RCPT TO:<nobody>").text(),
        "501 5.1.3 Bad recipient address syntax"
    );
    assert_eq!(client.cmd("RCPT <ann@acme.test>").code, 501);
    assert_eq!(client.cmd("rcpt to: <ANN@ACME.TEST>").text(), "250 2.1.5 OK");
    assert_eq!(client.cmd("VRFY ann").code, 502);
    assert_eq!(
        client.cmd("XYZZY").text(),
        "502 5.5.2 Error: command not recognized"
    );
    assert_eq!(client.cmd("RSET").text(), "250 2.0.0 Ok");
    assert_eq!(client.rcpt("ann@acme.test").code, 503);
    client.quit();
}

#[test]
fn known_users_accepted_others_rejected_with_5_1_1() {
    let mx = acme();
    let mut client = Client::ready(mx.addr(B));
    assert_eq!(client.rcpt("ann@acme.test").text(), "250 2.1.5 OK");
    assert_eq!(client.rcpt("Bob@Acme.Test").text(), "250 2.1.5 OK");
    assert_eq!(
        client.rcpt("zed@acme.test").text(),
        "550 5.1.1 <zed@acme.test>: Recipient address rejected: User unknown"
    );
    // Domains without a script are not this host's business.
    assert_eq!(
        client.rcpt("ann@other.test").text(),
        "554 5.7.1 <ann@other.test>: Relay access denied"
    );
    client.quit();
}

#[test]
fn catch_all_accepts_everything() {
    let mx = FakeMx::builder()
        .hosts(&[A])
        .domain("catch.test", Script::catch_all())
        .start();
    let mut client = Client::ready(mx.addr(A));
    for local in ["ann", "x7f3k2q9", "postmaster"] {
        assert_eq!(client.rcpt(&format!("{local}@catch.test")).text(), "250 2.1.5 OK");
    }
    client.quit();
}

#[test]
fn greylisting_is_deterministic_and_spans_sessions() {
    let mx = FakeMx::builder()
        .hosts(&[A, B])
        .domain("grey.test", Script::known(["ann"]).greylist(2))
        .start();
    let greylisted = "451 4.7.1 Greylisted, try again later";
    let mut first = Client::ready(mx.addr(A));
    assert_eq!(first.rcpt("ann@grey.test").text(), greylisted);
    assert_eq!(first.rcpt("zed@grey.test").text(), greylisted);
    first.quit();
    // Another session on another host of the same server shares the greylist.
    let mut second = Client::ready(mx.addr(B));
    assert_eq!(second.rcpt("ann@grey.test").text(), greylisted);
    assert_eq!(second.rcpt("ann@grey.test").text(), "250 2.1.5 OK");
    assert_eq!(second.rcpt("zed@grey.test").text(), greylisted);
    assert_eq!(second.rcpt("zed@grey.test").code, 550);
    second.quit();
    let stats = mx.stats();
    assert_eq!(stats.rcpts_for("ann@grey.test"), 3);
    assert_eq!(stats.rcpts_for("ZED@grey.test"), 3);
}

#[test]
fn microsoft_style_rejection() {
    let mx = FakeMx::builder()
        .hosts(&[A])
        .domain("contoso.test", Script::microsoft(["ann"]))
        .start();
    let mut client = Client::ready(mx.addr(A));
    assert_eq!(client.rcpt("ann@contoso.test").text(), "250 2.1.5 OK");
    assert_eq!(
        client.rcpt("zed@contoso.test").text(),
        "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)"
    );
    client.quit();
}

#[test]
fn per_address_replies_and_fixed_replies() {
    let mx = FakeMx::builder()
        .hosts(&[A])
        .domain(
            "acme.test",
            Script::known(["ann", "full"]).with_reply("full", "452 4.2.2 Mailbox full"),
        )
        .domain("gone.test", Script::reply("550 5.2.1 <{addr}>: Mailbox disabled"))
        .start();
    let mut client = Client::ready(mx.addr(A));
    assert_eq!(client.rcpt("full@acme.test").text(), "452 4.2.2 Mailbox full");
    assert_eq!(
        client.rcpt("ann@gone.test").text(),
        "550 5.2.1 <ann@gone.test>: Mailbox disabled"
    );
    client.quit();
}

#[test]
fn policy_block_per_domain_and_per_host() {
    let block = "554 5.7.1 Service unavailable; Client host blocked using zen.spamhaus.org";
    let mx = FakeMx::builder()
        .hosts(&[A])
        .host(B, HostScript::normal().policy_block())
        .domain("acme.test", Script::known(["ann"]))
        .domain("blocked.test", Script::policy_block())
        .start();
    let mut client = Client::ready(mx.addr(A));
    assert_eq!(client.rcpt("ann@blocked.test").text(), block);
    assert_eq!(client.rcpt("ann@acme.test").text(), "250 2.1.5 OK");
    client.quit();
    let mut client = Client::ready(mx.addr(B));
    assert_eq!(client.rcpt("ann@acme.test").text(), block);
    client.quit();
}

#[test]
fn busy_host_says_421_at_greeting_and_closes() {
    let mx = FakeMx::builder().hosts(&[A]).host(B, HostScript::busy()).start();
    let mut client = Client::connect(mx.addr(B)).unwrap();
    assert_eq!(
        client.read_reply().unwrap().text(),
        "421 4.7.0 Too many connections"
    );
    assert!(client.closed_by_server());
    assert!(mx.wait_idle(Duration::from_secs(10)));
    assert_eq!(mx.stats().connections_to(B), 1);
}

#[test]
fn too_many_rcpts_in_a_session_gets_421_and_disconnect() {
    let mx = FakeMx::builder()
        .hosts(&[A])
        .max_rcpts_per_session(2)
        .domain("acme.test", Script::known(["ann"]))
        .start();
    let mut client = Client::ready(mx.addr(A));
    assert_eq!(client.rcpt("ann@acme.test").code, 250);
    assert_eq!(client.rcpt("zed@acme.test").code, 550);
    assert_eq!(
        client.rcpt("ann@acme.test").text(),
        "421 4.7.0 Too many connections"
    );
    assert!(client.closed_by_server());
    assert_eq!(mx.stats().max_rcpts_per_session, 3);
}

#[test]
fn concurrency_limit_per_host_answers_421() {
    let mx = FakeMx::builder()
        .host(A, HostScript::normal().max_concurrent(1))
        .start();
    let first = Client::open(mx.addr(A));
    let mut second = Client::connect(mx.addr(A)).unwrap();
    assert_eq!(
        second.read_reply().unwrap().text(),
        "421 4.7.0 Too many connections"
    );
    assert!(second.closed_by_server());
    first.quit();
    assert!(mx.wait_idle(Duration::from_secs(10)));
    // Once the first session is gone a new one is welcome.
    Client::open(mx.addr(A)).quit();
    let stats = mx.stats();
    assert_eq!(stats.connections_to(A), 3);
    assert_eq!(stats.peak_concurrent_on(A), 2);
}

#[test]
fn refusing_and_closing_hosts() {
    let mx = FakeMx::builder()
        .hosts(&[A])
        .host(B, HostScript::refuse())
        .host(C, HostScript::close_on_accept())
        .start();
    let refused = TcpStream::connect(mx.addr(B)).unwrap_err();
    assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
    let mut closed = Client::connect(mx.addr(C)).unwrap();
    assert!(closed.closed_by_server());
    Client::open(mx.addr(A)).quit();
    assert!(mx.wait_idle(Duration::from_secs(10)));
    let stats = mx.stats();
    assert_eq!(stats.connections, 2);
    assert_eq!(stats.connections_to(B), 0);
    assert_eq!(stats.connections_to(C), 1);
    assert_eq!(mx.hosts(), [A, B, C]);
}

#[test]
fn hanging_host_never_greets() {
    let mx = FakeMx::builder().host(A, HostScript::hang()).start();
    let mut client = Client::connect(mx.addr(A)).unwrap();
    // A client-side timeout, which is what this mode exists to exercise.
    client.set_read_timeout(Duration::from_millis(200));
    let err = client.read_reply().unwrap_err();
    assert!(
        matches!(err.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut),
        "{err:?}"
    );
    client.send(&["EHLO probe.test"]);
    drop(client);
    assert!(mx.wait_idle(Duration::from_secs(10)));
    assert_eq!(mx.stats().sessions, vec![vec!["EHLO probe.test".to_string()]]);
}

#[test]
fn hanging_rcpt_never_answers() {
    let mx = FakeMx::builder()
        .hosts(&[A])
        .domain("slow.test", Script::hang())
        .start();
    let mut client = Client::ready(mx.addr(A));
    client.send(&["RCPT TO:<ann@slow.test>"]);
    client.set_read_timeout(Duration::from_millis(200));
    let err = client.read_reply().unwrap_err();
    assert!(
        matches!(err.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut),
        "{err:?}"
    );
    drop(client);
    assert!(mx.wait_idle(Duration::from_secs(10)));
    assert_eq!(mx.stats().rcpts, 1);
}

#[test]
fn pipelined_commands_are_answered_in_order() {
    let mx = FakeMx::builder()
        .hosts(&[A])
        .delay(Duration::from_millis(5))
        .domain("acme.test", Script::known(["ann", "bob"]))
        .start();
    let mut client = Client::open(mx.addr(A));
    assert_eq!(client.cmd("EHLO probe.test").code, 250);
    let replies = client.pipeline(&[
        "MAIL FROM:<bounce@probe.test>",
        "RCPT TO:<ann@acme.test>",
        "RCPT TO:<zed@acme.test>",
        "RSET",
        "MAIL FROM:<bounce@probe.test>",
        "RCPT TO:<bob@acme.test>",
        "RSET",
    ]);
    assert_eq!(
        texts(&replies),
        [
            "250 2.1.0 Ok",
            "250 2.1.5 OK",
            "550 5.1.1 <zed@acme.test>: Recipient address rejected: User unknown",
            "250 2.0.0 Ok",
            "250 2.1.0 Ok",
            "250 2.1.5 OK",
            "250 2.0.0 Ok",
        ]
    );
    client.quit();
    let stats = mx.stats();
    assert!(stats.pipelined_commands > 0);
    assert_eq!(stats.improper_pipelining, 0);
}

#[test]
fn host_without_pipelining_flags_clients_that_pipeline() {
    let mx = FakeMx::builder()
        .host(A, HostScript::normal().pipelining(false))
        .domain("acme.test", Script::known(["ann"]))
        .start();
    let mut polite = Client::open(mx.addr(A));
    let ehlo = polite.cmd("EHLO probe.test");
    assert!(!ehlo.lines.iter().any(|l| l.contains("PIPELINING")), "{ehlo:?}");
    assert_eq!(polite.cmd("MAIL FROM:<b@probe.test>").code, 250);
    assert_eq!(polite.rcpt("ann@acme.test").code, 250);
    polite.quit();
    assert_eq!(mx.stats().improper_pipelining, 0);

    let mut rude = Client::open(mx.addr(A));
    assert_eq!(rude.cmd("EHLO probe.test").code, 250);
    let replies = rude.pipeline(&["MAIL FROM:<b@probe.test>", "RCPT TO:<ann@acme.test>"]);
    assert_eq!(texts(&replies), ["250 2.1.0 Ok", "250 2.1.5 OK"]);
    rude.quit();
    assert!(mx.stats().improper_pipelining > 0);
}

#[test]
fn slow_replies_still_answer_correctly() {
    let mx = FakeMx::builder()
        .hosts(&[A])
        .host(B, HostScript::normal().delay(Duration::from_millis(25)))
        .domain("acme.test", Script::known(["ann"]))
        .start();
    let mut client = Client::ready(mx.addr(B));
    assert_eq!(client.rcpt("ann@acme.test").code, 250);
    assert_eq!(client.rcpt("zed@acme.test").code, 550);
    client.quit();
}

#[test]
fn counters_and_command_log() {
    let mx = acme();
    let mut one = Client::ready(mx.addr(A));
    let replies = one.pipeline(&["RCPT TO:<ann@acme.test>", "RCPT TO:<zed@acme.test>", "RSET"]);
    assert_eq!(replies[2].code, 250);
    assert_eq!(one.cmd("MAIL FROM:<bounce@probe.test>").code, 250);
    assert_eq!(one.rcpt("bob@acme.test").code, 250);
    one.quit();
    let mut two = Client::ready(mx.addr(B));
    assert_eq!(two.rcpt("ann@acme.test").code, 250);
    two.quit();

    let stats = mx.stats();
    assert_eq!(stats.connections, 2);
    assert_eq!(stats.connections_to(A), 1);
    assert_eq!(stats.connections_to(B), 1);
    assert_eq!(stats.rcpts, 4);
    assert_eq!(stats.rcpts_per_session, [3, 1]);
    assert_eq!(stats.max_rcpts_per_session, 3);
    assert_eq!(stats.mail_froms, 3);
    assert_eq!(stats.rsets, 1);
    assert_eq!(stats.quits, 2);
    assert_eq!(stats.rcpts_for("ann@acme.test"), 2);
    assert_eq!(stats.session_hosts, [A, B]);
    assert_eq!(
        stats.sessions,
        [
            vec![
                "EHLO probe.test",
                "MAIL FROM:<bounce@probe.test>",
                "RCPT TO:<ann@acme.test>",
                "RCPT TO:<zed@acme.test>",
                "RSET",
                "MAIL FROM:<bounce@probe.test>",
                "RCPT TO:<bob@acme.test>",
                "QUIT",
            ],
            vec![
                "EHLO probe.test",
                "MAIL FROM:<bounce@probe.test>",
                "RCPT TO:<ann@acme.test>",
                "QUIT"
            ],
        ]
    );
}

/// `b64("\0ann@acme.test\0s3cret")`, as AUTH PLAIN sends it.
fn plain(user: &str, password: &str) -> String {
    BASE64.encode(format!("\0{user}\0{password}"))
}

fn submission() -> FakeMx {
    FakeMx::builder()
        .host(A, HostScript::normal().auth("ann@acme.test", "s3cret"))
        .domain("globex.test", Script::catch_all())
        .start()
}

#[test]
fn auth_is_offered_only_when_scripted_and_required_before_mail() {
    let mx = submission();
    let mut client = Client::open(mx.addr(A));
    let ehlo = client.cmd("EHLO client.test");
    assert!(
        ehlo.lines.iter().any(|l| &l[4..] == "AUTH PLAIN LOGIN"),
        "{ehlo:?}"
    );
    assert_eq!(
        client.cmd("MAIL FROM:<ann@acme.test>").text(),
        "530 5.7.0 Authentication required"
    );
    assert_eq!(client.cmd("AUTH CRAM-MD5").code, 504);
    let ok = client.cmd(&format!("AUTH PLAIN {}", plain("ann@acme.test", "s3cret")));
    assert_eq!(ok.text(), "235 2.7.0 Authentication successful");
    assert_eq!(client.cmd("MAIL FROM:<ann@acme.test>").code, 250);
    assert_eq!(client.rcpt("bob@globex.test").code, 250);
    client.quit();

    let plain_mx = acme();
    let mut client = Client::open(plain_mx.addr(A));
    let ehlo = client.cmd("EHLO client.test");
    assert!(!ehlo.lines.iter().any(|l| l.contains("AUTH")), "{ehlo:?}");
    assert_eq!(client.cmd("AUTH PLAIN AGFubgB4").code, 502);
    client.quit();
}

#[test]
fn auth_plain_in_two_steps_and_auth_login() {
    let mx = submission();
    let mut client = Client::open(mx.addr(A));
    assert_eq!(client.cmd("EHLO client.test").code, 250);
    assert_eq!(client.cmd("AUTH PLAIN").text(), "334 ");
    assert_eq!(
        client.cmd(&plain("ann@acme.test", "s3cret")).text(),
        "235 2.7.0 Authentication successful"
    );
    assert_eq!(client.cmd("AUTH LOGIN").code, 503, "already authenticated");
    client.quit();

    let mut client = Client::open(mx.addr(A));
    assert_eq!(client.cmd("EHLO client.test").code, 250);
    assert_eq!(client.cmd("AUTH LOGIN").text(), "334 VXNlcm5hbWU6");
    assert_eq!(
        client.cmd(&BASE64.encode("ann@acme.test")).text(),
        "334 UGFzc3dvcmQ6"
    );
    assert_eq!(client.cmd(&BASE64.encode("s3cret")).code, 235);
    client.quit();

    let stats = mx.stats();
    assert_eq!((stats.auth_successes, stats.auth_failures), (2, 0));
}

#[test]
fn wrong_credentials_get_535_and_are_counted() {
    let mx = submission();
    let mut client = Client::open(mx.addr(A));
    assert_eq!(client.cmd("EHLO client.test").code, 250);
    for attempt in [
        format!("AUTH PLAIN {}", plain("ann@acme.test", "wrong")),
        format!("AUTH PLAIN {}", plain("bob@acme.test", "s3cret")),
    ] {
        assert_eq!(
            client.cmd(&attempt).text(),
            "535 5.7.8 Authentication credentials invalid"
        );
    }
    assert_eq!(client.cmd("AUTH LOGIN").code, 334);
    assert_eq!(client.cmd(&BASE64.encode("ann@acme.test")).code, 334);
    assert_eq!(client.cmd(&BASE64.encode("nope")).code, 535);
    assert_eq!(client.cmd("AUTH PLAIN not-base64!").code, 501);
    assert_eq!(client.cmd("AUTH LOGIN").code, 334);
    assert_eq!(client.cmd("*").code, 501, "the client may cancel");
    assert_eq!(client.cmd("MAIL FROM:<ann@acme.test>").code, 530);
    client.quit();
    let stats = mx.stats();
    assert_eq!((stats.auth_successes, stats.auth_failures), (0, 3));
}

#[test]
fn peak_concurrency_per_host() {
    let mx = acme();
    let a: Vec<Client> = (0..3).map(|_| Client::open(mx.addr(A))).collect();
    let b = Client::open(mx.addr(B));
    let stats = mx.stats();
    assert_eq!(stats.active_sessions, 4);
    assert_eq!(stats.peak_concurrent_on(A), 3);
    assert_eq!(stats.peak_concurrent_on(B), 1);
    assert_eq!(stats.max_peak_concurrent_per_host(), 3);
    assert_eq!(stats.peak_concurrent_total, 4);
    for client in a {
        client.quit();
    }
    b.quit();
    assert!(mx.wait_idle(Duration::from_secs(10)));
    // Sequential sessions do not raise the peak.
    Client::open(mx.addr(A)).quit();
    let stats = mx.stats();
    assert_eq!(stats.active_sessions, 0);
    assert_eq!(stats.peak_concurrent_on(A), 3);
    assert_eq!(stats.connections, 5);
}

#[test]
fn command_log_can_be_turned_off() {
    let mx = FakeMx::builder().hosts(&[A]).log_commands(false).start();
    Client::open(mx.addr(A)).quit();
    let stats = mx.stats();
    assert!(stats.sessions.is_empty());
    assert_eq!(stats.connections, 1);
    assert_eq!(stats.quits, 1);
}

#[test]
fn all_hosts_share_one_port_and_stop_on_drop() {
    let mx = FakeMx::builder().hosts(&[A, B, C]).start();
    let port = mx.port();
    for ip in [A, B, C] {
        assert_eq!(mx.addr(ip).port(), port);
        Client::open(mx.addr(ip)).quit();
    }
    let open = Client::open(mx.addr(A));
    drop(mx);
    let mut open = open;
    assert!(open.closed_by_server());
    let err = TcpStream::connect((A, port)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
}

#[test]
fn rejects_non_loopback_hosts() {
    let err = FakeMx::builder()
        .hosts(&[Ipv4Addr::new(10, 0, 0, 1)])
        .try_start()
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
}

/// From async code: start, use and drop the server inside a Tokio runtime.
#[tokio::test]
async fn usable_from_async_tests() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mx = acme();
    let stream = tokio::net::TcpStream::connect(mx.addr(A)).await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    assert!(lines.next_line().await.unwrap().unwrap().starts_with("220 "));
    write
        .write_all(b"HELO probe.test\r\nMAIL FROM:<>\r\nRCPT TO:<ann@acme.test>\r\nQUIT\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        got.push(line);
    }
    assert_eq!(
        got,
        [
            "250 mx.fake.test",
            "250 2.1.0 Ok",
            "250 2.1.5 OK",
            "221 2.0.0 Bye"
        ]
    );
    assert_eq!(mx.stats().rcpts, 1);
    drop(mx);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usable_from_multi_thread_async_tests() {
    let mx = acme();
    let addr = mx.addr(B);
    let reply = tokio::task::spawn_blocking(move || {
        let mut client = Client::ready(addr);
        let reply = client.rcpt("bob@acme.test");
        client.quit();
        reply
    })
    .await
    .unwrap();
    assert_eq!(reply.text(), "250 2.1.5 OK");
}

//! Reading new messages from a real Dovecot: incremental by UID, UIDVALIDITY changes,
//! nothing marked read, refused logins and missing folders as errors.

use std::time::Duration;

use inroad_mail::imap::{ImapError, ImapReader, ImapSettings};
use inroad_mail::smtp::Security;
use inroad_testkit::Dovecot;

fn message(n: u32) -> Vec<u8> {
    format!(
        "From: Bob <bob@globex.com>\r\nTo: ann@acme.example\r\nSubject: Re: hello {n}\r\n\
         Message-ID: <r{n}@globex.com>\r\n\r\nReply number {n}.\r\n"
    )
    .into_bytes()
}

fn reader(dovecot: &Dovecot, secret: &str) -> ImapReader {
    ImapReader::new(ImapSettings {
        host: "127.0.0.1".into(),
        port: dovecot.port(),
        security: Security::None,
        user: "ann@acme.example".into(),
        secret: secret.into(),
        timeout: Duration::from_secs(10),
    })
    .unwrap()
}

#[test]
fn new_messages_are_read_by_uid_without_being_marked_read() {
    let dovecot = Dovecot::start();
    dovecot.add_user("ann@acme.example", "secret");
    for n in 1..=3 {
        dovecot.append("ann@acme.example", "secret", "INBOX", &message(n));
    }
    let mut imap = reader(&dovecot, "secret");
    let all = imap.fetch_new("INBOX", None, 0, 100).unwrap();
    let uids: Vec<u32> = all.messages.iter().map(|(uid, _)| *uid).collect();
    assert_eq!(uids, [1, 2, 3]);
    assert!(!all.more);
    assert!(String::from_utf8_lossy(&all.messages[2].1).contains("Reply number 3."));

    // Only what came after the last UID handled; a batch limit says there is more.
    dovecot.append("ann@acme.example", "secret", "INBOX", &message(4));
    dovecot.append("ann@acme.example", "secret", "INBOX", &message(5));
    let next = imap.fetch_new("INBOX", Some(all.uidvalidity), 3, 1).unwrap();
    assert_eq!(next.messages.len(), 1);
    assert_eq!(next.messages[0].0, 4);
    assert!(next.more);
    let none = imap.fetch_new("INBOX", Some(all.uidvalidity), 5, 100).unwrap();
    assert!(none.messages.is_empty(), "nothing after the last UID");

    // Reading changed nothing: no \Seen flag, nothing removed.
    for uid in 1..=5 {
        let flags = dovecot.flags("ann@acme.example", "secret", "INBOX", uid);
        assert!(
            !flags.contains("\\Seen"),
            "message {uid} was marked read: {flags}"
        );
    }
    assert_eq!(dovecot.count("ann@acme.example", "secret", "INBOX"), 5);

    // A renumbered folder: the remembered UID means nothing, everything is new again.
    dovecot.change_uidvalidity("ann@acme.example", "INBOX", all.uidvalidity + 7);
    let mut fresh = reader(&dovecot, "secret");
    let again = fresh.fetch_new("INBOX", Some(all.uidvalidity), 5, 100).unwrap();
    assert_eq!(again.uidvalidity, all.uidvalidity + 7);
    assert_eq!(again.messages.len(), 5);
}

#[test]
fn a_refused_login_and_a_missing_folder_are_errors() {
    let dovecot = Dovecot::start();
    dovecot.add_user("ann@acme.example", "secret");
    let err = reader(&dovecot, "wrong")
        .fetch_new("INBOX", None, 0, 10)
        .unwrap_err();
    assert!(matches!(err, ImapError::Auth(_)), "{err}");
    let err = reader(&dovecot, "secret")
        .fetch_new("Spam", None, 0, 10)
        .unwrap_err();
    assert!(err.to_string().contains("Spam"), "{err}");
    let ok = reader(&dovecot, "secret").check().unwrap();
    assert!(ok.contains("logged in as ann@acme.example"), "{ok}");
}

#[test]
fn plain_text_logins_are_refused_off_loopback() {
    let mut imap = ImapReader::new(ImapSettings {
        host: "imap.example.com".into(),
        port: 143,
        security: Security::None,
        user: "ann".into(),
        secret: "secret".into(),
        timeout: Duration::from_secs(1),
    })
    .unwrap();
    let err = imap.fetch_new("INBOX", None, 0, 10).unwrap_err();
    assert!(err.to_string().contains("only allowed on loopback"), "{err}");
}

#[test]
fn idle_returns_when_a_message_arrives() {
    let dovecot = Dovecot::start();
    dovecot.add_user("ann@acme.example", "secret");
    dovecot.append("ann@acme.example", "secret", "INBOX", &message(1));
    let mut imap = reader(&dovecot, "secret");
    // Looking only: UIDNEXT is 2 after one message; something beyond an older mark
    // returns at once.
    assert_eq!(
        imap.wait_for_new("INBOX", None, Duration::from_secs(60)).unwrap(),
        2
    );
    assert_eq!(
        imap.wait_for_new("INBOX", Some(1), Duration::from_secs(60))
            .unwrap(),
        2
    );

    // Nothing new: IDLE waits until the next message arrives (the limit is far off).
    let waiting = std::thread::spawn(move || imap.wait_for_new("INBOX", Some(2), Duration::from_secs(120)));
    dovecot.append("ann@acme.example", "secret", "INBOX", &message(2));
    assert_eq!(waiting.join().unwrap().unwrap(), 3);
}

//! The Dovecot harness itself: users, APPEND, flags untouched, UIDVALIDITY changes.

use inroad_testkit::Dovecot;

const MESSAGE: &[u8] = b"From: Bob <bob@globex.com>\r\nTo: ann@acme.example\r\nSubject: Re: hello\r\n\
Message-ID: <r1@globex.com>\r\n\r\nSounds good.\r\n";

#[test]
fn messages_are_appended_counted_and_left_unread() {
    let dovecot = Dovecot::start();
    dovecot.add_user("ann@acme.example", "secret");
    let first = dovecot.append("ann@acme.example", "secret", "INBOX", MESSAGE);
    let second = dovecot.append("ann@acme.example", "secret", "INBOX", MESSAGE);
    assert_eq!((first, second), (1, 2));
    assert_eq!(dovecot.append("ann@acme.example", "secret", "Junk", MESSAGE), 1);
    assert_eq!(dovecot.count("ann@acme.example", "secret", "INBOX"), 2);
    assert!(!dovecot
        .flags("ann@acme.example", "secret", "INBOX", 1)
        .contains("\\Seen"));
    dovecot.change_uidvalidity("ann@acme.example", "INBOX", 4242);
    assert_eq!(dovecot.count("ann@acme.example", "secret", "INBOX"), 2);
}

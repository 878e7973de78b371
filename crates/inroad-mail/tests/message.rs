//! Outgoing campaign emails, checked on the bytes: the compliance headers and footer are
//! always there, follow-ups thread, field values can never add a header or a recipient,
//! and DKIM signatures verify with an independent implementation (the testkit's checker:
//! its own canonicalisation, the signature checked by the openssl CLI).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use inroad_mail::message::{build, new_message_id, DkimSigner, MessageError, OutgoingEmail};
use inroad_testkit::dkim::{header_split as split, DkimSignature};
use mail_parser::MessageParser;
use proptest::prelude::*;

const URL: &str = "https://unsub.acme.com/u/AAAAAAAAAAEAAAAAAAAAAqmhQvDyJ3Pj2H2f8xvK7ec";

fn sample() -> OutgoingEmail {
    OutgoingEmail {
        from_name: Some("Alice Sender".into()),
        from_address: "alice@acme.com".into(),
        to_name: Some("Bob Prospect".into()),
        to_address: "bob@example.org".into(),
        subject: "Quick question about Example".into(),
        body: "Hi Bob,\n\nDo you have ten minutes next week?\n\nAlice\n".into(),
        html: None,
        message_id: "20261128.abc@acme.com".into(),
        in_reply_to: None,
        references: vec![],
        date: SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000),
        unsubscribe_url: URL.into(),
        unsubscribe_mailto: Some("unsubscribe@acme.com".into()),
        postal_address: "Acme Inc.\n1 Main Street\nSpringfield, IL 62701".into(),
    }
}

fn count(headers: &[(String, String)], name: &str) -> usize {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .count()
}

fn value<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    let mut found = headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name));
    let (_, v) = found.next().unwrap_or_else(|| panic!("no {name} header"));
    assert!(found.next().is_none(), "more than one {name} header");
    v
}

fn names(headers: &[(String, String)]) -> Vec<String> {
    let mut names: Vec<String> = headers.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
    names.sort();
    names
}

/// The decoded text body with LF line ends and no trailing line breaks (whether the final
/// CRLF counts as content differs between transfer encodings).
fn text_body(raw: &[u8]) -> String {
    let parsed = MessageParser::default().parse(raw).expect("parseable message");
    parsed
        .body_text(0)
        .expect("a text body")
        .replace("\r\n", "\n")
        .trim_end_matches('\n')
        .to_owned()
}

fn recipients(raw: &[u8]) -> Vec<String> {
    let parsed = MessageParser::default().parse(raw).expect("parseable message");
    let mut all = Vec::new();
    for list in [parsed.to(), parsed.cc(), parsed.bcc()].into_iter().flatten() {
        all.extend(list.iter().map(|a| a.address().unwrap_or_default().to_owned()));
    }
    all
}

#[test]
fn first_step_has_every_required_header_once() {
    let raw = build(&sample()).unwrap();
    assert!(
        !raw.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'),
        "bare LF in output"
    );
    let (headers, _) = split(&raw);
    for name in [
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "MIME-Version",
        "Content-Type",
        "Content-Transfer-Encoding",
    ] {
        assert_eq!(count(&headers, name), 1, "{name} in {headers:?}");
    }
    assert_eq!(count(&headers, "In-Reply-To"), 0);
    assert_eq!(count(&headers, "References"), 0);
    assert_eq!(count(&headers, "Bcc"), 0);
    assert_eq!(count(&headers, "Cc"), 0);
    assert_eq!(value(&headers, "From"), "\"Alice Sender\" <alice@acme.com>");
    assert_eq!(value(&headers, "To"), "\"Bob Prospect\" <bob@example.org>");
    assert_eq!(value(&headers, "Message-ID"), "<20261128.abc@acme.com>");
    assert_eq!(
        value(&headers, "List-Unsubscribe"),
        format!("<{URL}>, <mailto:unsubscribe@acme.com>")
    );
    assert_eq!(
        value(&headers, "List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click"
    );
    assert_eq!(value(&headers, "MIME-Version"), "1.0");
    let content_type = value(&headers, "Content-Type").to_ascii_lowercase();
    assert!(content_type.starts_with("text/plain") && content_type.contains("charset=utf-8"));
    assert_eq!(value(&headers, "Date"), "Wed, 18 Nov 2026 11:06:40 +0000");
    assert_eq!(recipients(&raw), ["bob@example.org"]);
}

#[test]
fn without_mailto_only_the_https_url_is_listed() {
    let email = OutgoingEmail {
        unsubscribe_mailto: None,
        from_name: None,
        to_name: None,
        ..sample()
    };
    let raw = build(&email).unwrap();
    let (headers, _) = split(&raw);
    assert_eq!(value(&headers, "List-Unsubscribe"), format!("<{URL}>"));
    assert_eq!(value(&headers, "From"), "alice@acme.com");
    assert_eq!(value(&headers, "To"), "bob@example.org");
    let email = OutgoingEmail {
        unsubscribe_mailto: Some("mailto:u@acme.com?subject=stop".into()),
        ..sample()
    };
    let (headers, _) = split(&build(&email).unwrap());
    assert_eq!(
        value(&headers, "List-Unsubscribe"),
        format!("<{URL}>, <mailto:u@acme.com?subject=stop>")
    );
}

#[test]
fn follow_up_threads_to_previous_messages() {
    let email = OutgoingEmail {
        subject: "Re: Quick question about Example".into(),
        message_id: "20261201.def@acme.com".into(),
        in_reply_to: Some("20261128.abc@acme.com".into()),
        references: vec!["20261120.xyz@acme.com".into(), "20261128.abc@acme.com".into()],
        ..sample()
    };
    let raw = build(&email).unwrap();
    let (headers, _) = split(&raw);
    assert_eq!(value(&headers, "In-Reply-To"), "<20261128.abc@acme.com>");
    assert_eq!(
        value(&headers, "References"),
        "<20261120.xyz@acme.com> <20261128.abc@acme.com>"
    );
    assert_eq!(value(&headers, "Message-ID"), "<20261201.def@acme.com>");
}

#[test]
fn footer_ends_the_body_with_postal_address_and_unsubscribe_link() {
    let raw = build(&sample()).unwrap();
    let text = text_body(&raw);
    let expected_end =
        format!("Alice\n\n-- \nAcme Inc.\n1 Main Street\nSpringfield, IL 62701\nUnsubscribe: {URL}");
    assert!(text.starts_with("Hi Bob,\n\nDo you have"), "{text:?}");
    assert!(text.ends_with(&expected_end), "{text:?}");

    // An empty body still gets the footer; a missing postal address is refused.
    let raw = build(&OutgoingEmail {
        body: String::new(),
        ..sample()
    })
    .unwrap();
    assert!(text_body(&raw).starts_with("-- \nAcme Inc.\n"));
    let err = build(&OutgoingEmail {
        postal_address: " \n ".into(),
        ..sample()
    })
    .unwrap_err();
    assert!(matches!(err, MessageError::MissingPostalAddress), "{err}");
}

#[test]
fn line_breaks_in_subject_and_names_never_add_headers_or_recipients() {
    let email = OutgoingEmail {
        subject: "Hello\r\nBcc: evil@x.com".into(),
        from_name: Some("Alice\nTo: evil@x.com".into()),
        to_name: Some("Bob\r\nCc: evil@x.com\r\n\r\nbody".into()),
        body: "Hi\r\nBcc: evil@x.com\r\n".into(),
        ..sample()
    };
    let raw = build(&email).unwrap();
    let (headers, _) = split(&raw);
    assert_eq!(count(&headers, "Bcc"), 0, "{headers:?}");
    assert_eq!(count(&headers, "Cc"), 0, "{headers:?}");
    assert_eq!(count(&headers, "To"), 1);
    assert_eq!(count(&headers, "From"), 1);
    assert_eq!(recipients(&raw), ["bob@example.org"]);
    let parsed = MessageParser::default().parse(&raw[..]).unwrap();
    assert_eq!(parsed.subject(), Some("Hello  Bcc: evil@x.com"));
    assert_eq!(
        parsed.from().unwrap().first().unwrap().address(),
        Some("alice@acme.com")
    );
}

#[test]
fn invalid_addresses_ids_and_urls_are_refused() {
    let cases: Vec<(&str, OutgoingEmail)> = vec![
        (
            "to with CRLF",
            OutgoingEmail {
                to_address: "bob@example.org\r\nBcc: evil@x.com".into(),
                ..sample()
            },
        ),
        (
            "two recipients",
            OutgoingEmail {
                to_address: "bob@example.org, evil@x.com".into(),
                ..sample()
            },
        ),
        (
            "to not an address",
            OutgoingEmail {
                to_address: "bob".into(),
                ..sample()
            },
        ),
        (
            "empty to",
            OutgoingEmail {
                to_address: String::new(),
                ..sample()
            },
        ),
        (
            "from with LF",
            OutgoingEmail {
                from_address: "alice@acme.com\nX: y".into(),
                ..sample()
            },
        ),
        (
            "message id brackets",
            OutgoingEmail {
                message_id: "<a@b>".into(),
                ..sample()
            },
        ),
        (
            "message id CRLF",
            OutgoingEmail {
                message_id: "a@b\r\nBcc: evil@x.com".into(),
                ..sample()
            },
        ),
        (
            "message id no @",
            OutgoingEmail {
                message_id: "abc".into(),
                ..sample()
            },
        ),
        (
            "in-reply-to space",
            OutgoingEmail {
                in_reply_to: Some("a b@c".into()),
                ..sample()
            },
        ),
        (
            "references LF",
            OutgoingEmail {
                references: vec!["a@b\nX: y".into()],
                ..sample()
            },
        ),
        (
            "http url",
            OutgoingEmail {
                unsubscribe_url: "http://acme.com/u/x".into(),
                ..sample()
            },
        ),
        (
            "url CRLF",
            OutgoingEmail {
                unsubscribe_url: format!("{URL}\r\nBcc: evil@x.com"),
                ..sample()
            },
        ),
        (
            "url bracket",
            OutgoingEmail {
                unsubscribe_url: format!("{URL}>, <https://evil"),
                ..sample()
            },
        ),
        (
            "url no host",
            OutgoingEmail {
                unsubscribe_url: "https:///u".into(),
                ..sample()
            },
        ),
        (
            "mailto CRLF",
            OutgoingEmail {
                unsubscribe_mailto: Some("u@acme.com\r\nX: y".into()),
                ..sample()
            },
        ),
        (
            "mailto not an address",
            OutgoingEmail {
                unsubscribe_mailto: Some("mailto:nobody".into()),
                ..sample()
            },
        ),
    ];
    for (what, email) in cases {
        assert!(build(&email).is_err(), "{what} was accepted");
    }
}

#[test]
fn an_html_body_goes_beside_the_text_and_both_carry_the_footer() {
    let raw = build(&OutgoingEmail {
        html: Some("<html><body><p>Hi Bob,</p></body></html>".into()),
        postal_address: "Acme & Sons\n1 <Main> Street".into(),
        ..sample()
    })
    .unwrap();
    let (headers, _) = split(&raw);
    assert!(value(&headers, "Content-Type").starts_with("multipart/alternative"));
    let parsed = MessageParser::default().parse(&raw[..]).unwrap();
    let text = parsed.body_text(0).unwrap();
    assert!(text.contains("Acme & Sons") && text.contains(URL), "{text}");
    let html = parsed.body_html(0).unwrap();
    let footer_at = html.find("<hr>").expect("a footer");
    assert!(
        footer_at < html.find("</body>").unwrap(),
        "inside the body: {html}"
    );
    assert!(html.contains("Acme &amp; Sons<br>"), "escaped address: {html}");
    assert!(html.contains("1 &lt;Main&gt; Street"), "{html}");
    assert!(
        html.contains(&format!("<a href=\"{URL}\">Unsubscribe</a>")),
        "{html}"
    );
    assert_eq!(count(&headers, "List-Unsubscribe"), 1);
}

#[test]
fn non_ascii_subject_and_names_are_encoded() {
    let email = OutgoingEmail {
        subject: "Grüße aus Köln — 你好".into(),
        to_name: Some("Zoë Ørsted".into()),
        body: "Schöne Grüße".into(),
        ..sample()
    };
    let raw = build(&email).unwrap();
    let (headers, _) = split(&raw); // also asserts the header block is pure ASCII
    assert!(value(&headers, "Subject").contains("=?utf-8?"), "{headers:?}");
    let parsed = MessageParser::default().parse(&raw[..]).unwrap();
    assert_eq!(parsed.subject(), Some("Grüße aus Köln — 你好"));
    assert_eq!(parsed.to().unwrap().first().unwrap().name(), Some("Zoë Ørsted"));
    assert!(text_body(&raw).starts_with("Schöne Grüße\n\n-- \n"));

    // Mostly non-ASCII text goes out base64-encoded; the footer survives that too.
    let raw = build(&OutgoingEmail {
        body: "你好，".repeat(40),
        ..sample()
    })
    .unwrap();
    let (headers, _) = split(&raw);
    assert_eq!(value(&headers, "Content-Transfer-Encoding"), "base64");
    assert!(text_body(&raw).ends_with(&format!(
        "你好，\n\n-- \nAcme Inc.\n1 Main Street\nSpringfield, IL 62701\nUnsubscribe: {URL}"
    )));
}

#[test]
fn new_message_ids_are_distinct_and_accepted() {
    let a = new_message_id("Acme.com", 1);
    let b = new_message_id("acme.com", 1);
    assert_ne!(a, b);
    assert!(a.ends_with("@acme.com") && !a.contains(['<', '>']), "{a}");
    let raw = build(&OutgoingEmail {
        message_id: a.clone(),
        ..sample()
    })
    .unwrap();
    let (headers, _) = split(&raw);
    assert_eq!(value(&headers, "Message-ID"), format!("<{a}>"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any text in the rendered fields yields the same set of headers and one recipient.
    #[test]
    fn any_field_text_never_adds_a_header_or_recipient(
        subject in any::<String>(),
        from_name in proptest::option::of(any::<String>()),
        to_name in proptest::option::of(any::<String>()),
        body in any::<String>(),
        postal in "[^\r\n]{1,40}(\r?\n.{0,40}){0,3}",
    ) {
        let email = OutgoingEmail { subject, from_name, to_name, body, postal_address: postal.clone(), ..sample() };
        if postal.trim().is_empty() {
            return Ok(());
        }
        let raw = build(&email).unwrap();
        let (headers, _) = split(&raw);
        let reference = split(&build(&sample()).unwrap()).0;
        prop_assert_eq!(names(&headers), names(&reference));
        prop_assert_eq!(recipients(&raw), ["bob@example.org"]);
    }
}

// ---- DKIM, verified with openssl ------------------------------------------------------

fn openssl(args: &[&str], dir: &Path) -> bool {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command is needed for the DKIM tests");
    out.status.success()
}

/// A fresh private key (PKCS#8 PEM) and its public key file, made by openssl.
fn keypair(dir: &Path, algorithm: &[&str]) -> String {
    let mut args = vec!["genpkey"];
    args.extend_from_slice(algorithm);
    args.extend_from_slice(&["-out", "key.pem"]);
    assert!(openssl(&args, dir), "openssl genpkey failed");
    assert!(openssl(
        &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"],
        dir
    ));
    std::fs::read_to_string(dir.join("key.pem")).unwrap()
}

fn check_common_tags(dkim: &DkimSignature, algorithm: &str) {
    assert_eq!(dkim.tag("v"), "1");
    assert_eq!(dkim.tag("a"), algorithm);
    assert_eq!(dkim.tag("d"), "acme.com");
    assert_eq!(dkim.tag("s"), "inroad2026");
    assert_eq!(dkim.tag("c"), "relaxed/relaxed");
    let signed = dkim.signed_headers();
    for name in [
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
    ] {
        assert!(signed.iter().any(|s| s == name), "{name} not signed: {signed:?}");
    }
    assert!(dkim.body_hash_matches(), "bh= is not the hash of the body");
}

/// `raw` with `from` replaced by `to` once (which must change it).
fn altered(raw: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(raw.to_vec()).unwrap();
    assert!(text.contains(from), "{from:?} not in the message");
    text.replacen(from, to, 1).into_bytes()
}

/// The checker is real: a changed Subject no longer verifies (its body hash still
/// matches), and a changed body fails the body hash.
fn check_tampering_fails(raw: &[u8], public_key: &Path) {
    let subject = DkimSignature::parse(&altered(raw, "\r\nSubject: ", "\r\nSubject: X"));
    assert!(subject.body_hash_matches());
    assert!(
        !subject.verifies_with_openssl(public_key),
        "changed Subject verified"
    );
    let body = DkimSignature::parse(&altered(raw, "\r\n\r\n", "\r\n\r\nX"));
    assert!(!body.body_hash_matches(), "changed body has the same body hash");
}

fn signed_sample() -> OutgoingEmail {
    OutgoingEmail {
        subject: "Grüße, a   subject with  spaces\tand tabs".into(),
        body: "Line with trailing spaces   \n\ttabbed\n\n\n".into(),
        in_reply_to: Some("20261120.xyz@acme.com".into()),
        references: vec!["20261120.xyz@acme.com".into()],
        ..sample()
    }
}

#[test]
fn rsa_dkim_signature_verifies_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let pem = keypair(
        dir.path(),
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    );
    let public_key = dir.path().join("pub.pem");
    assert!(
        pem.contains("BEGIN PRIVATE KEY"),
        "expected PKCS#8 from openssl genpkey"
    );
    let signer = DkimSigner::from_pem(&pem, "inroad2026", "acme.com").unwrap();
    assert_eq!((signer.selector(), signer.domain()), ("inroad2026", "acme.com"));
    let debug = format!("{signer:?}");
    assert!(
        !debug.contains("PRIVATE") && !debug.contains(&pem.lines().nth(1).unwrap()[..20]),
        "{debug}"
    );

    let raw = signer.sign(&build(&signed_sample()).unwrap()).unwrap();
    let dkim = DkimSignature::parse(&raw);
    check_common_tags(&dkim, "rsa-sha256");
    assert!(
        dkim.verifies_with_openssl(&public_key),
        "RSA DKIM signature does not verify"
    );
    check_tampering_fails(&raw, &public_key);

    // The traditional PKCS#1 form of the same key is accepted too.
    assert!(openssl(
        &["pkey", "-in", "key.pem", "-traditional", "-out", "key1.pem"],
        dir.path()
    ));
    let pkcs1 = std::fs::read_to_string(dir.path().join("key1.pem")).unwrap();
    assert!(pkcs1.contains("BEGIN RSA PRIVATE KEY"));
    let raw = DkimSigner::from_pem(&pkcs1, "inroad2026", "acme.com")
        .unwrap()
        .sign(&build(&sample()).unwrap())
        .unwrap();
    let dkim = DkimSignature::parse(&raw);
    check_common_tags(&dkim, "rsa-sha256");
    assert!(
        dkim.verifies_with_openssl(&public_key),
        "PKCS#1 key: DKIM signature does not verify"
    );
}

#[test]
fn ed25519_dkim_signature_verifies_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let pem = keypair(dir.path(), &["-algorithm", "ed25519"]);
    let public_key = dir.path().join("pub.pem");
    let signer = DkimSigner::from_pem(&pem, "inroad2026", "acme.com").unwrap();
    let raw = signer.sign(&build(&signed_sample()).unwrap()).unwrap();
    let dkim = DkimSignature::parse(&raw);
    check_common_tags(&dkim, "ed25519-sha256");
    assert!(
        dkim.verifies_with_openssl(&public_key),
        "Ed25519 DKIM signature does not verify"
    );
    check_tampering_fails(&raw, &public_key);
}

#[test]
fn bad_dkim_settings_are_refused() {
    let err = DkimSigner::from_pem("not a key", "s", "acme.com").unwrap_err();
    assert!(matches!(err, MessageError::InvalidDkimKey), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let pem = keypair(dir.path(), &["-algorithm", "ed25519"]);
    assert!(DkimSigner::from_pem(&pem, "bad selector", "acme.com").is_err());
    assert!(DkimSigner::from_pem(&pem, "s", "acme.com\r\nX: y").is_err());
    assert!(DkimSigner::from_pem(&pem, "s", "").is_err());
}

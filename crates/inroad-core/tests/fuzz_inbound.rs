//! Property-based fuzzing of the inbound classifier, which reads untrusted bytes from anyone
//! who can send mail to a campaign's mailbox.
//!
//! Properties: nothing panics, whatever the bytes (arbitrary ones, messages assembled from
//! the pieces real bounces and replies are made of, and mutations of both, and of the
//! corpus messages when `shared/corpus/inbound` is there); the verdict is the same on a
//! second run; bounce details come only with bounces and a return date only with an
//! auto-reply; a hard bounce never carries a temporary (4.x.x) status.
//! Deeper run: `PROPTEST_CASES=100000 cargo test --release -p inroad-core --test fuzz_inbound`.

use std::path::Path;
use std::sync::LazyLock;

use inroad_core::inbound::{classify, Class, Classified};
use proptest::prelude::*;

/// Case count: the default, or `PROPTEST_CASES` for a deeper run.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The labelled corpus, when it is present beside the repository; the fuzz runs without it.
static CORPUS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/inbound");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut messages: Vec<Vec<u8>> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "eml"))
        .filter_map(|path| std::fs::read(path).ok())
        .collect();
    messages.sort();
    messages
});

/// Header lines that steer the classifier one way or another.
fn header_line() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        "[ -~]{0,40}",
        "\\PC{0,30}",
        prop::sample::select(vec![
            "<>",
            "MAILER-DAEMON@mx.example.net",
            "Mail Delivery System <postmaster@x.example>",
            "no-reply@service.example",
            "auto-replied",
            "auto-generated",
            "no",
            "bulk",
            "junk",
            "list",
            "auto_reply",
            "unsubscribe",
            "Re: unsubscribe",
            "Automatic reply: hi",
            "Abwesenheitsnotiz",
            "Undelivered Mail Returned to Sender",
            "multipart/report; report-type=delivery-status; boundary=\"B\"",
            "multipart/report; report-type=feedback-report; boundary=\"B\"",
            "multipart/report; report-type=disposition-notification; boundary=\"B\"",
            "multipart/alternative; boundary=\"B\"",
            "text/html; charset=utf-8",
            "text/plain; charset=iso-2022-jp",
            "<a@b.c> <d@e.f>",
            "=?utf-8?b?w6TDtsO8?= =?iso-8859-1?q?=E9t=E9?=",
            "Fri, 20 Nov 2026 10:00:00 +0000",
            "Thu, 31 Feb 99999 99:99:99 -9999",
        ])
        .prop_map(str::to_owned),
    ];
    let name = prop::sample::select(vec![
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Content-Type",
        "Content-Transfer-Encoding",
        "Auto-Submitted",
        "Precedence",
        "X-Autoreply",
        "X-Auto-Response-Suppress",
        "X-Failed-Recipients",
        "List-Id",
        "List-Unsubscribe",
    ]);
    (name, value).prop_map(|(name, value)| format!("{name}: {value}"))
}

/// Body pieces: report fields, bounce and absence prose, quotes, dates, codes, MIME parts.
fn body_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "--B\nContent-Type: message/delivery-status\n\n",
            "--B\nContent-Type: message/feedback-report\n\nFeedback-Type: opt-out\n",
            "--B\nContent-Type: message/rfc822\n\nMessage-ID: <x@y.z>\nFrom: a@b.c\n\nhi\n",
            "--B\nContent-Type: text/rfc822-headers\n\nMessage-Id:\n <folded@id>\n",
            "--B\nContent-Type: text/html\n\n<div>hi<blockquote>> q</blockquote></div>\n",
            "--B\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n4pyTIMOgIGxh\n",
            "--B--\n",
            "Final-Recipient: rfc822; lead@their.example\n",
            "Original-Recipient: rfc822;<x@y>\n",
            "Action: failed\n",
            "Action: delayed\n",
            "Status: 5.1.1\n",
            "Status: 4.4.7 (expired)\n",
            "Diagnostic-Code: smtp; 550-5.1.1 user unknown\n  continued\n",
            "X-Failed-Recipients: a@b.c\n",
            "--- Below this line is a copy of the message.\n",
            "On Mon, 1 Jun 2026, Sender <s@o.example> wrote:\n> unsubscribe\n",
            "From: x\nSent: y\nTo: z\n",
            "Please remove me. ",
            "I am out of the office until 3 December, back on 05/01, bis 3.12., hasta el 12 de diciembre. ",
            "July 10-31, 2026-12-03, 10-31 July, 1.2.3.4, 10.5, 480-624-2500 ",
            "mailbox full, retry timeout exceeded, guest list, click ",
            "@@ <@> a@ @b .@. \u{2019} ",
        ])
        .prop_map(str::to_owned),
        2 => "[ -~\n]{0,60}",
        1 => "\\PC{0,30}",
    ]
}

/// A message assembled from plausible pieces, with LF or CRLF line ends.
fn message_like() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(header_line(), 0..10),
        prop::collection::vec(body_piece(), 0..12),
        any::<bool>(),
    )
        .prop_map(|(headers, body, crlf)| {
            let text = format!("{}\n\n{}", headers.join("\n"), body.concat());
            let text = if crlf { text.replace('\n', "\r\n") } else { text };
            text.into_bytes()
        })
}

/// One edit: insert, delete, overwrite or truncate at a relative position.
#[derive(Clone, Debug)]
enum Edit {
    Insert(f64, Vec<u8>),
    Delete(f64, usize),
    Overwrite(f64, u8),
    Truncate(f64),
}

fn edit() -> impl Strategy<Value = Edit> {
    let fragment = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..8),
        prop::sample::select(vec![
            "\r\n",
            "\n\n",
            "--B\n",
            "<",
            ">",
            "@",
            ":",
            "5.1.1",
            "=?utf-8?q?",
            "=\n",
            "\u{2019}",
            "\u{0}",
            "Content-Type: message/delivery-status\n\n",
            "Final-Recipient: ",
            "> ",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
    ];
    prop_oneof![
        (0.0..=1.0f64, fragment).prop_map(|(at, bytes)| Edit::Insert(at, bytes)),
        (0.0..=1.0f64, 0usize..64).prop_map(|(at, n)| Edit::Delete(at, n)),
        (0.0..=1.0f64, any::<u8>()).prop_map(|(at, b)| Edit::Overwrite(at, b)),
        (0.0..=1.0f64).prop_map(Edit::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        let len = bytes.len();
        let position = |at: f64| (len as f64 * at) as usize;
        match edit {
            Edit::Insert(at, fragment) => {
                let at = position(*at).min(bytes.len());
                bytes.splice(at..at, fragment.iter().copied());
            }
            Edit::Delete(at, n) => {
                let at = position(*at).min(bytes.len());
                let end = (at + n).min(bytes.len());
                bytes.drain(at..end);
            }
            Edit::Overwrite(at, byte) => {
                if let Some(b) = bytes.get_mut(position(*at)) {
                    *b = *byte;
                }
            }
            Edit::Truncate(at) => bytes.truncate(position(*at)),
        }
    }
    bytes
}

/// A corpus message (when the corpus is there) or an assembled one, then edited.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let corpus_size = CORPUS.len();
    let base = if corpus_size == 0 {
        message_like().boxed()
    } else {
        prop_oneof![
            3 => (0..corpus_size).prop_map(|i| CORPUS[i].clone()),
            1 => message_like(),
        ]
        .boxed()
    };
    (base, prop::collection::vec(edit(), 0..6)).prop_map(|(bytes, edits)| apply(bytes, &edits))
}

fn check(raw: &[u8]) -> Result<(), TestCaseError> {
    let got: Classified = classify(raw);
    prop_assert_eq!(&classify(raw), &got, "not deterministic");
    prop_assert!(!got.reason.is_empty());
    let bounce = matches!(got.class, Class::HardBounce | Class::SoftBounce);
    prop_assert!(
        bounce || (got.failed_recipient.is_none() && got.status.is_none()),
        "{:?}",
        got
    );
    prop_assert!(
        got.class == Class::AutoReply || got.return_date.is_none(),
        "{:?}",
        got
    );
    if let Some(recipient) = &got.failed_recipient {
        prop_assert!(
            recipient.contains('@') && *recipient == recipient.to_lowercase(),
            "{:?}",
            got
        );
    }
    if got.class == Class::HardBounce {
        prop_assert!(
            got.status.as_deref().is_none_or(|s| s.starts_with('5')),
            "{:?}",
            got
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(1000)))]

    #[test]
    fn arbitrary_bytes_never_panic(raw in prop::collection::vec(any::<u8>(), 0..2000)) {
        check(&raw)?;
    }

    #[test]
    fn assembled_messages_never_panic(raw in message_like()) {
        check(&raw)?;
    }

    #[test]
    fn mutated_messages_never_panic(raw in mutated()) {
        check(&raw)?;
    }
}

#[test]
fn corpus_messages_cut_at_every_length_never_panic() {
    // Truncation is what a half-read mailbox file or a dropped connection produces.
    for raw in CORPUS.iter().filter(|raw| raw.len() < 4000) {
        for cut in (0..raw.len()).step_by(7) {
            let _ = classify(&raw[..cut]);
        }
    }
}

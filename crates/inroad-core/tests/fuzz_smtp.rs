//! Property-based fuzzing of the SMTP reply parser and classifier, and of the finder's
//! name handling, both of which take untrusted input (a remote server's bytes, names
//! from any export in any script).
//!
//! Properties: nothing panics; the parser consumes a reply exactly once, in a way that
//! does not depend on how the bytes were split into reads; well-formed replies
//! round-trip; the finder only ever produces `[a-z0-9._-]` local parts, recognises its
//! own output, and every candidate it offers is a valid address.
//! Deeper run: `PROPTEST_CASES=100000 cargo test --release -p inroad-core --test fuzz_smtp`.

use inroad_core::email::normalize_email;
use inroad_core::finder::{candidates, local_part, patterns_of, rank, NameParts, Pattern, PatternCounts};
use inroad_core::smtp::{classify_rcpt, ehlo_extensions, parse_reply, EnhancedCode, Reply};
use proptest::prelude::*;

/// Case count: the default, or `PROPTEST_CASES` for a deeper run.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One plausible reply line: a usual or odd code, a separator (sometimes wrong), text
/// that often starts with an enhanced code, and CRLF, LF or no ending.
fn line_like() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![
            4 => prop::sample::select(vec!["220", "250", "251", "252", "421", "450", "451", "452", "550", "553", "554"])
                .prop_map(str::to_owned),
            1 => "[0-9]{3}".prop_map(String::from),
            1 => "[0-9a-z ]{0,4}".prop_map(String::from),
        ],
        prop::sample::select(vec!["-", " ", "", "_", "\t"]),
        "([245]\\.[0-9]{1,4}\\.[0-9]{1,4}[ .]?)?",
        "[ -~\u{e9}\u{2019}\r]{0,40}",
        prop::sample::select(vec!["\r\n", "\n", "", "\r"]),
    )
        .prop_map(|(code, sep, enhanced, text, end)| format!("{code}{sep}{enhanced}{text}{end}").into_bytes())
}

fn bytes_like() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..200),
        3 => prop::collection::vec(line_like(), 0..8).prop_map(|lines| lines.concat()),
    ]
}

/// A well-formed reply: one code, lines of printable text, CRLF or LF endings.
fn well_formed() -> impl Strategy<Value = (u16, Vec<String>, Vec<bool>)> {
    (200u16..=599, prop::collection::vec("[ -~]{0,30}", 1..6)).prop_flat_map(|(code, texts)| {
        let n = texts.len();
        (Just(code), Just(texts), prop::collection::vec(any::<bool>(), n))
    })
}

fn any_reply() -> impl Strategy<Value = Reply> {
    (
        any::<u16>(),
        prop::option::of((any::<u8>(), any::<u16>(), any::<u16>())),
        prop_oneof!["\\PC{0,60}", "[ -~\n]{0,80}"],
    )
        .prop_map(|(code, enhanced, text)| Reply {
            code,
            enhanced: enhanced.map(|(class, subject, detail)| EnhancedCode {
                class,
                subject,
                detail,
            }),
            text,
        })
}

/// Names as exports carry them, and arbitrary text.
fn name_like() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => "\\PC{0,20}",
        1 => prop::collection::vec(any::<char>(), 0..20).prop_map(|cs| cs.into_iter().collect()),
        3 => "((van|de|von|da|la) ){0,2}[A-Za-zÀ-ÿŁłØøÆæßŞğİı'’`´ .,-]{0,20}( (Jr\\.?|III|PhD))?",
        1 => "[A-Za-z]{30,50}",
    ]
}

fn is_local_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(3000)))]

    #[test]
    fn parser_consumes_replies_consistently(buf in bytes_like()) {
        let mut rest: &[u8] = &buf;
        while let Ok(Some((reply, used))) = parse_reply(rest) {
            prop_assert!(used > 0 && used <= rest.len());
            prop_assert!((200..=599).contains(&reply.code));
            if let Some(e) = reply.enhanced {
                prop_assert_eq!(u16::from(e.class), reply.code / 100);
            }
            // The same reply from exactly its bytes, and nothing before its last byte.
            prop_assert_eq!(parse_reply(&rest[..used]), Ok(Some((reply.clone(), used))));
            for cut in 0..used {
                prop_assert_eq!(parse_reply(&rest[..cut]), Ok(None));
            }
            let _ = classify_rcpt(&reply);
            let _ = ehlo_extensions(&reply);
            rest = &rest[used..];
        }
    }

    #[test]
    fn well_formed_replies_round_trip((code, texts, crlf) in well_formed()) {
        let mut wire = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            let sep = if i + 1 == texts.len() { ' ' } else { '-' };
            wire.extend_from_slice(format!("{code}{sep}{text}").as_bytes());
            wire.extend_from_slice(if crlf[i] { b"\r\n" } else { b"\n" });
        }
        let (reply, used) = parse_reply(&wire).unwrap().unwrap();
        prop_assert_eq!(used, wire.len());
        prop_assert_eq!(reply.code, code);
        prop_assert_eq!(reply.text, texts.join("\n"));
    }

    #[test]
    fn classifier_takes_any_reply(reply in any_reply()) {
        let _ = classify_rcpt(&reply);
        let _ = ehlo_extensions(&reply);
    }

    #[test]
    fn names_become_clean_local_parts(first in name_like(), last in name_like()) {
        let Some(parts) = NameParts::new(&first, &last) else { return Ok(()) };
        for pattern in Pattern::ALL {
            let local = local_part(pattern, &parts);
            prop_assert!(local.chars().all(is_local_char), "{:?}", local);
            prop_assert!(patterns_of(&parts, &local).contains(&pattern));
        }
        // Learning from arbitrary text as a known local part must not panic either.
        let mut domain = PatternCounts::default();
        domain.observe(&patterns_of(&parts, &first));
        let found = candidates(&parts, &rank(&domain, &PatternCounts::default()));
        let mut total = 0.0;
        for (local, _, probability) in &found {
            prop_assert!(local.chars().all(is_local_char), "{:?}", local);
            let email = format!("{local}@acme.com");
            prop_assert_eq!(normalize_email(&email), Ok(email));
            prop_assert!(*probability > 0.0);
            total += probability;
        }
        prop_assert!(total <= 1.0 + 1e-9);
        prop_assert!(found.windows(2).all(|w| w[0].2 >= w[1].2));
    }

}

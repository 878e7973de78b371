//! Property-based fuzzing of the row normaliser and the value normalisers under it.
//!
//! Headers mix known aliases with arbitrary text; cells mix arbitrary unicode with
//! strategies heavy in whitespace, control characters, '@' and '/', plus near-valid
//! emails, websites and LinkedIn URLs. Rows may be shorter or longer than the header.
//! Properties: nothing panics; every value the normaliser keeps is already in its
//! normal form (normalising it again changes nothing); a kept row has an identity.
//! Deeper run: `PROPTEST_CASES=100000 cargo test --release -p inroad-core --test fuzz_normalize`.

use inroad_core::email::normalize_email;
use inroad_core::headers::field_for_header;
use inroad_core::identity::{matches, name_key, KeyKind};
use inroad_core::normalize::{canonical_linkedin_url, clean_text, registrable_domain, split_full_name};
use inroad_core::row::{normalize_row, ColumnMap, Override};
use inroad_core::{Field, Lead};
use proptest::prelude::*;

/// Case count: the default, or `PROPTEST_CASES` for a deeper run.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const LINKEDIN_PREFIX: &str = "https://www.linkedin.com/in/";

/// Headers that real exports use, so the fuzzed rows reach every field.
const KNOWN_HEADERS: &[&str] = &[
    "Email",
    "E-mail",
    "email",
    "First Name",
    "Last Name",
    "Full Name",
    "Name",
    "Company",
    "Company Name",
    "Organization",
    "URL",
    "Website",
    "Company Website",
    "LinkedIn URL",
    "Title",
    "Location",
    "Phone",
    "Timezone",
    "domain",
    "linkedin_url",
    "full_name",
    "Notes",
];

/// Any chars at all, including controls, newlines, NUL and surrogate-adjacent planes.
fn any_chars(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..max).prop_map(|cs| cs.into_iter().collect())
}

/// Mostly separators: whitespace of every kind, controls, '@', '/', '.', ':' and a few letters.
fn separator_heavy() -> impl Strategy<Value = String> {
    "[ \t\r\n\u{0}-\u{1f}\u{7f}\u{85}\u{a0}\u{2028}\u{3000}\u{feff}@@@///..:,a-zA-ZİȺΣß]{0,40}"
}

/// Near-valid emails, including case-changing and length-changing letters (İ, Ⱥ, ẞ).
fn email_like() -> impl Strategy<Value = String> {
    (
        "(mailto:|MAILTO:| )?",
        "[a-zA-Z0-9._%+'İȺẞΣé-]{0,70}",
        "@{1,2}",
        "[a-zA-Z0-9.\u{fc}Ü-]{0,30}",
        "\\.?",
        "(com|co\\.uk|io|DE|xn--p1ai|123|c)?",
        "[ ,.]?",
    )
        .prop_map(|(a, b, c, d, e, f, g)| format!("{a}{b}{c}{d}{e}{f}{g}"))
}

/// Near-valid websites and hosts.
fn website_like() -> impl Strategy<Value = String> {
    (
        "(https?://|//|ftp://)?",
        "([a-z]{1,8}:[a-z]{0,8}@)?",
        "(www\\.)?",
        "[a-zA-Z0-9\u{fc}.-]{0,20}",
        "(\\.com|\\.co\\.uk|\\.ck|\\.github\\.io|\\.blogspot\\.com|\\.zz|\\.)?",
        "(:[0-9]{0,6})?",
        "(/[a-z?#=]{0,10})?",
    )
        .prop_map(|(a, b, c, d, e, f, g)| format!("{a}{b}{c}{d}{e}{f}{g}"))
}

/// Near-valid LinkedIn profile URLs.
fn linkedin_like() -> impl Strategy<Value = String> {
    (
        "( |https?://|HTTPS://|ftp://)?",
        "(www\\.|uk\\.|[a-z0-9]{0,3}\\.|\\.|)?",
        "(linkedin\\.com|LinkedIn\\.com|linkedin\\.co|evil\\.com)",
        "/{1,2}",
        "(in|IN|pub|company)?",
        "/{0,2}",
        "[A-Za-z0-9_%.İΣẞ\u{212a}/-]{0,20}",
        "(\\?trk=x|#about|/)?",
    )
        .prop_map(|(a, b, c, d, e, f, g, h)| format!("{a}{b}{c}{d}{e}{f}{g}{h}"))
}

/// Plausible names, including honorifics, credentials and "Last, First".
fn name_like() -> impl Strategy<Value = String> {
    "((Dr|Mr|Ms|PROF)\\.? )?[A-Za-zÉé'-]{0,10}( (van|de|O'Brien|Jr\\.?|III|PhD|,|, MBA)){0,3}( ?,? ?[A-Za-z]{0,8})?"
}

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => any_chars(30),
        2 => separator_heavy(),
        2 => email_like(),
        2 => website_like(),
        2 => linkedin_like(),
        2 => name_like(),
        1 => Just(String::new()),
        1 => "\\PC{0,20}",
    ]
}

fn header() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(KNOWN_HEADERS).prop_map(str::to_owned),
        1 => any_chars(15),
        1 => "[ _-]{0,2}(e-?mail|first|last|full ?name|url|web ?site|company)[ _-]{0,2}",
        1 => Just(String::new()),
    ]
}

/// A header row and one or two data rows whose lengths differ from it by up to 3 either way.
fn table() -> impl Strategy<Value = (Vec<String>, Vec<Vec<String>>)> {
    prop::collection::vec(header(), 0..8).prop_flat_map(|headers| {
        let n = headers.len();
        let rows = prop::collection::vec(prop::collection::vec(cell(), n.saturating_sub(3)..n + 4), 1..3);
        (Just(headers), rows)
    })
}

/// Already clean: trimmed, single spaces, no other whitespace, no control chars.
fn assert_clean(what: &str, s: &str) {
    assert!(!s.is_empty(), "{what}: empty string kept");
    assert_eq!(s.trim(), s, "{what}: untrimmed {s:?}");
    assert!(!s.contains("  "), "{what}: double space in {s:?}");
    assert!(
        !s.chars()
            .any(|c| c.is_control() || (c.is_whitespace() && c != ' ')),
        "{what}: stray whitespace/control in {s:?}"
    );
}

/// The email rules: re-normalises to itself, domain is lowercase ASCII.
fn assert_email_normal(email: &str) {
    let (local, domain) = email.rsplit_once('@').expect("normalised email has an @");
    assert!(local.len() <= 64, "local part over 64 bytes: {email:?}");
    assert_eq!(
        normalize_email(email).as_deref(),
        Ok(email),
        "email not idempotent: {email:?}"
    );
    assert!(!local.is_empty(), "empty local part in {email:?}");
    assert!(
        domain
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'),
        "email domain not lowercase ASCII: {email:?}"
    );
    assert_eq!(
        local,
        local.to_lowercase(),
        "email local part not lowercase: {email:?}"
    );
}

fn assert_linkedin_normal(url: &str) {
    assert!(url.starts_with(LINKEDIN_PREFIX), "bad LinkedIn prefix: {url:?}");
    assert!(url.len() > LINKEDIN_PREFIX.len(), "empty LinkedIn slug: {url:?}");
    assert_eq!(
        canonical_linkedin_url(url).as_deref(),
        Some(url),
        "LinkedIn URL not idempotent: {url:?}"
    );
}

fn assert_domain_normal(domain: &str) {
    assert_eq!(
        registrable_domain(domain).as_deref(),
        Some(domain),
        "domain not idempotent: {domain:?}"
    );
    assert!(
        domain
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'),
        "domain not lowercase ASCII: {domain:?}"
    );
}

fn assert_lead_normal(lead: &Lead) {
    if let Some(email) = &lead.email {
        assert_email_normal(email);
    }
    if let Some(url) = &lead.linkedin_url {
        assert_linkedin_normal(url);
    }
    if let Some(domain) = &lead.domain {
        assert_domain_normal(domain);
    }
    for field in Field::ALL {
        if let Some(v) = lead.get(field) {
            assert_clean(field.name(), v);
        }
    }
    for (k, v) in &lead.custom {
        assert_clean("custom header", k);
        assert_clean("custom value", v);
    }
    let has_name = lead.first_name.is_some() || lead.last_name.is_some();
    let has_org = lead.company.is_some() || lead.domain.is_some();
    assert!(
        lead.email.is_some() || lead.linkedin_url.is_some() || (has_name && has_org),
        "kept lead without identity: {lead:?}"
    );
    // Identity helpers: a lead is its own match exactly for the keys it has.
    for kind in [KeyKind::Email, KeyKind::Linkedin, KeyKind::Name] {
        let has_key = match kind {
            KeyKind::Email => lead.email.is_some(),
            KeyKind::Linkedin => lead.linkedin_url.is_some(),
            KeyKind::Name => name_key(lead).is_some(),
        };
        assert_eq!(
            matches(lead, lead, kind),
            has_key,
            "self-match for {kind:?}: {lead:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(2000), failure_persistence: None, ..ProptestConfig::default() })]

    /// Whole rows: no panic; kept leads are normal and have an identity; rejected rows
    /// say why.
    #[test]
    fn rows_normalise_without_panics((headers, rows) in table()) {
        let map = ColumnMap::new(&headers, &[]).expect("no overrides, so no error");
        prop_assert_eq!(map.targets().len(), headers.len());
        for row in &rows {
            let cells: Vec<&str> = row.iter().map(String::as_str).collect();
            match normalize_row(&map, cells.iter().copied()) {
                Ok(kept) => assert_lead_normal(&kept.lead),
                Err(why) => prop_assert!(why.starts_with("no identity"), "{}", why),
            }
        }
    }

    /// Overrides: parsing arbitrary specs never panics, and a parsed override naming
    /// an existing header always maps.
    #[test]
    fn overrides_parse_without_panics(spec in prop_oneof![any_chars(20), "[A-Za-z ]{0,8}=(email|skip|custom|domain|nope| linkedin_url )"]) {
        if let Ok(o) = spec.parse::<Override>() {
            let headers = vec![o.header.clone(), "Other".to_owned()];
            prop_assert!(ColumnMap::new(&headers, &[o]).is_ok());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(3000), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn clean_text_is_clean_and_idempotent(raw in prop_oneof![any_chars(40), separator_heavy(), "\\PC{0,30}"]) {
        if let Some(out) = clean_text(&raw) {
            assert_clean("clean_text", &out);
            prop_assert_eq!(clean_text(&out), Some(out.clone()));
        } else {
            prop_assert!(raw.chars().all(|c| c.is_whitespace() || c.is_control()), "dropped {:?}", raw);
        }
    }

    #[test]
    fn email_is_idempotent_and_lowercase(raw in prop_oneof![email_like(), any_chars(30), separator_heavy()]) {
        if let Ok(email) = normalize_email(&raw) {
            assert_email_normal(&email);
        }
    }

    #[test]
    fn linkedin_url_is_canonical_and_idempotent(raw in prop_oneof![linkedin_like(), any_chars(30), separator_heavy()]) {
        if let Some(url) = canonical_linkedin_url(&raw) {
            assert_linkedin_normal(&url);
        }
    }

    #[test]
    fn registrable_domain_is_idempotent(raw in prop_oneof![website_like(), email_like(), any_chars(30), separator_heavy()]) {
        if let Some(domain) = registrable_domain(&raw) {
            assert_domain_normal(&domain);
        }
    }

    #[test]
    fn split_full_name_gives_clean_parts(raw in prop_oneof![name_like(), any_chars(30), separator_heavy()]) {
        let (first, last) = split_full_name(&raw);
        prop_assert!(first.is_some() || last.is_none(), "last without first: {:?}", raw);
        for part in [first, last].into_iter().flatten() {
            assert_clean("split_full_name", &part);
        }
    }

    #[test]
    fn header_lookup_never_panics(raw in prop_oneof![header(), any_chars(30)]) {
        let _ = field_for_header(&raw);
    }
}

/// Every canonical field name and every alias header used above maps somewhere sensible.
#[test]
fn known_headers_map_to_fields() {
    for field in Field::ALL {
        assert_eq!(field_for_header(field.name()), Some(field));
    }
    for h in ["Email", "First Name", "URL", "Website", "Full Name", "Company"] {
        assert!(field_for_header(h).is_some(), "{h}");
    }
}

/// Found by this fuzzer: letters that grow when lowercased ('Ⱥ' is 2 bytes, 'ⱥ' 3)
/// once let a local part pass the 64-byte limit before lowercasing and fail it after,
/// so the normalised address was refused when normalised again.
#[test]
fn email_length_is_checked_on_the_lowercased_form() {
    assert!(normalize_email(&format!("{}@a.com", "Ⱥ".repeat(32))).is_err());
    let fits = normalize_email(&format!("{}@a.com", "Ⱥ".repeat(21))).unwrap();
    assert_eq!(normalize_email(&fits).as_deref(), Ok(fits.as_str()));
}

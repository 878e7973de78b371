//! Proof that the byte-level fast paths of the value normalisers change nothing:
//! the implementations they replaced are kept below, verbatim, as references, and
//! property tests compare old and new on generated values rich in the edge cases
//! (delimiters, case, whitespace, dots, non-ASCII letters that change length or
//! case oddly). Where the general path still stands behind a fast check (`clean_text`),
//! the property compares with it instead of a copy. Deeper run:
//! `PROPTEST_CASES=200000 cargo test --release -p inroad-core equivalence`.

use proptest::prelude::*;

use crate::email::{normalize_email, normalize_host};
use crate::identity::{key_hash, name_key, IdentityHashes, KeyKind};
use crate::normalize::{canonical_linkedin_url, clean_text, registrable_domain};
use crate::Lead;

/// The normalisers as they were before the fast paths.
mod reference {
    use crate::email::EmailError;
    use crate::Lead;

    /// The registrable domain (per the public suffix list) of a website URL or host:
    /// `https://www.acme.co.uk/about` → `acme.co.uk`. `None` when there is no such
    /// domain (a bare suffix, an unknown top-level domain, an IP address, junk).
    pub(super) fn registrable_domain(raw: &str) -> Option<String> {
        let raw = raw.trim();
        let rest = match raw.find("://") {
            Some(i) => &raw[i + 3..],
            None => raw.strip_prefix("//").unwrap_or(raw),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = host_port.split(':').next().unwrap_or_default();
        let mut host = normalize_host(host)?;
        let domain = psl::domain(host.as_bytes())?;
        if !domain.suffix().is_known() {
            return None;
        }
        // The registrable domain is a suffix of the host: cut the host down to it.
        let keep = domain.as_bytes().len();
        host.drain(..host.len() - keep);
        Some(host)
    }

    /// What every canonical LinkedIn profile URL starts with; the slug follows.
    pub const LINKEDIN_PROFILE_PREFIX: &str = "https://www.linkedin.com/in/";

    /// The canonical form of a LinkedIn profile URL, `https://www.linkedin.com/in/<slug>`
    /// (lowercase, no query, fragment or trailing slash, any country subdomain), or
    /// `None` when the value is not a member profile URL.
    pub(super) fn canonical_linkedin_url(raw: &str) -> Option<String> {
        const CANONICAL: &str = LINKEDIN_PROFILE_PREFIX;
        let raw = raw.trim();
        let rest = strip_prefix_ignore_case(raw, "https://")
            .or_else(|| strip_prefix_ignore_case(raw, "http://"))
            .unwrap_or(raw);
        let (host, path) = rest.split_once('/')?;
        let host_ok = host.eq_ignore_ascii_case("linkedin.com")
            || host.len() > ".linkedin.com".len()
                && host.is_char_boundary(host.len() - ".linkedin.com".len())
                && host[host.len() - ".linkedin.com".len()..].eq_ignore_ascii_case(".linkedin.com")
                && host[..host.len() - ".linkedin.com".len()]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric());
        if !host_ok {
            return None;
        }
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let mut segments = path.split('/').filter(|s| !s.is_empty());
        let kind = segments.next()?;
        if !kind.eq_ignore_ascii_case("in") && !kind.eq_ignore_ascii_case("pub") {
            return None;
        }
        let slug = segments.next()?;
        let mut url = String::with_capacity(CANONICAL.len() + slug.len());
        url.push_str(CANONICAL);
        let slug_ok = if slug.is_ascii() {
            url.push_str(slug);
            url.make_ascii_lowercase();
            slug.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'%' | b'.'))
        } else {
            url.extend(slug.chars().flat_map(char::to_lowercase));
            // Checked after lowercasing, which can add characters ('İ' → "i\u{307}").
            url[CANONICAL.len()..]
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '%' | '.'))
        };
        slug_ok.then_some(url)
    }

    fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
        let head = s.get(..prefix.len())?;
        head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
    }

    /// Characters RFC 5322 allows in a dot-atom, besides letters and digits.
    const ATEXT_SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";

    /// Returns the address lowercased, with an internationalised domain in punycode, or
    /// why it is not a usable address. A `mailto:` prefix is tolerated.
    pub(super) fn normalize_email(raw: &str) -> Result<String, EmailError> {
        let raw = raw.trim();
        let raw = raw
            .strip_prefix("mailto:")
            .or_else(|| raw.strip_prefix("MAILTO:"))
            .unwrap_or(raw);
        let (local, domain) = raw.rsplit_once('@').ok_or(EmailError::NoAt)?;
        if local.is_empty() {
            return Err(EmailError::EmptyLocal);
        }
        let local_ok = local.split('.').all(|atom| {
            !atom.is_empty()
                && atom.chars().all(|c| {
                    c.is_alphanumeric()
                        || ATEXT_SPECIALS.contains(c)
                        || (!c.is_ascii() && !c.is_whitespace() && !c.is_control())
                })
        });
        if !local_ok {
            return Err(EmailError::BadLocal);
        }
        let mut address = String::with_capacity(raw.len());
        if local.is_ascii() {
            address.push_str(local);
            address.make_ascii_lowercase();
        } else {
            address.extend(local.chars().flat_map(char::to_lowercase));
        }
        // Measured after lowercasing: some letters grow ('Ⱥ' → 'ⱥ'), and the stored
        // form is what must fit.
        if address.len() > 64 {
            return Err(EmailError::LocalTooLong);
        }
        address.push('@');
        if !push_host(&mut address, domain) {
            return Err(EmailError::BadDomain);
        }
        if address.len() > 254 {
            return Err(EmailError::TooLong);
        }
        Ok(address)
    }

    /// A host name lowercased and in punycode, if it is a syntactically valid internet
    /// host name with at least two labels and an alphabetic top-level label.
    pub(super) fn normalize_host(host: &str) -> Option<String> {
        let mut out = String::with_capacity(host.len());
        push_host(&mut out, host).then_some(out)
    }

    /// Appends the normalised host to `out`; false (with `out` in an unspecified state
    /// past its original length) when the host is not valid.
    fn push_host(out: &mut String, host: &str) -> bool {
        let host = host.trim().trim_end_matches('.');
        if host.is_empty() || host.len() > 253 || host.chars().any(char::is_whitespace) {
            return false;
        }
        let start = out.len();
        if host.is_ascii() {
            out.push_str(host);
            out[start..].make_ascii_lowercase();
        } else {
            match idna::domain_to_ascii(host) {
                Ok(ascii) => out.push_str(&ascii),
                Err(_) => return false,
            }
        }
        let ascii = &out[start..];
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        let Some((_, tld)) = ascii.rsplit_once('.') else {
            return false;
        };
        if !ascii.split('.').all(label_ok) {
            return false;
        }
        (tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic())) || tld.starts_with("xn--")
    }

    /// Writes the name key into `buf` (cleared first); false when the lead has none.
    pub(super) fn name_key_into(lead: &Lead, buf: &mut String) -> bool {
        buf.clear();
        if lead.first_name.is_none() && lead.last_name.is_none() {
            return false;
        }
        let lower = |buf: &mut String, part: &Option<String>| match part {
            Some(part) if part.is_ascii() => {
                let start = buf.len();
                buf.push_str(part);
                buf[start..].make_ascii_lowercase();
            }
            Some(part) => buf.extend(part.chars().flat_map(char::to_lowercase)),
            None => {}
        };
        lower(buf, &lead.first_name);
        buf.push('\u{1f}');
        lower(buf, &lead.last_name);
        buf.push('\u{1f}');
        match (&lead.domain, &lead.company) {
            (Some(domain), _) => buf.push_str(domain),
            (None, Some(_)) => {
                buf.push_str("company:");
                lower(buf, &lead.company);
            }
            (None, None) => return false,
        }
        true
    }
}

/// Cases per property: 20,000, or `PROPTEST_CASES` for a deeper run.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    ProptestConfig::with_cases(cases)
}

/// The delimiters and separators the normalisers scan for, case, and non-ASCII
/// letters that grow when lowercased ('İ', 'Ⱥ'), lowercase to ASCII (Kelvin 'K'),
/// lowercase by position ('Σ'), or that IDNA maps to a dot (fullwidth '．'); ASCII
/// and C1 controls, and whitespace that is not ASCII.
const EDGE_CHARS: &[char] = &[
    'a', 'e', 'z', 'A', 'Q', 'Z', '0', '7', ':', '/', '?', '#', '@', '.', '-', '_', '%', ' ', ' ', '\t',
    '\n', '\r', ',', '+', '!', '\'', '~', 'ü', 'Ü', 'é', 'İ', 'ß', 'ẞ', 'Σ', 'Ⱥ', '\u{212a}', '．', '’',
    '\u{0}', '\u{7f}', '\u{80}', '\u{85}', '\u{9f}', '\u{a0}', '\u{2028}', '\u{3000}', '\u{feff}',
];

fn edge_string(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(EDGE_CHARS), 0..max)
        .prop_map(|chars| chars.into_iter().collect())
}

/// Leading or trailing whitespace, mostly none.
fn padding() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&["", "", "", "", " ", "\t", "\u{a0}", " \n"][..])
}

/// One host label: usual, empty, hyphen-edged, 63/64 long, or internationalised.
fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z0-9]{1,10}",
        2 => "[a-zA-Z0-9-]{0,8}",
        1 => "[a-z]{62,65}",
        1 => "[a-zü0-9ß-]{1,8}",
        1 => "[a-zA-Z]{1,4}[İ．_ ][a-z]{0,3}",
        1 => "(xn--|XN--)[a-z0-9]{0,8}",
    ]
}

fn host_like() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&["", "", "www.", "WWW.", "shop.eu.", "-a.", "."][..]),
        prop::collection::vec(label(), 0..4),
        prop::sample::select(
            &[
                "com",
                "COM",
                "co.uk",
                "de",
                "io",
                "github.io",
                "blogspot.com",
                "ck",
                "zz",
                "xn--p1ai",
                "XN--P1AI",
                "123",
                "c",
                "",
                "com.",
                "com..",
                "co.uk.",
            ][..],
        ),
        0..300usize,
    )
        .prop_map(|(prefix, labels, tld, long)| {
            let mut host = prefix.to_owned();
            // Now and then past the 253-byte limit (or just under it).
            if long > 240 {
                host.push_str(&"abcdefghi.".repeat(long / 10));
            }
            for l in labels {
                host.push_str(&l);
                host.push('.');
            }
            host.push_str(tld);
            host
        })
}

fn url_like() -> impl Strategy<Value = String> {
    (
        padding(),
        prop::sample::select(
            &[
                "", "", "http://", "https://", "HTTPS://", "hTtP://", "//", "ftp://", "://", ":/",
            ][..],
        ),
        prop::sample::select(&["", "", "", "user@", "u:p@", "a@b@", "@"][..]),
        host_like(),
        prop::sample::select(&["", "", "", ":8443", ":", ":80:90"][..]),
        prop::sample::select(
            &[
                "",
                "",
                "/",
                "/about",
                "/a/b?c",
                "?q=1",
                "#top",
                "/x?u=http://evil.com",
                "/@x:y",
            ][..],
        ),
        padding(),
    )
        .prop_map(|(a, b, c, d, e, f, g)| format!("{a}{b}{c}{d}{e}{f}{g}"))
}

fn email_like() -> impl Strategy<Value = String> {
    (
        padding(),
        prop::sample::select(&["", "", "", "mailto:", "MAILTO:", "Mailto:"][..]),
        prop_oneof![
            6 => "[a-zA-Z0-9._%+'-]{0,20}",
            2 => "[a-z0-9.!#$&*/=?^`{|}~ ,\"()\\[\\]\\\\-]{0,12}",
            1 => "[a-zA-Z.]{60,70}",
            1 => "[a-zéİȺẞΣ.\u{85}\u{a0}-]{0,10}",
        ],
        prop::sample::select(&["@", "@", "@", "", "@@", "@x@"][..]),
        host_like(),
        prop::sample::select(&["", "", "", ",", ".", " ", ">"][..]),
        padding(),
    )
        .prop_map(|(a, b, c, d, e, f, g)| format!("{a}{b}{c}{d}{e}{f}{g}"))
}

fn linkedin_like() -> impl Strategy<Value = String> {
    (
        padding(),
        prop::sample::select(&["", "https://", "http://", "HTTPS://", "hTtP://", "//", "ftp://"][..]),
        prop::sample::select(&["www.", "www.", "", "uk.", "WWW.", "a-b.", "ü.", ".", "x.y."][..]),
        prop::sample::select(
            &[
                "linkedin.com",
                "linkedin.com",
                "LinkedIn.COM",
                "linkedin.co",
                "evil.com",
                "linkedin.com:443",
                "linkedin.comü",
            ][..],
        ),
        prop::sample::select(&["/", "/", "//", "", "?/", "#/"][..]),
        prop::sample::select(&["in", "in", "IN", "pub", "Pub", "company", "i", "", "in?", "in#"][..]),
        prop::sample::select(&["/", "/", "//", "", "?", "/?"][..]),
        prop_oneof![
            6 => "[a-z0-9-]{0,30}",
            2 => "[A-Za-z0-9_%.-]{0,20}",
            1 => "[A-Za-z0-9 !@:,+~*-]{0,10}",
            1 => "[a-zİΣẞ\u{212a}é\u{300}・-]{0,10}",
        ],
        prop::sample::select(
            &[
                "",
                "",
                "/",
                "?trk=x",
                "#about",
                "/details/experience/",
                "?x=/y",
                "#/in/x",
                "/Ü",
            ][..],
        ),
        padding(),
    )
        .prop_map(|(a, b, c, d, e, f, g, h, i, j)| format!("{a}{b}{c}{d}{e}{f}{g}{h}{i}{j}"))
}

/// URLs starting with the canonical prefix itself (the fast path's form), then slugs
/// and what may follow them.
fn profile_like() -> impl Strategy<Value = String> {
    (
        padding(),
        prop::sample::select(&["", "", "/", "//"][..]),
        prop_oneof![
            4 => "[a-z0-9-]{0,30}",
            3 => "[A-Za-z0-9_%.-]{0,20}",
            1 => "[A-Za-z0-9 !@:,+~*-]{0,10}",
            1 => "[a-zİΣẞ\u{212a}é\u{300}・-]{0,10}",
        ],
        prop::sample::select(&["", "", "/", "?trk=x", "#about", "/details/", "?x=/y", "/Ü", " x"][..]),
        padding(),
    )
        .prop_map(|(a, b, c, d, e)| format!("{a}{}{b}{c}{d}{e}", reference::LINKEDIN_PROFILE_PREFIX))
}

fn name_part() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        3 => "[A-Za-z' -]{0,12}",
        2 => "[A-Za-zÉéÑñİΣẞȺ\u{212a}ÖöŁ' -]{0,12}",
        1 => edge_string(10),
    ])
}

fn lead_like() -> impl Strategy<Value = Lead> {
    (
        name_part(),
        name_part(),
        name_part(),
        prop::option::of("[a-z0-9.-]{1,15}"),
        prop::option::of(email_like()),
        prop::option::of(linkedin_like()),
    )
        .prop_map(
            |(first_name, last_name, company, domain, email, linkedin_url)| Lead {
                first_name,
                last_name,
                company,
                domain,
                email,
                linkedin_url,
                ..Lead::default()
            },
        )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn registrable_domain_unchanged(raw in prop_oneof![url_like(), host_like(), email_like(), edge_string(30)]) {
        prop_assert_eq!(registrable_domain(&raw), reference::registrable_domain(&raw));
    }

    #[test]
    fn normalize_host_unchanged(raw in prop_oneof![host_like(), url_like(), edge_string(20)]) {
        prop_assert_eq!(normalize_host(&raw), reference::normalize_host(&raw));
    }

    #[test]
    fn normalize_email_unchanged(raw in prop_oneof![3 => email_like(), 1 => edge_string(30)]) {
        prop_assert_eq!(normalize_email(&raw), reference::normalize_email(&raw));
    }

    #[test]
    fn canonical_linkedin_url_unchanged(raw in prop_oneof![3 => linkedin_like(), 2 => profile_like(), 1 => url_like(), 1 => edge_string(40)]) {
        prop_assert_eq!(canonical_linkedin_url(&raw), reference::canonical_linkedin_url(&raw));
    }

    #[test]
    fn clean_text_is_its_general_path(raw in prop_oneof![edge_string(20), "[a-z ]{0,20}", "[ -~]{0,20}"]) {
        let mut general = String::new();
        let general = crate::normalize::clean_words_into(&raw, &mut general).then_some(general);
        prop_assert_eq!(clean_text(&raw), general);
    }

    #[test]
    fn trim_is_str_trim(raw in prop_oneof![edge_string(6), (padding(), email_like(), padding()).prop_map(|(a, b, c)| format!("{a}{b}{c}"))]) {
        prop_assert_eq!(crate::normalize::trim(&raw), raw.trim());
    }

    #[test]
    fn identity_keys_unchanged(lead in lead_like()) {
        let mut want = String::new();
        let want = reference::name_key_into(&lead, &mut want).then_some(want);
        prop_assert_eq!(name_key(&lead), want.clone());
        let hashes = IdentityHashes::of(&lead);
        prop_assert_eq!(hashes.get(KeyKind::Name), want.as_deref().map(key_hash));
        prop_assert_eq!(hashes.get(KeyKind::Email), lead.email.as_deref().map(key_hash));
        prop_assert_eq!(hashes.get(KeyKind::Linkedin), lead.linkedin_url.as_deref().map(key_hash));
    }
}

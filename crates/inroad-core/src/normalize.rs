//! Normalisation of single values: whitespace, names, company domains, LinkedIn URLs.

use crate::email::normalize_host_into;

/// Trims and collapses every run of whitespace (including newlines inside quoted
/// cells) into one space, and drops control characters. `None` when nothing is left.
pub fn clean_text(raw: &str) -> Option<String> {
    let mut out = String::new();
    clean_text_into(raw, &mut out).then_some(out)
}

/// [`clean_text`] into `out` (emptied first, its buffer reused); false when nothing
/// is left.
pub fn clean_text_into(raw: &str, out: &mut String) -> bool {
    out.clear();
    if is_clean(raw.as_bytes()) {
        out.push_str(raw);
        return true;
    }
    clean_words_into(raw, out)
}

/// [`clean_text_into`]'s general path, for any cell, into the empty `out`: the words
/// between runs of whitespace and control characters, joined by single spaces.
pub(crate) fn clean_words_into(raw: &str, out: &mut String) -> bool {
    out.reserve(raw.len());
    for word in raw.split(|c: char| c.is_whitespace() || c.is_control()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    !out.is_empty()
}

/// Whether a cell is already clean: printable ASCII, spaces single and inside (most
/// cells are). Eight bytes at a time, without a branch on where the spaces fall,
/// which no predictor learns: the byte-wise loop this replaced mispredicted at most
/// spaces, and cleaning took a third less time without it.
fn is_clean(bytes: &[u8]) -> bool {
    match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) if first != b' ' && last != b' ' => {}
        _ => return false,
    }
    let word_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"));
    if bytes.len() < 8 {
        // Padded with a clean byte that is not a space (a copy into a padded array
        // would call memcpy, whose branches on the length mispredict).
        let padded = bytes
            .iter()
            .enumerate()
            .fold(ONES * u64::from(b'a'), |word, (i, &b)| {
                word & !(0xff << (8 * i)) | u64::from(b) << (8 * i)
            });
        return unclean_lanes(padded, 0).0 == 0;
    }
    let (mut unclean, mut spaces) = (0, 0);
    for at in (0..bytes.len() / 8).map(|word| word * 8) {
        let (lanes, word_spaces) = unclean_lanes(word_at(at), spaces);
        (unclean, spaces) = (unclean | lanes, word_spaces);
    }
    if !bytes.len().is_multiple_of(8) {
        // The last eight bytes overlap words checked already, and share with them no
        // pair of neighbours that was not checked: no space is carried in.
        unclean |= unclean_lanes(word_at(bytes.len() - 8), 0).0;
    }
    unclean == 0
}

/// Every byte of a word.
const ONES: u64 = u64::from_le_bytes([1; 8]);

/// For each byte (lane) of `word`, read as eight bytes of text in order: its high bit
/// set in the first mask if it is not printable ASCII or is a space after a space
/// (`spaces_before`, the word before's second mask, gives the space before lane 0);
/// set in the second if it is a space.
fn unclean_lanes(word: u64, spaces_before: u64) -> (u64, u64) {
    const HIGH: u64 = ONES * 0x80;
    const LOW7: u64 = ONES * 0x7f;
    // Exact per lane: no carry crosses lanes (SWAR, as in "Bit Twiddling Hacks").
    let diff = word ^ (ONES * u64::from(b' '));
    let spaces = !(((diff & LOW7) + LOW7) | diff) & HIGH;
    let doubled = (spaces & (spaces >> 8)) | (spaces & (spaces_before >> 56));
    // Whether any lane is below ' ' or above '~': exact as to "any", which is all
    // that is asked.
    let below_space = word.wrapping_sub(ONES * u64::from(b' ')) & !word;
    let above_tilde = word.wrapping_add(ONES) | word;
    ((below_space | above_tilde) & HIGH | doubled, spaces)
}

/// `str::trim`, answered at once for the common cell that starts and ends with a
/// printable ASCII character (which is not whitespace): `trim` decodes a char at each
/// end, and every value of every row is trimmed.
pub(crate) fn trim(s: &str) -> &str {
    let bytes = s.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// The registrable domain (per the public suffix list) of a website URL or host:
/// `https://www.acme.co.uk/about` → `acme.co.uk`. `None` when there is no such
/// domain (a bare suffix, an unknown top-level domain, an IP address, junk).
pub fn registrable_domain(raw: &str) -> Option<String> {
    let mut domain = String::new();
    registrable_domain_into(raw, &mut domain).then_some(domain)
}

/// [`registrable_domain`] into `out` (emptied first, its buffer reused); false when
/// there is no such domain, and `out` holds nothing of use.
pub fn registrable_domain_into(raw: &str, out: &mut String) -> bool {
    let raw = trim(raw);
    let rest = match find_scheme_separator(raw) {
        Some(i) => &raw[i + 3..],
        None => raw.strip_prefix("//").unwrap_or(raw),
    };
    if !normalize_host_into(url_host(rest), out) {
        return false;
    }
    let keep = match psl::domain(out.as_bytes()) {
        Some(domain) if domain.suffix().is_known() => domain.as_bytes().len(),
        _ => return false,
    };
    // The registrable domain is a suffix of the host: cut the host down to it.
    out.drain(..out.len() - keep);
    true
}

/// Where the first "://" starts, as `str::find("://")` answers, without building a
/// substring searcher on every call: each ':' is checked for the two slashes after it.
fn find_scheme_separator(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut from = 0;
    while let Some(offset) = bytes[from..].iter().position(|&b| b == b':') {
        let colon = from + offset;
        if bytes[colon + 1..].starts_with(b"//") {
            return Some(colon);
        }
        from = colon + 1;
    }
    None
}

/// The host of a URL whose scheme is cut off: its authority (up to the first '/',
/// '?' or '#'), after any userinfo (up to the last '@'), before any port (the first
/// ':' after that). One pass over the bytes, classed through a table so that only a
/// delimiter takes a branch (a `match` on each byte jumped through a table on every
/// digit and dot). The delimiters are ASCII, so every cut is a char boundary.
fn url_host(rest: &str) -> &str {
    const END: u8 = 1;
    const USERINFO_END: u8 = 2;
    const PORT: u8 = 3;
    const CLASSES: [u8; 256] = byte_classes! {
        b'/' | b'?' | b'#' => END,
        b'@' => USERINFO_END,
        b':' => PORT,
    };
    let mut host_start = 0;
    let mut port_colon = None;
    for (i, &b) in rest.as_bytes().iter().enumerate() {
        match CLASSES[usize::from(b)] {
            0 => {}
            END => return &rest[host_start..port_colon.unwrap_or(i)],
            USERINFO_END => (host_start, port_colon) = (i + 1, None),
            _ => port_colon = port_colon.or(Some(i)),
        }
    }
    &rest[host_start..port_colon.unwrap_or(rest.len())]
}

/// What every canonical LinkedIn profile URL starts with; the slug follows.
pub const LINKEDIN_PROFILE_PREFIX: &str = "https://www.linkedin.com/in/";

/// The canonical form of a LinkedIn profile URL, `https://www.linkedin.com/in/<slug>`
/// (lowercase, no query, fragment or trailing slash, any country subdomain), or
/// `None` when the value is not a member profile URL.
pub fn canonical_linkedin_url(raw: &str) -> Option<String> {
    let mut url = String::new();
    canonical_linkedin_url_into(raw, &mut url).then_some(url)
}

/// [`canonical_linkedin_url`] into `url` (emptied first, its buffer reused); false
/// when the value is not a member profile URL, and `url` holds nothing of use.
pub fn canonical_linkedin_url_into(raw: &str, url: &mut String) -> bool {
    url.clear();
    match push_canonical_profile(trim(raw), url) {
        Some(()) => true,
        None => push_canonical_linkedin_url(raw, url).is_some(),
    }
}

/// [`canonical_linkedin_url_into`] for the common URL, canonical up to an ASCII slug
/// (`https://www.linkedin.com/in/jane-doe-1a2b3c/`): the slug is found and checked
/// in one pass. `None` (and `url` untouched) for any other URL, which the general
/// path decides; the slug then ends at the same '/', '?' or '#' it would find.
fn push_canonical_profile(raw: &str, url: &mut String) -> Option<()> {
    let tail = raw.strip_prefix(LINKEDIN_PROFILE_PREFIX)?;
    let tail = &tail[tail.bytes().position(|b| b != b'/')?..];
    // Classed through a table, so that only the slug's end takes a branch: which
    // kinds of byte follow which in a slug is what a predictor cannot learn. Class 0
    // is a byte no slug holds.
    const SLUG_LOWERCASE: u8 = 1;
    const SLUG_UPPERCASE: u8 = 2;
    const SLUG_END: u8 = 4;
    const SLUG_CLASSES: [u8; 256] = byte_classes! {
        b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'%' | b'.' => SLUG_LOWERCASE,
        b'A'..=b'Z' => SLUG_UPPERCASE,
        b'/' | b'?' | b'#' => SLUG_END,
    };
    let (mut end, mut seen, mut all_slug) = (tail.len(), 0, true);
    for (i, &b) in tail.as_bytes().iter().enumerate() {
        let class = SLUG_CLASSES[usize::from(b)];
        if class == SLUG_END {
            end = i;
            break;
        }
        seen |= class;
        all_slug &= class != 0;
    }
    if end == 0 || !all_slug {
        return None;
    }
    let has_uppercase = seen & SLUG_UPPERCASE != 0;
    url.reserve(LINKEDIN_PROFILE_PREFIX.len() + end);
    url.push_str(LINKEDIN_PROFILE_PREFIX);
    url.push_str(&tail[..end]);
    if has_uppercase {
        url[LINKEDIN_PROFILE_PREFIX.len()..].make_ascii_lowercase();
    }
    Some(())
}

fn push_canonical_linkedin_url(raw: &str, url: &mut String) -> Option<()> {
    const CANONICAL: &str = LINKEDIN_PROFILE_PREFIX;
    let raw = trim(raw);
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
    let (kind, path) = first_path_segment(path)?;
    if !kind.eq_ignore_ascii_case("in") && !kind.eq_ignore_ascii_case("pub") {
        return None;
    }
    let (slug, _) = first_path_segment(path)?;
    // The common slug is ASCII and already lowercase: one pass checks it before
    // anything is allocated, and tells whether lowercasing is needed at all.
    let mut has_uppercase = false;
    let mut is_ascii = true;
    for b in slug.bytes() {
        match b {
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'%' | b'.' => {}
            b'A'..=b'Z' => has_uppercase = true,
            // Other ASCII stays itself when lowercased: refused whatever else is there.
            0..=0x7f => return None,
            _ => is_ascii = false,
        }
    }
    url.reserve(CANONICAL.len() + slug.len());
    url.push_str(CANONICAL);
    if is_ascii {
        url.push_str(slug);
        if has_uppercase {
            url[CANONICAL.len()..].make_ascii_lowercase();
        }
        return Some(());
    }
    url.extend(slug.chars().flat_map(char::to_lowercase));
    // Checked after lowercasing, which can add characters ('İ' → "i\u{307}").
    let slug_ok = url[CANONICAL.len()..]
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '%' | '.'));
    slug_ok.then_some(())
}

/// The first non-empty segment of a URL path, and the path after it. The path ends
/// at the first '?' or '#', so a segment ends there too and none follows it.
fn first_path_segment(path: &str) -> Option<(&str, &str)> {
    let start = path.bytes().position(|b| b != b'/')?;
    let path = &path[start..];
    let end = path
        .bytes()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(path.len());
    (end > 0).then(|| path.split_at(end))
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// Honorifics dropped from the front of a full name.
const HONORIFICS: &[&str] = &["mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir"];
/// Generational suffixes and credentials dropped from the end of a full name.
const NAME_SUFFIXES: &[&str] = &[
    "jr", "sr", "ii", "iii", "iv", "phd", "mba", "md", "cpa", "cfa", "pmp", "esq", "msc", "bsc",
];

fn is_one_of(token: &str, list: &[&str]) -> bool {
    let bare: String = token
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    !bare.is_empty() && list.contains(&bare.as_str())
}

/// Splits a person's full name into (first, last). Handles "Last, First",
/// honorifics, credentials (", MBA") and multi-word surnames ("Anne van der Berg" →
/// ("Anne", "van der Berg")). A single word is a first name.
pub fn split_full_name(full: &str) -> (Option<String>, Option<String>) {
    let full = clean_text(full).unwrap_or_default();
    let mut parts: Vec<&str> = full.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    while parts.len() > 1
        && parts[1..]
            .iter()
            .all(|p| p.split(' ').all(|t| is_one_of(t, NAME_SUFFIXES)))
    {
        parts.pop();
    }
    let ordered = match parts.as_slice() {
        [last, first] => format!("{first} {last}"),
        _ => parts.join(" "),
    };
    let mut tokens: Vec<&str> = ordered.split(' ').filter(|t| !t.is_empty()).collect();
    while tokens.len() > 1 && is_one_of(tokens[0], HONORIFICS) {
        tokens.remove(0);
    }
    while tokens.len() > 1 && is_one_of(tokens[tokens.len() - 1], NAME_SUFFIXES) {
        tokens.pop();
    }
    match tokens.split_first() {
        None => (None, None),
        Some((first, [])) => (Some((*first).to_owned()), None),
        Some((first, rest)) => (Some((*first).to_owned()), Some(rest.join(" "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_whitespace() {
        assert_eq!(clean_text("  Head of\n  Sales\t"), Some("Head of Sales".into()));
        assert_eq!(clean_text(" \r\n "), None);
    }

    #[test]
    fn domains_from_websites() {
        for (raw, want) in [
            ("https://www.acme.co.uk/about", Some("acme.co.uk")),
            ("http://acme.io/", Some("acme.io")),
            ("www.Acme.com", Some("acme.com")),
            ("acme.com.au", Some("acme.com.au")),
            ("https://shop.eu.acme.de:8443/x?y#z", Some("acme.de")),
            ("https://bücher.de", Some("xn--bcher-kva.de")),
            ("co.uk", None),
            ("localhost", None),
            ("not a website", None),
            ("", None),
        ] {
            assert_eq!(registrable_domain(raw).as_deref(), want, "{raw}");
        }
    }

    #[test]
    fn linkedin_urls_canonical() {
        let want = Some("https://www.linkedin.com/in/john-smith-1a2b3c".to_owned());
        for raw in [
            "https://www.linkedin.com/in/John-Smith-1a2b3c/",
            "http://linkedin.com/in/john-smith-1a2b3c?trk=public_profile",
            "linkedin.com/in/john-smith-1a2b3c",
            "https://uk.linkedin.com/in/john-smith-1a2b3c/details/experience/",
            " www.linkedin.com/in/john-smith-1a2b3c#about ",
        ] {
            assert_eq!(canonical_linkedin_url(raw), want, "{raw}");
        }
        for raw in [
            "https://www.linkedin.com/company/acme",
            "https://evil.com/in/john",
            "https://www.linkedin.com/in/",
            "john-smith",
        ] {
            assert_eq!(canonical_linkedin_url(raw), None, "{raw}");
        }
    }

    #[test]
    fn splits_names() {
        let s = |a: &str, b: Option<&str>| (Some(a.to_owned()), b.map(str::to_owned));
        assert_eq!(split_full_name("John Smith"), s("John", Some("Smith")));
        assert_eq!(split_full_name("Smith, John"), s("John", Some("Smith")));
        assert_eq!(
            split_full_name("Dr. Anne van der Berg, PhD"),
            s("Anne", Some("van der Berg"))
        );
        assert_eq!(
            split_full_name("Jean-Luc O'Brien Jr."),
            s("Jean-Luc", Some("O'Brien"))
        );
        assert_eq!(split_full_name("Cher"), s("Cher", None));
        assert_eq!(split_full_name("  "), (None, None));
    }
}

//! Practical email address syntax (RFC 5321/5322 as mail servers accept it).
//!
//! Lead lists carry addresses typed by people and scraped by tools, so the check is
//! deliberately practical: a dot-atom local part (quoted local parts and comments are
//! legal but never appear in real B2B addresses and break many senders), and a
//! domain that is a real host name, converted to punycode when internationalised.

use std::fmt;

/// Why an address was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailError {
    NoAt,
    EmptyLocal,
    LocalTooLong,
    BadLocal,
    BadDomain,
    TooLong,
}

impl fmt::Display for EmailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EmailError::NoAt => "no @",
            EmailError::EmptyLocal => "empty local part",
            EmailError::LocalTooLong => "local part longer than 64 characters",
            EmailError::BadLocal => "invalid character or dot in local part",
            EmailError::BadDomain => "invalid domain",
            EmailError::TooLong => "address longer than 254 characters",
        })
    }
}

/// Characters RFC 5322 allows in a dot-atom, besides letters and digits.
const ATEXT_SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";

/// Returns the address lowercased, with an internationalised domain in punycode, or
/// why it is not a usable address. A `mailto:` prefix is tolerated.
pub fn normalize_email(raw: &str) -> Result<String, EmailError> {
    let mut address = String::new();
    normalize_email_into(raw, &mut address).map(|()| address)
}

/// [`normalize_email`] into `address` (emptied first): an import reuses one buffer
/// row after row instead of allocating a string per cell. On an error, `address`
/// holds nothing of use.
pub fn normalize_email_into(raw: &str, address: &mut String) -> Result<(), EmailError> {
    address.clear();
    let raw = crate::normalize::trim(raw);
    let raw = raw
        .strip_prefix("mailto:")
        .or_else(|| raw.strip_prefix("MAILTO:"))
        .unwrap_or(raw);
    let (local, domain) = raw.rsplit_once('@').ok_or(EmailError::NoAt)?;
    if local.is_empty() {
        return Err(EmailError::EmptyLocal);
    }
    let local_ok = if local.is_ascii() {
        is_ascii_dot_atom(local.as_bytes())
    } else {
        is_dot_atom(local)
    };
    if !local_ok {
        return Err(EmailError::BadLocal);
    }
    address.reserve(raw.len());
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
    if !push_host(address, domain) {
        return Err(EmailError::BadDomain);
    }
    if address.len() > 254 {
        return Err(EmailError::TooLong);
    }
    Ok(())
}

/// A host name lowercased and in punycode, if it is a syntactically valid internet
/// host name with at least two labels and an alphabetic top-level label.
pub fn normalize_host(host: &str) -> Option<String> {
    let mut out = String::new();
    normalize_host_into(host, &mut out).then_some(out)
}

/// [`normalize_host`] into `out` (emptied first); false when the host is not valid.
pub(crate) fn normalize_host_into(host: &str, out: &mut String) -> bool {
    out.clear();
    out.reserve(host.len());
    push_host(out, host)
}

/// Whether `local` is a dot-atom: atoms of letters, digits (any script), non-ASCII
/// symbols and [`ATEXT_SPECIALS`], joined by single dots.
fn is_dot_atom(local: &str) -> bool {
    local.split('.').all(|atom| {
        !atom.is_empty()
            && atom.chars().all(|c| {
                c.is_alphanumeric()
                    || ATEXT_SPECIALS.contains(c)
                    || (!c.is_ascii() && !c.is_whitespace() && !c.is_control())
            })
    })
}

/// [`is_dot_atom`] for an ASCII local part, in one pass over its bytes (the common
/// case, and the one that splitting on dots and searching the specials made slow),
/// classed through a table: no branch on where the dots fall.
fn is_ascii_dot_atom(local: &[u8]) -> bool {
    const ATEXT: u8 = 1;
    const DOT: u8 = 2;
    const CLASSES: [u8; 256] = {
        let mut classes = byte_classes! {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => ATEXT,
            b'.' => DOT,
        };
        let specials = ATEXT_SPECIALS.as_bytes();
        let mut i = 0;
        while i < specials.len() {
            classes[specials[i] as usize] = ATEXT;
            i += 1;
        }
        classes
    };
    // A leading dot is refused like an empty first atom: the local part starts as if
    // after a dot.
    let (mut bad, mut previous) = (false, DOT);
    for &b in local {
        let class = CLASSES[usize::from(b)];
        bad |= (class == 0) | (class == DOT) & (previous == DOT);
        previous = class;
    }
    !bad && previous != DOT
}

/// Appends the normalised host to `out`; false (with `out` in an unspecified state
/// past its original length) when the host is not valid.
fn push_host(out: &mut String, host: &str) -> bool {
    match push_plain_host(out, host) {
        Some(valid) => valid,
        None => push_any_host(out, host),
    }
}

/// [`push_host`] for the common host made only of ASCII letters, digits, '-' and
/// '.', in one pass over its bytes. Such a host has nothing to trim but trailing
/// dots and needs no IDNA, so checking its labels' edges as they go by answers as the
/// general path would. `None` (and `out` untouched) when the host holds any other
/// byte: [`push_any_host`] decides.
fn push_plain_host(out: &mut String, host: &str) -> Option<bool> {
    let end = host.bytes().rposition(|b| b != b'.').map_or(0, |last| last + 1);
    // Without its trailing dots (what follows `end` is ASCII: a char boundary).
    let host = &host[..end];
    let bytes = host.as_bytes();
    // Each byte is classed (0: a byte a plain host has not), and each pair of
    // neighbours checked, with no branch on the class (where the dots and hyphens
    // fall is what a predictor cannot learn): a label is empty where a dot follows a
    // dot, and starts or ends with '-' where a hyphen touches a dot. The host starts
    // as if after a dot.
    const HOST_ALNUM: u8 = 1;
    const HOST_HYPHEN: u8 = 2;
    const HOST_DOT: u8 = 3;
    const HOST_CLASSES: [u8; 256] = byte_classes! {
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => HOST_ALNUM,
        b'-' => HOST_HYPHEN,
        b'.' => HOST_DOT,
    };
    let (mut other, mut bad_edge, mut previous) = (false, false, HOST_DOT);
    for &b in bytes {
        let class = HOST_CLASSES[usize::from(b)];
        other |= class == 0;
        bad_edge |=
            (previous == HOST_DOT) & (class != HOST_ALNUM) | (previous == HOST_HYPHEN) & (class == HOST_DOT);
        previous = class;
    }
    if other {
        return None;
    }
    let labels_ok = !bad_edge
        && previous != HOST_HYPHEN
        && (bytes.len() <= 63 || bytes.split(|&b| b == b'.').all(|label| label.len() <= 63));
    let tld_start = bytes.iter().rposition(|&b| b == b'.').map(|dot| dot + 1);
    let tld = &bytes[tld_start.unwrap_or(0)..];
    // Letters only, or an IDNA label; compared before lowercasing, so case-insensitively.
    let tld_ok = (tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic))
        || tld.get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"xn--"));
    let valid = bytes.len() <= 253 && tld_start.is_some() && labels_ok && tld_ok;
    if valid {
        let start = out.len();
        out.push_str(host);
        out[start..].make_ascii_lowercase();
    }
    Some(valid)
}

/// [`push_host`] for any host: trimmed, internationalised names through IDNA.
fn push_any_host(out: &mut String, host: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_lowercases() {
        assert_eq!(
            normalize_email(" John.Smith@Acme.COM ").unwrap(),
            "john.smith@acme.com"
        );
        assert_eq!(
            normalize_email("a+tag@sub.acme.co.uk").unwrap(),
            "a+tag@sub.acme.co.uk"
        );
        assert_eq!(normalize_email("mailto:x@acme.io").unwrap(), "x@acme.io");
    }

    #[test]
    fn idn_domain_goes_to_punycode() {
        assert_eq!(
            normalize_email("jörg@müller.de").unwrap(),
            "jörg@xn--mller-kva.de"
        );
    }

    #[test]
    fn refuses_the_usual_garbage() {
        for bad in [
            "not-an-email",
            "john.smith at acme.com",
            "@acme.com",
            "john@",
            "john@acme",
            "john..smith@acme.com",
            ".john@acme.com",
            "john smith@acme.com",
            "john@acme..com",
            "john@-acme.com",
            "john@acme.123",
            "john@acme.com,",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad} was accepted");
        }
    }
}

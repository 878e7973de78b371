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
    let raw = raw.trim();
    let raw = raw
        .strip_prefix("mailto:")
        .or_else(|| raw.strip_prefix("MAILTO:"))
        .unwrap_or(raw);
    let (local, domain) = raw.rsplit_once('@').ok_or(EmailError::NoAt)?;
    if local.is_empty() {
        return Err(EmailError::EmptyLocal);
    }
    if local.len() > 64 {
        return Err(EmailError::LocalTooLong);
    }
    let local_ok = local.split('.').all(|atom| {
        !atom.is_empty()
            && atom
                .chars()
                .all(|c| c.is_alphanumeric() || ATEXT_SPECIALS.contains(c) || (!c.is_ascii() && !c.is_whitespace() && !c.is_control()))
    });
    if !local_ok {
        return Err(EmailError::BadLocal);
    }
    let domain = normalize_host(domain).ok_or(EmailError::BadDomain)?;
    let address = format!("{}@{}", local.to_lowercase(), domain);
    if address.len() > 254 {
        return Err(EmailError::TooLong);
    }
    Ok(address)
}

/// A host name lowercased and in punycode, if it is a syntactically valid internet
/// host name with at least two labels and an alphabetic top-level label.
pub fn normalize_host(host: &str) -> Option<String> {
    let host = host.trim().trim_end_matches('.');
    if host.is_empty() || host.len() > 253 || host.chars().any(|c| c.is_whitespace()) {
        return None;
    }
    let ascii = if host.is_ascii() {
        host.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(host).ok()?
    };
    let labels: Vec<&str> = ascii.split('.').collect();
    if labels.len() < 2 {
        return None;
    }
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if !labels.iter().all(label_ok) {
        return None;
    }
    let tld = labels[labels.len() - 1];
    let tld_ok = tld.bytes().all(|b| b.is_ascii_alphabetic()) || tld.starts_with("xn--");
    tld_ok.then_some(ascii)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_lowercases() {
        assert_eq!(normalize_email(" John.Smith@Acme.COM ").unwrap(), "john.smith@acme.com");
        assert_eq!(normalize_email("a+tag@sub.acme.co.uk").unwrap(), "a+tag@sub.acme.co.uk");
        assert_eq!(normalize_email("mailto:x@acme.io").unwrap(), "x@acme.io");
    }

    #[test]
    fn idn_domain_goes_to_punycode() {
        assert_eq!(normalize_email("jörg@müller.de").unwrap(), "jörg@xn--mller-kva.de");
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

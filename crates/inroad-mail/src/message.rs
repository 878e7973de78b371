//! Building one outgoing campaign email as the exact bytes handed to SMTP DATA.
//!
//! This is where the compliance rules become headers (DESIGN.md invariants 5 and 6):
//! every message carries RFC 8058 one-click unsubscribe headers and a footer with the
//! sender's postal address and the unsubscribe URL, and follow-ups thread to the previous
//! step through `In-Reply-To`/`References`. The Message-ID is chosen by the caller, because
//! it is stored in the send ledger before the message goes out.
//!
//! Field values are data, never headers: rendered subjects and names can carry whatever
//! a lead list held, so control characters (CR/LF included) in them become spaces, and
//! addresses, message ids and URLs that are not plainly valid are refused instead of being
//! repaired. Header encoding (RFC 2047) and body transfer encoding are left to lettre.
//!
//! DKIM signing happens here too, so the signed bytes are exactly the stored bytes. The
//! signer holds the private key in memory only and its `Debug` output never shows it
//! (invariant 9).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};
use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{Canonicalization, Done};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::PrivateKeyDer;

/// Everything that varies between two campaign emails; [`build`] turns it into bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub from_name: Option<String>,
    pub from_address: String,
    pub to_name: Option<String>,
    pub to_address: String,
    pub subject: String,
    /// Plain text; any line endings (they become CRLF). The footer is appended by [`build`].
    pub body: String,
    /// An HTML version of the body (already escaped where it holds data), sent as a
    /// `multipart/alternative` beside the text; [`build`] adds the footer to it too.
    pub html: Option<String>,
    /// Without angle brackets, e.g. `20261128.abc@acme.com`.
    pub message_id: String,
    /// The previous step's Message-ID (without angle brackets) on follow-ups.
    pub in_reply_to: Option<String>,
    /// Message-IDs of the thread so far (without angle brackets), oldest first.
    pub references: Vec<String>,
    pub date: SystemTime,
    /// Full `https://` URL including the signed token; used for one-click POST and the footer.
    pub unsubscribe_url: String,
    /// An address (`unsubscribe@acme.com`) or a full `mailto:` URI, offered as a fallback.
    pub unsubscribe_mailto: Option<String>,
    /// The sender's physical postal address (CAN-SPAM); may span several lines.
    pub postal_address: String,
}

/// Why a message could not be built; each variant names the offending field.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("invalid {field} address {value:?}")]
    InvalidAddress { field: &'static str, value: String },
    #[error("invalid {field} message id {value:?} (expected local@domain, without angle brackets)")]
    InvalidMessageId { field: &'static str, value: String },
    #[error("invalid unsubscribe URL {0:?} (expected a single-line https:// URL)")]
    InvalidUnsubscribeUrl(String),
    #[error("invalid unsubscribe mailto {0:?}")]
    InvalidUnsubscribeMailto(String),
    #[error("the postal address is empty")]
    MissingPostalAddress,
    #[error("invalid DKIM {0}")]
    InvalidDkim(&'static str),
    #[error("the DKIM key is neither an RSA nor an Ed25519 private key in PEM form")]
    InvalidDkimKey,
    #[error("DKIM signing failed: {0}")]
    Signing(String),
    #[error("could not assemble the message: {0}")]
    Build(#[from] lettre::error::Error),
}

/// Headers covered by the DKIM signature: the ones that identify the sender, the
/// recipient and the message, and the unsubscribe headers, so a relay can't strip or
/// swap the opt-out without breaking the signature.
const SIGNED_HEADERS: [&str; 7] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

/// Longest unsubscribe URL accepted; keeps the header far below SMTP's 998-octet line limit.
const MAX_URL_LEN: usize = 800;

/// A DKIM signing identity: private key, selector and signing domain (`d=`).
pub struct DkimSigner {
    key: SigningKey,
    selector: String,
    domain: String,
}

enum SigningKey {
    Rsa(mail_auth::dkim::DkimSigner<RsaKey<Sha256>, Done>),
    Ed25519(mail_auth::dkim::DkimSigner<Ed25519Key, Done>),
}

impl fmt::Debug for DkimSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DkimSigner")
            .field("selector", &self.selector)
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

impl DkimSigner {
    /// Loads a PEM private key: RSA (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`) or
    /// Ed25519 (PKCS#8, as `openssl genpkey -algorithm ed25519` writes).
    /// Headers and body use relaxed canonicalisation, which survives the re-folding and
    /// whitespace changes relays commonly make.
    pub fn from_pem(pem: &str, selector: &str, domain: &str) -> Result<DkimSigner, MessageError> {
        if !is_dns_label_list(selector) {
            return Err(MessageError::InvalidDkim("selector"));
        }
        if !is_dns_label_list(domain) {
            return Err(MessageError::InvalidDkim("domain"));
        }
        let der =
            PrivateKeyDer::from_pem_slice(pem.trim().as_bytes()).map_err(|_| MessageError::InvalidDkimKey)?;
        let key = if let Ok(rsa) = RsaKey::<Sha256>::from_key_der(der.clone_key()) {
            SigningKey::Rsa(configure(
                mail_auth::dkim::DkimSigner::from_key(rsa),
                selector,
                domain,
            ))
        } else {
            let PrivateKeyDer::Pkcs8(pkcs8) = der else {
                return Err(MessageError::InvalidDkimKey);
            };
            // openssl writes PKCS#8 v1 (no public key inside), which the checked form refuses.
            let ed25519 = Ed25519Key::from_pkcs8_maybe_unchecked_der(pkcs8.secret_pkcs8_der())
                .map_err(|_| MessageError::InvalidDkimKey)?;
            SigningKey::Ed25519(configure(
                mail_auth::dkim::DkimSigner::from_key(ed25519),
                selector,
                domain,
            ))
        };
        Ok(DkimSigner {
            key,
            selector: selector.to_owned(),
            domain: domain.to_owned(),
        })
    }

    pub fn selector(&self) -> &str {
        &self.selector
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The message with a `DKIM-Signature` header in front. Signing is the costly part
    /// of building a message (an RSA-2048 signature is ~0.5 ms), so it is a step of its
    /// own that the sender can run on several threads.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, MessageError> {
        let signature = match &self.key {
            SigningKey::Rsa(signer) => signer.sign(message),
            SigningKey::Ed25519(signer) => signer.sign(message),
        }
        .map_err(|e| MessageError::Signing(e.to_string()))?;
        let header = signature.to_header();
        let mut signed = Vec::with_capacity(header.len() + message.len());
        signed.extend_from_slice(header.as_bytes());
        signed.extend_from_slice(message);
        Ok(signed)
    }
}

fn configure<K: mail_auth::common::crypto::SigningKey>(
    signer: mail_auth::dkim::DkimSigner<K>,
    selector: &str,
    domain: &str,
) -> mail_auth::dkim::DkimSigner<K, Done> {
    signer
        .domain(domain)
        .selector(selector)
        .headers(SIGNED_HEADERS)
        .header_canonicalization(Canonicalization::Relaxed)
        .body_canonicalization(Canonicalization::Relaxed)
}

/// A fresh Message-ID (without angle brackets) under `domain`.
///
/// `unique` should be unique per send (the send ledger's id); the current time is mixed in
/// so ids stay distinct even if a database is recreated and ids start over.
pub fn new_message_id(domain: &str, unique: u64) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{nanos:x}.{unique:x}.inroad@{}",
        domain.trim().to_ascii_lowercase()
    )
}

/// Builds the message as raw RFC 5322 bytes (CRLF line endings), not yet signed
/// ([`DkimSigner::sign`]).
pub fn build(email: &OutgoingEmail) -> Result<Vec<u8>, MessageError> {
    let from = mailbox("From", email.from_name.as_deref(), &email.from_address)?;
    let to = mailbox("To", email.to_name.as_deref(), &email.to_address)?;
    let message_id = msg_id("Message-ID", &email.message_id)?;
    let list_unsubscribe = list_unsubscribe(email)?;
    let postal_address = email.postal_address.trim();
    if postal_address.is_empty() {
        return Err(MessageError::MissingPostalAddress);
    }

    let mut builder = Message::builder()
        .from(from)
        .to(to)
        .subject(single_line(&email.subject))
        .date(email.date)
        .message_id(Some(message_id));
    if let Some(parent) = &email.in_reply_to {
        builder = builder.in_reply_to(msg_id("In-Reply-To", parent)?);
    }
    if !email.references.is_empty() {
        let ids: Vec<String> = email
            .references
            .iter()
            .map(|id| msg_id("References", id))
            .collect::<Result<_, _>>()?;
        builder = builder.references(ids.join(" "));
    }
    let builder = builder
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            list_unsubscribe,
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".to_owned(),
        ));

    let body = with_footer(&email.body, postal_address, &email.unsubscribe_url);
    let message = match &email.html {
        None => builder.singlepart(SinglePart::plain(body))?,
        Some(html) => {
            let html = with_html_footer(html, postal_address, &email.unsubscribe_url);
            builder.multipart(MultiPart::alternative_plain_html(body, html))?
        }
    };
    Ok(message.formatted())
}

/// The body, then an RFC 3676 signature separator ("-- "), the postal address and the
/// unsubscribe link. Using the standard separator lets mail clients recognise the footer
/// (and leave it out when quoting in a reply).
fn with_footer(body: &str, postal_address: &str, unsubscribe_url: &str) -> String {
    let body = body.trim_end_matches(['\r', '\n']);
    let mut out = String::with_capacity(body.len() + postal_address.len() + unsubscribe_url.len() + 32);
    out.push_str(body);
    if !body.is_empty() {
        out.push_str("\n\n");
    }
    out.push_str("-- \n");
    for line in postal_address.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push_str("Unsubscribe: ");
    // No final newline: lettre ends the part with CRLF itself.
    out.push_str(unsubscribe_url);
    out
}

/// The HTML body with the same footer as the text, before `</body>` when the author
/// wrote a whole document, else at the end. The unsubscribe URL was checked to hold no
/// quote or angle bracket ([`list_unsubscribe`]), so it is safe in the attribute.
fn with_html_footer(html: &str, postal_address: &str, unsubscribe_url: &str) -> String {
    let address: Vec<String> = postal_address
        .lines()
        .map(|l| escape_html(l.trim_end()))
        .collect();
    let footer = format!(
        "<hr>\n<p style=\"font-size:small;color:#666\">{}<br>\n<a href=\"{}\">Unsubscribe</a></p>\n",
        address.join("<br>\n"),
        escape_html(unsubscribe_url)
    );
    let lower = html.to_ascii_lowercase();
    match lower.rfind("</body>") {
        Some(at) => format!("{}{footer}{}", &html[..at], &html[at..]),
        None => format!("{}\n{footer}", html.trim_end()),
    }
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Replaces control characters (CR, LF, TAB, DEL, C1) and Unicode line/paragraph separators
/// with spaces, so a value can never end its header line early.
fn single_line(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

fn mailbox(field: &'static str, name: Option<&str>, address: &str) -> Result<Mailbox, MessageError> {
    let invalid = || MessageError::InvalidAddress {
        field,
        value: address.to_owned(),
    };
    if address.is_empty() || address.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid());
    }
    let address: Address = address.parse().map_err(|_| invalid())?;
    let name = name.map(single_line).filter(|n| !n.is_empty());
    Ok(Mailbox::new(name, address))
}

/// Validates a Message-ID given without angle brackets (dot-atom `@` dot-atom) and returns
/// it in its header form `<id>`.
fn msg_id(field: &'static str, id: &str) -> Result<String, MessageError> {
    let is_atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let is_dot_atom =
        |s: &str| !s.is_empty() && s.split('.').all(|a| !a.is_empty() && a.chars().all(is_atext));
    match id.split_once('@') {
        Some((left, right)) if id.len() <= 250 && is_dot_atom(left) && is_dot_atom(right) => {
            Ok(format!("<{id}>"))
        }
        _ => Err(MessageError::InvalidMessageId {
            field,
            value: id.to_owned(),
        }),
    }
}

/// `<https://…>` or `<https://…>, <mailto:…>` (RFC 2369 / RFC 8058).
fn list_unsubscribe(email: &OutgoingEmail) -> Result<String, MessageError> {
    let url = &email.unsubscribe_url;
    let has_host = url
        .strip_prefix("https://")
        .is_some_and(|rest| !rest.is_empty() && !rest.starts_with(['/', '?', '#']));
    if !has_host || url.len() > MAX_URL_LEN || !is_uri_chars(url) {
        return Err(MessageError::InvalidUnsubscribeUrl(url.clone()));
    }
    let mut value = format!("<{url}>");
    if let Some(mailto) = &email.unsubscribe_mailto {
        let uri = if mailto.starts_with("mailto:") {
            mailto.clone()
        } else {
            format!("mailto:{mailto}")
        };
        let address = uri["mailto:".len()..].split('?').next().unwrap_or_default();
        if uri.len() > MAX_URL_LEN || !is_uri_chars(&uri) || address.parse::<Address>().is_err() {
            return Err(MessageError::InvalidUnsubscribeMailto(mailto.clone()));
        }
        value.push_str(", <");
        value.push_str(&uri);
        value.push('>');
    }
    Ok(value)
}

/// Visible ASCII without the characters that would end the `<…>` or split the list.
fn is_uri_chars(uri: &str) -> bool {
    uri.bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'\\'))
}

/// DKIM selectors and domains: dot-separated labels of letters, digits, `-` and `_`.
fn is_dns_label_list(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

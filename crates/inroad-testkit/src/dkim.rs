//! An independent DKIM checker for tests that must not take the signing library's word.
//!
//! The RFC 6376 relaxed/relaxed canonicalisation is written out here, and the signature is
//! checked by the `openssl` command against a public key file: `rsa-sha256` with
//! `openssl dgst -sha256 -verify`, `ed25519-sha256` with `openssl pkeyutl -verify -rawin`
//! over the SHA-256 of the signed data (RFC 8463). Malformed input panics with a message
//! that says what is wrong; this is test code.
//!
//! ```no_run
//! use std::path::Path;
//! use inroad_testkit::dkim::{crlf, DkimSignature};
//!
//! // smtp-sink and maildirs keep LF line ends; DKIM is computed over the CRLF wire form.
//! let raw = crlf(&std::fs::read("dump/message").unwrap());
//! let dkim = DkimSignature::parse(&raw);
//! assert_eq!(dkim.tag("d"), "acme.example");
//! assert!(dkim.body_hash_matches());
//! assert!(dkim.verifies_with_openssl(Path::new("dkim.pub.pem")));
//! ```

use std::path::Path;
use std::process::Command;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The header block (up to the first empty line) unfolded into (name, value) pairs in
/// message order, and the body after the empty line. Values keep their inner whitespace
/// (a folded line's CRLF is removed, its leading WSP kept) and lose the whitespace after
/// the colon. Panics on anything that is not a well-formed CRLF header block of ASCII:
/// no end of headers, bare CR or LF, a line that is not a header, a bad header name.
pub fn header_split(raw: &[u8]) -> (Vec<(String, String)>, Vec<u8>) {
    let at = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("no end of headers (CRLF CRLF)");
    let block = std::str::from_utf8(&raw[..at]).expect("headers must be ASCII");
    assert!(block.is_ascii(), "non-ASCII header bytes: {block}");
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in block.split("\r\n") {
        assert!(
            !line.contains(['\r', '\n']),
            "bare CR or LF in header line {line:?}"
        );
        if line.starts_with([' ', '\t']) {
            headers
                .last_mut()
                .expect("continuation before any header")
                .1
                .push_str(line);
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("not a header: {line:?}"));
        assert!(
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic()),
            "bad header name {name:?}"
        );
        headers.push((name.to_owned(), value.trim_start().to_owned()));
    }
    (headers, raw[at + 4..].to_vec())
}

/// `raw` with every LF that does not follow a CR turned into CRLF: the wire form of a
/// message stored with LF line ends (as smtp-sink dumps and maildir files keep them).
pub fn crlf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 32);
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\n' && (i == 0 || raw[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// Runs of SP and HTAB as one SP.
fn collapse_wsp(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &b in s {
        if b == b' ' || b == b'\t' {
            if out.last() != Some(&b' ') {
                out.push(b' ');
            }
        } else {
            out.push(b);
        }
    }
    out
}

/// RFC 6376 §3.4.2 relaxed canonicalisation of one unfolded header, without the CRLF:
/// the name lower-cased, WSP runs as one SP, no WSP around the colon or at the end.
pub fn relaxed_header(name: &str, value: &str) -> String {
    assert!(
        !value.contains(['\r', '\n']),
        "{name}: the value must be unfolded"
    );
    let value = String::from_utf8(collapse_wsp(value.as_bytes())).expect("ASCII header value");
    format!(
        "{}:{}",
        name.trim_end_matches([' ', '\t']).to_ascii_lowercase(),
        value.trim_matches(' ')
    )
}

/// RFC 6376 §3.4.4 relaxed body canonicalisation: WSP runs as one SP, no WSP at line
/// ends, no empty lines at the end, every line ended by CRLF (an empty body stays empty).
pub fn relaxed_body(body: &[u8]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut rest = body;
    loop {
        let end = rest.windows(2).position(|w| w == b"\r\n");
        let line = &rest[..end.unwrap_or(rest.len())];
        let mut line = collapse_wsp(line);
        if line.last() == Some(&b' ') {
            line.pop();
        }
        lines.push(line);
        match end {
            Some(at) => rest = &rest[at + 2..],
            None => break,
        }
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let mut out = Vec::with_capacity(body.len());
    for line in lines {
        out.extend_from_slice(&line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// One DKIM-Signature of a message, with what it signs, ready to be checked.
#[derive(Debug, Clone)]
pub struct DkimSignature {
    /// The tags in order, names trimmed, values with all whitespace removed.
    pub tags: Vec<(String, String)>,
    /// What the signature covers: the relaxed signed headers (RFC 6376 §5.4.2: each name
    /// in `h=` takes the bottom-most instance not yet taken, a missing one adds nothing),
    /// each with CRLF, then the relaxed DKIM-Signature itself with an empty `b=` and no CRLF.
    pub signed_data: Vec<u8>,
    /// The decoded `b=`.
    pub signature: Vec<u8>,
    /// The message body as it is, not canonicalised.
    pub body: Vec<u8>,
}

impl DkimSignature {
    /// The message's only DKIM-Signature. `raw` is the CRLF wire form (see [`crlf`]).
    /// Panics if there is none or more than one, or on malformed input.
    pub fn parse(raw: &[u8]) -> DkimSignature {
        let mut all = DkimSignature::parse_all(raw);
        assert_eq!(
            all.len(),
            1,
            "expected exactly one DKIM-Signature header, found {}",
            all.len()
        );
        all.pop().unwrap()
    }

    /// Every DKIM-Signature of the message, top to bottom. `raw` is the CRLF wire form.
    pub fn parse_all(raw: &[u8]) -> Vec<DkimSignature> {
        let (headers, body) = header_split(raw);
        headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("DKIM-Signature"))
            .map(|(_, value)| DkimSignature::from_header(&headers, value, &body))
            .collect()
    }

    fn from_header(headers: &[(String, String)], dkim: &str, body: &[u8]) -> DkimSignature {
        let mut tags: Vec<(String, String)> = Vec::new();
        for tag in dkim.split(';').filter(|t| !t.trim().is_empty()) {
            let (name, value) = tag
                .split_once('=')
                .unwrap_or_else(|| panic!("DKIM-Signature tag without '=': {tag:?} in {dkim:?}"));
            let name = name.trim().to_owned();
            assert!(
                tags.iter().all(|(n, _)| *n != name),
                "duplicate {name}= tag in {dkim:?}"
            );
            tags.push((name, value.chars().filter(|c| !c.is_whitespace()).collect()));
        }
        let find = |name: &str| {
            tags.iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("no {name}= tag in DKIM-Signature {dkim:?}"))
        };
        let canonicalization = tags
            .iter()
            .find(|(n, _)| n == "c")
            .map_or("simple/simple", |(_, v)| v.as_str());
        assert_eq!(
            canonicalization, "relaxed/relaxed",
            "this checker handles c=relaxed/relaxed only"
        );
        assert!(
            tags.iter().all(|(n, _)| n != "l"),
            "this checker does not handle l= (a signed body length)"
        );

        // RFC 6376 §5.4.2: bottom-most instance first, each instance signed at most once.
        let mut taken = vec![false; headers.len()];
        let mut signed_data = String::new();
        for name in find("h").split(':') {
            let found = (0..headers.len())
                .rev()
                .find(|&i| !taken[i] && headers[i].0.eq_ignore_ascii_case(name));
            if let Some(i) = found {
                taken[i] = true;
                signed_data.push_str(&relaxed_header(&headers[i].0, &headers[i].1));
                signed_data.push_str("\r\n");
            }
        }
        // The signature header itself, with the b= value (not its name) removed.
        let without_b: Vec<&str> = dkim
            .split(';')
            .map(|t| match t.split_once('=') {
                Some((n, _)) if n.trim() == "b" => &t[..=n.len()],
                _ => t,
            })
            .collect();
        signed_data.push_str(&relaxed_header("DKIM-Signature", &without_b.join(";")));

        let signature = STANDARD
            .decode(find("b"))
            .unwrap_or_else(|e| panic!("b= is not base64: {e}"));
        DkimSignature {
            tags,
            signed_data: signed_data.into_bytes(),
            signature,
            body: body.to_vec(),
        }
    }

    /// The value of tag `name` (whitespace removed). Panics if the signature has none.
    pub fn tag(&self, name: &str) -> &str {
        self.tags
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name}= tag in DKIM-Signature {:?}", self.tags))
    }

    /// The names in `h=`, lower-cased, in order (repeats kept).
    pub fn signed_headers(&self) -> Vec<String> {
        self.tag("h").split(':').map(str::to_ascii_lowercase).collect()
    }

    /// Whether `bh=` is the base64 SHA-256 of the relaxed body.
    pub fn body_hash_matches(&self) -> bool {
        let algorithm = self.tag("a");
        assert!(
            algorithm.ends_with("-sha256"),
            "this checker handles SHA-256 signatures only, not a={algorithm}"
        );
        STANDARD.encode(Sha256::digest(relaxed_body(&self.body))) == self.tag("bh")
    }

    /// Whether the signature verifies over [`signed_data`](Self::signed_data) with the public
    /// key in `public_key_pem` (a PEM `PUBLIC KEY`, as `openssl pkey -pubout` writes), checked
    /// by the openssl command. Does not look at the body hash: see
    /// [`body_hash_matches`](Self::body_hash_matches). Panics if openssl cannot run the check
    /// at all (no openssl, unreadable key, key type not that of `a=`), so a `false` is
    /// always a signature that was checked and failed.
    pub fn verifies_with_openssl(&self, public_key_pem: &Path) -> bool {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let sig = dir.path().join("sig");
        let data = dir.path().join("data");
        std::fs::write(&sig, &self.signature).unwrap();
        let mut openssl = Command::new("openssl");
        let verified = match self.tag("a") {
            "rsa-sha256" => {
                std::fs::write(&data, &self.signed_data).unwrap();
                openssl
                    .args(["dgst", "-sha256", "-verify"])
                    .arg(public_key_pem)
                    .arg("-signature")
                    .arg(&sig)
                    .arg(&data);
                "Verified OK"
            }
            "ed25519-sha256" => {
                // RFC 8463 §3: Ed25519 (pure) signs the SHA-256 hash of the signed data.
                std::fs::write(&data, Sha256::digest(&self.signed_data)).unwrap();
                openssl
                    .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
                    .arg(public_key_pem)
                    .arg("-rawin")
                    .arg("-in")
                    .arg(&data)
                    .arg("-sigfile")
                    .arg(&sig);
                "Signature Verified Successfully"
            }
            other => panic!("this checker handles a=rsa-sha256 and a=ed25519-sha256, not a={other}"),
        };
        let out = openssl
            .output()
            .expect("the openssl command (Debian package openssl) checks DKIM signatures");
        let stdout = String::from_utf8_lossy(&out.stdout);
        if out.status.success() && stdout.contains(verified) {
            return true;
        }
        assert!(
            !out.status.success() && stdout.to_ascii_lowercase().contains("verification failure"),
            "openssl could not check the {} signature with {}:\n{stdout}{}",
            self.tag("a"),
            public_key_pem.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8463 Appendix A: a message signed with both an Ed25519 and an RSA key, `h=`
    /// over-signing From, Subject and Date (listed twice, present once).
    const RFC8463_MESSAGE: &str = "\
DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;
 d=football.example.com; i=@football.example.com;
 q=dns/txt; s=brisbane; t=1528637909; h=from : to :
 subject : date : message-id : from : subject : date;
 bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
 b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus
 Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;
 d=football.example.com; i=@football.example.com;
 q=dns/txt; s=test; t=1528637909; h=from : to : subject :
 date : message-id : from : subject : date;
 bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
 b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3
 DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz
 dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=
From: Joe SixPack <joe@football.example.com>
To: Suzie Q <suzie@shopping.example.net>
Subject: Is dinner ready?
Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)
Message-ID: <20030712040037.46341.5F8J@football.example.com>

Hi.

We lost the game.  Are you hungry yet?

Joe.
";

    /// The RFC 8463 keys (the p= of their DNS records) as PEM public key files.
    fn rfc8463_keys(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
        let pem = |der: &[u8]| {
            let b64 = STANDARD.encode(der);
            let lines: Vec<&str> = b64
                .as_bytes()
                .chunks(64)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            format!(
                "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
                lines.join("\n")
            )
        };
        // k=ed25519 publishes the raw 32-byte key: wrap it in a SubjectPublicKeyInfo.
        let mut ed = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        ed.extend(
            STANDARD
                .decode("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
                .unwrap(),
        );
        let rsa = STANDARD
            .decode(
                "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/\
                 J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLz\
                 BfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB",
            )
            .unwrap();
        let (ed_path, rsa_path) = (dir.join("brisbane.pem"), dir.join("test.pem"));
        std::fs::write(&ed_path, pem(&ed)).unwrap();
        std::fs::write(&rsa_path, pem(&rsa)).unwrap();
        (ed_path, rsa_path)
    }

    fn verify_both(raw: &[u8], ed: &Path, rsa: &Path) -> [bool; 2] {
        let all = DkimSignature::parse_all(&crlf(raw));
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].tag("a"), "ed25519-sha256");
        assert_eq!(all[1].tag("a"), "rsa-sha256");
        assert!(all.iter().all(DkimSignature::body_hash_matches));
        [
            all[0].verifies_with_openssl(ed),
            all[1].verifies_with_openssl(rsa),
        ]
    }

    #[test]
    fn rfc8463_example_signatures_verify() {
        let dir = tempfile::tempdir().unwrap();
        let (ed, rsa) = rfc8463_keys(dir.path());
        let raw = RFC8463_MESSAGE.as_bytes();
        assert_eq!(verify_both(raw, &ed, &rsa), [true, true]);
        let dkim = &DkimSignature::parse_all(&crlf(raw))[0];
        assert_eq!(
            dkim.signed_headers(),
            [
                "from",
                "to",
                "subject",
                "date",
                "message-id",
                "from",
                "subject",
                "date"
            ]
        );

        // Headers added on top by receiving servers are not signed: still verifies. A
        // second To on top is not signed either (h= names To once and the bottom-most
        // To is taken), but a second Subject is, as h= over-signs Subject.
        let received = format!(
            "Received: from a (b [127.0.0.1])\n\tby c; Sat, 12 Jul 2003 04:00:38 +0000\n\
             X-Client-Addr: 127.0.0.1\nTo: Mallory <m@evil.example>\n{RFC8463_MESSAGE}"
        );
        assert_eq!(verify_both(received.as_bytes(), &ed, &rsa), [true, true]);
        let resubjected = format!("Subject: Free money\n{RFC8463_MESSAGE}");
        assert_eq!(verify_both(resubjected.as_bytes(), &ed, &rsa), [false, false]);

        // A changed signed header fails; a changed body fails the body hash only.
        let tampered = RFC8463_MESSAGE.replacen("Subject: Is dinner", "Subject: Is lunch", 1);
        assert_eq!(verify_both(tampered.as_bytes(), &ed, &rsa), [false, false]);
        let tampered = crlf(
            RFC8463_MESSAGE
                .replacen("lost the game", "won the game", 1)
                .as_bytes(),
        );
        for dkim in DkimSignature::parse_all(&tampered) {
            assert!(!dkim.body_hash_matches());
        }
        // Swapped keys are an error of the test, not a failed signature.
        let wrong_key = std::panic::catch_unwind(|| verify_both(raw, &rsa, &ed));
        assert!(wrong_key.is_err());
    }

    #[test]
    fn relaxed_canonicalisation_matches_rfc6376_example() {
        // RFC 6376 §3.4.6.
        let raw = b"A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n";
        assert_eq!(relaxed_header("A", " X"), "a:X");
        assert_eq!(relaxed_header("B ", " Y\t\tZ  "), "b:Y Z");
        let at = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        assert_eq!(relaxed_body(&raw[at + 4..]), b" C\r\nD E\r\n");
        assert_eq!(relaxed_body(b""), b"");
        assert_eq!(relaxed_body(b"\r\n\r\n"), b"");
        assert_eq!(relaxed_body(b"no line end"), b"no line end\r\n");
    }

    #[test]
    fn crlf_keeps_crlf_and_fixes_bare_lf() {
        assert_eq!(crlf(b"a\nb\r\n\nc"), b"a\r\nb\r\n\r\nc");
        assert_eq!(crlf(b"\n"), b"\r\n");
    }

    #[test]
    fn header_split_unfolds_and_keeps_order() {
        let (headers, body) = header_split(b"A: 1\r\nB:\t2\r\n 3\r\na: 4\r\n\r\nbody\r\n");
        assert_eq!(
            headers,
            [
                ("A".to_owned(), "1".to_owned()),
                ("B".to_owned(), "2 3".to_owned()),
                ("a".to_owned(), "4".to_owned())
            ]
        );
        assert_eq!(body, b"body\r\n");
    }
}

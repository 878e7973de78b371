//! Signed one-click unsubscribe tokens (RFC 8058).
//!
//! Every campaign email carries a `List-Unsubscribe` URL (DESIGN.md invariant 5). Mail
//! providers POST to it without any session or login, so the URL itself must prove which
//! (lead, campaign) it stands for and must not be forgeable: otherwise anyone could
//! unsubscribe anyone else by guessing ids, or enumerate leads. The token is therefore
//! `base64url(lead_id ‖ campaign_id ‖ HMAC-SHA256(key, context ‖ lead_id ‖ campaign_id)[..16])`
//! with both ids as 8-byte big-endian integers: 43 URL-safe characters, no padding,
//! nothing to escape in a URL or a header.
//!
//! A 128-bit truncated tag is far beyond guessing range while keeping the URL short. The
//! MAC input starts with a fixed context string so a tag made here can never be replayed
//! as a tag for some other use of the same key. The key is passed in by the caller and
//! never read, stored or logged here (invariant 9); verification compares tags in
//! constant time through the `hmac` crate. Decoding is strict (canonical base64url only,
//! exact length), so every token has exactly one spelling.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Domain separation: tags for unsubscribe links are useless anywhere else.
const CONTEXT: &[u8] = b"inroad/unsubscribe/v1\0";
const IDS_LEN: usize = 16;
const TAG_LEN: usize = 16;
const TOKEN_BYTES: usize = IDS_LEN + TAG_LEN;
/// Length of a token: 32 bytes in unpadded base64 (4 characters per 3 bytes, rounded up).
const TOKEN_LEN: usize = (TOKEN_BYTES * 4).div_ceil(3);

fn mac(key: &[u8], ids: &[u8]) -> HmacSha256 {
    // HMAC is defined for keys of any length (long keys are hashed), so this cannot fail.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(CONTEXT);
    mac.update(ids);
    mac
}

/// Signs `(lead_id, campaign_id)` into a URL-safe token (43 characters of `[A-Za-z0-9_-]`).
pub fn sign(key: &[u8], lead_id: i64, campaign_id: i64) -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    bytes[..8].copy_from_slice(&lead_id.to_be_bytes());
    bytes[8..IDS_LEN].copy_from_slice(&campaign_id.to_be_bytes());
    let tag = mac(key, &bytes[..IDS_LEN]).finalize().into_bytes();
    bytes[IDS_LEN..].copy_from_slice(&tag[..TAG_LEN]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Returns `(lead_id, campaign_id)` if `token` was made by [`sign`] with this `key`.
///
/// Any other input — altered, truncated, padded, made with another key, or not base64 at
/// all — yields `None`; it never panics.
pub fn verify(key: &[u8], token: &str) -> Option<(i64, i64)> {
    // Reject by length before decoding so huge inputs cost nothing.
    if token.len() != TOKEN_LEN {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    let bytes: [u8; TOKEN_BYTES] = bytes.try_into().ok()?;
    let (ids, tag) = bytes.split_at(IDS_LEN);
    mac(key, ids).verify_truncated_left(tag).ok()?;
    let lead_id = i64::from_be_bytes(ids[..8].try_into().ok()?);
    let campaign_id = i64::from_be_bytes(ids[8..].try_into().ok()?);
    Some((lead_id, campaign_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    #[test]
    fn round_trip() {
        for (lead, campaign) in [(1, 1), (0, 0), (42, 7), (-1, i64::MAX), (i64::MIN, i64::MIN)] {
            let token = sign(KEY, lead, campaign);
            assert_eq!(token.len(), TOKEN_LEN);
            assert!(token.bytes().all(|b| ALPHABET.contains(&b)), "{token}");
            assert_eq!(verify(KEY, &token), Some((lead, campaign)));
        }
    }

    #[test]
    fn tokens_differ_per_lead_and_campaign() {
        assert_ne!(sign(KEY, 1, 2), sign(KEY, 2, 1));
        assert_ne!(sign(KEY, 1, 2), sign(KEY, 1, 3));
        assert_eq!(sign(KEY, 1, 2), sign(KEY, 1, 2));
    }

    #[test]
    fn every_single_character_change_is_rejected() {
        let token = sign(KEY, 12345, 678);
        for i in 0..token.len() {
            for &c in ALPHABET.iter().chain(b"=+/ .%\0") {
                let mut altered = token.clone().into_bytes();
                if altered[i] == c {
                    continue;
                }
                altered[i] = c;
                let altered = String::from_utf8(altered).unwrap();
                assert_eq!(verify(KEY, &altered), None, "position {i} char {:?}", c as char);
            }
        }
    }

    #[test]
    fn truncated_or_extended_tokens_are_rejected() {
        let token = sign(KEY, 12345, 678);
        for n in 0..token.len() {
            assert_eq!(verify(KEY, &token[..n]), None, "prefix of {n}");
            assert_eq!(verify(KEY, &token[n + 1..]), None, "suffix from {}", n + 1);
        }
        assert_eq!(verify(KEY, &format!("{token}=")), None);
        assert_eq!(verify(KEY, &format!("{token}A")), None);
    }

    #[test]
    fn another_key_is_rejected() {
        let token = sign(KEY, 5, 6);
        assert_eq!(verify(b"another key", &token), None);
        assert_eq!(verify(b"", &token), None);
        assert_eq!(verify(b"", &sign(b"", 5, 6)), Some((5, 6)));
    }

    proptest! {
        #[test]
        fn arbitrary_strings_never_panic(s in ".*") {
            prop_assert_eq!(verify(KEY, &s), None);
        }

        #[test]
        fn arbitrary_token_shaped_strings_are_rejected(s in "[A-Za-z0-9_-]{43}") {
            prop_assert_eq!(verify(KEY, &s), None);
        }

        #[test]
        fn round_trips_for_any_ids_and_key(
            lead in any::<i64>(),
            campaign in any::<i64>(),
            key in proptest::collection::vec(any::<u8>(), 0..100),
        ) {
            prop_assert_eq!(verify(&key, &sign(&key, lead, campaign)), Some((lead, campaign)));
        }
    }
}

//! Mailbox passwords stored sealed, never in plain text.
//!
//! A password given on stdin is kept in the database encrypted with AES-256-GCM under
//! a key derived from the install key, a file kept outside the database: a copy of the
//! database (a backup, a stolen disk image) reveals no password without that file.
//!
//! The encryption key is HMAC-SHA256(install key, "inroad mailbox secret v1"), so the
//! install key's other use (signing unsubscribe links) never sees the same key bytes.
//! Each secret gets a fresh random 96-bit nonce and is bound to its mailbox's name as
//! associated data: a sealed secret copied onto another mailbox does not open. The
//! stored form is `v1:` + base64(nonce ‖ ciphertext ‖ tag); the prefix leaves room for
//! another scheme later without guessing which one a value uses.

use aws_lc_rs::aead::{Aad, Nonce, RandomizedNonceKey, AES_256_GCM, NONCE_LEN};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Domain separation: the install key also signs unsubscribe links.
const CONTEXT: &[u8] = b"inroad mailbox secret v1";
const PREFIX: &str = "v1:";

/// Why a secret could not be sealed or opened; each message says what to do.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error(
        "cannot decrypt the stored password of mailbox {mailbox}: the install key is not the one it \
         was stored with (give --key-file the original key, or store it again with \
         `inroad mailbox set-password {mailbox} --password-stdin`)"
    )]
    WrongKey { mailbox: String },
    #[error(
        "the stored password of mailbox {mailbox} is not in a format this inroad knows; store it \
         again with `inroad mailbox set-password {mailbox} --password-stdin`"
    )]
    Malformed { mailbox: String },
    #[error("cannot encrypt the password of mailbox {mailbox}: the system's cryptography failed")]
    Seal { mailbox: String },
}

fn cipher(install_key: &[u8]) -> RandomizedNonceKey {
    // HMAC takes keys of any length, and its 32-byte output is exactly an AES-256 key.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(install_key).expect("HMAC accepts any key");
    mac.update(CONTEXT);
    let key = mac.finalize().into_bytes();
    RandomizedNonceKey::new(&AES_256_GCM, &key).expect("a 32-byte key suits AES-256-GCM")
}

/// Encrypts `secret` for `mailbox` under the install key, in its stored form.
pub fn seal(install_key: &[u8], mailbox: &str, secret: &str) -> Result<String, SecretError> {
    let mut sealed = secret.as_bytes().to_vec();
    let nonce = cipher(install_key)
        .seal_in_place_append_tag(Aad::from(mailbox.as_bytes()), &mut sealed)
        .map_err(|_| SecretError::Seal {
            mailbox: mailbox.to_owned(),
        })?;
    let mut stored = Vec::with_capacity(NONCE_LEN + sealed.len());
    stored.extend_from_slice(nonce.as_ref());
    stored.extend_from_slice(&sealed);
    Ok(format!("{PREFIX}{}", BASE64.encode(stored)))
}

/// The secret [`seal`] stored for `mailbox`, if this is the install key it used.
pub fn open(install_key: &[u8], mailbox: &str, sealed: &str) -> Result<String, SecretError> {
    let malformed = || SecretError::Malformed {
        mailbox: mailbox.to_owned(),
    };
    let mut bytes = sealed
        .strip_prefix(PREFIX)
        .and_then(|b64| BASE64.decode(b64).ok())
        .filter(|bytes| bytes.len() >= NONCE_LEN + AES_256_GCM.tag_len())
        .ok_or_else(malformed)?;
    let nonce = Nonce::try_assume_unique_for_key(&bytes[..NONCE_LEN]).map_err(|_| malformed())?;
    // A wrong key, another mailbox's name and a tampered value all fail the same tag check.
    let plain = cipher(install_key)
        .open_in_place(nonce, Aad::from(mailbox.as_bytes()), &mut bytes[NONCE_LEN..])
        .map_err(|_| SecretError::WrongKey {
            mailbox: mailbox.to_owned(),
        })?;
    String::from_utf8(plain.to_vec()).map_err(|_| malformed())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const OTHER_KEY: &[u8] = b"fedcba9876543210fedcba9876543210";
    const PASSWORD: &str = "correct horse battery staple";

    #[test]
    fn round_trip() {
        for secret in [PASSWORD, "", "pässwörd ✓", &"x".repeat(4096)] {
            let sealed = seal(KEY, "m1", secret).unwrap();
            assert!(sealed.starts_with("v1:"), "{sealed}");
            assert_eq!(open(KEY, "m1", &sealed).unwrap(), secret);
        }
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        assert_ne!(
            seal(KEY, "m1", PASSWORD).unwrap(),
            seal(KEY, "m1", PASSWORD).unwrap()
        );
    }

    #[test]
    fn another_install_key_cannot_open_it() {
        let sealed = seal(KEY, "m1", PASSWORD).unwrap();
        let err = open(OTHER_KEY, "m1", &sealed).unwrap_err();
        assert_eq!(err, SecretError::WrongKey { mailbox: "m1".into() });
        assert!(err.to_string().starts_with(
            "cannot decrypt the stored password of mailbox m1: the install key is not the one it was \
             stored with"
        ));
    }

    #[test]
    fn it_cannot_be_moved_to_another_mailbox() {
        let sealed = seal(KEY, "m1", PASSWORD).unwrap();
        assert!(matches!(
            open(KEY, "m2", &sealed),
            Err(SecretError::WrongKey { .. })
        ));
    }

    #[test]
    fn tampering_is_detected() {
        let sealed = seal(KEY, "m1", PASSWORD).unwrap();
        let mut bytes = BASE64.decode(&sealed[3..]).unwrap();
        for i in [0, NONCE_LEN, bytes.len() - 1] {
            bytes[i] ^= 1;
            let tampered = format!("v1:{}", BASE64.encode(&bytes));
            assert!(
                matches!(open(KEY, "m1", &tampered), Err(SecretError::WrongKey { .. })),
                "byte {i}"
            );
            bytes[i] ^= 1;
        }
        for garbage in [
            "",
            "v1:",
            "v1:!!!",
            "v2:AAAA",
            PASSWORD,
            "v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(
                matches!(open(KEY, "m1", garbage), Err(SecretError::Malformed { .. })),
                "{garbage:?}"
            );
        }
    }

    #[test]
    fn the_sealed_form_shows_nothing_of_the_secret() {
        let sealed = seal(KEY, "m1", PASSWORD).unwrap();
        let decoded = BASE64.decode(&sealed[3..]).unwrap();
        assert!(!sealed.contains("horse"));
        assert!(!decoded.windows(5).any(|w| w == b"horse"));
        assert!(!decoded.windows(KEY.len()).any(|w| w == KEY));
    }
}

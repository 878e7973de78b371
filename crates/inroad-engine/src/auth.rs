//! Who may use the dashboard and the JSON API: users with passwords, login sessions,
//! API tokens, and the CSRF tokens that tie a form to the browser it was shown in.
//!
//! The database never holds anything that logs in by itself. Passwords are argon2id
//! hashes (the crate's default, OWASP-recommended parameters), slow on purpose because
//! people choose guessable passwords. Session ids and API tokens are 256 random bits, so
//! a plain SHA-256 of them is enough: there is nothing to guess, and a lookup by hash
//! stays one indexed read per request.
//!
//! CSRF tokens are not stored at all: each is an HMAC, under a key derived from the
//! install key, of the session id (or of the pre-login cookie on the login form). The
//! server recomputes it from the cookie the request carries; an attacker who can plant
//! a cookie still cannot compute the token that goes with it.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use inroad_store::{ApiToken, NewSession, Session, Store};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Shorter passwords fall to an offline guess too easily, even under argon2id.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// A session unused this long is over (seconds).
pub const SESSION_IDLE_SECS: i64 = 12 * 60 * 60;
/// A session is over this long after login, however active (seconds).
pub const SESSION_MAX_SECS: i64 = 7 * 24 * 60 * 60;
/// `last_seen` is written at most this often: a dashboard fires several requests a
/// second, and a write each would queue behind the worker's write lock.
const TOUCH_EVERY_SECS: i64 = 60;
/// Every API token starts with this, so secret scanners and people recognise one.
const TOKEN_PREFIX: &str = "inroad_";
/// 32 random bytes in unpadded base64url.
const RANDOM_LEN: usize = 43;
const MAX_USER_NAME_CHARS: usize = 64;

type HmacSha256 = Hmac<Sha256>;

/// What a CSRF token is bound to: the pre-login cookie of the login form, or a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsrfScope {
    Login,
    Session,
}

impl CsrfScope {
    fn context(self) -> &'static [u8] {
        match self {
            CsrfScope::Login => b"inroad/csrf/login/v1\0",
            CsrfScope::Session => b"inroad/csrf/session/v1\0",
        }
    }
}

/// Adds a dashboard user with an argon2id hash of `password`.
pub fn add_user(store: &mut dyn Store, name: &str, password: &str, now: i64) -> Result<()> {
    check_user_name(name)?;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::Usage(format!(
            "the password is too short: at least {MIN_PASSWORD_CHARS} characters (a few random words do)"
        )));
    }
    if store.user_by_name(name)?.is_some() {
        return Err(Error::Usage(format!("a user named {name:?} exists already")));
    }
    store.add_user(name, &hash_password(password)?, now)?;
    Ok(())
}

fn check_user_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.chars().count() > MAX_USER_NAME_CHARS
        || name.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Error::Usage(format!(
            "{name:?} cannot be a user name: 1 to {MAX_USER_NAME_CHARS} characters, no spaces"
        )));
    }
    Ok(())
}

/// An argon2id PHC string of `password`, with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Io(format!("cannot hash the password: {e}")))
}

/// Whether `password` matches `stored` (a PHC string). With no stored hash (an unknown
/// user) the password is checked against a dummy hash anyway, so the answer takes as
/// long as for a real user and the timing does not tell which names exist.
pub fn verify_password(stored: Option<&str>, password: &str) -> bool {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("not anyone's password").ok());
    match (stored, dummy) {
        (Some(hash), _) => Argon2::default()
            .verify_password(password.as_bytes(), hash)
            .is_ok(),
        (None, Some(dummy)) => {
            let _ = Argon2::default().verify_password(password.as_bytes(), dummy.as_str());
            false
        }
        (None, None) => false,
    }
}

/// Starts a session for `user_id` and returns its id, the cookie's value. The id is new
/// at every login, and the session the browser had before (`replaces`), if any, ends:
/// an id planted before login (session fixation) never becomes a logged-in one.
/// Sessions that have expired are deleted on the way.
pub fn start_session(
    store: &mut dyn Store,
    user_id: i64,
    replaces: Option<&str>,
    now: i64,
) -> Result<String> {
    if let Some(old) = replaces {
        store.remove_session(&sha256(old))?;
    }
    store.purge_sessions(now, now - SESSION_IDLE_SECS)?;
    let id = random_token()?;
    store.add_session(&NewSession {
        id_hash: sha256(&id),
        user_id,
        created_at: now,
        expires_at: now + SESSION_MAX_SECS,
    })?;
    Ok(id)
}

/// The live session with this id, if there is one; an expired one is deleted.
pub fn session(store: &mut dyn Store, session_id: &str, now: i64) -> Result<Option<Session>> {
    if !well_formed(session_id) {
        return Ok(None);
    }
    let id_hash = sha256(session_id);
    let Some(session) = store.session(&id_hash)? else {
        return Ok(None);
    };
    if now >= session.expires_at || now - session.last_seen >= SESSION_IDLE_SECS {
        store.remove_session(&id_hash)?;
        return Ok(None);
    }
    if now - session.last_seen >= TOUCH_EVERY_SECS {
        store.touch_session(&id_hash, now)?;
    }
    Ok(Some(session))
}

/// Ends a session (logout); false if it had already ended.
pub fn end_session(store: &mut dyn Store, session_id: &str) -> Result<bool> {
    Ok(store.remove_session(&sha256(session_id))?)
}

/// Creates an API token and returns its value: shown once, since only its hash is kept.
pub fn create_token(store: &mut dyn Store, name: &str, now: i64) -> Result<String> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::Usage(format!(
            "{name:?} cannot be a token name: say what uses it, without spaces (e.g. nightly-export)"
        )));
    }
    let token = format!("{TOKEN_PREFIX}{}", random_token()?);
    store.add_api_token(name, &sha256(&token), now)?;
    Ok(token)
}

/// The API token `presented` is, if it exists; its use is recorded (at most once a minute).
pub fn token(store: &mut dyn Store, presented: &str, now: i64) -> Result<Option<ApiToken>> {
    let Some(random) = presented.strip_prefix(TOKEN_PREFIX) else {
        return Ok(None);
    };
    if !well_formed(random) {
        return Ok(None);
    }
    let Some(token) = store.api_token_by_hash(&sha256(presented))? else {
        return Ok(None);
    };
    if token.last_used.is_none_or(|used| now - used >= TOUCH_EVERY_SECS) {
        store.touch_api_token(token.id, now)?;
    }
    Ok(Some(token))
}

/// A fresh 256-bit random value in unpadded base64url: session ids, pre-login cookies.
pub fn random_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| Error::Io("the system's random number generator failed".into()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The CSRF token for forms shown with the cookie value `bound_to`.
pub fn csrf_token(install_key: &[u8], scope: CsrfScope, bound_to: &str) -> String {
    URL_SAFE_NO_PAD.encode(csrf_mac(install_key, scope, bound_to).finalize().into_bytes())
}

/// Whether `presented` is the CSRF token for `bound_to`, compared in constant time.
pub fn csrf_matches(install_key: &[u8], scope: CsrfScope, bound_to: &str, presented: &str) -> bool {
    if presented.len() != RANDOM_LEN {
        return false;
    }
    match URL_SAFE_NO_PAD.decode(presented) {
        Ok(tag) => csrf_mac(install_key, scope, bound_to).verify_slice(&tag).is_ok(),
        Err(_) => false,
    }
}

fn csrf_mac(install_key: &[u8], scope: CsrfScope, bound_to: &str) -> HmacSha256 {
    // HMAC takes keys of any length; the derived key keeps CSRF tags apart from every
    // other use of the install key (unsubscribe links, sealed passwords).
    let mut derive = <HmacSha256 as KeyInit>::new_from_slice(install_key).expect("HMAC accepts any key");
    derive.update(b"inroad/csrf key/v1");
    let key = derive.finalize().into_bytes();
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&key).expect("HMAC accepts any key");
    mac.update(scope.context());
    mac.update(bound_to.as_bytes());
    mac
}

/// Could be one of our random values: anything else is refused before any lookup.
fn well_formed(value: &str) -> bool {
    value.len() == RANDOM_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn sha256(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh store (PostgreSQL with INROAD_TEST_BACKEND=postgres) and what keeps
    /// its database alive.
    fn store() -> ((tempfile::TempDir, inroad_testkit::TestDatabase), Box<dyn Store>) {
        let dir = tempfile::tempdir().unwrap();
        let db = inroad_testkit::TestDatabase::new(&dir.path().join("db"));
        let store = inroad_store::open(db.url()).unwrap();
        ((dir, db), store)
    }

    #[test]
    fn passwords_are_argon2id_and_only_the_right_one_verifies() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct"));
        assert!(verify_password(Some(&hash), "correct horse battery"));
        assert!(!verify_password(Some(&hash), "correct horse batterz"));
        assert!(!verify_password(None, "correct horse battery"));
        assert!(!verify_password(Some("not a PHC string"), "x"));
        assert_ne!(hash, hash_password("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn users_need_a_sane_name_and_a_long_password() {
        let (_dir, mut store) = store();
        let short = add_user(store.as_mut(), "ann", "eleven char", 0).unwrap_err();
        assert!(short.to_string().contains("at least 12"), "{short}");
        for name in ["", "ann lee", "a\nb", &"x".repeat(65)] {
            let bad = add_user(store.as_mut(), name, "twelve chars", 0).unwrap_err();
            assert!(bad.to_string().contains("cannot be a user name"), "{bad}");
        }
        add_user(store.as_mut(), "ann", "twelve chars", 0).unwrap();
        let taken = add_user(store.as_mut(), "ann", "twelve chars", 0).unwrap_err();
        assert!(taken.to_string().contains("exists"), "{taken}");
    }

    #[test]
    fn sessions_rotate_and_expire_when_idle_or_old() {
        let (_dir, mut store) = store();
        let user = store.add_user("ann", "h", 0).unwrap();
        let first = start_session(store.as_mut(), user, None, 1_000).unwrap();
        assert_eq!(first.len(), RANDOM_LEN);
        assert_eq!(
            session(store.as_mut(), &first, 1_001).unwrap().unwrap().user_name,
            "ann"
        );
        let second = start_session(store.as_mut(), user, Some(&first), 1_002).unwrap();
        assert_ne!(first, second);
        assert!(
            session(store.as_mut(), &first, 1_003).unwrap().is_none(),
            "replaced"
        );

        // Active every 11 hours: alive until the absolute limit.
        let mut now = 1_002;
        while now + 11 * 3600 < 1_002 + SESSION_MAX_SECS {
            now += 11 * 3600;
            assert!(
                session(store.as_mut(), &second, now).unwrap().is_some(),
                "at {now}"
            );
        }
        assert!(session(store.as_mut(), &second, 1_002 + SESSION_MAX_SECS)
            .unwrap()
            .is_none());

        let idle = start_session(store.as_mut(), user, None, 0).unwrap();
        assert!(session(store.as_mut(), &idle, SESSION_IDLE_SECS)
            .unwrap()
            .is_none());
        for junk in ["", "short", &"!".repeat(RANDOM_LEN)] {
            assert!(session(store.as_mut(), junk, 0).unwrap().is_none());
        }

        let live = start_session(store.as_mut(), user, None, 5).unwrap();
        assert!(end_session(store.as_mut(), &live).unwrap());
        assert!(session(store.as_mut(), &live, 6).unwrap().is_none());
    }

    #[test]
    fn tokens_are_shown_once_and_found_by_their_value() {
        let (_dir, mut store) = store();
        let value = create_token(store.as_mut(), "ci", 10).unwrap();
        assert!(value.starts_with("inroad_") && value.len() == 50, "{value}");
        let found = token(store.as_mut(), &value, 20).unwrap().unwrap();
        assert_eq!(found.name, "ci");
        assert_eq!(store.api_tokens().unwrap()[0].last_used, Some(20));
        let mut altered = value.clone();
        altered.replace_range(10..11, if &value[10..11] == "A" { "B" } else { "A" });
        for wrong in [altered.as_str(), &value[7..], "inroad_", ""] {
            assert!(token(store.as_mut(), wrong, 30).unwrap().is_none(), "{wrong}");
        }
        assert!(create_token(store.as_mut(), "my token", 0).is_err());
    }

    #[test]
    fn csrf_tokens_are_bound_to_their_cookie_scope_and_key() {
        let key = b"0123456789abcdef0123456789abcdef";
        let token = csrf_token(key, CsrfScope::Session, "abc");
        assert!(csrf_matches(key, CsrfScope::Session, "abc", &token));
        assert!(!csrf_matches(key, CsrfScope::Session, "abd", &token));
        assert!(!csrf_matches(key, CsrfScope::Login, "abc", &token));
        assert!(!csrf_matches(b"another key", CsrfScope::Session, "abc", &token));
        assert!(!csrf_matches(key, CsrfScope::Session, "abc", ""));
        assert!(!csrf_matches(key, CsrfScope::Session, "abc", &"!".repeat(43)));
    }
}

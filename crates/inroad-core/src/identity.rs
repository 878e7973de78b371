//! When two lead records are the same person.
//!
//! Identity is tried strongest first: the email address, else the LinkedIn profile
//! URL, else (first name, last name, company domain — or company name), case-insensitively. An email
//! or a profile URL belongs to one person, so either match is decisive (a person may
//! have two addresses; the stored one is kept). The name key is weaker: it never
//! merges two records whose emails or profile URLs disagree, since two people with
//! one name at one company is common.
//!
//! [`DedupIndex`] keeps a 64-bit hash of each key in memory instead of the key
//! itself, so a million leads cost tens of megabytes. A hash hit is only a
//! candidate: the caller confirms it against the stored lead with [`matches`].

use std::collections::hash_map::{Entry, VacantEntry};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::Lead;

/// Which identity key matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Email,
    Linkedin,
    Name,
}

/// The name key: (first name, last name, company domain), case-insensitively. A
/// lead with no domain is keyed by its company name instead (marked apart, so a
/// company called "acme.com" never meets the domain acme.com), and one of the two
/// names may be missing ("Cher"), so every row the importer keeps for its name has
/// a key and a re-import finds it.
pub fn name_key(lead: &Lead) -> Option<String> {
    let mut key = String::new();
    name_key_into(lead, &mut key).then_some(key)
}

/// Writes the name key into `buf` (cleared first); false when the lead has none.
fn name_key_into(lead: &Lead, buf: &mut String) -> bool {
    buf.clear();
    if lead.first_name.is_none() && lead.last_name.is_none() {
        return false;
    }
    let lower = |buf: &mut String, part: &Option<String>| {
        if let Some(part) = part {
            push_lowercase(buf, part);
        }
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

/// Appends `text` lowercased char by char (`char::to_lowercase`, so a final 'Σ' is
/// 'σ', not the 'ς' of `str::to_lowercase`: keys must stay as they were made).
fn push_lowercase(buf: &mut String, text: &str) {
    if text.is_ascii() {
        let start = buf.len();
        buf.push_str(text);
        buf[start..].make_ascii_lowercase();
        return;
    }
    // Accented names are mostly ASCII letters: those skip the case-mapping iterator.
    buf.reserve(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            buf.push(c.to_ascii_lowercase());
        } else {
            buf.extend(c.to_lowercase());
        }
    }
}

/// The key of one kind, as text.
pub fn key(lead: &Lead, kind: KeyKind) -> Option<String> {
    match kind {
        KeyKind::Email => lead.email.clone(),
        KeyKind::Linkedin => lead.linkedin_url.clone(),
        KeyKind::Name => name_key(lead),
    }
}

/// Whether `stored`, found through a `kind` key, is the same person as `incoming`.
pub fn matches(stored: &Lead, incoming: &Lead, kind: KeyKind) -> bool {
    let conflict = |a: &Option<String>, b: &Option<String>| matches!((a, b), (Some(x), Some(y)) if x != y);
    if key(stored, kind).is_none() || key(stored, kind) != key(incoming, kind) {
        return false;
    }
    match kind {
        KeyKind::Email | KeyKind::Linkedin => true,
        KeyKind::Name => {
            !conflict(&stored.email, &incoming.email)
                && !conflict(&stored.linkedin_url, &incoming.linkedin_url)
        }
    }
}

/// The hash the index files a key under.
pub fn key_hash(key: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key.as_bytes())
}

/// The hashed identity keys of one lead, computed once (on the import's reader
/// thread) and used for every index lookup.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IdentityHashes {
    email: Option<u64>,
    linkedin: Option<u64>,
    name: Option<u64>,
}

impl IdentityHashes {
    pub fn of(lead: &Lead) -> IdentityHashes {
        thread_local! {
            // One buffer per thread: hashing runs once per imported row.
            static NAME_KEY: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        let name = NAME_KEY.with_borrow_mut(|buf| name_key_into(lead, buf).then(|| key_hash(buf)));
        IdentityHashes {
            email: lead.email.as_deref().map(key_hash),
            linkedin: lead.linkedin_url.as_deref().map(key_hash),
            name,
        }
    }

    pub fn get(&self, kind: KeyKind) -> Option<u64> {
        match kind {
            KeyKind::Email => self.email,
            KeyKind::Linkedin => self.linkedin,
            KeyKind::Name => self.name,
        }
    }
}

const KINDS: [KeyKind; 3] = [KeyKind::Email, KeyKind::Linkedin, KeyKind::Name];

/// Keys are already uniform hashes; hashing them again would only cost time.
#[derive(Default)]
pub struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type HashIndex = HashMap<u64, i64, BuildHasherDefault<PassThroughHasher>>;

/// The answer of [`DedupIndex::lookup`].
pub enum Lookup<'a> {
    /// Leads holding some of the keys, strongest key first: candidates, which a
    /// caller confirms against the stored lead (a hash may collide).
    Held(Vec<(KeyKind, i64)>),
    /// No lead holds any of the keys.
    Free(FreeKeys<'a>),
}

/// The places of a new lead's keys in the index, until the lead has its id.
pub struct FreeKeys<'a>([Option<VacantEntry<'a, u64, i64>>; 3]);

impl FreeKeys<'_> {
    /// Files the keys under `id`.
    pub fn file(self, id: i64) {
        for place in self.0.into_iter().flatten() {
            place.insert(id);
        }
    }
}

/// In-memory index of lead ids by hashed identity key.
#[derive(Default)]
pub struct DedupIndex {
    email: HashIndex,
    linkedin: HashIndex,
    name: HashIndex,
}

impl DedupIndex {
    /// An index with room for `leads` leads' keys: growing a map rehashes every
    /// entry, and for a moment holds the old table beside the new one.
    pub fn with_capacity(leads: usize) -> DedupIndex {
        let map = || HashIndex::with_capacity_and_hasher(leads, BuildHasherDefault::default());
        DedupIndex {
            email: map(),
            linkedin: map(),
            name: map(),
        }
    }

    fn map(&mut self, kind: KeyKind) -> &mut HashIndex {
        match kind {
            KeyKind::Email => &mut self.email,
            KeyKind::Linkedin => &mut self.linkedin,
            KeyKind::Name => &mut self.name,
        }
    }

    /// What the index holds for a lead with these keys, with one probe per key:
    /// a probe into a map of a million leads is a cache miss, and a new lead (the
    /// common case) files its keys in the places this probe found.
    pub fn lookup(&mut self, hashes: &IdentityHashes) -> Lookup<'_> {
        let DedupIndex {
            email,
            linkedin,
            name,
        } = self;
        let maps = [
            (KeyKind::Email, email),
            (KeyKind::Linkedin, linkedin),
            (KeyKind::Name, name),
        ];
        let mut held = Vec::new();
        let mut free = [None, None, None];
        for (place, (kind, map)) in free.iter_mut().zip(maps) {
            let Some(hash) = hashes.get(kind) else {
                continue;
            };
            match map.entry(hash) {
                Entry::Occupied(holder) => held.push((kind, *holder.get())),
                Entry::Vacant(vacant) => *place = Some(vacant),
            }
        }
        if held.is_empty() {
            Lookup::Free(FreeKeys(free))
        } else {
            Lookup::Held(held)
        }
    }

    /// Files every key under `id`, without displacing an earlier holder.
    pub fn insert(&mut self, hashes: &IdentityHashes, id: i64) {
        for kind in KINDS {
            if let Some(hash) = hashes.get(kind) {
                self.map(kind).entry(hash).or_insert(id);
            }
        }
    }

    /// Whether some lead already holds this key (possibly a hash collision; callers
    /// use this only to avoid filling a unique field, where a false "yes" is safe).
    pub fn holds(&mut self, kind: KeyKind, key: &str) -> bool {
        self.map(kind).contains_key(&key_hash(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(email: Option<&str>, url: Option<&str>, first: &str, last: &str, domain: &str) -> Lead {
        Lead {
            email: email.map(str::to_owned),
            linkedin_url: url.map(str::to_owned),
            first_name: Some(first.to_owned()),
            last_name: Some(last.to_owned()),
            domain: Some(domain.to_owned()),
            ..Lead::default()
        }
    }

    #[test]
    fn name_match_is_case_insensitive_but_stronger_keys_veto_it() {
        let a = lead(Some("john@acme.com"), None, "John", "Smith", "acme.com");
        let b = lead(None, None, "JOHN", "smith", "acme.com");
        assert!(matches(&a, &b, KeyKind::Name));
        let c = lead(Some("jsmith@acme.com"), None, "John", "Smith", "acme.com");
        assert!(!matches(&a, &c, KeyKind::Name));
        let d = lead(
            None,
            Some("https://www.linkedin.com/in/x"),
            "John",
            "Smith",
            "acme.com",
        );
        let e = lead(
            None,
            Some("https://www.linkedin.com/in/y"),
            "John",
            "Smith",
            "acme.com",
        );
        assert!(!matches(&d, &e, KeyKind::Name));
    }

    #[test]
    fn index_offers_strongest_candidate_first() {
        let mut index = DedupIndex::default();
        let a = lead(
            Some("john@acme.com"),
            Some("https://www.linkedin.com/in/j"),
            "John",
            "Smith",
            "acme.com",
        );
        index.insert(&IdentityHashes::of(&a), 7);
        let b = lead(
            None,
            Some("https://www.linkedin.com/in/j"),
            "JOHN",
            "Smith",
            "acme.com",
        );
        let Lookup::Held(found) = index.lookup(&IdentityHashes::of(&b)) else {
            panic!("a's keys are held");
        };
        assert_eq!(found, vec![(KeyKind::Linkedin, 7), (KeyKind::Name, 7)]);
        let c = lead(Some("x@y.com"), None, "A", "B", "c.com");
        let Lookup::Free(keys) = index.lookup(&IdentityHashes::of(&c)) else {
            panic!("c's keys are free");
        };
        keys.file(8);
        let Lookup::Held(found) = index.lookup(&IdentityHashes::of(&c)) else {
            panic!("c's keys are filed");
        };
        assert_eq!(found, vec![(KeyKind::Email, 8), (KeyKind::Name, 8)]);
    }
}

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

use std::thread::JoinHandle;

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

/// A lead id by hashed key: open addressing with linear probing over one array of
/// (hash, id) slots, kept at most half full. Written here rather than taken from
/// hashbrown because the import needs to say where a key *will* be looked up before
/// it is (see [`DedupIndex::prefetch`]): with a million leads every probe is a cache
/// miss, and one slot holding both hash and id makes it a single miss.
struct HashIndex {
    /// (hash, id); a hash of 0 marks an empty slot (a key hashing to 0 is filed as 1:
    /// a hit is only ever a candidate, confirmed against the lead).
    slots: Vec<(u64, i64)>,
    len: usize,
}

/// Asks Linux to back `slots` with 2 MB pages (its usual "madvise" setting gives them
/// only to memory that asks), and returns the span it asked for (address, bytes).
/// Probes land anywhere in tens of megabytes, and with 4 KB pages nearly each one
/// also misses the TLB: a page walk, dearer than the cache miss itself in a virtual
/// machine (the writer's CPU time fell by a quarter). It costs no memory: a table
/// this size has every page touched as it fills.
fn advise_huge_pages(slots: &[(u64, i64)]) -> Option<(usize, usize)> {
    #[cfg(target_os = "linux")]
    {
        const HUGE_PAGE: usize = 2 << 20;
        let start = slots.as_ptr() as usize;
        let first = start.next_multiple_of(HUGE_PAGE);
        let end = (start + std::mem::size_of_val(slots)) / HUGE_PAGE * HUGE_PAGE;
        if end > first {
            // SAFETY: advice only (contents and mapping stay as they are), on whole
            // pages inside the live allocation `slots`. A refusal changes nothing.
            unsafe {
                libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
            }
            return Some((first, end - first));
        }
    }
    let _ = slots;
    None
}

/// Maps in the pages of `spans` (from [`advise_huge_pages`]) on a thread of its own.
/// Each 2 MB page is zeroed as it is first touched; left to the import's writer, the
/// first rows would touch nearly all of them at once, some 0.1 s in which the
/// database waits for its first row, while a core sits idle.
fn prefault(spans: Vec<(usize, usize)>) -> Option<JoinHandle<()>> {
    #[cfg(target_os = "linux")]
    if !spans.is_empty() {
        let populate = move || {
            for (start, len) in spans {
                // SAFETY: advice on whole pages of live tables (their owner joins
                // this thread before freeing them): it maps in zeroed pages where
                // none are yet, which is what the untouched memory reads as anyway,
                // and leaves present pages alone. A refusal changes nothing.
                unsafe {
                    libc::madvise(start as *mut libc::c_void, len, libc::MADV_POPULATE_WRITE);
                }
            }
        };
        return std::thread::Builder::new()
            .name("dedup-prefault".into())
            .spawn(populate)
            .ok();
    }
    let _ = spans;
    None
}

/// Where a key is in its [`HashIndex`], or would go.
enum Slot {
    Held(i64),
    Free(usize),
}

impl HashIndex {
    fn with_capacity(keys: usize) -> HashIndex {
        // Zeroed memory: the pages are touched only as the index fills.
        let slots = vec![(0, 0); keys.saturating_mul(2).next_power_of_two().max(16)];
        HashIndex { slots, len: 0 }
    }

    fn stored(hash: u64) -> u64 {
        hash.max(1)
    }

    /// The first slot probed for `hash` (the hash is uniform: its low bits will do).
    fn home(&self, hash: u64) -> usize {
        (Self::stored(hash) as usize) & (self.slots.len() - 1)
    }

    fn find(&self, hash: u64) -> Slot {
        let (wanted, mask) = (Self::stored(hash), self.slots.len() - 1);
        let mut at = self.home(hash);
        loop {
            match self.slots[at] {
                (0, _) => return Slot::Free(at),
                (held, id) if held == wanted => return Slot::Held(id),
                _ => at = (at + 1) & mask,
            }
        }
    }

    /// Fills `at`, a free slot [`HashIndex::find`] gave for `hash` with no fill since;
    /// true when the table is now over half full and must grow before the next find.
    fn fill(&mut self, at: usize, hash: u64, id: i64) -> bool {
        self.slots[at] = (Self::stored(hash), id);
        self.len += 1;
        self.len * 2 > self.slots.len()
    }

    fn grow(&mut self) {
        let doubled = vec![(0, 0); self.slots.len() * 2];
        advise_huge_pages(&doubled);
        let old = std::mem::replace(&mut self.slots, doubled);
        for (hash, id) in old.into_iter().filter(|&(hash, _)| hash != 0) {
            if let Slot::Free(at) = self.find(hash) {
                self.slots[at] = (hash, id);
            }
        }
    }

    fn prefetch(&self, hash: u64) {
        #[cfg(target_arch = "x86_64")]
        {
            let slot: *const (u64, i64) = &self.slots[self.home(hash)];
            // SAFETY: a prefetch only hints the cache; it reads nothing into the
            // program and cannot fault (and `slot` is a live element anyway).
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(slot.cast());
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = hash;
    }
}

/// The answer of [`DedupIndex::lookup`].
pub enum Lookup<'a> {
    /// Leads holding some of the keys, strongest key first: candidates, which a
    /// caller confirms against the stored lead (a hash may collide).
    Held(Vec<(KeyKind, i64)>),
    /// No lead holds any of the keys.
    Free(FreeKeys<'a>),
}

/// The places of a new lead's keys in the index, until the lead has its id.
pub struct FreeKeys<'a> {
    index: &'a mut DedupIndex,
    /// (slot, hash) per key kind, in [`KINDS`] order.
    places: [Option<(usize, u64)>; 3],
}

impl FreeKeys<'_> {
    /// Files the keys under `id`.
    pub fn file(self, id: i64) {
        for (kind, place) in KINDS.into_iter().zip(self.places) {
            if let Some((at, hash)) = place {
                self.index.fill(kind, (at, hash), id);
            }
        }
    }
}

/// In-memory index of lead ids by hashed identity key.
pub struct DedupIndex {
    email: HashIndex,
    linkedin: HashIndex,
    name: HashIndex,
    /// Maps the tables' pages in (see [`prefault`]); joined before they are freed.
    prefaulting: Option<JoinHandle<()>>,
}

impl Drop for DedupIndex {
    fn drop(&mut self) {
        if let Some(prefaulting) = self.prefaulting.take() {
            let _ = prefaulting.join();
        }
    }
}

impl Default for DedupIndex {
    fn default() -> Self {
        DedupIndex::with_capacity(0, &[])
    }
}

impl DedupIndex {
    /// An index with room for `leads` leads' keys of the `kinds` given (growing
    /// rehashes every entry, and for a moment holds the old table beside the new
    /// one); the other kinds' tables start small. A table sized here is mapped in at
    /// once (see [`prefault`]), so only kinds a file can fill should be named.
    pub fn with_capacity(leads: usize, kinds: &[KeyKind]) -> DedupIndex {
        let [email, linkedin, name] =
            KINDS.map(|kind| HashIndex::with_capacity(if kinds.contains(&kind) { leads } else { 0 }));
        let spans = [&email, &linkedin, &name]
            .into_iter()
            .filter_map(|table| advise_huge_pages(&table.slots))
            .collect();
        DedupIndex {
            email,
            linkedin,
            name,
            prefaulting: prefault(spans),
        }
    }

    /// Fills a free place of a `kind` table, growing the table when it is full: after
    /// the prefaulting thread is done, which must not work on a table being freed.
    fn fill(&mut self, kind: KeyKind, (at, hash): (usize, u64), id: i64) {
        if self.map(kind).fill(at, hash, id) {
            if let Some(prefaulting) = self.prefaulting.take() {
                let _ = prefaulting.join();
            }
            self.map(kind).grow();
        }
    }

    fn map(&mut self, kind: KeyKind) -> &mut HashIndex {
        match kind {
            KeyKind::Email => &mut self.email,
            KeyKind::Linkedin => &mut self.linkedin,
            KeyKind::Name => &mut self.name,
        }
    }

    fn table(&self, kind: KeyKind) -> &HashIndex {
        match kind {
            KeyKind::Email => &self.email,
            KeyKind::Linkedin => &self.linkedin,
            KeyKind::Name => &self.name,
        }
    }

    /// Starts fetching the places a [`DedupIndex::lookup`] of these keys will read,
    /// so that a lookup a few rows later finds them in the cache.
    pub fn prefetch(&self, hashes: &IdentityHashes) {
        for kind in KINDS {
            if let Some(hash) = hashes.get(kind) {
                self.table(kind).prefetch(hash);
            }
        }
    }

    /// What the index holds for a lead with these keys, with one probe per key:
    /// a new lead (the common case) files its keys in the places this probe found.
    pub fn lookup(&mut self, hashes: &IdentityHashes) -> Lookup<'_> {
        let mut held = Vec::new();
        let mut places = [None, None, None];
        for (place, kind) in places.iter_mut().zip(KINDS) {
            let Some(hash) = hashes.get(kind) else {
                continue;
            };
            match self.table(kind).find(hash) {
                Slot::Held(id) => held.push((kind, id)),
                Slot::Free(at) => *place = Some((at, hash)),
            }
        }
        if held.is_empty() {
            Lookup::Free(FreeKeys { index: self, places })
        } else {
            Lookup::Held(held)
        }
    }

    /// Files every key under `id`, without displacing an earlier holder.
    pub fn insert(&mut self, hashes: &IdentityHashes, id: i64) {
        for kind in KINDS {
            if let Some(hash) = hashes.get(kind) {
                if let Slot::Free(at) = self.table(kind).find(hash) {
                    self.fill(kind, (at, hash), id);
                }
            }
        }
    }

    /// Whether some lead already holds this key (possibly a hash collision; callers
    /// use this only to avoid filling a unique field, where a false "yes" is safe).
    pub fn holds(&self, kind: KeyKind, key: &str) -> bool {
        matches!(self.table(kind).find(key_hash(key)), Slot::Held(_))
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

    /// Only the kinds named are sized up front; the others start small and grow.
    #[test]
    fn only_the_kinds_named_are_sized() {
        let index = DedupIndex::with_capacity(1_000, &[KeyKind::Email, KeyKind::Name]);
        let sizes = [&index.email, &index.linkedin, &index.name].map(|t| t.slots.len());
        assert_eq!(sizes, [2048, 16, 2048]);
    }

    /// An index sized too small grows (its first tables large enough to be on huge
    /// pages, mapped in by their own thread, which is waited for first) and keeps
    /// every key.
    #[test]
    fn an_index_outgrowing_its_size_keeps_every_key() {
        let mut index = DedupIndex::with_capacity(70_000, &KINDS);
        let hashes = |n: i64| IdentityHashes {
            email: Some(key_hash(&n.to_string())),
            ..IdentityHashes::default()
        };
        for id in 1..150_000 {
            let Lookup::Free(keys) = index.lookup(&hashes(id)) else {
                panic!("{id} is not filed yet");
            };
            keys.file(id);
        }
        assert!(index.prefaulting.is_none(), "waited for before growing");
        for id in 1..150_000 {
            let found = index.lookup(&hashes(id));
            assert!(
                matches!(found, Lookup::Held(held) if held == [(KeyKind::Email, id)]),
                "{id}"
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

        /// The index answers like a map from hash to first holder, through growth,
        /// probe runs that wrap around the table's end, and the hash 0 (filed as 1).
        #[test]
        fn index_is_a_map_of_first_holders(
            steps in proptest::collection::vec((0u64..40, proptest::bool::ANY), 1..400),
        ) {
            let mut index = DedupIndex::default();
            let mut model = std::collections::HashMap::new();
            for (id, (small, by_lookup)) in (1i64..).zip(steps) {
                // Multiples of 2^32 share their home slot in any table this test
                // grows; 0 and 1 are the same key to the index.
                let hash = if small < 20 { small << 32 } else { small - 20 };
                let hashes = IdentityHashes { email: Some(hash), ..IdentityHashes::default() };
                let expected = model.get(&hash.max(1)).copied();
                if by_lookup {
                    match index.lookup(&hashes) {
                        Lookup::Held(held) => proptest::prop_assert_eq!(Some(held), expected.map(|e| vec![(KeyKind::Email, e)])),
                        Lookup::Free(keys) => {
                            proptest::prop_assert_eq!(expected, None);
                            keys.file(id);
                            model.insert(hash.max(1), id);
                        }
                    }
                } else {
                    index.insert(&hashes, id);
                    model.entry(hash.max(1)).or_insert(id);
                }
                proptest::prop_assert!(index.email.len * 2 <= index.email.slots.len());
            }
            for (&hash, &id) in &model {
                proptest::prop_assert!(matches!(index.email.find(hash), Slot::Held(held) if held == id));
            }
        }
    }
}

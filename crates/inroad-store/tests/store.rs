//! The store's contract, written once and run against every backend.
//!
//! Each test loops over [`backends`]: SQLite in a temporary directory, and PostgreSQL
//! in a database of its own on the test binary's throwaway cluster (inroad-testkit's
//! `PgDatabase`). Tests only use the `Store` / `LeadImport` API, never SQL, so they
//! hold for any backend.

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};

use inroad_core::identity::KeyKind;
use inroad_core::verdict::EmailStatus;
use inroad_core::Lead;
use inroad_store::{
    Advance, Begun, EmailCheck, LeadQuery, LeaseKind, LinkedinAccount, LinkedinTask, Mailbox, Migrated,
    NewSend, NewSession, SendOutcome, Session, Store, StoredLead, Suppression,
};

/// A fresh, empty database per backend: its name, the URL `inroad_store::open`
/// takes, and a guard that keeps it alive (and removes it when dropped).
fn fresh_databases() -> Vec<(&'static str, String, Guard)> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("inroad.db");
    let url = path.to_str().expect("a UTF-8 temp path").to_owned();
    let pg = inroad_testkit::PgDatabase::create();
    let pg_url = pg.url().to_owned();
    vec![("sqlite", url, Box::new(dir)), ("postgres", pg_url, Box::new(pg))]
}

/// Whatever keeps a test database alive (a temporary directory, a cluster).
type Guard = Box<dyn Any>;

/// Every backend, opened (and migrated) on a fresh database, with the guard that
/// keeps the database alive: bind it (`_guard`, not `_`) for as long as the store.
fn backends() -> Vec<(&'static str, Box<dyn Store>, Guard)> {
    fresh_databases()
        .into_iter()
        .map(|(name, url, guard)| {
            let store = inroad_store::open(&url).unwrap_or_else(|e| panic!("{name}: open {url}: {e}"));
            (name, store, guard)
        })
        .collect()
}

/// Both import strategies a backend may pick: a small import, and one large
/// enough (in itself and next to what is stored) for a bulk path.
const EXPECTED_ROWS: [u64; 2] = [10, 1_000_000];

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

/// A lead with every canonical field and custom fields that stress the encoding.
fn full_lead(n: u32) -> Lead {
    let mut custom = BTreeMap::new();
    custom.insert("Connected On".to_owned(), format!("0{} Jan 2024", n % 9 + 1));
    custom.insert(
        "Notes \"quoted\" ünïcode".to_owned(),
        "a, b; c\\d \"e\" 😀 new\nline".to_owned(),
    );
    Lead {
        email: Some(format!("person{n}@acme.co.uk")),
        first_name: s("Zoë"),
        last_name: Some(format!("O'Brien-{n}")),
        full_name: Some(format!("Zoë O'Brien-{n}")),
        title: s("Head of Sales, EMEA"),
        company: s("Acme, Inc."),
        domain: s("acme.co.uk"),
        linkedin_url: Some(format!("https://www.linkedin.com/in/zoe-obrien-{n}")),
        location: s("São Paulo, Brazil"),
        timezone: s("America/Sao_Paulo"),
        phone: s("+44 20 7946 0000"),
        custom,
    }
}

fn email_lead(email: &str) -> Lead {
    Lead {
        email: s(email),
        ..Lead::default()
    }
}

fn all_leads(store: &dyn Store, list: Option<&str>) -> Vec<StoredLead> {
    store
        .leads(&LeadQuery {
            list,
            after: 0,
            limit: usize::MAX,
        })
        .expect("leads")
}

/// Inserts `leads` in one committed import; returns their ids.
fn import(store: &mut dyn Store, leads: &[Lead], list: Option<&str>) -> Vec<i64> {
    let mut tx = store.begin_import(leads.len() as u64).expect("begin_import");
    let mut ids = Vec::new();
    for lead in leads {
        let id = tx.insert(lead, None).expect("insert");
        if let Some(list) = list {
            tx.add_to_list(list, id).expect("add_to_list");
        }
        ids.push(id);
    }
    tx.commit().expect("commit");
    ids
}

fn suppression(value: &str, reason: Option<&str>) -> Suppression {
    Suppression {
        value: value.to_owned(),
        reason: reason.map(str::to_owned),
        created_at: "2024-05-01T10:00:00Z".to_owned(),
    }
}

#[test]
fn migrations_are_idempotent() {
    for (name, url, _guard) in fresh_databases() {
        let first = inroad_store::open(&url).unwrap_or_else(|e| panic!("{name}: first open: {e}"));
        let m1 = first.migrated();
        assert_eq!(m1.from, 0, "{name}: a fresh database starts at version 0");
        assert!(m1.to >= 1, "{name}: at least one migration: {m1:?}");
        drop(first);
        let second = inroad_store::open(&url).unwrap_or_else(|e| panic!("{name}: second open: {e}"));
        let m2 = second.migrated();
        assert_eq!(m2.from, m2.to, "{name}: reopening migrates nothing: {m2:?}");
        assert_eq!(m2.to, m1.to, "{name}: same schema version");
        assert_eq!(second.count_leads(None).unwrap(), 0, "{name}");
        // A third open, while the second is still open, is also a no-op.
        let third = inroad_store::open(&url).unwrap_or_else(|e| panic!("{name}: third open: {e}"));
        assert_eq!(
            third.migrated(),
            Migrated {
                from: m1.to,
                to: m1.to
            },
            "{name}"
        );
    }
}

#[test]
fn a_store_works_from_inside_an_async_runtime() {
    // The engine calls the store from inside its tokio runtimes (the verifier's checks,
    // the web server's handlers), where a driver may not block on a runtime of its own.
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    for (name, url, _guard) in fresh_databases() {
        runtime.block_on(async {
            let mut store = inroad_store::open(&url).unwrap_or_else(|e| panic!("{name}: {e}"));
            let ids = import(store.as_mut(), &[full_lead(1)], Some("l"));
            {
                let mut tx = store.begin_import(1).unwrap();
                tx.insert(&full_lead(2), None).unwrap();
                let mut seen = 0;
                tx.for_each_identity(&mut |_, _| seen += 1).unwrap();
                assert_eq!(seen, 2, "{name}: the stored lead and the import's own");
                // Dropped here: rolled back.
            }
            assert_eq!(store.count_leads(Some("l")).unwrap(), 1, "{name}");
            assert_eq!(
                store
                    .add_suppressions(&[suppression("@acme.co.uk", None)])
                    .unwrap(),
                1
            );
            assert!(store.lead(ids[0]).unwrap().unwrap().suppressed, "{name}");
            drop(store);
        });
    }
}

#[test]
fn dropped_import_leaves_nothing() {
    for expected in EXPECTED_ROWS {
        for (name, mut store, _guard) in backends() {
            // Something committed first, which the dropped import must not disturb.
            let kept = import(store.as_mut(), &[full_lead(0)], Some("kept"));
            {
                let mut tx = store.begin_import(expected).unwrap();
                for n in 1..=20 {
                    let id = tx.insert(&full_lead(n), Some("a note")).unwrap();
                    tx.add_to_list("dropped", id).unwrap();
                }
                tx.add_to_list("kept", kept[0]).unwrap();
                let mut changed = full_lead(0);
                changed.title = s("changed");
                tx.update(kept[0], &changed).unwrap();
                // Visible inside the transaction...
                assert_eq!(tx.get(kept[0]).unwrap().title.as_deref(), Some("changed"));
                // ...and dropped here without commit.
            }
            let ctx = format!("{name}, expected_rows={expected}");
            assert_eq!(store.count_leads(None).unwrap(), 1, "{ctx}");
            assert_eq!(store.count_leads(Some("kept")).unwrap(), 1, "{ctx}");
            assert!(!store.list_exists("dropped").unwrap(), "{ctx}");
            let leads = all_leads(store.as_ref(), None);
            assert_eq!(leads[0].lead, full_lead(0), "{ctx}: the update was undone");

            // The store is fully usable afterwards (and a fresh store is empty).
            import(store.as_mut(), &[full_lead(99)], None);
            assert_eq!(store.count_leads(None).unwrap(), 2, "{ctx}");
        }
        for (name, mut store, _guard) in backends() {
            {
                let mut tx = store.begin_import(expected).unwrap();
                tx.insert(&full_lead(1), None).unwrap();
            }
            assert_eq!(
                store.count_leads(None).unwrap(),
                0,
                "{name}, expected_rows={expected}"
            );
            assert!(all_leads(store.as_ref(), None).is_empty(), "{name}");
        }
    }
}

#[test]
fn a_lead_with_a_rarely_filled_field_after_others_keeps_every_field() {
    // A backend may leave out of its bulk path the columns most files never fill
    // (PostgreSQL's COPY starts without them): the first lead that has one, after
    // leads that had none, must still be stored whole, and so must those after it.
    let usual = |n: u32| Lead {
        timezone: None,
        phone: None,
        custom: BTreeMap::new(),
        full_name: None,
        ..full_lead(n)
    };
    type AddField = fn(Lead) -> Lead;
    let rare: [(&str, AddField); 4] = [
        ("a timezone", |lead| Lead {
            timezone: s("Europe/Paris"),
            ..lead
        }),
        ("a phone", |lead| Lead {
            phone: s("+33 1 23 45 67 89"),
            ..lead
        }),
        ("custom fields", |lead| Lead {
            custom: full_lead(0).custom,
            ..lead
        }),
        ("a full name that is not first and last", |lead| Lead {
            full_name: s("Dr Zoë O'Brien"),
            ..lead
        }),
    ];
    for expected in EXPECTED_ROWS {
        for (what, with_rare) in rare {
            for (name, mut store, _guard) in backends() {
                let ctx = format!("{name}, expected_rows={expected}, {what}");
                let leads = [
                    usual(1),
                    usual(2),
                    with_rare(usual(3)),
                    usual(4),
                    with_rare(usual(5)),
                ];
                let ids = import(store.as_mut(), &leads, None);
                for (id, lead) in ids.iter().zip(&leads) {
                    // A full name left out is read back as the first and last names.
                    let full_name = lead.full_name.clone().or_else(|| lead.derived_full_name());
                    let want = Lead {
                        full_name,
                        ..lead.clone()
                    };
                    assert_eq!(store.lead(*id).unwrap().expect("stored").lead, want, "{ctx}");
                }
            }
        }
    }
}

#[test]
fn commit_makes_leads_visible_with_all_fields() {
    for expected in EXPECTED_ROWS {
        for (name, mut store, _guard) in backends() {
            let ctx = format!("{name}, expected_rows={expected}");
            let minimal = Lead {
                linkedin_url: s("https://www.linkedin.com/in/minimal"),
                ..Lead::default()
            };
            let ids = {
                let mut tx = store.begin_import(expected).unwrap();
                let a = tx
                    .insert(&full_lead(1), Some("invalid email \"x\" dropped"))
                    .unwrap();
                let b = tx.insert(&minimal, None).unwrap();
                assert_ne!(a, b, "{ctx}");
                assert_eq!(tx.get(a).unwrap(), full_lead(1), "{ctx}: get inside the import");
                assert_eq!(tx.get(b).unwrap(), minimal, "{ctx}");
                tx.commit().unwrap();
                [a, b]
            };
            assert_eq!(store.count_leads(None).unwrap(), 2, "{ctx}");
            let leads = all_leads(store.as_ref(), None);
            assert_eq!(leads.len(), 2, "{ctx}");
            assert_eq!(leads[0].id, ids[0], "{ctx}");
            assert_eq!(
                leads[0].lead,
                full_lead(1),
                "{ctx}: every field and custom field round-trips"
            );
            assert_eq!(
                leads[0].notes.as_deref(),
                Some("invalid email \"x\" dropped"),
                "{ctx}"
            );
            assert!(!leads[0].created_at.is_empty(), "{ctx}");
            assert!(!leads[0].suppressed, "{ctx}");
            assert_eq!(leads[1].id, ids[1], "{ctx}");
            assert_eq!(leads[1].lead, minimal, "{ctx}: empty fields stay None");
            assert_eq!(leads[1].notes, None, "{ctx}");
        }
    }
}

#[test]
fn a_large_import_is_complete_with_dense_ids_and_sees_its_own_writes() {
    // More rows than a bulk backend buffers at once (PostgreSQL hands its COPY 64 KiB
    // of leads at a time), and a large import for the deferred email index.
    const N: u32 = 20_000;
    for (name, mut store, _guard) in backends() {
        let leads: Vec<Lead> = (0..N).map(|n| email_lead(&format!("p{n}@bulk.test"))).collect();
        let mut tx = store.begin_import(u64::from(N)).unwrap();
        let mut ids = Vec::new();
        for lead in &leads {
            let id = tx.insert(lead, None).unwrap();
            tx.add_to_list("big", id).unwrap();
            ids.push(id);
        }
        // An early lead (long sent on) and the last one (maybe still buffered) are
        // read back and changed; a second membership of the same list changes nothing.
        for &i in &[5, N as usize - 1] {
            let mut changed = tx.get(ids[i]).unwrap();
            assert_eq!(changed, leads[i], "{name}: read back inside the import");
            changed.title = s("changed");
            tx.update(ids[i], &changed).unwrap();
            assert_eq!(
                tx.get(ids[i]).unwrap().title.as_deref(),
                Some("changed"),
                "{name}"
            );
            tx.add_to_list("big", ids[i]).unwrap();
            tx.add_to_list("other", ids[i]).unwrap();
        }
        assert_eq!(
            tx.find(KeyKind::Email, &leads[N as usize - 1]).unwrap(),
            Some(ids[N as usize - 1]),
            "{name}: find sees the import's own leads"
        );
        tx.commit().unwrap();

        assert_eq!(store.count_leads(None).unwrap(), u64::from(N), "{name}");
        assert_eq!(store.count_leads(Some("big")).unwrap(), u64::from(N), "{name}");
        assert_eq!(store.count_leads(Some("other")).unwrap(), 2, "{name}");
        let expected: Vec<i64> = (0..i64::from(N)).map(|i| ids[0] + i).collect();
        assert_eq!(ids, expected, "{name}: ids ascend without gaps");
        for &i in &[5, N as usize - 1] {
            let stored = store.lead(ids[i]).unwrap().unwrap();
            assert_eq!(stored.lead.title.as_deref(), Some("changed"), "{name}");
        }
        let stored = all_leads(store.as_ref(), None);
        assert_eq!(stored.len(), N as usize, "{name}");
        assert_eq!(stored[17].lead, leads[17], "{name}");

        // The next import's ids follow on, and it sees every stored lead.
        let mut tx = store.begin_import(1).unwrap();
        let mut seen = 0;
        tx.for_each_identity(&mut |_, _| seen += 1).unwrap();
        assert_eq!(seen, N, "{name}");
        let next = tx.insert(&email_lead("next@bulk.test"), None).unwrap();
        tx.commit().unwrap();
        assert_eq!(next, ids[N as usize - 1] + 1, "{name}");
    }
}

#[test]
fn a_first_large_import_may_change_thousands_of_its_own_leads() {
    // Into an empty table a bulk backend may build its keys after the load; changes
    // to the import's own leads must then still be seen, and stored, however many
    // (PostgreSQL keeps 4,096 waiting, then brings its primary key back early).
    const N: usize = 12_000;
    const CHANGED: usize = 5_000;
    for (name, mut store, _guard) in backends() {
        let leads: Vec<Lead> = (0..N).map(|n| email_lead(&format!("own{n}@bulk.test"))).collect();
        let mut tx = store.begin_import(1_000_000).unwrap();
        let mut ids: Vec<i64> = leads[..N / 2]
            .iter()
            .map(|l| tx.insert(l, None).unwrap())
            .collect();
        let change = |tx: &mut Box<dyn inroad_store::LeadImport + '_>, id: i64, title: &str| {
            let mut lead = tx.get(id).unwrap();
            lead.title = s(title);
            tx.update(id, &lead).unwrap();
            assert_eq!(tx.get(id).unwrap().title.as_deref(), Some(title), "{name}: {id}");
        };
        for &id in &ids[..CHANGED] {
            change(&mut tx, id, "first");
        }
        // Changed twice: the later change wins.
        for &id in &ids[..10] {
            change(&mut tx, id, "second");
        }
        ids.extend(leads[N / 2..].iter().map(|l| tx.insert(l, None).unwrap()));
        change(&mut tx, ids[N - 1], "last");
        tx.commit().unwrap();

        assert_eq!(store.count_leads(None).unwrap(), N as u64, "{name}");
        let stored = all_leads(store.as_ref(), None);
        let titles: Vec<Option<&str>> = stored.iter().map(|l| l.lead.title.as_deref()).collect();
        let mut want = vec![None; N];
        want[..CHANGED].fill(Some("first"));
        want[..10].fill(Some("second"));
        want[N - 1] = Some("last");
        assert_eq!(titles, want, "{name}");
        assert_eq!(stored[N / 2].lead.email, leads[N / 2].email, "{name}");

        // The keys are back: a duplicate email and a membership of no lead both fail
        // (at once or at commit).
        let failed = {
            let mut tx = store.begin_import(1).unwrap();
            tx.insert(&leads[0], None).is_err() || tx.commit().is_err()
        };
        assert!(failed, "{name}: the email is unique again");
        let failed = {
            let mut tx = store.begin_import(1).unwrap();
            tx.add_to_list("nobody", ids[N - 1] + 1_000).is_err() || tx.commit().is_err()
        };
        assert!(failed, "{name}: list members reference leads again");
        assert_eq!(store.count_leads(None).unwrap(), N as u64, "{name}");
    }
}

#[test]
fn updates_inside_an_import_are_committed() {
    for (name, mut store, _guard) in backends() {
        let ids = import(store.as_mut(), &[full_lead(1)], None);
        let mut tx = store.begin_import(1).unwrap();
        let mut lead = tx.get(ids[0]).unwrap();
        lead.title = s("CEO");
        lead.custom.insert("Extra".into(), "yes".into());
        tx.update(ids[0], &lead).unwrap();
        tx.commit().unwrap();
        let stored = all_leads(store.as_ref(), None);
        assert_eq!(stored.len(), 1, "{name}");
        assert_eq!(stored[0].lead, lead, "{name}");
    }
}

#[test]
fn for_each_identity_and_find_see_stored_leads() {
    for (name, mut store, _guard) in backends() {
        let plain = Lead {
            first_name: s("John"),
            last_name: s("Smith"),
            domain: s("acme.com"),
            ..Lead::default()
        };
        let ids = import(store.as_mut(), &[full_lead(1), plain.clone()], None);
        let mut tx = store.begin_import(1).unwrap();
        let mut seen = Vec::new();
        tx.for_each_identity(&mut |id, lead| {
            seen.push((
                id,
                lead.email.clone(),
                lead.linkedin_url.clone(),
                lead.first_name.clone(),
            ))
        })
        .unwrap();
        seen.sort();
        assert_eq!(
            seen,
            vec![
                (
                    ids[0],
                    full_lead(1).email,
                    full_lead(1).linkedin_url,
                    full_lead(1).first_name
                ),
                (ids[1], None, None, s("John")),
            ],
            "{name}"
        );
        let by_email = email_lead("person1@acme.co.uk");
        assert_eq!(
            tx.find(KeyKind::Email, &by_email).unwrap(),
            Some(ids[0]),
            "{name}"
        );
        assert_eq!(
            tx.find(KeyKind::Email, &email_lead("no@acme.co.uk")).unwrap(),
            None,
            "{name}"
        );
        let by_url = Lead {
            linkedin_url: full_lead(1).linkedin_url,
            ..Lead::default()
        };
        assert_eq!(
            tx.find(KeyKind::Linkedin, &by_url).unwrap(),
            Some(ids[0]),
            "{name}"
        );
        // The name key is case-insensitive (see inroad_core::identity::name_key).
        let shouting = Lead {
            first_name: s("JOHN"),
            last_name: s("smith"),
            domain: s("acme.com"),
            ..Lead::default()
        };
        assert_eq!(tx.find(KeyKind::Name, &shouting).unwrap(), Some(ids[1]), "{name}");
        let other_domain = Lead {
            domain: s("acme.org"),
            ..shouting
        };
        assert_eq!(tx.find(KeyKind::Name, &other_domain).unwrap(), None, "{name}");
    }
}

// Regression: the name key folds case beyond ASCII ("Émile Zoë" = "ÉMILE ZOË"), also
// on the store's exact-lookup path behind a dedup hash collision.
#[test]
fn find_by_name_folds_non_ascii_case() {
    for (name, mut store, _guard) in backends() {
        let lead = Lead {
            first_name: s("Émile"),
            last_name: s("Zoë"),
            domain: s("acme.fr"),
            ..Lead::default()
        };
        let ids = import(store.as_mut(), std::slice::from_ref(&lead), None);
        let mut tx = store.begin_import(1).unwrap();
        assert_eq!(
            tx.find(KeyKind::Name, &lead).unwrap(),
            Some(ids[0]),
            "{name}: the very same name"
        );
        let upper = Lead {
            first_name: s("ÉMILE"),
            last_name: s("ZOË"),
            ..lead.clone()
        };
        assert_eq!(
            tx.find(KeyKind::Name, &upper).unwrap(),
            Some(ids[0]),
            "{name}: other case"
        );
    }
}

#[test]
fn lists_membership_and_counts() {
    for expected in EXPECTED_ROWS {
        for (name, mut store, _guard) in backends() {
            let ctx = format!("{name}, expected_rows={expected}");
            assert!(!store.list_exists("a").unwrap(), "{ctx}");
            let ids = {
                let mut tx = store.begin_import(expected).unwrap();
                let ids: Vec<i64> = (0..5).map(|n| tx.insert(&full_lead(n), None).unwrap()).collect();
                for id in &ids[..3] {
                    tx.add_to_list("a", *id).unwrap();
                }
                for id in &ids[2..4] {
                    tx.add_to_list("b", *id).unwrap();
                    tx.add_to_list("b", *id).unwrap(); // idempotent
                }
                tx.commit().unwrap();
                ids
            };
            assert!(store.list_exists("a").unwrap(), "{ctx}");
            assert!(store.list_exists("b").unwrap(), "{ctx}");
            assert!(!store.list_exists("c").unwrap(), "{ctx}");
            assert!(!store.list_exists("A").unwrap(), "{ctx}: list names are exact");
            assert_eq!(store.count_leads(None).unwrap(), 5, "{ctx}");
            assert_eq!(store.count_leads(Some("a")).unwrap(), 3, "{ctx}");
            assert_eq!(store.count_leads(Some("b")).unwrap(), 2, "{ctx}");
            assert_eq!(store.count_leads(Some("c")).unwrap(), 0, "{ctx}");
            let on = |list| -> Vec<i64> {
                all_leads(store.as_ref(), Some(list))
                    .iter()
                    .map(|l| l.id)
                    .collect()
            };
            assert_eq!(on("a"), ids[..3].to_vec(), "{ctx}");
            assert_eq!(on("b"), ids[2..4].to_vec(), "{ctx}: a lead may be on many lists");
            assert!(on("c").is_empty(), "{ctx}");

            // A later import adds to an existing list.
            let mut tx = store.begin_import(1).unwrap();
            tx.add_to_list("b", ids[4]).unwrap();
            tx.add_to_list("b", ids[2]).unwrap();
            tx.commit().unwrap();
            assert_eq!(store.count_leads(Some("b")).unwrap(), 3, "{ctx}");
            assert_eq!(store.count_leads(Some("a")).unwrap(), 3, "{ctx}");
        }
    }
}

#[test]
fn keyset_paging_returns_every_lead_once_in_id_order() {
    for (name, mut store, _guard) in backends() {
        let leads: Vec<Lead> = (0..53).map(full_lead).collect();
        let ids = import(store.as_mut(), &leads, None);
        // Every third lead on a list, to page a list too.
        let mut tx = store.begin_import(1).unwrap();
        for id in ids.iter().step_by(3) {
            tx.add_to_list("thirds", *id).unwrap();
        }
        tx.commit().unwrap();

        for (list, want) in [
            (None, ids.clone()),
            (Some("thirds"), ids.iter().copied().step_by(3).collect::<Vec<_>>()),
        ] {
            for limit in [1, 7, 18, 53, 100] {
                let mut got = Vec::new();
                let mut after = 0;
                loop {
                    let page = store.leads(&LeadQuery { list, after, limit }).unwrap();
                    assert!(page.len() <= limit, "{name}: page larger than limit {limit}");
                    let Some(last) = page.last() else { break };
                    after = last.id;
                    got.extend(page.iter().map(|l| l.id));
                }
                assert_eq!(got, want, "{name}: list {list:?}, limit {limit}");
            }
        }
        // Leads come back in id order, and their content matches what was inserted.
        let all = all_leads(store.as_ref(), None);
        assert!(all.windows(2).all(|w| w[0].id < w[1].id), "{name}");
        let got: Vec<Lead> = all.into_iter().map(|l| l.lead).collect();
        assert_eq!(got, leads, "{name}");
        // A cursor past the end gives an empty page; limit 0 gives nothing.
        let last = *ids.last().unwrap();
        assert!(store
            .leads(&LeadQuery {
                list: None,
                after: last,
                limit: 10
            })
            .unwrap()
            .is_empty());
        assert!(store
            .leads(&LeadQuery {
                list: None,
                after: 0,
                limit: 0
            })
            .unwrap()
            .is_empty());
    }
}

#[test]
fn suppressions_add_check_remove() {
    for (name, mut store, _guard) in backends() {
        assert!(store.suppressions().unwrap().is_empty(), "{name}");
        let added = store
            .add_suppressions(&[
                suppression("a@x.com", Some("unsubscribed")),
                suppression("@y.com", None),
            ])
            .unwrap();
        assert_eq!(added, 2, "{name}");
        // Duplicates are not re-added (nor is their reason changed).
        let added = store
            .add_suppressions(&[
                suppression("a@x.com", Some("again")),
                suppression("b@z.com", Some("bounced")),
                suppression("b@z.com", Some("bounced twice in one call")),
            ])
            .unwrap();
        assert_eq!(added, 1, "{name}: only b@z.com is new");
        let list: BTreeSet<(String, Option<String>, String)> = store
            .suppressions()
            .unwrap()
            .into_iter()
            .map(|s| (s.value, s.reason, s.created_at))
            .collect();
        let at = "2024-05-01T10:00:00Z".to_owned();
        assert_eq!(
            list,
            BTreeSet::from([
                ("@y.com".to_owned(), None, at.clone()),
                ("a@x.com".to_owned(), s("unsubscribed"), at.clone()),
                ("b@z.com".to_owned(), s("bounced"), at.clone()),
            ]),
            "{name}"
        );

        assert!(store.is_suppressed("a@x.com").unwrap(), "{name}: the address");
        assert!(
            !store.is_suppressed("c@x.com").unwrap(),
            "{name}: only that address at x.com"
        );
        assert!(
            store.is_suppressed("anyone@y.com").unwrap(),
            "{name}: the whole @domain"
        );
        assert!(
            !store.is_suppressed("anyone@sub.y.com").unwrap(),
            "{name}: not subdomains"
        );
        assert!(
            !store.is_suppressed("anyone@noty.com").unwrap(),
            "{name}: not suffixes"
        );
        assert!(!store.is_suppressed("nobody@else.com").unwrap(), "{name}");

        let removed = store
            .remove_suppressions(&["a@x.com".to_owned(), "never@listed.com".to_owned()])
            .unwrap();
        assert_eq!(removed, 1, "{name}");
        assert!(!store.is_suppressed("a@x.com").unwrap(), "{name}");
        assert_eq!(
            store.remove_suppressions(&["@y.com".to_owned()]).unwrap(),
            1,
            "{name}"
        );
        assert!(!store.is_suppressed("anyone@y.com").unwrap(), "{name}");
        assert_eq!(store.suppressions().unwrap().len(), 1, "{name}: b@z.com is left");
        assert_eq!(store.add_suppressions(&[]).unwrap(), 0, "{name}");
        assert_eq!(store.remove_suppressions(&[]).unwrap(), 0, "{name}");
    }
}

#[test]
fn leads_flag_suppressed_addresses_and_domains() {
    for (name, mut store, _guard) in backends() {
        let leads = [
            email_lead("a@x.com"),
            email_lead("b@y.com"),
            email_lead("c@z.com"),
            email_lead("a2@x.com"),
            Lead {
                linkedin_url: s("https://www.linkedin.com/in/no-email"),
                ..Lead::default()
            },
        ];
        import(store.as_mut(), &leads, Some("all"));
        store
            .add_suppressions(&[suppression("a@x.com", None), suppression("@y.com", None)])
            .unwrap();
        let flags = |store: &dyn Store, list| -> Vec<bool> {
            all_leads(store, list).iter().map(|l| l.suppressed).collect()
        };
        assert_eq!(
            flags(store.as_ref(), None),
            [true, true, false, false, false],
            "{name}"
        );
        assert_eq!(
            flags(store.as_ref(), Some("all")),
            [true, true, false, false, false],
            "{name}"
        );
        store.remove_suppressions(&["@y.com".to_owned()]).unwrap();
        store.add_suppressions(&[suppression("@z.com", None)]).unwrap();
        assert_eq!(
            flags(store.as_ref(), None),
            [true, false, true, false, false],
            "{name}"
        );
    }
}

#[test]
fn suppression_outlives_leads() {
    for (name, mut store, _guard) in backends() {
        // Suppressing addresses no lead has is fine: there is no foreign key.
        let added = store
            .add_suppressions(&[
                suppression("later@x.com", Some("objected")),
                suppression("@gone.com", None),
            ])
            .unwrap();
        assert_eq!(added, 2, "{name}");
        // An import that is rolled back takes no suppression with it.
        {
            let mut tx = store.begin_import(1).unwrap();
            tx.insert(&email_lead("later@x.com"), None).unwrap();
        }
        assert_eq!(store.suppressions().unwrap().len(), 2, "{name}");
        // A lead imported after the suppression is flagged.
        import(
            store.as_mut(),
            &[email_lead("later@x.com"), email_lead("x@gone.com")],
            None,
        );
        assert!(
            all_leads(store.as_ref(), None).iter().all(|l| l.suppressed),
            "{name}"
        );
        assert!(store.is_suppressed("later@x.com").unwrap(), "{name}");
    }
}

#[test]
fn suppressions_persist_across_reopen() {
    for (name, url, _guard) in fresh_databases() {
        {
            let mut store = inroad_store::open(&url).unwrap();
            store
                .add_suppressions(&[suppression("a@x.com", Some("r"))])
                .unwrap();
            import(store.as_mut(), &[full_lead(1)], Some("l"));
        }
        let store = inroad_store::open(&url).unwrap();
        assert!(store.is_suppressed("a@x.com").unwrap(), "{name}");
        assert_eq!(store.count_leads(Some("l")).unwrap(), 1, "{name}");
        assert_eq!(all_leads(store.as_ref(), None)[0].lead, full_lead(1), "{name}");
    }
}

fn check(email: &str, status: EmailStatus, checked_at: i64) -> EmailCheck {
    EmailCheck {
        email: email.to_owned(),
        status,
        reason: "because".into(),
        mx: s("mx.acme.com"),
        smtp_code: Some(250),
        enhanced_code: s("2.1.5"),
        catch_all: Some(false),
        disposable: false,
        role: true,
        free: false,
        confidence: 0.97,
        checked_at,
    }
}

#[test]
fn email_checks_are_reused_until_stale_and_mark_leads() {
    for (name, mut store, _guard) in backends() {
        let lead = Lead {
            email: s("ann@acme.com"),
            ..Lead::default()
        };
        import(store.as_mut(), std::slice::from_ref(&lead), None);
        let saved = check("ann@acme.com", EmailStatus::Deliverable, 1_000);
        store.save_email_checks(std::slice::from_ref(&saved)).unwrap();
        assert_eq!(
            store.email_check("ann@acme.com", 1_000).unwrap(),
            Some(saved.clone()),
            "{name}"
        );
        assert_eq!(
            store.email_check("ann@acme.com", 1_001).unwrap(),
            None,
            "{name}: stale"
        );
        let newer = check("ann@acme.com", EmailStatus::Risky, 2_000);
        store.save_email_checks(std::slice::from_ref(&newer)).unwrap();
        assert_eq!(
            store.email_check("ann@acme.com", 0).unwrap(),
            Some(newer),
            "{name}: replaced"
        );
        let listed = store
            .leads(&LeadQuery {
                list: None,
                after: 0,
                limit: 10,
            })
            .unwrap();
        assert_eq!(listed[0].email_status, Some(EmailStatus::Risky), "{name}");
        assert_eq!(listed[0].email_source, Some("imported"), "{name}");
    }
}

#[test]
fn domain_catch_all_is_tri_state_with_freshness() {
    for (name, mut store, _guard) in backends() {
        assert_eq!(store.domain_catch_all("acme.com", 0).unwrap(), None, "{name}");
        store.save_domain_catch_all("acme.com", Some(true), 100).unwrap();
        store.save_domain_catch_all("unknown.com", None, 100).unwrap();
        assert_eq!(
            store.domain_catch_all("acme.com", 50).unwrap(),
            Some(Some(true)),
            "{name}"
        );
        assert_eq!(
            store.domain_catch_all("unknown.com", 50).unwrap(),
            Some(None),
            "{name}"
        );
        assert_eq!(
            store.domain_catch_all("acme.com", 101).unwrap(),
            None,
            "{name}: stale"
        );
    }
}

#[test]
fn found_email_only_fills_an_empty_email_nobody_else_holds() {
    for (name, mut store, _guard) in backends() {
        let leads = [
            Lead {
                first_name: s("Ann"),
                last_name: s("Lee"),
                domain: s("acme.com"),
                ..Lead::default()
            },
            Lead {
                email: s("bob@acme.com"),
                ..Lead::default()
            },
        ];
        let ids = import(store.as_mut(), &leads, None);
        assert!(
            !store
                .set_found_email(ids[0], "bob@acme.com", EmailStatus::Deliverable)
                .unwrap(),
            "{name}"
        );
        assert!(
            store
                .set_found_email(ids[0], "ann.lee@acme.com", EmailStatus::Deliverable)
                .unwrap(),
            "{name}"
        );
        assert!(
            !store
                .set_found_email(ids[0], "ann@acme.com", EmailStatus::Risky)
                .unwrap(),
            "{name}: has one"
        );
        let listed = store
            .leads(&LeadQuery {
                list: None,
                after: 0,
                limit: 10,
            })
            .unwrap();
        assert_eq!(
            listed[0].lead.email.as_deref(),
            Some("ann.lee@acme.com"),
            "{name}"
        );
        assert_eq!(listed[0].email_source, Some("found"), "{name}");
        assert_eq!(listed[0].email_status, Some(EmailStatus::Deliverable), "{name}");
    }
}

#[test]
fn mailboxes_round_trip_and_names_are_unique() {
    for (name, mut store, _guard) in backends() {
        let mailbox = Mailbox {
            id: 0,
            name: "primary".into(),
            from_name: s("Ann Lee"),
            from_address: "ann@acme.com".into(),
            smtp_host: "smtp.acme.com".into(),
            smtp_port: 587,
            smtp_tls: "starttls".into(),
            smtp_user: s("ann@acme.com"),
            password_env: s("ACME_SMTP_PASSWORD"),
            sealed_secret: None,
            daily_cap: 40,
            warmup: Some((15, 2)),
            gap_secs: (60, 180),
            timezone: "Europe/Berlin".into(),
            dkim_selector: s("s1"),
            dkim_key_file: s("/etc/inroad/s1.pem"),
            dkim_domain: s("acme.com"),
            imap_host: s("imap.acme.com"),
            imap_port: Some(993),
            imap_tls: s("tls"),
            imap_user: s("ann@acme.com"),
            imap_junk_folder: s("Junk"),
            paused_reason: None,
        };
        let id = store.add_mailbox(&mailbox).unwrap();
        assert_eq!(
            store.mailboxes().unwrap(),
            vec![Mailbox {
                id,
                ..mailbox.clone()
            }],
            "{name}"
        );
        let again = store.add_mailbox(&mailbox).unwrap_err().to_string();
        assert!(again.contains("exists"), "{name}: {again}");
    }
}

#[test]
fn a_mailbox_password_comes_from_one_source_at_a_time() {
    for (name, mut store, _guard) in backends() {
        let mut mailbox = campaign_mailbox();
        mailbox.sealed_secret = s("v1:c2VhbGVk");
        store.add_mailbox(&mailbox).unwrap();
        let first = store.mailboxes().unwrap().remove(0);
        assert_eq!(
            (first.password_env.as_deref(), first.sealed_secret.as_deref()),
            (None, Some("v1:c2VhbGVk")),
            "{name}: the sealed secret round-trips"
        );

        assert!(store
            .set_mailbox_secret("m", Some("SMTP_PASSWORD"), None)
            .unwrap());
        let by_env = store.mailboxes().unwrap().remove(0);
        assert_eq!(
            (by_env.password_env.as_deref(), by_env.sealed_secret.as_deref()),
            (Some("SMTP_PASSWORD"), None),
            "{name}: naming a variable drops the stored secret"
        );

        assert!(store.set_mailbox_secret("m", None, Some("v1:bmV3")).unwrap());
        let sealed = store.mailboxes().unwrap().remove(0);
        assert_eq!(
            (sealed.password_env.as_deref(), sealed.sealed_secret.as_deref()),
            (None, Some("v1:bmV3")),
            "{name}: storing a secret forgets the variable"
        );
        assert!(
            !store.set_mailbox_secret("nope", None, None).unwrap(),
            "{name}: an unknown mailbox"
        );
    }
}

#[test]
fn campaigns_start_as_drafts_with_their_file() {
    for (name, mut store, _guard) in backends() {
        let id = store.create_campaign("q4", "name = \"q4\"\n").unwrap();
        let all = store.campaigns().unwrap();
        assert_eq!(
            (all[0].id, all[0].status.as_str(), all[0].spec.as_str()),
            (id, "draft", "name = \"q4\"\n")
        );
        assert!(
            store
                .create_campaign("q4", "")
                .unwrap_err()
                .to_string()
                .contains("exists"),
            "{name}"
        );
    }
}

#[test]
fn users_have_unique_names_and_take_their_sessions_with_them() {
    for (name, mut store, _guard) in backends() {
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
        let ann = store.add_user("ann", hash, 100).unwrap();
        store.add_user("bo", hash, 101).unwrap();
        let again = store.add_user("ann", hash, 102).unwrap_err().to_string();
        assert!(again.contains("exists"), "{name}: {again}");
        let names: Vec<_> = store.users().unwrap().into_iter().map(|u| u.name).collect();
        assert_eq!(names, ["ann", "bo"], "{name}");
        let found = store.user_by_name("ann").unwrap().unwrap();
        assert_eq!(
            (found.id, found.password_hash.as_str(), found.created_at),
            (ann, hash, 100),
            "{name}"
        );
        assert_eq!(
            store.user_by_name("Ann").unwrap(),
            None,
            "{name}: names are exact"
        );

        let session = NewSession {
            id_hash: [7; 32],
            user_id: ann,
            created_at: 1_000,
            expires_at: 5_000,
        };
        store.add_session(&session).unwrap();
        assert_eq!(
            store.session(&[7; 32]).unwrap(),
            Some(Session {
                user_id: ann,
                user_name: "ann".into(),
                created_at: 1_000,
                last_seen: 1_000,
                expires_at: 5_000,
            }),
            "{name}"
        );
        store.touch_session(&[7; 32], 1_500).unwrap();
        assert_eq!(
            store.session(&[7; 32]).unwrap().unwrap().last_seen,
            1_500,
            "{name}"
        );
        assert_eq!(store.session(&[8; 32]).unwrap(), None, "{name}");

        assert!(store.remove_user("ann").unwrap(), "{name}");
        assert!(!store.remove_user("ann").unwrap(), "{name}: already gone");
        assert_eq!(
            store.session(&[7; 32]).unwrap(),
            None,
            "{name}: the session ended with its user"
        );
    }
}

#[test]
fn sessions_end_on_logout_and_when_expired_or_idle() {
    for (name, mut store, _guard) in backends() {
        let user_id = store.add_user("ann", "$argon2id$x", 0).unwrap();
        let add = |store: &mut Box<dyn Store>, byte: u8, created_at: i64, expires_at: i64| {
            store
                .add_session(&NewSession {
                    id_hash: [byte; 32],
                    user_id,
                    created_at,
                    expires_at,
                })
                .unwrap();
        };
        add(&mut store, 1, 100, 10_000); // idle since 100
        add(&mut store, 2, 900, 1_000); // past its absolute expiry at 1_000
        add(&mut store, 3, 900, 10_000); // alive
        add(&mut store, 4, 900, 10_000); // logged out
        assert!(store.remove_session(&[4; 32]).unwrap(), "{name}");
        assert!(!store.remove_session(&[4; 32]).unwrap(), "{name}");
        assert_eq!(store.purge_sessions(1_000, 500).unwrap(), 2, "{name}");
        let left: Vec<_> = (1..=4)
            .filter(|&b| store.session(&[b; 32]).unwrap().is_some())
            .collect();
        assert_eq!(left, [3], "{name}");
    }
}

#[test]
fn api_tokens_are_found_by_hash_and_revoked_by_name() {
    for (name, mut store, _guard) in backends() {
        let id = store.add_api_token("ci", &[1; 32], 100).unwrap();
        store.add_api_token("backup", &[2; 32], 101).unwrap();
        let again = store.add_api_token("ci", &[3; 32], 102).unwrap_err().to_string();
        assert!(again.contains("exists"), "{name}: {again}");
        let names: Vec<_> = store.api_tokens().unwrap().into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["backup", "ci"], "{name}");

        let ci = store.api_token_by_hash(&[1; 32]).unwrap().unwrap();
        assert_eq!(
            (ci.id, ci.name.as_str(), ci.last_used),
            (id, "ci", None),
            "{name}"
        );
        store.touch_api_token(id, 150).unwrap();
        assert_eq!(
            store.api_token_by_hash(&[1; 32]).unwrap().unwrap().last_used,
            Some(150)
        );
        assert_eq!(store.api_token_by_hash(&[3; 32]).unwrap(), None, "{name}");

        assert!(store.revoke_api_token("ci").unwrap(), "{name}");
        assert!(!store.revoke_api_token("ci").unwrap(), "{name}");
        assert_eq!(
            store.api_token_by_hash(&[1; 32]).unwrap(),
            None,
            "{name}: revoked"
        );
        assert!(store.api_token_by_hash(&[2; 32]).unwrap().is_some(), "{name}");
    }
}

fn new_send(enrolment_id: i64, step: u32, mailbox_id: i64) -> NewSend {
    NewSend {
        enrolment_id,
        step,
        mailbox_id,
        message_id: format!("{enrolment_id}.{step}@acme.com"),
        recipient: "ann@globex.com".into(),
        planned_at: 1_000,
    }
}

/// A campaign with one mailbox and two enrolled leads; returns (campaign, mailbox, leads).
fn campaign_with_leads(store: &mut dyn Store) -> (i64, i64, Vec<i64>) {
    let leads = [
        Lead {
            email: s("ann@globex.com"),
            ..Lead::default()
        },
        Lead {
            email: s("bob@globex.com"),
            ..Lead::default()
        },
    ];
    let ids = import(store, &leads, None);
    let mailbox_id = store.add_mailbox(&campaign_mailbox()).unwrap();
    let campaign = store.create_campaign("c", "name = \"c\"").unwrap();
    assert_eq!(store.enroll(campaign, &ids, 1_000).unwrap(), 2);
    assert_eq!(
        store.enroll(campaign, &ids, 2_000).unwrap(),
        0,
        "enrolling again changes nothing"
    );
    (campaign, mailbox_id, ids)
}

/// A plain-text mailbox on localhost, without a password.
fn campaign_mailbox() -> Mailbox {
    Mailbox {
        id: 0,
        name: "m".into(),
        from_name: None,
        from_address: "m@acme.com".into(),
        smtp_host: "localhost".into(),
        smtp_port: 25,
        smtp_tls: "none".into(),
        smtp_user: None,
        password_env: None,
        sealed_secret: None,
        daily_cap: 30,
        warmup: None,
        gap_secs: (60, 60),
        timezone: "UTC".into(),
        dkim_selector: None,
        dkim_key_file: None,
        dkim_domain: None,
        imap_host: None,
        imap_port: None,
        imap_tls: None,
        imap_user: None,
        imap_junk_folder: None,
        paused_reason: None,
    }
}

#[test]
fn a_step_is_sent_at_most_once_and_interrupted_sends_are_in_doubt() {
    for (name, mut store, _guard) in backends() {
        let (campaign, mailbox, _) = campaign_with_leads(store.as_mut());
        let begin = |store: &mut dyn Store, enrolment| {
            let begun = store.begin_sends(&[new_send(enrolment, 0, mailbox)]).unwrap();
            begun[0]
        };
        let planned = |begun: Begun| match begun {
            Begun::Planned(id) => id,
            other => panic!("{name}: {other:?}"),
        };
        // Enrolment ids follow lead order here; the ledger only needs them to exist.
        let first = planned(begin(store.as_mut(), 1));
        assert_eq!(
            begin(store.as_mut(), 1),
            Begun::AlreadySent,
            "{name}: in progress"
        );
        // The conversation now belongs to the mailbox: another one (another worker's)
        // cannot plan it.
        let mut other = campaign_mailbox();
        other.name = "other".into();
        let other = store.add_mailbox(&other).unwrap();
        assert_eq!(
            store.begin_sends(&[new_send(1, 0, other)]).unwrap(),
            [Begun::Elsewhere],
            "{name}: another mailbox's conversation"
        );
        store.mark_sending(first, 1_000).unwrap();
        assert!(store.mark_sending(first, 1_000).is_err(), "{name}: DATA twice");
        store
            .finish_send(first, SendOutcome::Sent, Some("250 2.0.0 queued"), 1_001, None)
            .unwrap();
        assert_eq!(
            begin(store.as_mut(), 1),
            Begun::AlreadySent,
            "{name}: already sent"
        );
        assert!(
            store
                .finish_send(first, SendOutcome::Sent, None, 1_002, None)
                .is_err(),
            "{name}: closed twice"
        );

        // A temporary failure before DATA may be retried, as the same send.
        let second = planned(begin(store.as_mut(), 2));
        store
            .finish_send(
                second,
                SendOutcome::Failed,
                Some("451 4.3.0 try later"),
                1_003,
                None,
            )
            .unwrap();
        assert_eq!(begin(store.as_mut(), 2), Begun::Planned(second), "{name}: retry");

        // The worker dies before DATA: nothing can have gone, so the send is retried.
        // Only the mailboxes named are settled: another worker's are not touched.
        assert_eq!(
            store.mark_interrupted_sends(1_004, &[other]).unwrap(),
            0,
            "{name}"
        );
        assert_eq!(
            begin(store.as_mut(), 2),
            Begun::AlreadySent,
            "{name}: still planned"
        );
        assert_eq!(
            store.mark_interrupted_sends(1_004, &[mailbox]).unwrap(),
            0,
            "{name}"
        );
        assert_eq!(
            begin(store.as_mut(), 2),
            Begun::Planned(second),
            "{name}: planned, retried"
        );

        // The worker dies after DATA began: the send is in doubt, never retried.
        store.mark_sending(second, 1_005).unwrap();
        assert_eq!(
            store.mark_interrupted_sends(1_006, &[other]).unwrap(),
            0,
            "{name}"
        );
        assert_eq!(
            store.mark_interrupted_sends(1_006, &[mailbox]).unwrap(),
            1,
            "{name}"
        );
        assert_eq!(
            begin(store.as_mut(), 2),
            Begun::AlreadySent,
            "{name}: in doubt stays"
        );
        let counts = store.campaign_counts(campaign).unwrap();
        assert_eq!(counts.sends.get("sent"), Some(&1), "{name}");
        assert_eq!(counts.sends.get("in_doubt"), Some(&1), "{name}");
        assert_eq!(counts.enrolments.get("active"), Some(&2), "{name}");
    }
}

#[test]
fn workers_share_mailboxes_by_lease_and_take_over_expired_ones() {
    for (name, url, _guard) in fresh_databases() {
        let mut a = inroad_store::open(&url).unwrap();
        let mut b = inroad_store::open(&url).unwrap();
        for i in 0..5 {
            let mut m = campaign_mailbox();
            m.name = format!("m{i}");
            a.add_mailbox(&m).unwrap();
        }
        let kind = LeaseKind::Mailbox;
        // Alone, a worker takes everything; a second one gets its share once the
        // first gives up what is above its own (ceil(5 / 2) = 3).
        assert_eq!(a.claim_leases(kind, "a", 60).unwrap().len(), 5, "{name}");
        assert!(b.claim_leases(kind, "b", 60).unwrap().is_empty(), "{name}");
        assert_eq!(a.claim_leases(kind, "a", 60).unwrap().len(), 3, "{name}");
        let held_b = b.claim_leases(kind, "b", 60).unwrap();
        assert_eq!(held_b.len(), 2, "{name}");
        let held_a = a.claim_leases(kind, "a", 60).unwrap();
        assert!(
            held_a.iter().all(|id| !held_b.contains(id)),
            "{name}: one owner each"
        );
        let owners: Vec<(i64, String)> = a
            .leases()
            .unwrap()
            .into_iter()
            .map(|l| (l.resource_id, l.owner))
            .collect();
        assert_eq!(owners.len(), 5, "{name}");

        // A lease of 0 seconds has expired at once, as a dead worker's has after its
        // lease time: the other worker takes one of a's over, up to its share (3)…
        a.renew_leases("a", 0).unwrap();
        let taken = b.claim_leases(kind, "b", 60).unwrap();
        assert_eq!(taken.len(), 3, "{name}");
        assert_eq!(
            taken.iter().filter(|id| held_a.contains(id)).count(),
            1,
            "{name}: one of a's taken over"
        );
        // …and a, back, keeps the two nobody took (still its own) and takes none of b's.
        let back = a.claim_leases(kind, "a", 60).unwrap();
        assert_eq!(back.len(), 2, "{name}");
        assert!(
            back.iter().all(|id| !taken.contains(id)),
            "{name}: one owner each"
        );
        assert_eq!(
            b.claim_leases(kind, "b", 60).unwrap(),
            taken,
            "{name}: live leases stay"
        );

        // A clean shutdown frees everything at once.
        b.release_leases("b").unwrap();
        assert!(a.leases().unwrap().iter().all(|l| l.owner == "a"), "{name}");
        assert_eq!(a.claim_leases(kind, "a", 60).unwrap().len(), 5, "{name}");
        assert!(
            a.claim_leases(LeaseKind::LinkedinAccount, "a", 60)
                .unwrap()
                .is_empty(),
            "{name}: no accounts to lease"
        );
    }
}

#[test]
fn workers_claiming_at_once_get_disjoint_fair_shares() {
    for (name, url, _guard) in fresh_databases() {
        let mut setup = inroad_store::open(&url).unwrap();
        for i in 0..20 {
            let mut m = campaign_mailbox();
            m.name = format!("m{i}");
            setup.add_mailbox(&m).unwrap();
        }
        // Four workers claim over and over at the same time, each on its connection:
        // no claim fails (no deadlock on PostgreSQL, no busy database on SQLite).
        let start = std::sync::Barrier::new(4);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|w| {
                    let (url, start) = (&url, &start);
                    scope.spawn(move || {
                        let worker = format!("w{w}");
                        let mut store = inroad_store::open(url).unwrap();
                        start.wait();
                        for _ in 0..15 {
                            store.claim_leases(LeaseKind::Mailbox, &worker, 60).unwrap();
                        }
                    })
                })
                .collect();
            for handle in handles {
                handle.join().unwrap();
            }
        });
        // Settled (a round for each to give up or take its share): 5 each, disjoint.
        let mut stores: Vec<_> = (0..4).map(|_| inroad_store::open(&url).unwrap()).collect();
        let mut last = Vec::new();
        for _ in 0..2 {
            last = stores
                .iter_mut()
                .enumerate()
                .map(|(w, store)| {
                    let held = store
                        .claim_leases(LeaseKind::Mailbox, &format!("w{w}"), 60)
                        .unwrap();
                    held.into_iter().collect::<BTreeSet<i64>>()
                })
                .collect();
        }
        let all: BTreeSet<i64> = last.iter().flatten().copied().collect();
        assert_eq!(all.len(), 20, "{name}: {last:?}");
        assert!(last.iter().all(|h| h.len() == 5), "{name}: {last:?}");
        let owners: BTreeMap<i64, String> = setup
            .leases()
            .unwrap()
            .into_iter()
            .map(|l| (l.resource_id, l.owner))
            .collect();
        for (w, held) in last.iter().enumerate() {
            for id in held {
                assert_eq!(owners[id], format!("w{w}"), "{name}: the table agrees");
            }
        }
    }
}

#[test]
fn active_in_another_campaign_is_known() {
    for (name, mut store, _guard) in backends() {
        let (campaign, _, leads) = campaign_with_leads(store.as_mut());
        let other = store.create_campaign("other", "name = \"other\"").unwrap();
        assert!(store.active_elsewhere(leads[0], other).unwrap(), "{name}");
        assert!(!store.active_elsewhere(leads[0], campaign).unwrap(), "{name}");
    }
}

#[test]
fn an_in_doubt_send_is_released_by_hand_as_delivered_or_to_send_again() {
    for (name, mut store, _guard) in backends() {
        let (campaign, mailbox, leads) = campaign_with_leads(store.as_mut());
        for enrolment in [1, 2] {
            let Begun::Planned(id) = store.begin_sends(&[new_send(enrolment, 0, mailbox)]).unwrap()[0] else {
                panic!("{name}: not planned");
            };
            store.mark_sending(id, 1_000).unwrap();
        }
        assert_eq!(
            store.mark_interrupted_sends(1_001, &[mailbox]).unwrap(),
            2,
            "{name}"
        );
        let listed = store
            .campaign_enrolments(campaign, Some("active"), 0, 10)
            .unwrap();
        assert_eq!(listed.len(), 2, "{name}");
        assert_eq!(listed[0].lead_id, leads[0], "{name}");

        // Delivered: the step counts as sent, and the next one is due when asked.
        let next_due = |step: u32| (step == 1).then_some(5_000);
        assert!(store
            .release_in_doubt(campaign, leads[0], true, &next_due, 2_000)
            .unwrap());
        assert!(
            !store
                .release_in_doubt(campaign, leads[0], true, &next_due, 2_000)
                .unwrap(),
            "{name}: released once"
        );
        // Not delivered: a failed attempt, due now, sent again as the same send.
        assert!(store
            .release_in_doubt(campaign, leads[1], false, &next_due, 2_000)
            .unwrap());
        let retried = store.begin_sends(&[new_send(2, 0, mailbox)]).unwrap()[0];
        assert!(matches!(retried, Begun::Planned(_)), "{name}: sent again");
        let counts = store.campaign_counts(campaign).unwrap();
        assert_eq!(counts.sends.get("sent"), Some(&1), "{name}");
        assert_eq!(counts.sends.get("in_doubt"), None, "{name}");
        store.set_campaign_status(campaign, "active").unwrap();
        let due: Vec<(u32, i64)> = store
            .due_enrolments(5_000, 10)
            .unwrap()
            .iter()
            .map(|d| (d.step, d.due))
            .collect();
        assert_eq!(due, [(0, 2_000), (1, 5_000)], "{name}");
    }
}

#[test]
fn linkedin_tasks_are_handed_out_once_and_close_with_their_enrolment_moving_on() {
    for (name, mut store, _guard) in backends() {
        let (campaign, _, leads) = campaign_with_leads(store.as_mut());
        store.set_campaign_status(campaign, "active").unwrap();
        let account = LinkedinAccount {
            id: 0,
            name: "anna".into(),
            plan: "free".into(),
            invitations_per_week: None,
            messages_per_week: Some(80),
            timezone: "UTC".into(),
            guard_resumed_at: None,
            inmail_credits: 0,
            created_at: 500,
        };
        let account_id = store.add_linkedin_account(&account).unwrap();
        assert!(
            store.add_linkedin_account(&account).is_err(),
            "{name}: names are unique"
        );
        let listed = store.linkedin_accounts().unwrap();
        assert_eq!(listed[0].messages_per_week, Some(80), "{name}");
        assert_eq!(listed[0].created_at, 500, "{name}");

        // Enrolments waiting on a LinkedIn step are due for a task.
        for enrolment in [1, 2] {
            store.await_linkedin(enrolment).unwrap();
        }
        let due = store.linkedin_due(1_000, 10).unwrap();
        assert_eq!(due.len(), 2, "{name}");
        store
            .assign_linkedin_account(due[0].enrolment_id, account_id)
            .unwrap();
        let task = LinkedinTask {
            id: 0,
            account_id,
            enrolment_id: due[0].enrolment_id,
            campaign_id: campaign,
            lead_id: leads[0],
            step: 0,
            kind: "connect".into(),
            note: Some("Hi".into()),
            subject: None,
            body: None,
            why_no_note: None,
            state: "open".into(),
            due: due[0].due,
            created_at: 1_000,
            done_at: None,
            accepted_at: None,
            declined: false,
        };
        let id = store.add_linkedin_task(&task).unwrap().expect("handed out");
        assert_eq!(
            store.add_linkedin_task(&task).unwrap(),
            None,
            "{name}: once per step"
        );
        assert_eq!(
            store.linkedin_due(1_000, 10).unwrap().len(),
            1,
            "{name}: has its task"
        );

        let advance = Advance {
            enrolment_id: due[0].enrolment_id,
            mailbox_id: 0,
            next_step: 1,
            next_due: Some(2_000),
            state: "linkedin",
        };
        assert!(store
            .finish_linkedin_task(id, "done", 1_100, Some(&advance))
            .unwrap());
        assert!(
            !store
                .finish_linkedin_task(id, "done", 1_200, Some(&advance))
                .unwrap(),
            "{name}"
        );
        store.set_invitation_outcome(id, Some(1_500), false).unwrap();
        let done = store.linkedin_task(id).unwrap().unwrap();
        assert_eq!(
            (done.state.as_str(), done.done_at, done.accepted_at),
            ("done", Some(1_100), Some(1_500))
        );
        assert_eq!(
            store.linkedin_connect_of_lead(leads[0]).unwrap().map(|t| t.id),
            Some(id)
        );
        assert_eq!(
            store.linkedin_tasks(account_id, 1_000).unwrap().len(),
            1,
            "{name}"
        );
        // The enrolment moved on to its next LinkedIn step, due later.
        assert!(store
            .linkedin_due(1_999, 10)
            .unwrap()
            .iter()
            .all(|d| d.enrolment_id != due[0].enrolment_id));
        assert!(
            store.linkedin_due(2_000, 10).unwrap().iter().any(|d| d.step == 1),
            "{name}"
        );

        assert_eq!(store.linkedin_withdrawn_at(leads[0]).unwrap(), None, "{name}");
        assert!(store.resume_linkedin_invitations("anna", 3_000).unwrap());
        assert!(!store.resume_linkedin_invitations("nobody", 3_000).unwrap());
        assert_eq!(
            store.linkedin_accounts().unwrap()[0].guard_resumed_at,
            Some(3_000)
        );
    }
}

#[test]
fn a_forecast_reads_every_sequence_and_the_last_hours_sends() {
    for (name, mut store, _guard) in backends() {
        let (campaign, mailbox, leads) = campaign_with_leads(store.as_mut());
        store
            .add_suppressions(&[suppression("bob@globex.com", None)])
            .unwrap();
        let rows = store.sequence_enrolments().unwrap();
        assert_eq!(rows.len(), 2, "{name}");
        let ann = &rows[0];
        assert_eq!((ann.campaign_id, ann.lead_id), (campaign, leads[0]), "{name}");
        assert_eq!(
            (ann.state.as_str(), ann.step, ann.due),
            ("active", 0, Some(1_000)),
            "{name}"
        );
        assert_eq!((ann.mailbox_id, ann.linkedin_account_id), (None, None), "{name}");
        assert_eq!(ann.email.as_deref(), Some("ann@globex.com"), "{name}");
        assert!(!ann.suppressed && rows[1].suppressed, "{name}: bob is suppressed");

        // Ann's first step goes out at 1,000 and she finishes: out of the sequence.
        let Begun::Planned(send) = store.begin_sends(&[new_send(1, 0, mailbox)]).unwrap()[0] else {
            panic!("{name}: the first send is planned");
        };
        store.mark_sending(send, 1_000).unwrap();
        let finished = inroad_store::Advance {
            enrolment_id: 1,
            mailbox_id: mailbox,
            next_step: 1,
            next_due: None,
            state: "finished",
        };
        store
            .finish_send(send, SendOutcome::Sent, Some("250"), 1_000, Some(&finished))
            .unwrap();
        let rows = store.sequence_enrolments().unwrap();
        assert_eq!(rows.len(), 1, "{name}");
        assert_eq!(rows[0].lead_id, leads[1], "{name}");
        // Each send of the last hour, with its recipient's domain.
        assert_eq!(
            store.recent_sends(1_000).unwrap(),
            [("globex.com".to_owned(), 1_000)],
            "{name}"
        );
        assert!(store.recent_sends(1_001).unwrap().is_empty(), "{name}");
    }
}

#[test]
fn the_dashboard_reads_windows_of_leads_with_filters() {
    for (name, mut store, _guard) in backends() {
        let store = store.as_mut();
        let emails: Vec<String> = (0..10).map(|i| format!("p{i}@acme{}.test", i % 2)).collect();
        let leads: Vec<Lead> = emails.iter().map(|e| email_lead(e)).collect();
        let ids = import(store, &leads[..6], Some("first"));
        import(store, &leads[6..], None);
        assert_eq!(store.max_lead_id().unwrap(), ids[0] + 9, "{name}");
        let all = inroad_store::LeadFilter::default();
        let window = store.lead_window(&all, ids[0] + 2, ids[0] + 5, 10).unwrap();
        assert_eq!(
            window.iter().map(|l| l.id).collect::<Vec<_>>(),
            vec![ids[2], ids[3], ids[4]],
            "{name}"
        );
        assert_eq!(
            store.lead_window(&all, ids[0], ids[0] + 10, 4).unwrap().len(),
            4,
            "{name}: limit"
        );
        let odd = inroad_store::LeadFilter {
            search: Some("P1".into()),
            ..Default::default()
        };
        assert_eq!(
            store.count_lead_window(&odd, 0, i64::MAX).unwrap(),
            1,
            "{name}: prefix, any case"
        );
        let literal = inroad_store::LeadFilter {
            search: Some("p_".into()),
            ..Default::default()
        };
        assert_eq!(
            store.count_lead_window(&literal, 0, i64::MAX).unwrap(),
            0,
            "{name}: _ is literal"
        );
        let listed = inroad_store::LeadFilter {
            list: Some("first".into()),
            email_status: Some("unchecked".into()),
            ..Default::default()
        };
        assert_eq!(
            store.count_lead_window(&listed, 0, i64::MAX).unwrap(),
            6,
            "{name}"
        );
        store
            .add_suppressions(&[Suppression {
                value: "@acme1.test".into(),
                reason: None,
                created_at: "2026-01-01T00:00:00Z".into(),
            }])
            .unwrap();
        let suppressed = inroad_store::LeadFilter {
            suppressed: Some(true),
            ..Default::default()
        };
        assert_eq!(
            store.count_lead_window(&suppressed, 0, i64::MAX).unwrap(),
            5,
            "{name}"
        );
        assert_eq!(
            store.suppression_page("ACME1", "", 10).unwrap().len(),
            1,
            "{name}"
        );
        assert!(
            store
                .suppression_page("acme1", "@acme1.test", 10)
                .unwrap()
                .is_empty(),
            "{name}"
        );
    }
}

#[test]
fn daily_activity_and_the_inbox_follow_the_events() {
    for (name, mut store, _guard) in backends() {
        let store = store.as_mut();
        let ids = import(store, &[email_lead("jo@acme.test")], None);
        let day = 20_000_i64;
        for (kind, at) in [
            ("reply", day * 86_400 + 5),
            ("bounce_hard", day * 86_400 + 9),
            ("auto_reply", day * 86_400),
        ] {
            store
                .add_event(&inroad_store::NewEvent {
                    lead_id: Some(ids[0]),
                    kind: kind.into(),
                    at,
                    ..inroad_store::NewEvent::default()
                })
                .unwrap();
        }
        let days = store.daily_activity(day - 1, day + 1).unwrap();
        assert_eq!(
            days,
            vec![inroad_store::DailyActivity {
                day,
                sent: 0,
                replies: 1,
                bounces: 1
            }],
            "{name}"
        );
        let inbox = store.inbox(i64::MAX, 10).unwrap();
        assert_eq!(inbox.len(), 1, "{name}: only the reply");
        assert_eq!(inbox[0].email.as_deref(), Some("jo@acme.test"), "{name}");
        assert!(
            store.mark_reply_handled(inbox[0].event_id, day * 86_400).unwrap(),
            "{name}"
        );
        assert!(
            !store.mark_reply_handled(inbox[0].event_id, day * 86_400).unwrap(),
            "{name}: once"
        );
        assert!(store.inbox(i64::MAX, 10).unwrap().is_empty(), "{name}");
        assert_eq!(
            store.attention_counts().unwrap(),
            inroad_store::AttentionCounts::default(),
            "{name}"
        );
        assert!(store.lead_sends(ids[0]).unwrap().is_empty(), "{name}");
        assert!(store.lead_linkedin_tasks(ids[0]).unwrap().is_empty(), "{name}");
    }
}

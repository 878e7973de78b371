//! The global suppression list: addresses and whole domains never to be contacted.

use std::path::Path;

use inroad_core::email::{normalize_email, normalize_host};
use inroad_store::{NewEvent, Store, Suppression};

use crate::{read_address_file, Error, Result};

/// Normalises `jo@Acme.com` or `@Acme.com` to the stored form, or says why not.
pub fn parse_entry(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if let Some(domain) = raw.strip_prefix('@') {
        return normalize_host(domain)
            .map(|d| format!("@{d}"))
            .ok_or_else(|| format!("{raw:?} is not a valid @domain"));
    }
    normalize_email(raw)
        .map_err(|why| format!("{raw:?} is not a valid address ({why}); write a domain as @example.com"))
}

fn entries(values: impl IntoIterator<Item = String>, reason: Option<&str>) -> Vec<Suppression> {
    let created_at = inroad_store::now();
    values
        .into_iter()
        .map(|value| Suppression {
            value,
            reason: reason.map(str::to_owned),
            created_at: created_at.clone(),
        })
        .collect()
}

/// Adds addresses and @domains; all are checked before any is stored. Returns how
/// many were new.
pub fn add(store: &mut dyn Store, raw: &[String], reason: Option<&str>) -> Result<usize> {
    let values = raw
        .iter()
        .map(|r| parse_entry(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::Usage)?;
    Ok(store.add_suppressions(&entries(values, reason))?)
}

/// Removes entries; returns how many were on the list.
pub fn remove(store: &mut dyn Store, raw: &[String]) -> Result<usize> {
    let values = raw
        .iter()
        .map(|r| parse_entry(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::Usage)?;
    Ok(store.remove_suppressions(&values)?)
}

/// Outcome of `suppress import`.
#[derive(Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SuppressImport {
    pub read: usize,
    pub added: usize,
}

/// Imports a file of addresses and @domains: one a line, or a CSV whose email
/// column (any alias) holds them. Nothing is stored if any value is invalid, so a
/// wrong file never half-applies.
pub fn import(store: &mut dyn Store, path: &Path, reason: Option<&str>) -> Result<SuppressImport> {
    let mut values = Vec::new();
    let mut report = SuppressImport::default();
    let mut invalid = Vec::new();
    for (line, cell) in read_address_file(path)? {
        report.read += 1;
        match parse_entry(&cell) {
            Ok(v) => values.push(v),
            Err(why) => invalid.push((line, why)),
        }
    }
    if let Some((line, why)) = invalid.first() {
        return Err(Error::Usage(format!(
            "{}:{line}: {why} ({} invalid value(s) in all; nothing was added)",
            path.display(),
            invalid.len()
        )));
    }
    report.added = store.add_suppressions(&entries(values, reason))?;
    Ok(report)
}

/// A recipient's one-click unsubscribe (RFC 8058) from a campaign's link: the address is
/// suppressed for every campaign, the lead's open enrolments stop as `unsubscribed`, and
/// its timeline records the request once. Repeating it changes nothing (providers retry
/// and people click twice). A lead that is gone or has no address is left alone: the
/// link outlives what it names, and the caller answers the same either way.
pub fn one_click_unsubscribe(store: &mut dyn Store, lead_id: i64, campaign_id: i64, at: i64) -> Result<()> {
    let Some(email) = store.lead(lead_id)?.and_then(|stored| stored.lead.email) else {
        return Ok(());
    };
    let reason = format!("unsubscribed via one-click link (campaign {campaign_id})");
    // The store has no transaction spanning these writes, so the one that keeps mail
    // from going out comes first: whatever fails after it, the worker's check before
    // each send already sees the address as suppressed.
    let first_time = store.add_suppressions(&entries([email], Some(&reason)))? > 0;
    let open = store.open_enrolments(lead_id)?;
    for (enrolment_id, _) in &open {
        store.park_enrolment(*enrolment_id, "unsubscribed", &reason)?;
    }
    if first_time {
        store.add_event(&NewEvent {
            lead_id: Some(lead_id),
            campaign_id: Some(campaign_id),
            enrolment_id: open.iter().find(|(_, c)| *c == campaign_id).map(|(e, _)| *e),
            kind: "unsubscribe".into(),
            detail: Some("one-click link".into()),
            at,
            ..NewEvent::default()
        })?;
    }
    Ok(())
}

//! The global suppression list: addresses and whole domains never to be contacted.

use std::path::Path;

use inroad_core::email::{normalize_email, normalize_host};
use inroad_store::{Store, Suppression};

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

//! How a lead is stored, the same in every backend: its LinkedIn URL as the profile's
//! slug, a full name that is just "first last" as NULL, no custom fields as NULL, and
//! instants as unix seconds. Kept in one place so both backends read back exactly
//! what the other would.

use std::collections::BTreeMap;

use inroad_core::normalize::LINKEDIN_PROFILE_PREFIX;
use inroad_core::Lead;

use crate::{Result, StoreError};

/// The stored slug of a lead's canonical profile URL.
pub(crate) fn slug(lead: &Lead) -> Option<&str> {
    let url = lead.linkedin_url.as_deref()?;
    Some(url.strip_prefix(LINKEDIN_PROFILE_PREFIX).unwrap_or(url))
}

pub(crate) fn url_from_slug(slug: String) -> String {
    let mut url = String::with_capacity(LINKEDIN_PROFILE_PREFIX.len() + slug.len());
    url.push_str(LINKEDIN_PROFILE_PREFIX);
    url.push_str(&slug);
    url
}

/// Custom fields as stored: NULL when there are none (most leads), else JSON.
pub(crate) fn custom_json(lead: &Lead) -> Option<String> {
    (!lead.custom.is_empty())
        .then(|| serde_json::to_string(&lead.custom).expect("a map of strings always serialises"))
}

/// Custom fields as read back from [`custom_json`]'s encoding.
pub(crate) fn custom_from_json(json: Option<String>) -> Result<BTreeMap<String, String>> {
    match json {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("custom fields {json:?}: {e}"))),
        None => Ok(BTreeMap::new()),
    }
}

/// The full name as stored: NULL when the first and last names make it.
pub(crate) fn stored_full_name(lead: &Lead) -> Option<&str> {
    if lead.full_name_is_derived() {
        None
    } else {
        lead.full_name.as_deref()
    }
}

/// Undoes [`stored_full_name`] on a lead read back.
pub(crate) fn restore_full_name(lead: &mut Lead) {
    if lead.full_name.is_none() {
        lead.full_name = lead.derived_full_name();
    }
}

pub(crate) fn unix_now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// `text` as a LIKE pattern matching itself literally (`\` is the escape character,
/// named by every query's `ESCAPE '\'`).
pub(crate) fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A LIKE pattern for values starting with `text` (the queries ignore case: SQLite's
/// LIKE does for ASCII, PostgreSQL's side uses ILIKE).
pub(crate) fn like_prefix(text: &str) -> String {
    format!("{}%", escape_like(text))
}

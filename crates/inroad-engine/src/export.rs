//! `inroad leads export`: canonical CSV that imports back as the same leads.

use std::collections::BTreeSet;
use std::io::Write;

use inroad_core::Field;
use inroad_store::{LeadQuery, Store, StoredLead};

use crate::{Error, Result};

const PAGE: usize = 5_000;

/// Calls `f` on every lead (optionally of one list) in id order, a page at a time.
pub fn for_each_lead(
    store: &dyn Store,
    list: Option<&str>,
    f: &mut dyn FnMut(&StoredLead) -> Result<()>,
) -> Result<()> {
    let mut after = 0;
    loop {
        let page = store.leads(&LeadQuery {
            list,
            after,
            limit: PAGE,
        })?;
        for lead in &page {
            f(lead)?;
        }
        match page.last() {
            Some(last) if page.len() == PAGE => after = last.id,
            _ => return Ok(()),
        }
    }
}

/// Fails with a helpful message when `list` names no list.
pub fn check_list(store: &dyn Store, list: Option<&str>) -> Result<()> {
    match list {
        Some(name) if !store.list_exists(name)? => Err(Error::Usage(format!(
            "there is no list named {name:?}; `inroad leads import FILE --list {name}` creates it"
        ))),
        _ => Ok(()),
    }
}

/// Writes the leads as CSV: the canonical fields, every custom field seen, `notes`
/// (which import reads back as notes), and `email_status`, `email_source` and
/// `suppressed` (state, which import ignores). Returns the number of leads written.
pub fn export_leads(store: &dyn Store, list: Option<&str>, out: &mut dyn Write) -> Result<u64> {
    check_list(store, list)?;
    // Custom columns are the union over the exported leads: one pass to find them.
    let mut custom = BTreeSet::new();
    for_each_lead(store, list, &mut |l| {
        custom.extend(l.lead.custom.keys().cloned());
        Ok(())
    })?;
    let custom: Vec<String> = custom
        .into_iter()
        .filter(|name| {
            Field::from_name(name).is_none()
                && !matches!(
                    name.as_str(),
                    "notes" | "email_status" | "email_source" | "suppressed"
                )
        })
        .collect();
    let mut writer = csv::Writer::from_writer(out);
    let write_error = |e: csv::Error| Error::Io(format!("cannot write the export: {e}"));
    let mut header: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
    header.extend(custom.iter().map(String::as_str));
    header.extend(["notes", "email_status", "email_source", "suppressed"]);
    writer.write_record(&header).map_err(write_error)?;
    let mut written = 0;
    for_each_lead(store, list, &mut |l| {
        let mut record: Vec<&str> = Field::ALL.iter().map(|f| l.lead.get(*f).unwrap_or("")).collect();
        record.extend(
            custom
                .iter()
                .map(|name| l.lead.custom.get(name).map_or("", String::as_str)),
        );
        record.push(l.notes.as_deref().unwrap_or(""));
        record.push(l.email_status.map_or("", |s| s.as_str()));
        record.push(l.email_source.unwrap_or(""));
        record.push(if l.suppressed { "true" } else { "false" });
        writer.write_record(&record).map_err(write_error)?;
        written += 1;
        Ok(())
    })?;
    writer
        .flush()
        .map_err(|e| Error::Io(format!("cannot write the export: {e}")))?;
    Ok(written)
}

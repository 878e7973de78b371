//! `inroad suppress …`

use inroad_engine::suppress;
use serde_json::json;

use crate::cli::SuppressCommand;
use crate::print_json;

pub fn run(db: &str, cmd: SuppressCommand) -> anyhow::Result<()> {
    let mut store = inroad_store::open(db)?;
    match cmd {
        SuppressCommand::Add { entries, reason } => {
            let added = suppress::add(store.as_mut(), &entries, reason.as_deref())?;
            eprintln!("{added} added, {} already suppressed", entries.len() - added);
        }
        SuppressCommand::Import { file, reason, json } => {
            let report = suppress::import(store.as_mut(), &file, reason.as_deref())?;
            if json {
                print_json(&report)?;
            } else {
                eprintln!(
                    "{} read, {} added, {} already suppressed",
                    report.read,
                    report.added,
                    report.read - report.added
                );
            }
        }
        SuppressCommand::List { json } => {
            let entries = store.suppressions()?;
            if json {
                let entries: Vec<_> = entries
                    .iter()
                    .map(|e| json!({"value": e.value, "reason": e.reason, "created_at": e.created_at}))
                    .collect();
                print_json(&json!({ "total": entries.len(), "suppressions": entries }))?;
            } else {
                for e in &entries {
                    println!(
                        "{}\t{}\t{}",
                        e.value,
                        e.created_at,
                        e.reason.as_deref().unwrap_or("")
                    );
                }
                eprintln!("{} suppressed address(es) and domain(s)", entries.len());
            }
        }
        SuppressCommand::Remove { entries } => {
            let removed = suppress::remove(store.as_mut(), &entries)?;
            eprintln!(
                "{removed} removed, {} were not on the list",
                entries.len() - removed
            );
        }
    }
    Ok(())
}

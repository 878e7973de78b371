//! `inroad leads …`

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use inroad_engine::export::{check_list, export_leads};
use inroad_engine::import::{import_leads, ImportOptions, ImportReport};
use inroad_store::{LeadQuery, Store, StoredLead};
use serde_json::{json, Map, Value};

use crate::cli::LeadsCommand;
use crate::print_json;

pub fn run(db: &str, cmd: LeadsCommand) -> anyhow::Result<()> {
    if let LeadsCommand::Import { file, .. } = &cmd {
        // Before the database is opened (and perhaps created) for nothing.
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    }
    let mut store = inroad_store::open(db)?;
    match cmd {
        LeadsCommand::Import {
            file,
            list,
            map,
            dry_run,
            json,
        } => {
            let options = ImportOptions {
                list,
                overrides: map,
                dry_run,
            };
            let report = import_with_progress(store.as_mut(), &file, &options)?;
            if json {
                print_json(&report)
            } else {
                eprintln!("{}", summary(&report));
                Ok(())
            }
        }
        LeadsCommand::List { list, limit, json } => list_leads(store.as_ref(), list.as_deref(), limit, json),
        LeadsCommand::Export { list, output } => {
            let written = match &output {
                Some(path) => {
                    let mut file = std::fs::File::create(path)
                        .with_context(|| format!("cannot create {}", path.display()))?;
                    let n = export_leads(store.as_ref(), list.as_deref(), &mut file)?;
                    file.sync_all()
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    n
                }
                None => export_leads(store.as_ref(), list.as_deref(), &mut std::io::stdout().lock())?,
            };
            eprintln!("exported {written} lead(s)");
            Ok(())
        }
    }
}

/// Runs an import with a progress bar on stderr when it is a terminal.
pub fn import_with_progress(
    store: &mut dyn Store,
    file: &Path,
    options: &ImportOptions,
) -> anyhow::Result<ImportReport> {
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{spinner} importing [{bar:40}] {bytes}/{total_bytes} ({eta} left)")
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let report = import_leads(store, file, options, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    Ok(report?)
}

fn summary(r: &ImportReport) -> String {
    let mut s = format!(
        "{}{} row(s): {} imported, {} duplicate(s) ({} updated), {} rejected",
        if r.dry_run {
            "dry run, nothing saved — "
        } else {
            ""
        },
        r.rows,
        r.imported,
        r.duplicates,
        r.updated,
        r.rejected
    );
    if r.values_dropped > 0 {
        s.push_str(&format!(
            "; {} lead(s) kept without an invalid value (see their notes)",
            r.values_dropped
        ));
    }
    if let Some(path) = &r.rejects_file {
        s.push_str(&format!(
            "\nrejected rows, with line numbers and reasons: {}",
            path.display()
        ));
    }
    s
}

/// A lead as JSON: canonical fields, custom fields, notes and the suppression flag.
pub fn lead_json(l: &StoredLead) -> Value {
    let mut object = Map::new();
    object.insert("id".into(), json!(l.id));
    for field in inroad_core::Field::ALL {
        object.insert(field.name().into(), json!(l.lead.get(field)));
    }
    object.insert("custom".into(), json!(l.lead.custom));
    object.insert("notes".into(), json!(l.notes));
    object.insert("created_at".into(), json!(l.created_at));
    object.insert("suppressed".into(), json!(l.suppressed));
    Value::Object(object)
}

fn list_leads(store: &dyn Store, list: Option<&str>, limit: usize, json: bool) -> anyhow::Result<()> {
    check_list(store, list)?;
    let total = store.count_leads(list)?;
    let leads = store.leads(&LeadQuery {
        list,
        after: 0,
        limit,
    })?;
    if json {
        let leads: Vec<Value> = leads.iter().map(lead_json).collect();
        return print_json(&json!({ "total": total, "leads": leads }));
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:>7}  {:<26} {:<34} {:<24} FLAGS",
        "ID", "NAME", "EMAIL", "COMPANY"
    )?;
    for l in &leads {
        let lead = &l.lead;
        writeln!(
            out,
            "{:>7}  {:<26} {:<34} {:<24} {}",
            l.id,
            clip(lead.full_name.as_deref().unwrap_or("")),
            clip(lead.email.as_deref().unwrap_or("-")),
            clip(lead.company.as_deref().or(lead.domain.as_deref()).unwrap_or("")),
            if l.suppressed { "SUPPRESSED" } else { "" }
        )?;
    }
    eprintln!("showing {} of {total} lead(s)", leads.len());
    Ok(())
}

/// Cuts a cell to a column's width, on a character boundary.
fn clip(s: &str) -> String {
    const WIDTH: usize = 24;
    if s.chars().count() <= WIDTH {
        s.to_owned()
    } else {
        let mut cut: String = s.chars().take(WIDTH - 1).collect();
        cut.push('…');
        cut
    }
}

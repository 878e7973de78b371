//! Inroad's use cases, wiring the pure rules of `inroad-core` to a `dyn Store`:
//! lead import and export, the suppression list, campaigns and the worker, LinkedIn's
//! task list, the forecast, mailboxes with their sealed secrets, and the dashboard's
//! users, sessions and tokens.
//!
//! Each use case takes the store and plain options and returns a report struct; the
//! CLI (and later the web server) only formats those reports.

pub mod auth;
pub mod browse;
pub mod campaign;
pub mod dashboard;
pub mod export;
pub mod find;
pub mod forecast;
pub mod import;
pub mod inbox;
pub mod linkedin;
pub mod mailbox;
pub mod secrets;
mod sniff;
pub mod stats;
pub mod suppress;
pub mod verify;
pub mod worker;

/// A failure the user can act on, or one from the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: the message says what is wrong and what to do.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Store(#[from] inroad_store::StoreError),
    #[error("{0}")]
    Io(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An I/O error with the path and the action that failed, in one line.
pub(crate) fn io_error(action: &str, path: &std::path::Path, e: std::io::Error) -> Error {
    Error::Io(format!("cannot {action} {}: {e}", path.display()))
}

/// The values of an address file, with their line numbers: one value a line, or a
/// CSV whose email column (any alias of it in the header) holds them. Blank lines
/// and lines starting with `#` are skipped.
pub fn read_address_file(path: &std::path::Path) -> Result<Vec<(u64, String)>> {
    use inroad_core::headers::field_for_header;
    use inroad_core::Field;

    let file = std::fs::File::open(path).map_err(|e| io_error("open", path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(file);
    let mut column = 0;
    let mut values = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
        let line = record.position().map_or(0, |p| p.line());
        if i == 0 {
            if let Some(c) = record
                .iter()
                .position(|h| field_for_header(h) == Some(Field::Email))
            {
                column = c;
                continue; // a header row
            }
        }
        match record.get(column).map(str::trim) {
            Some(cell) if !cell.is_empty() && !cell.starts_with('#') => values.push((line, cell.to_owned())),
            _ => {}
        }
    }
    Ok(values)
}

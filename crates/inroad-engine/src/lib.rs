//! Inroad's use cases, wiring the pure rules of `inroad-core` to a `dyn Store`:
//! lead import and export, and the suppression list.
//!
//! Each use case takes the store and plain options and returns a report struct; the
//! CLI (and later the web server) only formats those reports.

pub mod export;
pub mod import;
mod sniff;
pub mod suppress;

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

//! Inroad's protocol adapters: DNS lookups of mail hosts and SMTP recipient probing.
//!
//! Parsing and classifying what servers say is pure and lives in `inroad-core`
//! (`smtp`); this crate only moves bytes, keeps sessions and enforces limits, so
//! the rules can be tested without sockets and the I/O with real servers.

pub mod dns;
pub mod imap;
pub mod message;
pub mod probe;
pub mod smtp;

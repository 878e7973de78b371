//! Inroad's pure domain: what a lead is, how raw export rows become clean leads,
//! how leads are recognised as the same person, what mail servers' replies mean,
//! how work addresses are guessed from names, what a check's verdict is, and what an
//! inbound message (bounce, auto-reply, opt-out, person's reply) is, and how LinkedIn's
//! limits (rolling weekly budgets, the daily pace, notes, InMail credits) are kept.
//!
//! Nothing here does I/O or knows about a database, so every rule can be tested (and
//! fuzzed) on plain values, and the same rules serve every store backend.

pub mod campaign;
pub mod domain_auth;
pub mod email;
#[cfg(test)]
mod equivalence;
pub mod finder;
pub mod flags;
pub mod headers;
pub mod identity;
pub mod inbound;
pub mod lead;
pub mod linkedin;
pub mod normalize;
pub mod planner;
pub mod row;
pub mod schedule;
pub mod smtp;
pub mod template;
pub mod unsubscribe;
pub mod verdict;

pub use lead::{Field, Lead};

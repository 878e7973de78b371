//! Inroad's pure domain: what a lead is, how raw export rows become clean leads,
//! how leads are recognised as the same person, what mail servers' replies mean,
//! how work addresses are guessed from names, what a check's verdict is, and what an
//! inbound message (bounce, auto-reply, opt-out, person's reply) is, and how LinkedIn's
//! limits (rolling weekly budgets, the daily pace, notes, InMail credits) are kept.
//!
//! Nothing here does I/O or knows about a database, so every rule can be tested (and
//! fuzzed) on plain values, and the same rules serve every store backend.

/// A table of the 256 byte values' classes, built at compile time: each byte's class
/// as the arms give it, 0 for any other. Scanners that branch on a byte's kind
/// mispredict wherever the kinds fall; a lookup in such a table does not.
macro_rules! byte_classes {
    ($($bytes:pat => $class:expr),+ $(,)?) => {{
        let mut classes = [0u8; 256];
        let mut byte = 0;
        while byte < 256 {
            classes[byte] = match byte as u8 {
                $($bytes => $class,)+
                _ => 0,
            };
            byte += 1;
        }
        classes
    }};
}

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

//! From what DNS and the mail host said to a verdict on an address.
//!
//! The statuses follow what users of verifiers expect: `deliverable` only when a
//! mail host accepted the RCPT and is known not to accept everything;
//! `undeliverable` only on a definite answer (no such domain, null MX, no such
//! user, disabled); `risky` when mail would probably be accepted but nobody can
//! tell if a person reads it (catch-all, full mailbox, disposable domain);
//! `unknown` when the question could not be answered (policy blocks, timeouts,
//! greylisting that outlasted the run). A policy block says nothing about the
//! mailbox, so it is never `undeliverable`.

use std::fmt;

use crate::smtp::{RcptOutcome, Reply};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EmailStatus {
    Deliverable,
    Undeliverable,
    Risky,
    Unknown,
    /// Inferred by the finder without any check (`find --no-verify`).
    Unverified,
}

impl EmailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailStatus::Deliverable => "deliverable",
            EmailStatus::Undeliverable => "undeliverable",
            EmailStatus::Risky => "risky",
            EmailStatus::Unknown => "unknown",
            EmailStatus::Unverified => "unverified",
        }
    }

    pub fn parse(s: &str) -> Option<EmailStatus> {
        [
            EmailStatus::Deliverable,
            EmailStatus::Undeliverable,
            EmailStatus::Risky,
            EmailStatus::Unknown,
            EmailStatus::Unverified,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }
}

impl fmt::Display for EmailStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What DNS said about the domain's mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailRoute {
    Hosts,
    NoSuchDomain,
    NullMx,
    NoMailHost,
    LookupFailed,
}

/// What became of the RCPT, as far as a verdict cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RcptResult {
    Replied(RcptOutcome),
    /// No answer was had: the text says why (connection refused, timeout, deadline).
    NoAnswer(String),
}

/// A verdict with its reason and the estimated chance that mail to the address
/// reaches a mailbox (0–1).
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub status: EmailStatus,
    pub reason: String,
    pub confidence: f64,
}

fn verdict(status: EmailStatus, reason: impl Into<String>, confidence: f64) -> Verdict {
    Verdict {
        status,
        reason: reason.into(),
        confidence,
    }
}

/// The verdict for an address whose domain routed as `route` and whose RCPT
/// ended as `rcpt` (when probed); `catch_all` is the domain's tri-state.
pub fn judge(
    route: MailRoute,
    rcpt: Option<&RcptResult>,
    catch_all: Option<bool>,
    disposable: bool,
) -> Verdict {
    use EmailStatus::*;
    match route {
        MailRoute::NoSuchDomain => return verdict(Undeliverable, "the domain does not exist", 0.0),
        MailRoute::NullMx => return verdict(Undeliverable, "the domain accepts no mail (null MX)", 0.0),
        MailRoute::NoMailHost => return verdict(Undeliverable, "the domain has no mail server", 0.0),
        MailRoute::LookupFailed => return verdict(Unknown, "the DNS lookup failed", 0.5),
        MailRoute::Hosts => {}
    }
    let Some(rcpt) = rcpt else {
        return verdict(Unknown, "not probed", 0.5);
    };
    let outcome = match rcpt {
        RcptResult::NoAnswer(why) => return verdict(Unknown, why.clone(), 0.5),
        RcptResult::Replied(outcome) => *outcome,
    };
    match outcome {
        RcptOutcome::Accepted => match catch_all {
            _ if disposable => verdict(Risky, "disposable email domain", 0.6),
            Some(false) => verdict(Deliverable, "the mail server accepted the recipient", 0.97),
            Some(true) => verdict(Risky, "the domain accepts any address (catch-all)", 0.5),
            None => verdict(
                Risky,
                "accepted, but whether the domain accepts any address is unknown",
                0.6,
            ),
        },
        RcptOutcome::NoSuchUser => verdict(Undeliverable, "no such mailbox", 0.01),
        RcptOutcome::Disabled => verdict(Undeliverable, "the mailbox is disabled", 0.01),
        RcptOutcome::MailboxFull => verdict(Risky, "the mailbox is full", 0.3),
        RcptOutcome::Policy => verdict(Unknown, "the mail server refused the check (policy block)", 0.5),
        RcptOutcome::TemporaryFailure => verdict(
            Unknown,
            "temporary failure (e.g. greylisting) not resolved before the run ended",
            0.5,
        ),
        RcptOutcome::Unknown => verdict(Unknown, "the mail server would not say", 0.5),
    }
}

/// Convenience for reports: the reply's code and enhanced code as text.
pub fn reply_codes(reply: &Reply) -> (u16, Option<String>) {
    (reply.code, reply.enhanced.as_ref().map(ToString::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_all_is_never_deliverable() {
        let accepted = RcptResult::Replied(RcptOutcome::Accepted);
        assert_eq!(
            judge(MailRoute::Hosts, Some(&accepted), Some(false), false).status,
            EmailStatus::Deliverable
        );
        for catch_all in [Some(true), None] {
            assert_eq!(
                judge(MailRoute::Hosts, Some(&accepted), catch_all, false).status,
                EmailStatus::Risky
            );
        }
        assert_eq!(
            judge(MailRoute::Hosts, Some(&accepted), Some(false), true).status,
            EmailStatus::Risky
        );
    }

    #[test]
    fn policy_and_temporary_failures_are_unknown_not_undeliverable() {
        for outcome in [
            RcptOutcome::Policy,
            RcptOutcome::TemporaryFailure,
            RcptOutcome::Unknown,
        ] {
            let v = judge(
                MailRoute::Hosts,
                Some(&RcptResult::Replied(outcome)),
                Some(false),
                false,
            );
            assert_eq!(v.status, EmailStatus::Unknown, "{outcome:?}");
        }
    }

    #[test]
    fn dns_answers_that_mean_no_mail() {
        for route in [MailRoute::NoSuchDomain, MailRoute::NullMx, MailRoute::NoMailHost] {
            assert_eq!(judge(route, None, None, false).status, EmailStatus::Undeliverable);
        }
        assert_eq!(
            judge(MailRoute::LookupFailed, None, None, false).status,
            EmailStatus::Unknown
        );
    }
}

//! Inbound mail: what a message arriving in a sending mailbox means for the campaign.
//!
//! Everything that answers outreach lands in the same mailbox: bounces, out-of-office
//! notices, opt-outs, newsletters the address was signed up to, and the answers people
//! write. The engine acts differently on each: a hard bounce retires the address, a soft
//! bounce or an auto-reply only pauses it (until the return date, when the notice gives
//! one), an unsubscribe request must be honoured at once, and a person's reply stops the
//! sequence and goes to a person. Calling a person's answer a bounce would silently drop a
//! lead who answered, so the bounce rules need a delivery report or a mail-system sender
//! before they read any words, and whatever no rule claims is a person's reply.
//!
//! The classifier is pure (bytes in, verdict out) so it can be checked against a corpus of
//! real messages and fuzzed: inbound mail is untrusted input. Mail systems agree on little
//! beyond RFC 3464 reports and RFC 3463 status codes, so those are read first and vendor
//! prose only where they say nothing specific; the prose is read with the same vocabulary
//! as RCPT replies ([`crate::smtp`]), because it is the same servers saying the same things.
//!
//! Rules, in order (the first that applies decides):
//! 1. ARF feedback reports (RFC 5965): `opt-out` is an unsubscribe; abuse complaints and
//!    DMARC failure reports are other automated mail.
//! 2. Read receipts (RFC 8098) are other automated mail.
//! 3. A subject that is nothing but an unsubscribe request (the `mailto:` form of
//!    List-Unsubscribe sends "unsubscribe"), whatever the headers say.
//! 4. Challenge-response screens ("add yourself to my guest list") are other automated
//!    mail even when they come as a delivery report: the address works, it only screens.
//! 5. Delivery reports: RFC 3464 reports, or mail from a mail system (null sender,
//!    MAILER-DAEMON, postmaster) that says delivery failed. 5.x.x is hard; 4.x.x, delays,
//!    expired retries and full mailboxes are soft; success reports are other mail.
//! 6. Auto-replies (RFC 3834 headers, out-of-office subjects in several languages), then
//!    other automated mail (list headers, bulk precedence, no-reply senders).
//! 7. A request to stop, written above the quoted part of a reply.
//! 8. Everything else is a person's reply.

use std::collections::HashSet;

use jiff::civil::Date;
use mail_parser::decoders::html::html_to_text;
use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders, PartType};

use crate::smtp::{classify_rcpt, outcome_from_words, EnhancedCode, RcptOutcome, Reply};

/// What an inbound message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// Delivery failed for good: no such user or domain, disabled mailbox, or a permanent
    /// refusal of the message.
    HardBounce,
    /// Delivery failed for now: full mailbox, delay, deferral, retries that expired.
    SoftBounce,
    /// An out-of-office notice or another automatic answer to the message.
    AutoReply,
    /// The recipient asks not to be mailed again.
    Unsubscribe,
    /// Other automated mail: newsletters, notifications, abuse and DMARC reports, read
    /// receipts, success reports, challenge-response screens.
    Other,
    /// Written by a person.
    Human,
}

impl Class {
    /// A stable name for reports and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::HardBounce => "hard_bounce",
            Class::SoftBounce => "soft_bounce",
            Class::AutoReply => "auto_reply",
            Class::Unsubscribe => "unsubscribe",
            Class::Other => "other",
            Class::Human => "human",
        }
    }
}

/// The verdict on one message, with what the engine needs to act on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classified {
    pub class: Class,
    /// Bounces: the address that failed, lowercased.
    pub failed_recipient: Option<String>,
    /// Bounces: the RFC 3463 status ("5.1.1"), the most specific the report shows.
    pub status: Option<String>,
    /// Auto-replies: when the person is back, when the notice says.
    pub return_date: Option<Date>,
    /// This message's own Message-ID, without the angle brackets.
    pub message_id: Option<String>,
    /// In-Reply-To and References ids, without angle brackets: the sends this answers.
    pub in_reply_to: Vec<String>,
    /// Message-IDs of the original messages a report returns (attached, as headers, or
    /// quoted inline): for a bounce, the send that failed.
    pub returned_message_ids: Vec<String>,
    /// The sender's address, lowercased.
    pub from: Option<String>,
    pub subject: Option<String>,
    /// The start of what its author wrote (above any quoted part), whitespace collapsed,
    /// at most [`SNIPPET_CHARS`] characters: what an inbox list shows.
    pub snippet: String,
    /// One line saying why.
    pub reason: String,
}

/// How much of a message's own text [`Classified::snippet`] keeps.
pub const SNIPPET_CHARS: usize = 280;

/// Classifies one raw RFC 5322 message. Never panics, whatever the bytes.
pub fn classify(raw: &[u8]) -> Classified {
    let parsed = MessageParser::new()
        .parse(raw)
        .filter(|m| !m.headers().is_empty());
    let Some(message) = parsed else {
        return Classified {
            class: Class::Other,
            failed_recipient: None,
            status: None,
            return_date: None,
            message_id: None,
            in_reply_to: Vec::new(),
            returned_message_ids: Vec::new(),
            from: None,
            subject: None,
            snippet: String::new(),
            reason: "no message headers found".to_owned(),
        };
    };
    let mail = Mail::read(&message);
    let verdict = verdict(&mail);
    let in_reply_to = unique(
        ids(message.in_reply_to())
            .into_iter()
            .chain(ids(message.references())),
    );
    Classified {
        class: verdict.class,
        failed_recipient: verdict.failed_recipient,
        status: verdict.status.map(|s| s.to_string()),
        return_date: verdict.return_date,
        message_id: message.message_id().map(str::to_owned),
        in_reply_to,
        returned_message_ids: mail.returned_message_ids,
        from: mail.from,
        subject: message.subject().map(str::to_owned),
        snippet: snippet(&mail.text[..mail.authored_end]),
        reason: verdict.reason,
    }
}

fn snippet(text: &str) -> String {
    let mut out = String::new();
    for word in text.split_whitespace() {
        if out.chars().count() + word.chars().count() + 1 > SNIPPET_CHARS {
            out.push('…');
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// A decision and the details that come with it.
struct Verdict {
    class: Class,
    reason: String,
    failed_recipient: Option<String>,
    status: Option<EnhancedCode>,
    return_date: Option<Date>,
}

impl Verdict {
    fn new(class: Class, reason: impl Into<String>) -> Self {
        Verdict {
            class,
            reason: reason.into(),
            failed_recipient: None,
            status: None,
            return_date: None,
        }
    }
}

fn verdict(mail: &Mail) -> Verdict {
    if let Some(verdict) = feedback_report(mail) {
        return verdict;
    }
    if mail.disposition_notification || mail.report_type.as_deref() == Some("disposition-notification") {
        return Verdict::new(Class::Other, "read receipt (disposition notification)");
    }
    if is_unsubscribe_subject(&mail.subject) {
        return Verdict::new(Class::Unsubscribe, "the subject asks to unsubscribe");
    }
    if let Some(phrase) = challenge(mail) {
        return Verdict::new(Class::Other, format!("challenge-response screen (\"{phrase}\")"));
    }
    if let Some(verdict) = delivery_report(mail) {
        return verdict;
    }
    if let Some(kind) = &mail.report_type {
        return Verdict::new(Class::Other, format!("machine-readable report ({kind})"));
    }
    if let Some(verdict) = automated(mail) {
        return verdict;
    }
    let authored = lowercase(mail.authored());
    if let Some(phrase) = find_phrase(&authored, UNSUBSCRIBE_PHRASES) {
        return Verdict::new(
            Class::Unsubscribe,
            format!("the reply asks to stop (\"{phrase}\")"),
        );
    }
    Verdict::new(Class::Human, "no sign of automation: a person's reply")
}

/// What the classifier reads from a parsed message.
struct Mail<'m> {
    message: &'m Message<'m>,
    from: Option<String>,
    /// From is present but empty (`<>`): the null sender of RFC 5321, used by mail systems.
    null_sender: bool,
    /// From's display name, lowercased ("mail delivery subsystem").
    from_name: String,
    /// The message's own To and Cc addresses: the mailbox a bounce comes back to, never the
    /// address that failed.
    addressees: HashSet<String>,
    subject: String,
    sent: Option<Date>,
    /// The `report-type` of a top-level multipart/report, lowercased.
    report_type: Option<String>,
    /// The readable text outside any attached message: the plain-text parts, or the HTML
    /// parts made text when there is no plain part.
    text: String,
    /// Where the part of `text` that its author wrote ends (see [`authored`]).
    authored_end: usize,
    /// Machine-readable delivery-status parts (RFC 3464).
    delivery_status: String,
    /// Machine-readable feedback-report parts (RFC 5965).
    feedback: String,
    disposition_notification: bool,
    returned_message_ids: Vec<String>,
    /// Who sent the originals a report returns: in a bounce's text they are never the
    /// address that failed.
    original_senders: HashSet<String>,
}

impl<'m> Mail<'m> {
    fn read(message: &'m Message<'m>) -> Self {
        let mut plain = String::new();
        let mut html = String::new();
        let mut delivery_status = String::new();
        let mut feedback = String::new();
        let mut disposition_notification = false;
        let mut returned_message_ids = Vec::new();
        let mut original_senders = HashSet::new();
        for part in &message.parts {
            let (ctype, subtype) = part.content_type().map_or_else(
                || ("text".to_owned(), "plain".to_owned()),
                |ct| {
                    (
                        ct.ctype().to_ascii_lowercase(),
                        ct.subtype().unwrap_or_default().to_ascii_lowercase(),
                    )
                },
            );
            match (&part.body, ctype.as_str(), subtype.as_str()) {
                (PartType::Message(returned), _, _) => {
                    if let Some(id) = returned.message_id() {
                        returned_message_ids.push(id.to_owned());
                    }
                    let senders = [returned.from(), returned.sender()].into_iter().flatten();
                    for address in senders.flat_map(|a| a.iter()).filter_map(|a| a.address()) {
                        original_senders.insert(address.to_lowercase());
                    }
                }
                (PartType::Multipart(_), _, _) => {}
                (_, "message", "delivery-status" | "global-delivery-status") => {
                    delivery_status.push_str(&String::from_utf8_lossy(part.contents()));
                    delivery_status.push('\n');
                }
                (_, "message", "feedback-report") => {
                    feedback.push_str(&String::from_utf8_lossy(part.contents()));
                    feedback.push('\n');
                }
                (_, "message", "disposition-notification") => disposition_notification = true,
                (_, "text", "rfc822-headers" | "rfc822-header") => {
                    let headers = String::from_utf8_lossy(part.contents());
                    returned_message_ids.extend(message_ids_in_lines(&headers));
                    original_senders.extend(sender_addresses_in_lines(&headers));
                }
                (PartType::Html(body), _, _) => {
                    html.push_str(&html_text(body));
                    html.push('\n');
                }
                (PartType::Text(body), _, _) => {
                    plain.push_str(body);
                    plain.push('\n');
                }
                _ => {}
            }
        }
        let text = if plain.trim().is_empty() { html } else { plain };
        // Non-MIME bounces quote the original's headers inline.
        returned_message_ids.extend(message_ids_in_lines(&text));
        original_senders.extend(sender_addresses_in_lines(&text));

        let sender = message.from().and_then(|a| a.first());
        let from = sender
            .and_then(|a| a.address())
            .filter(|a| !a.trim().is_empty())
            .map(|a| a.trim().to_lowercase());
        let null_sender = from.is_none()
            && message.header_raw("From").is_some_and(|v| {
                v.trim_matches(|c: char| c == '<' || c == '>' || c.is_whitespace())
                    .is_empty()
            });
        let addressees = [message.to(), message.cc()]
            .into_iter()
            .flatten()
            .flat_map(|a| a.iter())
            .filter_map(|a| a.address())
            .map(str::to_lowercase)
            .collect();
        let sent = message.date().and_then(|d| {
            Date::new(
                i16::try_from(d.year).ok()?,
                i8::try_from(d.month).ok()?,
                i8::try_from(d.day).ok()?,
            )
            .ok()
        });
        let report_type = message
            .content_type()
            .filter(|ct| ct.ctype().eq_ignore_ascii_case("multipart"))
            .filter(|ct| ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report")))
            .and_then(|ct| ct.attribute("report-type"))
            .map(|t| t.trim().to_ascii_lowercase());
        Mail {
            message,
            from,
            null_sender,
            from_name: sender.and_then(|a| a.name()).unwrap_or_default().to_lowercase(),
            addressees,
            subject: message.subject().unwrap_or_default().to_owned(),
            sent,
            report_type,
            authored_end: authored(&text).len(),
            text,
            delivery_status,
            feedback,
            disposition_notification,
            returned_message_ids: unique(returned_message_ids),
            original_senders,
        }
    }

    /// The text above any quote, signature or forwarded block.
    fn authored(&self) -> &str {
        &self.text[..self.authored_end]
    }

    /// A header's raw value, trimmed and lowercased.
    fn header(&self, name: &str) -> Option<String> {
        self.message.header_raw(name).map(|v| v.trim().to_lowercase())
    }

    fn sender_local_part(&self) -> &str {
        self.from
            .as_deref()
            .and_then(|a| a.split('@').next())
            .unwrap_or_default()
    }

    /// Mail written by a mail server rather than a mailbox owner: bounces come from the
    /// null sender, MAILER-DAEMON or postmaster.
    fn sent_by_mail_system(&self) -> bool {
        self.null_sender
            || SYSTEM_LOCAL_PARTS
                .iter()
                .any(|p| self.sender_local_part().starts_with(p))
            || SYSTEM_NAMES.iter().any(|n| self.from_name.contains(n))
    }

    /// A sender that nobody reads: replies to it go nowhere, so it only sends notices.
    fn sent_by_no_reply(&self) -> bool {
        let local = self.sender_local_part();
        NO_REPLY_PARTS.iter().any(|p| local.contains(p)) || NOTICE_LOCAL_PARTS.contains(&local)
    }

    /// Whether the message answers another one: threaded by id, or a "Re:" subject.
    fn is_answer(&self) -> bool {
        let answers = |value: &HeaderValue| !ids(value).is_empty();
        answers(self.message.in_reply_to())
            || answers(self.message.references())
            || is_reply_subject(&lowercase(&self.subject))
    }
}

const SYSTEM_LOCAL_PARTS: &[&str] = &[
    "mailer-daemon",
    "mailer_daemon",
    "maildaemon",
    "mail-daemon",
    "postmaster",
];
const SYSTEM_NAMES: &[&str] = &["mail delivery", "mailer-daemon", "mailer daemon", "postmaster"];
const NO_REPLY_PARTS: &[&str] = &[
    "noreply",
    "no-reply",
    "no_reply",
    "donotreply",
    "do-not-reply",
    "do_not_reply",
];
const NOTICE_LOCAL_PARTS: &[&str] = &[
    "notifications",
    "notification",
    "notify",
    "alerts",
    "newsletter",
    "news",
];

/// Rule 1: ARF (RFC 5965). A `Feedback-Type: opt-out` report is a provider passing on its
/// user's unsubscribe; the rest (abuse, auth-failure, fraud, virus) are reports about mail.
fn feedback_report(mail: &Mail) -> Option<Verdict> {
    if mail.feedback.is_empty() && mail.report_type.as_deref() != Some("feedback-report") {
        return None;
    }
    let kind = field(&mail.feedback, "feedback-type").map_or_else(|| "unknown".to_owned(), lowercase);
    Some(if matches!(kind.as_str(), "opt-out" | "unsubscribe") {
        Verdict::new(
            Class::Unsubscribe,
            format!("feedback report (Feedback-Type: {kind})"),
        )
    } else {
        Verdict::new(Class::Other, format!("feedback report (Feedback-Type: {kind})"))
    })
}

/// Rule 3: a subject that is only a request to stop, after any "Re:".
fn is_unsubscribe_subject(subject: &str) -> bool {
    let lowered = lowercase(subject);
    let mut subject = lowered.as_str();
    while let Some(rest) = REPLY_PREFIXES
        .iter()
        .find_map(|p| subject.trim_start().strip_prefix(p))
    {
        subject = rest;
    }
    let subject = subject.trim_matches(|c: char| !c.is_alphanumeric());
    // The mailto: variant may append a token after the word.
    subject.split_whitespace().next() == Some("unsubscribe") || UNSUBSCRIBE_SUBJECTS.contains(&subject)
}

const REPLY_PREFIXES: &[&str] = &["re:", "aw:", "sv:", "antw:", "réf:", "r:", "fw:", "fwd:", "wg:"];
const UNSUBSCRIBE_SUBJECTS: &[&str] = &[
    "remove",
    "remove me",
    "stop",
    "opt out",
    "opt-out",
    "abmelden",
    "austragen",
    "désabonner",
    "désinscription",
    "baja",
    "darme de baja",
    "uitschrijven",
    "afmelden",
    "cancellami",
];

/// Rule 4: a screen that asks the sender to prove itself before the mail is shown. It needs
/// one of the screens' phrases and a call to act, so that a person mentioning a guest list
/// is not taken for a robot.
fn challenge(mail: &Mail) -> Option<&'static str> {
    let text = lowercase(&format!(
        "{}\n{}",
        returned_message_cut(mail.authored()),
        mail.delivery_status
    ));
    let phrase = find_phrase(&text, CHALLENGE_PHRASES)?;
    ["click", "link", "visit"]
        .iter()
        .any(|w| contains_words(&text, w))
        .then_some(phrase)
}

const CHALLENGE_PHRASES: &[&str] = &[
    "guest list",
    "allowed list",
    "approved senders",
    "pre-approved",
    "requires confirmation",
    "waitlisted",
    "challenge-response",
    "verify that you are a human",
    "prove you are human",
];

/// Rule 5: delivery reports. `None` when the message is not one.
fn delivery_report(mail: &Mail) -> Option<Verdict> {
    let structured =
        !mail.delivery_status.is_empty() || mail.report_type.as_deref() == Some("delivery-status");
    let failed_header = mail
        .message
        .header_raw("X-Failed-Recipients")
        .and_then(first_address);
    let system = mail.sent_by_mail_system();
    if !structured && failed_header.is_none() && !system {
        return None;
    }
    let report = returned_message_cut(&mail.text);

    let mut statuses = recipient_statuses(&mail.delivery_status);
    if statuses.is_empty() && system {
        // Some servers (Amazon WorkMail, for one) write the RFC 3464 fields into the text.
        statuses = recipient_statuses(report);
    }
    let failed = statuses
        .iter()
        .find(|s| s.failed())
        .or_else(|| statuses.iter().find(|s| s.delayed()));
    if let Some(failed) = failed {
        let diagnostic = if failed.diagnostic.is_empty() {
            report
        } else {
            &failed.diagnostic
        };
        let status = failed.status.map(|s| most_specific(s, diagnostic));
        let (class, cause) = if failed.delayed() {
            (Class::SoftBounce, "delivery delayed, still retrying")
        } else {
            severity(status, reply_code(diagnostic), diagnostic)
        };
        let recipient = failed
            .recipient
            .clone()
            .or(failed_header)
            .or_else(|| failed_address_in(report, mail));
        return Some(bounce(class, recipient, status, cause, "delivery status report"));
    }
    if !statuses.is_empty() && statuses.iter().all(|s| s.succeeded()) {
        return Some(Verdict::new(
            Class::Other,
            "delivery status report of a successful delivery",
        ));
    }

    // No per-recipient fields: a non-standard bounce, read from its text.
    let codes: Vec<EnhancedCode> = enhanced_codes(report)
        .filter(|c| matches!(c.class, 4 | 5))
        .collect();
    let status = codes.iter().find(|c| !is_generic(**c)).or(codes.first()).copied();
    let subject = lowercase(&mail.subject);
    let words = lowercase(report);
    let says_failure = status.is_some()
        || find_phrase(&subject, BOUNCE_SUBJECTS).is_some()
        || find_phrase(&words, FAILURE_PHRASES).is_some()
        || outcome_from_words(&words).is_some();
    // Mail systems do not answer with "Re:"; a postmaster who does is a person writing, and
    // a person's words are not a delivery report. Only the null sender is beyond doubt.
    let machine_written = mail.null_sender || !is_reply_subject(&subject);
    if failed_header.is_none() && !(says_failure && machine_written) {
        return structured.then(|| Verdict::new(Class::Other, "delivery status report without a failure"));
    }
    let (class, cause) = severity(status, reply_code(report), report);
    let recipient = failed_header.or_else(|| failed_address_in(report, mail));
    Some(bounce(
        class,
        recipient,
        status,
        cause,
        "bounce from the mail system",
    ))
}

fn bounce(
    class: Class,
    recipient: Option<String>,
    status: Option<EnhancedCode>,
    cause: &str,
    source: &str,
) -> Verdict {
    let code = status.map_or_else(String::new, |s| format!(" {s}"));
    let who = recipient
        .as_deref()
        .map_or_else(String::new, |r| format!(" for {r}"));
    Verdict {
        failed_recipient: recipient,
        status,
        ..Verdict::new(class, format!("{source}{code}{who}: {cause}"))
    }
}

/// Hard or soft, and why. A 4.x.x (or 4xx) status is temporary by definition. A permanent
/// one is read like a RCPT reply: full mailboxes are soft, because the address exists and
/// will take mail again once emptied. Without a specific code, the text may show that a
/// temporary problem only ran out of retries, which is soft too.
fn severity(status: Option<EnhancedCode>, code: Option<u16>, text: &str) -> (Class, &'static str) {
    let permanent = status
        .map(|s| s.class == 5)
        .or(code.map(|c| c >= 500))
        .unwrap_or(true);
    if !permanent {
        return (Class::SoftBounce, "temporary failure");
    }
    if status.is_none_or(is_generic) && find_phrase(&lowercase(text), TEMPORARY_PHRASES).is_some() {
        return (Class::SoftBounce, "a temporary problem outlasted the retries");
    }
    // A report without a reply code stands for RFC 5321's generic "mailbox unavailable".
    let reply = Reply {
        code: code.filter(|c| *c >= 500).unwrap_or(550),
        enhanced: status,
        text: text.to_owned(),
    };
    match classify_rcpt(&reply) {
        RcptOutcome::MailboxFull => (Class::SoftBounce, "mailbox full"),
        RcptOutcome::NoSuchUser => (Class::HardBounce, "no such mailbox"),
        RcptOutcome::Disabled => (Class::HardBounce, "mailbox disabled"),
        RcptOutcome::Policy => (Class::HardBounce, "refused by policy"),
        _ => (Class::HardBounce, "permanent failure"),
    }
}

/// Subjects mail systems give their bounces, in several languages.
const BOUNCE_SUBJECTS: &[&str] = &[
    "undeliverable",
    "undelivered",
    "delivery status notification",
    "delivery failure",
    "delivery failed",
    "delivery has failed",
    "delivery notification",
    "mail delivery failed",
    "failure notice",
    "returned mail",
    "returned to sender",
    "mail delivery warning",
    "delayed mail",
    "could not send message",
    "bounce notification",
    "nondeliverable",
    "non-deliverable",
    "mail failure",
    "unzustellbar",
    "nicht zustellbar",
    "non remis",
    "non distribuable",
    "no se puede entregar",
    "onbestelbaar",
    "non recapitabile",
];

/// How bounce texts say that delivery failed.
const FAILURE_PHRASES: &[&str] = &[
    "could not be delivered",
    "couldn't be delivered",
    "was not delivered",
    "wasn't delivered",
    "message not delivered",
    "not be delivered",
    "wasn't able to deliver",
    "unable to deliver",
    "could not deliver",
    "undeliverable",
    "delivery failed",
    "delivery has failed",
    "failed permanently",
    "did not reach",
    "could not be reached",
    "permanent error",
    "permanent failure",
    "has been delayed",
    "delivery to the following recipient",
    "was rejected",
];

/// How bounce texts say that the failure is, or was, temporary.
const TEMPORARY_PHRASES: &[&str] = &[
    "delayed",
    "has been postponed",
    "still being retried",
    "will be retried",
    "will retry",
    "will continue to try",
    "retry timeout exceeded",
    "envelope expired",
    "message expired",
    "temporary failure",
    "temporary problem",
    "delivery incomplete",
    "temporarily",
    "warning message only",
];

/// One recipient's fields in an RFC 3464 report.
#[derive(Default)]
struct RecipientStatus {
    recipient: Option<String>,
    action: String,
    status: Option<EnhancedCode>,
    diagnostic: String,
}

impl RecipientStatus {
    /// `undeliverable` is what address-verification reports say instead of `failed`.
    fn failed(&self) -> bool {
        matches!(self.action.as_str(), "failed" | "undeliverable")
            || (self.action.is_empty() && self.status.is_some_and(|s| s.class == 5))
    }

    fn delayed(&self) -> bool {
        self.action == "delayed" || (self.action.is_empty() && self.status.is_some_and(|s| s.class == 4))
    }

    fn succeeded(&self) -> bool {
        matches!(
            self.action.as_str(),
            "delivered" | "relayed" | "expanded" | "deliverable"
        ) || (self.action.is_empty() && self.status.is_some_and(|s| s.class == 2))
    }
}

/// The per-recipient blocks of an RFC 3464 report (blocks of fields separated by blank
/// lines; the per-message block names no recipient and is skipped). The recipient is
/// Final-Recipient, which names the mailbox the status is about, or else
/// Original-Recipient.
fn recipient_statuses(report: &str) -> Vec<RecipientStatus> {
    let mut statuses = Vec::new();
    for block in unfolded_blocks(report) {
        let mut status = RecipientStatus::default();
        let mut original = None;
        let mut per_recipient = false;
        for line in &block {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            match name.trim().to_ascii_lowercase().as_str() {
                "final-recipient" => {
                    status.recipient = first_address(value);
                    per_recipient = true;
                }
                "original-recipient" => {
                    original = first_address(value);
                    per_recipient = true;
                }
                "action" => {
                    status.action = value.trim().to_ascii_lowercase();
                    per_recipient = true;
                }
                "status" => status.status = enhanced_codes(value).next(),
                "diagnostic-code" => status.diagnostic = value.trim().to_owned(),
                _ => {}
            }
        }
        if per_recipient {
            status.recipient = status.recipient.or(original);
            statuses.push(status);
        }
    }
    statuses
}

/// Lines of header-style fields with continuation lines joined, grouped by blank lines.
fn unfolded_blocks(text: &str) -> Vec<Vec<String>> {
    let mut blocks = vec![Vec::new()];
    for line in text.lines() {
        let current = blocks.last_mut().expect("blocks starts non-empty");
        if line.trim().is_empty() {
            if !current.is_empty() {
                blocks.push(Vec::new());
            }
        } else if line.starts_with([' ', '\t']) && !current.is_empty() {
            let last: &mut String = current.last_mut().expect("checked non-empty");
            last.push(' ');
            last.push_str(line.trim());
        } else {
            current.push(line.trim_end().to_owned());
        }
    }
    blocks
}

/// The first value of a `Name: value` field in header-style text.
fn field<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    text.lines().find_map(|line| {
        let (field, value) = line.split_once(':')?;
        field.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// A generic status (x.0.0) made specific by the code inside the diagnostic text, as in
/// `Status: 5.0.0` with `Diagnostic-Code: smtp; 550 5.1.1 user unknown`.
fn most_specific(status: EnhancedCode, diagnostic: &str) -> EnhancedCode {
    if !is_generic(status) {
        return status;
    }
    enhanced_codes(diagnostic)
        .find(|c| c.class == status.class && !is_generic(*c))
        .unwrap_or(status)
}

fn is_generic(code: EnhancedCode) -> bool {
    code.subject == 0 && code.detail == 0
}

/// The RFC 3463 codes in free text, in order: `class.subject.detail` standing alone, so
/// that IP addresses, version numbers and dates do not count.
fn enhanced_codes(text: &str) -> impl Iterator<Item = EnhancedCode> + '_ {
    let bytes = text.as_bytes();
    (0..bytes.len()).filter_map(move |start| {
        if !matches!(bytes[start], b'2' | b'4' | b'5')
            || start
                .checked_sub(1)
                .is_some_and(|p| bytes[p].is_ascii_alphanumeric() || bytes[p] == b'.')
        {
            return None;
        }
        let mut at = start + 1;
        let mut number = |max_digits: usize| {
            if bytes.get(at) != Some(&b'.') {
                return None;
            }
            let digits = bytes[at + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
            if !(1..=max_digits).contains(&digits) {
                return None;
            }
            let value = bytes[at + 1..at + 1 + digits]
                .iter()
                .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
            at += 1 + digits;
            Some(value)
        };
        let subject = number(3)?;
        let detail = number(3)?;
        let followed_by_more = match bytes.get(at) {
            Some(b'.') => bytes.get(at + 1).is_some_and(u8::is_ascii_digit),
            Some(b) => b.is_ascii_alphanumeric(),
            None => false,
        };
        (!followed_by_more).then_some(EnhancedCode {
            class: bytes[start] - b'0',
            subject,
            detail,
        })
    })
}

/// The first SMTP reply code in free text: a standalone three-digit number from the codes
/// servers use for failures, so that phone numbers and sizes do not count.
fn reply_code(text: &str) -> Option<u16> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(2)).find_map(|start| {
        let digits = &bytes[start..start + 3];
        let standalone = digits.iter().all(u8::is_ascii_digit)
            && !start
                .checked_sub(1)
                .is_some_and(|p| bytes[p].is_ascii_alphanumeric() || bytes[p] == b'.')
            && match bytes.get(start + 3) {
                None => true,
                Some(b' ') => !bytes.get(start + 4).is_some_and(u8::is_ascii_digit),
                // "550-5.1.1" continues a reply; "480-624-2500" is a phone number.
                Some(b'-') => match (bytes.get(start + 4), bytes.get(start + 5)) {
                    (Some(d), next) if d.is_ascii_digit() => next == Some(&b'.'),
                    _ => true,
                },
                Some(b) => !b.is_ascii_alphanumeric() && *b != b'.',
            };
        if !standalone {
            return None;
        }
        let code = digits.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
        matches!(code, 421 | 450..=452 | 454 | 500..=504 | 521 | 530 | 541 | 550..=557).then_some(code)
    })
}

/// HTML as text with its structure kept. mail-parser's conversion runs block elements
/// together on one line, which would hide the "On … wrote:" and "From:" lines that mark
/// where a reply's quote starts; so every block starts a line here, and a blockquote (how
/// HTML mail quotes) starts with "> " like a quoted plain-text line.
fn html_text(html: &str) -> String {
    let mut marked = String::with_capacity(html.len() + html.len() / 8);
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        marked.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        let closing = rest.starts_with('/');
        let name = rest.trim_start_matches('/');
        let name = &name[..name
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(name.len())];
        if name.eq_ignore_ascii_case("blockquote") && !closing {
            marked.push_str("<br>&gt; ");
        } else if BLOCK_TAGS.iter().any(|t| name.eq_ignore_ascii_case(t)) {
            marked.push_str("<br>");
        }
        marked.push('<');
    }
    marked.push_str(rest);
    html_to_text(&marked)
}

const BLOCK_TAGS: &[&str] = &[
    "blockquote",
    "div",
    "p",
    "tr",
    "li",
    "hr",
    "table",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
];

/// The bounce text without the returned original that many servers append inline, so that
/// the original's own addresses and words are not read as the report's.
fn returned_message_cut(text: &str) -> &str {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let lower = lowercase(line.trim());
        let separator = lower.starts_with(['-', '=', '*', '_'])
            || lower.ends_with(':')
            || lower.ends_with("follows")
            || lower.ends_with("follows.");
        if separator && RETURNED_MESSAGE_MARKERS.iter().any(|m| lower.contains(m)) {
            return &text[..offset];
        }
        offset += line.len();
    }
    text
}

const RETURNED_MESSAGE_MARKERS: &[&str] = &[
    "original message",
    "copy of the message",
    "copy of your message",
    "returned message",
    "undelivered message",
    "bounced e-mail",
    "message headers",
];

/// The address that failed, from a bounce's text: the first address that is neither the
/// bounce's own sender or addressees (the mailbox it returns to), nor the returned
/// original's sender, nor a mail system's.
fn failed_address_in(report: &str, mail: &Mail) -> Option<String> {
    addresses(report).find(|address| {
        let local = address.split('@').next().unwrap_or_default();
        mail.from.as_deref() != Some(address.as_str())
            && !mail.addressees.contains(address)
            && !mail.original_senders.contains(address)
            && !SYSTEM_LOCAL_PARTS.iter().any(|p| local.starts_with(p))
    })
}

fn first_address(text: &str) -> Option<String> {
    addresses(text).next()
}

/// Email addresses in free text, lowercased. Deliberately narrow local parts (letters,
/// digits, `._+-`) so that URL parameters such as `Endpoint=a@b.c` yield only the address.
fn addresses(text: &str) -> impl Iterator<Item = String> + '_ {
    let bytes = text.as_bytes();
    let local_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-');
    let domain_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-');
    (0..bytes.len())
        .filter(move |&at| bytes[at] == b'@')
        .filter_map(move |at| {
            let start = bytes[..at]
                .iter()
                .rposition(|&b| !local_byte(b))
                .map_or(0, |p| p + 1);
            let end = bytes[at + 1..]
                .iter()
                .position(|&b| !domain_byte(b))
                .map_or(bytes.len(), |p| at + 1 + p);
            // Both ends sit next to ASCII bytes, so they are character boundaries.
            let local = text[start..at].trim_matches('.');
            let domain = text[at + 1..end].trim_matches(|c| c == '.' || c == '-');
            let valid = !local.is_empty() && domain.contains('.') && !domain.contains("..");
            valid.then(|| format!("{local}@{domain}").to_ascii_lowercase())
        })
}

/// Addresses on sender lines (From, Sender, Return-Path, Reply-To) in header-style text,
/// including quoted (`> `) ones.
fn sender_addresses_in_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim_start_matches(|c: char| c == '>' || c.is_whitespace());
            let (name, value) = line.split_once(':')?;
            let name = name.to_ascii_lowercase();
            matches!(name.as_str(), "from" | "sender" | "return-path" | "reply-to").then_some(value)
        })
        .flat_map(addresses)
        .collect()
}

/// Message-IDs from `Message-ID:` lines in header-style text, including quoted (`> `)
/// and folded ones.
fn message_ids_in_lines(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let line = line.trim_start_matches(|c: char| c == '>' || c.is_whitespace());
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if !name.eq_ignore_ascii_case("message-id") {
            continue;
        }
        let value = match value.trim() {
            "" => lines
                .next_if(|next| next.starts_with([' ', '\t']))
                .unwrap_or_default(),
            value => value,
        };
        let id = match value.split_once('<') {
            Some((_, rest)) => rest.split('>').next().unwrap_or_default(),
            None => value.split_whitespace().next().unwrap_or_default(),
        };
        if id.contains('@') {
            found.push(id.trim().to_owned());
        }
    }
    found
}

/// Rule 6: auto-replies and other automated mail. `None` when nothing says automated.
///
/// An explicit auto-reply header or an out-of-office subject decides at once. List
/// headers on a message that answers nothing mean a newsletter; a reply that came through
/// a mailing list keeps them, so it is not judged on them. Weaker signs (Auto-Submitted
/// other than auto-replied, bulk precedence, no-reply senders, X-Auto-Response-Suppress)
/// make an auto-reply when the text reads like an absence notice; Auto-Submitted and bulk
/// precedence also do on a message that answers another (a ticket acknowledgement). What
/// is left with a weak sign is other mail, except X-Auto-Response-Suppress alone, which
/// some mail programs put on what people write.
fn automated(mail: &Mail) -> Option<Verdict> {
    let auto_submitted = mail.header("Auto-Submitted").filter(|v| !v.starts_with("no"));
    let precedence = mail.header("Precedence").unwrap_or_default();
    let autoreply = |reason: String| {
        let subject_and_text = lowercase(&format!("{}\n{}", mail.subject, mail.authored()));
        Some(Verdict {
            return_date: return_date(&subject_and_text, mail.sent),
            ..Verdict::new(Class::AutoReply, reason)
        })
    };

    if auto_submitted
        .as_deref()
        .is_some_and(|v| v.starts_with("auto-replied"))
    {
        return autoreply("Auto-Submitted: auto-replied (RFC 3834)".to_owned());
    }
    for name in ["X-Autoreply", "X-Autorespond", "X-Autoresponder"] {
        if mail
            .header(name)
            .is_some_and(|v| !matches!(v.as_str(), "no" | "false" | "0"))
        {
            return autoreply(format!("{name} header"));
        }
    }
    if precedence == "auto_reply" {
        return autoreply("Precedence: auto_reply".to_owned());
    }
    // "Automatic reply: <subject>" leads with the notice; a person's "Re: <subject>" quotes
    // our own subject, whose words prove nothing, so there the subject only backs up a header.
    let subject = lowercase(&mail.subject);
    let subject_absence = find_phrase(&subject, OUT_OF_OFFICE_SUBJECTS).or_else(|| {
        OUT_OF_OFFICE_SUBJECT_STARTS
            .iter()
            .copied()
            .find(|s| starts_with_words(&subject, s))
    });
    if let Some(phrase) = subject_absence.filter(|_| !is_reply_subject(&subject)) {
        return autoreply(format!("out-of-office subject (\"{phrase}\")"));
    }

    let answer = mail.is_answer();
    let list = ["List-Id", "List-Unsubscribe", "List-Post"]
        .into_iter()
        .find(|h| mail.header(h).is_some());
    if let Some(list) = list.filter(|_| !answer) {
        return Some(Verdict::new(
            Class::Other,
            format!("mailing list or newsletter ({list} header)"),
        ));
    }

    // Headers that auto-responders set too: on an answer to a message they make an auto-reply.
    let responder = if let Some(value) = &auto_submitted {
        Some(format!("Auto-Submitted: {value}"))
    } else if matches!(precedence.as_str(), "bulk" | "junk") {
        Some(format!("Precedence: {precedence}"))
    } else {
        None
    };
    // Signs of a notice that answers nobody. A person's reply through a mailing list carries
    // Precedence: list, so that only counts on a message that answers nothing.
    let notice = if precedence == "list" && !answer {
        Some("Precedence: list".to_owned())
    } else if mail.sent_by_no_reply() {
        Some(format!(
            "no-reply sender {}",
            mail.from.as_deref().unwrap_or_default()
        ))
    } else if subject.contains("report domain:") {
        Some("DMARC aggregate report".to_owned())
    } else {
        None
    };
    let suppressing = mail
        .header("X-Auto-Response-Suppress")
        .map(|_| "X-Auto-Response-Suppress".to_owned());
    let absence = subject_absence.or_else(|| find_phrase(&lowercase(mail.authored()), OUT_OF_OFFICE_TEXT));
    let any_signal = responder.clone().or_else(|| notice.clone()).or(suppressing);
    match (any_signal, absence) {
        (Some(signal), Some(phrase)) => autoreply(format!("{signal}, and it says \"{phrase}\"")),
        _ => match (responder, notice) {
            (Some(signal), None) if answer => autoreply(format!("{signal} on an answer to a message")),
            (Some(signal), _) | (None, Some(signal)) => {
                Some(Verdict::new(Class::Other, format!("automated mail ({signal})")))
            }
            (None, None) => None,
        },
    }
}

fn is_reply_subject(subject: &str) -> bool {
    REPLY_PREFIXES.iter().any(|p| subject.trim_start().starts_with(p))
}

/// Out-of-office and auto-reply subjects, matched as whole words anywhere in the subject.
const OUT_OF_OFFICE_SUBJECTS: &[&str] = &[
    "out of office",
    "out of the office",
    "automatic reply",
    "automatic response",
    "automated reply",
    "automated response",
    "auto reply",
    "auto-reply",
    "autoreply",
    "auto response",
    "auto-response",
    "autoresponse",
    "away from the office",
    "away until",
    "on vacation",
    "on holiday",
    "on leave",
    "vacation reply",
    "thank you for your email",
    "thank you for your e-mail",
    "thank you for your message",
    "thanks for your email",
    "thanks for your message",
    // German
    "abwesenheitsnotiz",
    "abwesenheit",
    "automatische antwort",
    "nicht im büro",
    // French
    "réponse automatique",
    "reponse automatique",
    "absence du bureau",
    "absent du bureau",
    "absente du bureau",
    // Spanish and Portuguese
    "respuesta automática",
    "respuesta automatica",
    "fuera de la oficina",
    "fuera de oficina",
    "resposta automática",
    "ausência",
    "fora do escritório",
    // Dutch
    "automatisch antwoord",
    "afwezigheid",
    "afwezig",
    "niet aanwezig",
    // Italian
    "risposta automatica",
    "fuori ufficio",
    "fuori sede",
    // Polish, Scandinavian, Finnish
    "automatyczna odpowiedź",
    "autosvar",
    "automatisk svar",
    "automaattinen vastaus",
];

/// Short words that only mean an absence notice when the subject starts with them
/// ("Absence: …", Lotus Notes' "AUTO: … is out of the office").
const OUT_OF_OFFICE_SUBJECT_STARTS: &[&str] = &["auto:", "absence", "absent", "abwesend", "vacation"];

/// How absence notices say so in their text; read only when a header already says the
/// message is automated, because people write these phrases too.
const OUT_OF_OFFICE_TEXT: &[&str] = &[
    "out of the office",
    "out of office",
    "i am away",
    "i'm away",
    "i am currently away",
    "i will be away",
    "i am on vacation",
    "i'm on vacation",
    "on annual leave",
    "on parental leave",
    "on maternity leave",
    "limited access to email",
    "limited access to e-mail",
    "no access to email",
    "will respond to your message",
    "will reply as soon as possible",
    "reply as soon as possible",
    "thank you for your email",
    "thank you for your e-mail",
    "thank you for you e-mail",
    "ich bin abwesend",
    "nicht im büro",
    "je suis absent",
    "je suis absente",
    "absent du bureau",
    "fuera de la oficina",
    "estoy de vacaciones",
    "ben afwezig",
    "fuori ufficio",
];

/// Rule 7: phrases that ask to stop, matched as whole words in the text the person wrote.
const UNSUBSCRIBE_PHRASES: &[&str] = &[
    "unsubscribe",
    "remove me",
    "remove us",
    "remove my email",
    "remove my address",
    "remove this address",
    "take me off",
    "take us off",
    "stop emailing",
    "stop e-mailing",
    "stop mailing",
    "stop sending",
    "stop contacting",
    "do not email me",
    "don't email me",
    "do not contact me",
    "don't contact me",
    "do not contact us",
    "don't contact us",
    "opt me out",
    "opt out",
    "opt-out",
    "no more emails",
    // German
    "abmelden",
    "abbestellen",
    "austragen",
    "tragen sie mich aus",
    "entfernen sie mich",
    "keine weiteren e-mails",
    "keine weiteren mails",
    "keine e-mails mehr",
    "keine mails mehr",
    // French
    "désabonner",
    "désabonnez-moi",
    "désinscrire",
    "désinscrivez-moi",
    "retirez-moi",
    "supprimez-moi",
    "ne plus recevoir",
    "ne me contactez plus",
    // Spanish and Portuguese
    "darme de baja",
    "dar de baja",
    "denme de baja",
    "dame de baja",
    "no me envíen",
    "no me escriban",
    "dejen de enviar",
    "desuscribirme",
    "descadastrar",
    "não me envie",
    // Dutch
    "uitschrijven",
    "afmelden",
    "schrijf mij uit",
    "verwijder mij",
    "verwijder me",
    "geen e-mails meer",
    // Italian
    "cancellatemi",
    "disiscrivimi",
    "rimuovetemi",
];

/// The part of a reply its author wrote: everything above the first quoted line (`>`),
/// attribution ("On … wrote:"), separator ("-----Original Message-----", Outlook's
/// underscores, a signature's "-- ") or forwarded header block ("From:" / "Von:" followed
/// by "Sent:", "Date:" and the like).
fn authored(text: &str) -> &str {
    // Each line once: where it starts, and its trimmed lowercase form.
    let lines: Vec<(usize, String)> = text
        .split_inclusive('\n')
        .scan(0, |offset, line| {
            let start = *offset;
            *offset += line.len();
            Some((start, line.trim().to_lowercase()))
        })
        .collect();
    for (i, (start, line)) in lines.iter().enumerate() {
        let header_block = HEADER_BLOCK_STARTS.iter().any(|h| line.starts_with(h))
            && lines[i + 1..]
                .iter()
                .take(4)
                .any(|(_, next)| HEADER_BLOCK_FIELDS.iter().any(|f| next.starts_with(f)));
        if line.starts_with('>') || line.starts_with("--") || line.starts_with("__") || header_block {
            return &text[..*start];
        }
        if ATTRIBUTION_ENDS.iter().any(|end| line.ends_with(end)) {
            // A long attribution wraps: "On Mon, … <a@b.c>" / "wrote:".
            let opener = i
                .checked_sub(1)
                .map(|p| &lines[p])
                .filter(|(_, previous)| ATTRIBUTION_OPENERS.iter().any(|o| previous.starts_with(o)));
            return &text[..opener.map_or(*start, |(previous_start, _)| *previous_start)];
        }
    }
    text
}

const ATTRIBUTION_ENDS: &[&str] = &[
    "wrote:",
    "writes:",
    "schrieb:",
    "a écrit :",
    "a écrit:",
    "escribió:",
    "schreef:",
    "ha scritto:",
    "skrev:",
    "napisał:",
    "escreveu:",
    "kirjoitti:",
];
const ATTRIBUTION_OPENERS: &[&str] = &["on ", "am ", "le ", "el ", "op ", "il ", "em ", "den "];
const HEADER_BLOCK_STARTS: &[&str] = &[
    "from:", "von:", "de:", "de :", "van:", "da:", "od:", "fra:", "från:",
];
const HEADER_BLOCK_FIELDS: &[&str] = &[
    "sent:",
    "date:",
    "to:",
    "subject:",
    "cc:",
    "gesendet:",
    "datum:",
    "an:",
    "betreff:",
    "envoyé :",
    "envoyé:",
    "à :",
    "objet :",
    "enviado:",
    "fecha:",
    "para:",
    "asunto:",
    "verzonden:",
    "aan:",
    "onderwerp:",
    "inviato:",
    "oggetto:",
];

/// When the person is back, from an absence notice's subject and text (lowercased): the
/// first date that follows a word such as "until" or "back", else the latest date on or
/// after the day the notice was sent (a range like "July 10-31" gives its end). A date
/// without a year takes the notice's year, or the next one when that would be in the past.
fn return_date(text: &str, sent: Option<Date>) -> Option<Date> {
    let tokens = tokens(text);
    let not_before_sent = |date: &Date| sent.is_none_or(|sent| *date >= sent);
    let mut latest: Option<Date> = None;
    for (at, _) in tokens.iter().enumerate() {
        let Some(date) = date_at(&tokens, at)
            .and_then(|d| d.resolve(sent))
            .filter(not_before_sent)
        else {
            continue;
        };
        let cued = tokens[at.saturating_sub(4)..at]
            .iter()
            .any(|t| matches!(t, Token::Word(w) if RETURN_CUES.contains(w)));
        if cued {
            return Some(date);
        }
        latest = latest.max(Some(date));
    }
    latest
}

const RETURN_CUES: &[&str] = &[
    "until",
    "till",
    "til",
    "back",
    "return",
    "returning",
    "returns",
    "bis",
    "zurück",
    "ab",
    "wieder",
    "jusqu",
    "retour",
    "hasta",
    "regreso",
    "regresaré",
    "vuelta",
    "volveré",
    "tot",
    "terug",
    "fino",
    "rientro",
    "até",
    "retorno",
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Token<'t> {
    Word(&'t str),
    /// A number and how many digits it was written with.
    Number(u32, usize),
    Mark(char),
}

/// Words, numbers and punctuation marks; whitespace only separates.
fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_ascii_digit() {
            let mut value = c.to_digit(10).unwrap_or_default();
            let mut digits = 1;
            while let Some((_, d)) = chars.next_if(|(_, d)| d.is_ascii_digit()) {
                value = value
                    .saturating_mul(10)
                    .saturating_add(d.to_digit(10).unwrap_or_default());
                digits += 1;
            }
            tokens.push(Token::Number(value, digits));
        } else if c.is_alphabetic() {
            let mut end = start + c.len_utf8();
            while let Some((at, l)) = chars.next_if(|(_, l)| l.is_alphabetic()) {
                end = at + l.len_utf8();
            }
            tokens.push(Token::Word(&text[start..end]));
        } else if !c.is_whitespace() {
            tokens.push(Token::Mark(c));
        }
    }
    tokens
}

/// A date as written: day and month (or two readings when "5/7" could be either way round)
/// and maybe a year.
struct WrittenDate {
    readings: Vec<(i8, i8)>,
    year: Option<i16>,
}

impl WrittenDate {
    /// The earliest reading that is a real date on or after `sent`, else the first real one.
    fn resolve(&self, sent: Option<Date>) -> Option<Date> {
        let dates: Vec<Date> = self
            .readings
            .iter()
            .filter_map(|&(month, day)| {
                let year = self.year.or(sent.map(|s| s.year()))?;
                let date = Date::new(year, month, day).ok()?;
                match sent {
                    Some(sent) if self.year.is_none() && date < sent => Date::new(year + 1, month, day).ok(),
                    _ => Some(date),
                }
            })
            .collect();
        let after_sent = dates.iter().filter(|d| sent.is_none_or(|s| **d >= s)).min();
        after_sent.or(dates.first()).copied()
    }
}

/// A date that starts at token `at`: ISO (2026-12-03), numeric (3.12.2026, 3.12., 12/3),
/// day then month name (3 December, 3rd of Dec 2026, 3. Dezember, 3 de diciembre,
/// 10-31 July) or month name then day (December 3rd, 2026; July 10-31).
fn date_at(tokens: &[Token], at: usize) -> Option<WrittenDate> {
    let token = |i: usize| tokens.get(i).copied();
    let year_of = |i: usize| match token(i) {
        Some(Token::Number(y, 4)) => i16::try_from(y).ok(),
        Some(Token::Number(y, 2)) => i16::try_from(2000 + y).ok(),
        _ => None,
    };
    let small = |i: usize| match token(i) {
        Some(Token::Number(n, 1 | 2)) => i8::try_from(n).ok(),
        _ => None,
    };
    let part_of_longer_number = at >= 2
        && matches!(token(at - 1), Some(Token::Mark('.' | '/' | ':' | '-')))
        && matches!(token(at - 2), Some(Token::Number(..)));
    if part_of_longer_number {
        return None;
    }
    match (token(at)?, token(at + 1)) {
        (Token::Number(year, 4), Some(Token::Mark('-'))) => {
            let month = small(at + 2)?;
            if token(at + 3) != Some(Token::Mark('-')) {
                return None;
            }
            Some(WrittenDate {
                readings: vec![(month, small(at + 4)?)],
                year: i16::try_from(year).ok(),
            })
        }
        (Token::Number(_, 1 | 2), Some(Token::Mark(separator @ ('.' | '/')))) => {
            let (first, second) = (small(at)?, small(at + 2)?);
            let year = (token(at + 3) == Some(Token::Mark(separator)))
                .then(|| year_of(at + 4))
                .flatten();
            let more = if year.is_some() { at + 5 } else { at + 3 };
            // "10.5" is a decimal and "1.2.3.4" an address; German dates end in a dot.
            let ends_cleanly = !(token(more) == Some(Token::Mark(separator))
                && matches!(token(more + 1), Some(Token::Number(..))));
            let dotted_ok = separator != '.' || year.is_some() || token(at + 3) == Some(Token::Mark('.'));
            if !ends_cleanly || !dotted_ok {
                return None;
            }
            // Dots are European (day first); slashes are either way round.
            let readings = if separator == '.' {
                vec![(second, first)]
            } else {
                vec![(second, first), (first, second)]
            };
            Some(WrittenDate { readings, year })
        }
        (Token::Number(..), _) => {
            let mut i = at;
            // "10-31 July": the range's end.
            if matches!(token(i + 1), Some(Token::Mark('-' | '–'))) && small(i + 2).is_some() {
                i += 2;
            }
            let day = small(i)?;
            i += 1;
            while matches!(
                token(i),
                Some(Token::Word("st" | "nd" | "rd" | "th" | "er" | "de" | "of" | "º"))
                    | Some(Token::Mark('.'))
            ) {
                i += 1;
            }
            let Some(Token::Word(name)) = token(i) else {
                return None;
            };
            let month = month_number(name)?;
            i += 1;
            while matches!(token(i), Some(Token::Word("de")) | Some(Token::Mark(','))) {
                i += 1;
            }
            Some(WrittenDate {
                readings: vec![(month, day)],
                year: year_of(i),
            })
        }
        (Token::Word(name), _) => {
            let month = month_number(name)?;
            let mut i = at + 1;
            if token(i) == Some(Token::Mark('.')) {
                i += 1;
            }
            let mut day = small(i)?;
            i += 1;
            if matches!(token(i), Some(Token::Word("st" | "nd" | "rd" | "th"))) {
                i += 1;
            }
            if matches!(token(i), Some(Token::Mark('-' | '–'))) {
                if let Some(end) = small(i + 1) {
                    day = end;
                    i += 2;
                }
            }
            if token(i) == Some(Token::Mark(',')) {
                i += 1;
            }
            Some(WrittenDate {
                readings: vec![(month, day)],
                year: year_of(i).filter(|_| matches!(token(i), Some(Token::Number(_, 4)))),
            })
        }
        _ => None,
    }
}

/// Month names and common abbreviations in English, German, French, Spanish, Dutch,
/// Italian and Portuguese.
fn month_number(word: &str) -> Option<i8> {
    const MONTHS: [&[&str]; 12] = [
        &[
            "january", "jan", "januar", "jänner", "janvier", "enero", "januari", "gennaio", "janeiro",
        ],
        &[
            "february",
            "feb",
            "februar",
            "février",
            "fevrier",
            "febrero",
            "februari",
            "febbraio",
            "fevereiro",
        ],
        &[
            "march", "mar", "märz", "maerz", "mars", "marzo", "maart", "março", "marco",
        ],
        &["april", "apr", "avril", "abril", "aprile"],
        &["may", "mai", "mayo", "mei", "maggio", "maio"],
        &["june", "jun", "juni", "juin", "junio", "giugno", "junho"],
        &["july", "jul", "juli", "juillet", "julio", "luglio", "julho"],
        &["august", "aug", "août", "aout", "agosto", "augustus"],
        &[
            "september",
            "sep",
            "sept",
            "septembre",
            "septiembre",
            "setiembre",
            "settembre",
            "setembro",
        ],
        &[
            "october", "oct", "oktober", "okt", "octobre", "octubre", "ottobre", "outubro",
        ],
        &["november", "nov", "novembre", "noviembre", "novembro"],
        &[
            "december",
            "dec",
            "dezember",
            "dez",
            "décembre",
            "decembre",
            "diciembre",
            "dicembre",
            "dezembro",
        ],
    ];
    let number = MONTHS.iter().position(|names| names.contains(&word))?;
    i8::try_from(number + 1).ok()
}

/// Message ids in an In-Reply-To or References header, without angle brackets.
fn ids(value: &HeaderValue) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => vec![id.to_string()],
        HeaderValue::TextList(list) => list.iter().map(|id| id.to_string()).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .map(|id| id.trim().trim_matches(['<', '>']).to_owned())
    .filter(|id| !id.is_empty())
    .collect()
}

/// The non-empty items, each once, in their first order.
fn unique(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .filter(|item| !item.is_empty() && seen.insert(item.clone()))
        .collect()
}

/// Lowercased, with typographic apostrophes made plain and every run of whitespace made one
/// space, so that one spelling of each phrase matches however the text was typed or wrapped.
fn lowercase(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .replace('\u{2019}', "'")
}

/// The first of `phrases` that `text` contains as whole words.
fn find_phrase(text: &str, phrases: &[&'static str]) -> Option<&'static str> {
    phrases
        .iter()
        .copied()
        .find(|phrase| contains_words(text, phrase))
}

/// Whether `phrase` occurs in `text` with no letter or digit joined to either end, so that
/// "absent" does not match "absently".
fn contains_words(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + phrase.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

fn starts_with_words(text: &str, phrase: &str) -> bool {
    text.strip_prefix(phrase)
        .is_some_and(|rest| !rest.chars().next().is_some_and(char::is_alphanumeric))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message from header lines and a body.
    fn message(headers: &str, body: &str) -> Classified {
        classify(format!("{headers}\n\n{body}").as_bytes())
    }

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    const DSN_HEADERS: &str = "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n\
        To: sender@ours.example\n\
        Subject: Undelivered Mail Returned to Sender\n\
        Message-ID: <bounce-1@mx.example.net>\n\
        MIME-Version: 1.0\n\
        Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"";

    /// An RFC 3464 report with the given per-recipient fields and our original attached.
    fn dsn(recipient_fields: &str) -> Classified {
        let body = format!(
            "--B\nContent-Type: text/plain\n\nThe mail system could not deliver your message.\n\n\
             --B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n{recipient_fields}\n\n\
             --B\nContent-Type: message/rfc822\n\nFrom: Sender <sender@ours.example>\nTo: lead@their.example\n\
             Message-ID: <send-42@ours.example>\nSubject: Quick question\n\nHello, unsubscribe here.\n--B--\n"
        );
        message(DSN_HEADERS, &body)
    }

    #[test]
    fn rfc3464_failures_give_recipient_status_and_the_returned_send() {
        let got = dsn(
            "Final-Recipient: rfc822; Lead@Their.example\nAction: failed\nStatus: 5.1.1\n\
                       Diagnostic-Code: smtp; 550 5.1.1 <lead@their.example>: User unknown",
        );
        assert_eq!(got.class, Class::HardBounce, "{}", got.reason);
        assert_eq!(got.failed_recipient.as_deref(), Some("lead@their.example"));
        assert_eq!(got.status.as_deref(), Some("5.1.1"));
        assert_eq!(got.returned_message_ids, ["send-42@ours.example"]);
        assert_eq!(got.message_id.as_deref(), Some("bounce-1@mx.example.net"));
        assert_eq!(got.from.as_deref(), Some("mailer-daemon@mx.example.net"));
    }

    #[test]
    fn a_generic_status_takes_the_diagnostic_code() {
        let got = dsn(
            "Final-Recipient: rfc822; lead@their.example\nAction: failed\nStatus: 5.0.0\n\
                       Diagnostic-Code: smtp; 550 5.1.1 no such user",
        );
        assert_eq!(
            (got.class, got.status.as_deref()),
            (Class::HardBounce, Some("5.1.1"))
        );
        // Without one, words decide and the status stays as reported.
        let got = dsn(
            "Final-Recipient: rfc822; lead@their.example\nAction: failed\nStatus: 5.0.0\n\
                       Diagnostic-Code: smtp; 552 Quota exceeded",
        );
        assert_eq!(
            (got.class, got.status.as_deref()),
            (Class::SoftBounce, Some("5.0.0"))
        );
    }

    #[test]
    fn temporary_failures_and_full_mailboxes_are_soft() {
        let delayed = dsn("Final-Recipient: rfc822; lead@their.example\nAction: delayed\nStatus: 4.4.7");
        assert_eq!(delayed.class, Class::SoftBounce);
        let expired = dsn("Final-Recipient: rfc822; lead@their.example\nAction: failed\nStatus: 4.4.7");
        assert_eq!(expired.class, Class::SoftBounce);
        let full = dsn(
            "Final-Recipient: rfc822; lead@their.example\nAction: failed\nStatus: 5.2.2\n\
                        Diagnostic-Code: smtp; 552 5.2.2 Mailbox full",
        );
        assert_eq!(
            (full.class, full.status.as_deref()),
            (Class::SoftBounce, Some("5.2.2"))
        );
        let policy = dsn(
            "Final-Recipient: rfc822; lead@their.example\nAction: failed\nStatus: 5.7.1\n\
                          Diagnostic-Code: smtp; 550 5.7.1 blocked",
        );
        assert_eq!(
            policy.class,
            Class::HardBounce,
            "a permanent refusal is still hard"
        );
    }

    #[test]
    fn the_first_failed_recipient_counts_and_original_recipient_stands_in() {
        let got = dsn(
            "Original-Recipient: rfc822; first@their.example\nAction: failed\nStatus: 5.1.1\n\n\
                       Final-Recipient: rfc822; second@their.example\nAction: failed\nStatus: 5.1.1",
        );
        assert_eq!(got.failed_recipient.as_deref(), Some("first@their.example"));
        let got = dsn(
            "Final-Recipient: rfc822; fine@their.example\nAction: delivered\nStatus: 2.0.0\n\n\
                       Final-Recipient: rfc822; gone@their.example\nAction: failed\nStatus: 5.1.2",
        );
        assert_eq!(got.failed_recipient.as_deref(), Some("gone@their.example"));
    }

    #[test]
    fn success_reports_are_other_mail() {
        let got = dsn("Final-Recipient: rfc822; lead@their.example\nAction: delivered\nStatus: 2.1.5");
        assert_eq!(got.class, Class::Other, "{}", got.reason);
        assert_eq!(got.failed_recipient, None);
    }

    #[test]
    fn exim_bounces_name_the_recipient_in_a_header() {
        let got = message(
            "From: Mail Delivery System <Mailer-Daemon@mx.example.net>\nTo: sender@ours.example\n\
             X-Failed-Recipients: lead@their.example\nAuto-Submitted: auto-replied\n\
             Subject: Mail delivery failed: returning message to sender",
            "This message was created automatically by mail delivery software.\n\n\
             A message that you sent could not be delivered to one or more of its\n\
             recipients. This is a permanent error. The following address(es) failed:\n\n  \
             lead@their.example\n    SMTP error from remote mail server after RCPT TO:<lead@their.example>:\n    \
             550 5.1.1 User unknown\n\n\
             ------ This is a copy of the message, including all the headers. ------\n\n\
             From: sender@ours.example\nMessage-ID: <send-7@ours.example>\nSubject: hi\n\nunsubscribe\n",
        );
        assert_eq!(got.class, Class::HardBounce, "{}", got.reason);
        assert_eq!(got.failed_recipient.as_deref(), Some("lead@their.example"));
        assert_eq!(got.status.as_deref(), Some("5.1.1"));
        assert_eq!(got.returned_message_ids, ["send-7@ours.example"]);
    }

    #[test]
    fn plain_text_bounces_are_read_from_their_words() {
        let qmail = |reason: &str| {
            message(
                "From: MAILER-DAEMON@mx.example.net\nTo: sender@ours.example\nSubject: failure notice",
                &format!(
                    "Hi. This is the qmail-send program at mx.example.net.\n\
                     I'm afraid I wasn't able to deliver your message to the following addresses.\n\
                     This is a permanent error; I've given up. Sorry it didn't work out.\n\n\
                     <lead@their.example>:\n{reason}\n\n\
                     --- Below this line is a copy of the message.\n\n\
                     Return-Path: <other-sender@ours.example>\nTo: someone@else.example\n\nhi\n"
                ),
            )
        };
        let unknown = qmail("Sorry, no mailbox here by that name. (#5.1.1)");
        assert_eq!(unknown.class, Class::HardBounce);
        assert_eq!(unknown.failed_recipient.as_deref(), Some("lead@their.example"));
        assert_eq!(unknown.status.as_deref(), Some("5.1.1"));
        assert_eq!(qmail("The user's mailfolder is full.").class, Class::SoftBounce);
        assert_eq!(
            qmail("Remote host said: 450 mailbox busy, try later").class,
            Class::SoftBounce
        );
        assert_eq!(qmail("Retry timeout exceeded").class, Class::SoftBounce);
        assert_eq!(qmail("User unknown").class, Class::HardBounce);
    }

    #[test]
    fn the_failed_address_is_never_our_own() {
        let got = message(
            "From: postmaster@mx.example.net\nTo: bounces+token@ours.example\nSubject: Undeliverable: hi",
            "Your message from sender@ours.example to lead@their.example could not be delivered.\n\
             User unknown.\n\nOriginal message follows.\n\nFrom: sender@ours.example\n",
        );
        assert_eq!(got.class, Class::HardBounce);
        assert_eq!(got.failed_recipient.as_deref(), Some("lead@their.example"));
    }

    #[test]
    fn the_null_sender_makes_a_one_line_notice_a_bounce() {
        let got = message(
            "From: <>\nTo: sender@ours.example\nAuto-Submitted: auto-replied",
            "You sent mail to lead@their.example. That's not a valid user here.",
        );
        assert_eq!(got.class, Class::HardBounce, "{}", got.reason);
        assert_eq!(got.failed_recipient.as_deref(), Some("lead@their.example"));
    }

    #[test]
    fn a_person_is_never_a_bounce() {
        let person = message(
            "From: Ann Lee <ann@their.example>\nTo: sender@ours.example\nSubject: Re: Quick question\n\
             In-Reply-To: <send-1@ours.example>",
            "Your other email could not be delivered: user unknown, the mailbox does not exist.\n\
             Try bob@their.example instead.\n\nOn Mon, 1 Jun 2026, Sender <sender@ours.example> wrote:\n> Hi",
        );
        assert_eq!(person.class, Class::Human, "{}", person.reason);
        // Even from a postmaster address, a "Re:" is somebody writing back.
        let postmaster = message(
            "From: postmaster@their.example\nTo: sender@ours.example\nSubject: Re: Quick question",
            "We blocked your domain: the mailbox does not exist.",
        );
        assert!(
            !matches!(postmaster.class, Class::HardBounce | Class::SoftBounce),
            "{}",
            postmaster.reason
        );
    }

    #[test]
    fn challenge_response_screens_are_other_mail() {
        let screen = message(
            "From: lead@their.example\nTo: sender@ours.example\nSubject: RE: Quick question",
            "This account is protected. Please click on the following link to have your\n\
             address added to the recipient's allowed list.\n\nhttps://screen.example/verify/1",
        );
        assert_eq!(screen.class, Class::Other, "{}", screen.reason);
        let person = message(
            "From: lead@their.example\nTo: sender@ours.example\nSubject: Re: Quick question",
            "Sure, I'll put you on the guest list for Friday.",
        );
        assert_eq!(person.class, Class::Human, "{}", person.reason);
    }

    #[test]
    fn rfc3834_and_vendor_headers_make_auto_replies() {
        for header in [
            "Auto-Submitted: auto-replied",
            "X-Autoreply: yes",
            "X-Autorespond: on",
            "Precedence: auto_reply",
        ] {
            let got = message(
                &format!("From: lead@their.example\nSubject: Re: Quick question\n{header}"),
                "Thanks, I'll get back to you.",
            );
            assert_eq!(got.class, Class::AutoReply, "{header}: {}", got.reason);
        }
        let explicit_no = message(
            "From: lead@their.example\nSubject: Re: Quick question\nAuto-Submitted: no",
            "Sounds good.",
        );
        assert_eq!(explicit_no.class, Class::Human);
    }

    #[test]
    fn out_of_office_subjects_in_several_languages() {
        for subject in [
            "Automatic reply: Quick question",
            "Out of Office: Quick question",
            "Abwesenheitsnotiz: Quick question",
            "Automatische Antwort: Quick question",
            "Réponse automatique : Quick question",
            "Absence du bureau",
            "Respuesta automática: Quick question",
            "Automatisch antwoord: Quick question",
            "Risposta automatica: Quick question",
            "AUTO: Ann Lee is out of the office (returning 05/01/2026)",
        ] {
            let got = message(
                &format!("From: lead@their.example\nSubject: {subject}"),
                "Back soon.",
            );
            assert_eq!(got.class, Class::AutoReply, "{subject}: {}", got.reason);
        }
    }

    #[test]
    fn our_own_subject_words_do_not_make_an_auto_reply() {
        let got = message(
            "From: lead@their.example\nSubject: Re: Cover for staff on vacation\nIn-Reply-To: <send-1@ours.example>",
            "Interesting, tell me more.",
        );
        assert_eq!(got.class, Class::Human, "{}", got.reason);
        // With a header saying automated, the same words do count.
        let got = message(
            "From: lead@their.example\nSubject: Re: Quick question\nX-Auto-Response-Suppress: All",
            "I am out of the office until 3 June.",
        );
        assert_eq!(got.class, Class::AutoReply, "{}", got.reason);
    }

    #[test]
    fn return_dates_in_several_forms() {
        let sent = Some(date("2026-11-20"));
        for (text, expected) in [
            ("i am away until 2026-12-03.", "2026-12-03"),
            ("back on 12 december", "2026-12-12"),
            ("i'll be back on december 12th, 2026", "2026-12-12"),
            ("returning 05/01/2027", "2027-01-05"),
            ("out until monday 3rd of january", "2027-01-03"),
            ("ich bin bis zum 03.12.2026 nicht im büro", "2026-12-03"),
            ("ab dem 7.12. wieder erreichbar", "2026-12-07"),
            ("je serai de retour le 5 janvier", "2027-01-05"),
            ("estaré fuera hasta el 12 de diciembre", "2026-12-12"),
            ("ik ben tot en met 3 december afwezig", "2026-12-03"),
            ("traveling on december 10-14", "2026-12-14"),
        ] {
            assert_eq!(return_date(text, sent), Some(date(expected)), "{text}");
        }
        assert_eq!(
            return_date("i am away for a while, version 1.2.3.4, 10.5 million", sent),
            None
        );
        assert_eq!(
            return_date("your message of 01/11/2026", sent),
            None,
            "before the notice"
        );
        let got = message(
            "From: lead@their.example\nDate: Fri, 20 Nov 2026 10:00:00 +0000\nAuto-Submitted: auto-replied\n\
             Subject: Out of office",
            "I'm out of the office and back on 12 December.\n\nOn Thu, 19 Nov 2026 we wrote:\n> until 1 march",
        );
        assert_eq!(got.return_date, Some(date("2026-12-12")));
    }

    #[test]
    fn automated_mail_that_answers_nobody_is_other() {
        let cases = [
            "From: news@shop.example\nList-Unsubscribe: <mailto:u@shop.example>\nSubject: Weekly deals",
            "From: team@shop.example\nPrecedence: bulk\nSubject: Your invoice",
            "From: no-reply@service.example\nSubject: Your password was changed",
            "From: alerts@service.example\nAuto-Submitted: auto-generated\nSubject: Disk almost full",
            "From: reports@service.example\nSubject: Report domain: ours.example Submitter: google.com",
        ];
        for headers in cases {
            let got = message(headers, "Hello. To unsubscribe click here.");
            assert_eq!(got.class, Class::Other, "{headers}: {}", got.reason);
        }
        // A generated answer to our message is an automatic reply (a ticket acknowledgement).
        let ack = message(
            "From: support@their.example\nAuto-Submitted: auto-generated\nIn-Reply-To: <send-1@ours.example>\n\
             Subject: [Ticket #12] Quick question",
            "We received your request.",
        );
        assert_eq!(ack.class, Class::AutoReply, "{}", ack.reason);
        // A person's answer through a mailing list keeps the list's headers.
        let list_reply = message(
            "From: ann@their.example\nList-Id: <team.their.example>\nPrecedence: list\n\
             In-Reply-To: <send-1@ours.example>\nSubject: Re: Quick question",
            "Let's talk on Monday.",
        );
        assert_eq!(list_reply.class, Class::Human, "{}", list_reply.reason);
    }

    #[test]
    fn feedback_reports_and_read_receipts() {
        let arf = |kind: &str| {
            message(
                "From: fbl@isp.example\nMIME-Version: 1.0\n\
                 Content-Type: multipart/report; report-type=feedback-report; boundary=\"B\"",
                &format!(
                    "--B\nContent-Type: text/plain\n\nA report.\n--B\nContent-Type: message/feedback-report\n\n\
                     Feedback-Type: {kind}\nVersion: 1\n--B\nContent-Type: text/rfc822-headers\n\n\
                     From: sender@ours.example\nMessage-ID: <send-9@ours.example>\n--B--\n"
                ),
            )
        };
        let opt_out = arf("opt-out");
        assert_eq!(opt_out.class, Class::Unsubscribe);
        assert_eq!(opt_out.returned_message_ids, ["send-9@ours.example"]);
        assert_eq!(arf("abuse").class, Class::Other);
        let receipt = message(
            "From: lead@their.example\nMIME-Version: 1.0\n\
             Content-Type: multipart/report; report-type=disposition-notification; boundary=\"B\"",
            "--B\nContent-Type: text/plain\n\nDisplayed.\n--B\nContent-Type: message/disposition-notification\n\n\
             Disposition: manual-action/MDN-sent-manually; displayed\n--B--\n",
        );
        assert_eq!(receipt.class, Class::Other);
    }

    #[test]
    fn unsubscribe_subjects() {
        for subject in [
            "unsubscribe",
            "Unsubscribe 8f3a2c",
            "Re: unsubscribe",
            "REMOVE ME",
            "Stop",
        ] {
            let got = message(&format!("From: lead@their.example\nSubject: {subject}"), "");
            assert_eq!(got.class, Class::Unsubscribe, "{subject}");
        }
        // Apple Mail's one-click message is auto-submitted, and still an unsubscribe.
        let apple = message(
            "From: lead@their.example\nAuto-Submitted: auto-replied\nSubject: unsubscribe",
            "",
        );
        assert_eq!(apple.class, Class::Unsubscribe);
    }

    #[test]
    fn requests_to_stop_above_the_quote() {
        for request in [
            "Please remove me from your list.",
            "Take me off your mailing list",
            "stop emailing me",
            "Bitte tragen Sie mich aus Ihrem Verteiler aus.",
            "Merci de me désinscrire.",
            "Por favor, darme de baja.",
            "Graag uitschrijven.",
        ] {
            let got = message(
                "From: lead@their.example\nSubject: Re: Quick question\nIn-Reply-To: <send-1@ours.example>",
                &format!(
                    "{request}\n\nOn Mon, 1 Jun 2026 at 10:00, Sender <sender@ours.example> wrote:\n> Hi"
                ),
            );
            assert_eq!(got.class, Class::Unsubscribe, "{request}: {}", got.reason);
        }
    }

    #[test]
    fn a_quoted_footer_is_not_a_request() {
        let footers = [
            "Sounds interesting.\n\nOn Mon, 1 Jun 2026 at 10:00, Sender Name\n<sender@ours.example> wrote:\n\
             > Hi\n> To unsubscribe, reply \"unsubscribe\".",
            "Sounds interesting.\n\n-----Original Message-----\nFrom: Sender\nSent: Monday\n\nTo unsubscribe click here",
            "Sounds interesting.\n\nFrom: Sender <sender@ours.example>\nSent: Monday, 1 June 2026 10:00\n\
             To: Lead\nSubject: Quick question\n\nTo unsubscribe click here",
            "Klingt gut.\n\nVon: Sender <sender@ours.example>\nGesendet: Montag, 1. Juni 2026\n\
             An: Lead\nBetreff: Quick question\n\nAbmelden: hier klicken",
            "Sounds interesting.\n________________________________\nunsubscribe",
        ];
        for body in footers {
            let got = message("From: lead@their.example\nSubject: Re: Quick question", body);
            assert_eq!(got.class, Class::Human, "{body}: {}", got.reason);
            assert!(got.snippet.starts_with("Sounds interesting.") || got.snippet == "Klingt gut.");
            assert!(
                !got.snippet.contains("nsubscribe"),
                "the snippet is the authored part: {}",
                got.snippet
            );
        }
        let html = |body: &str| {
            message(
                "From: lead@their.example\nSubject: Re: Quick question\nContent-Type: text/html",
                body,
            )
        };
        for body in [
            "<div>Sounds good.</div><div class=\"gmail_quote\"><div>On Mon, 1 Jun 2026 at 10:00, Sender \
             &lt;sender@ours.example&gt; wrote:</div><blockquote><div>Hi</div><div>To unsubscribe click \
             <a href=\"u\">here</a></div></blockquote></div>",
            "<p>Sounds good.</p><hr><div id=\"divRplyFwdMsg\"><b>From:</b> Sender<br><b>Sent:</b> Monday<br>\
             <b>To:</b> Lead<br><b>Subject:</b> Hi</div><div>unsubscribe</div>",
            "<div>Sounds good.<blockquote type=\"cite\">unsubscribe</blockquote></div>",
        ] {
            let got = html(body);
            assert_eq!(got.class, Class::Human, "{body}: {}", got.reason);
        }
        let request = html("<div>Please remove me.</div><blockquote>Hi</blockquote>");
        assert_eq!(request.class, Class::Unsubscribe, "{}", request.reason);
    }

    #[test]
    fn threading_ids_come_without_brackets() {
        let got = message(
            "From: Ann <ann@their.example>\nMessage-ID: <reply-1@their.example>\n\
             In-Reply-To: <send-2@ours.example>\nReferences: <send-1@ours.example> <send-2@ours.example>\n\
             Subject: Re: Quick question",
            "Yes, let's talk.",
        );
        assert_eq!(got.class, Class::Human);
        assert_eq!(got.message_id.as_deref(), Some("reply-1@their.example"));
        assert_eq!(got.in_reply_to, ["send-2@ours.example", "send-1@ours.example"]);
        assert_eq!(got.subject.as_deref(), Some("Re: Quick question"));
        assert_eq!(got.from.as_deref(), Some("ann@their.example"));
    }

    #[test]
    fn class_names_are_stable() {
        let names = [
            Class::HardBounce,
            Class::SoftBounce,
            Class::AutoReply,
            Class::Unsubscribe,
            Class::Other,
            Class::Human,
        ]
        .map(Class::as_str);
        assert_eq!(
            names,
            [
                "hard_bounce",
                "soft_bounce",
                "auto_reply",
                "unsubscribe",
                "other",
                "human"
            ]
        );
    }

    #[test]
    fn anything_that_is_not_mail_is_other() {
        assert_eq!(classify(b"").class, Class::Other);
        assert_eq!(classify(&[0xff, 0xfe, 0x00, b'\n', b'\n']).class, Class::Other);
    }

    #[test]
    fn codes_in_free_text() {
        let codes = |text| enhanced_codes(text).map(|c| c.to_string()).collect::<Vec<_>>();
        assert_eq!(
            codes("said: 550 5.1.1 <a@b.c>... (#5.5.0) ERROR_CODE :4.2.2."),
            ["5.1.1", "5.5.0", "4.2.2"]
        );
        assert!(codes("host 192.0.2.1, Exim 4.80, sendmail 8.14.1/8.12.11, 5.1.1000, 5.1.1a").is_empty());
        assert_eq!(reply_code("host said: 550-5.1.1 no"), Some(550));
        assert_eq!(reply_code("call 480-624-2500 or 5500 or 1550 or 450.5"), None);
    }
}

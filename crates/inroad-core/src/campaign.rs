//! Campaign files: the TOML a user writes to describe a sequence, read into a
//! [`CampaignSpec`], and the structural lint that decides whether it may start.
//!
//! Reading is strict because a campaign file is the one place a typo costs real mail:
//! unknown keys are errors (a misspelt `stop_on_reply` would otherwise silently keep
//! mailing people who answered), and errors point at a line and column when TOML knows
//! one. Reading rejects only what leaves a step without a meaning (an unknown or not yet
//! supported channel, a first email without a subject, a step without a body, a zero
//! weight, a follow-up that waits no days). Everything about the campaign as a whole —
//! compliance settings, mailboxes, time zone, window, deliverability hints — is left to
//! [`lint_structure`], so one run lists every problem instead of stopping at the first.
//!
//! Decisions on defaults, so that a short file does something sensible and says so:
//! - `channel` defaults to "email". LinkedIn steps (`linkedin_connect` with an optional
//!   `note`, `linkedin_message` with a `body`, `linkedin_inmail` with `subject` and
//!   `body`) become tasks a person does; a connect step may say
//!   `if_not_accepted_after_days = N`, after which a lead who has not accepted skips the
//!   LinkedIn steps up to the next email step.
//! - `wait_days` defaults to 0 on the first step (send on enrolment) and 3 on later steps;
//!   a later step must wait at least 1 day (two cold emails minutes apart read as spam).
//! - A later step without a subject replies in the thread: its subject is
//!   [`reply_subject`] of the subject the lead got in the first step (which may differ by
//!   A/B variant, so it is resolved per lead when rendering, not here).
//! - `[[steps.variants]]` may omit `subject` or `body`; they inherit the step's. A step
//!   without variants is one variant of weight 1, so consumers always pick a variant.
//! - `window` defaults to Monday–Friday 09:00–17:00 and `timezone` to UTC; both defaults,
//!   and a missing `daily_new_leads` (no campaign-level limit), are lint warnings.

use std::fmt;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use toml::Spanned;

use crate::schedule::{splitmix64, ScheduleError, Window};

/// A campaign file, read and checked for meaning; see [`lint_structure`] for whether it
/// may start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CampaignSpec {
    pub name: String,
    /// Names of mailboxes added with `inroad mailbox add`.
    pub mailboxes: Vec<String>,
    /// The sender's physical postal address, put in every message's footer (CAN-SPAM).
    pub postal_address: Option<String>,
    /// Public base URL of `inroad serve`, under which one-click unsubscribe links live.
    pub unsubscribe_url: Option<String>,
    /// IANA time zone for windows when neither the lead nor the mailbox has one.
    pub timezone: Option<String>,
    pub window: Option<WindowSpec>,
    /// How many leads may start the sequence per day; `None` leaves it to mailbox caps.
    pub daily_new_leads: Option<u32>,
    pub stop_on_reply: bool,
    /// A reply from anyone at a company stops the sequence for everyone there.
    pub stop_company_on_reply: bool,
    /// Names of LinkedIn accounts added with `inroad linkedin account add`; a lead sticks
    /// to one.
    pub linkedin_accounts: Vec<String>,
    pub steps: Vec<Step>,
}

/// The `window = { days = [...], start = "HH:MM", end = "HH:MM" }` table as written; it is
/// read into a [`Window`] by [`CampaignSpec::sending_window`].
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    pub days: Vec<String>,
    pub start: String,
    pub end: String,
}

/// How a step reaches the lead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Email,
    /// An invitation to connect, with an optional note.
    LinkedinConnect,
    /// A message to a 1st-degree connection (after the invitation was accepted).
    LinkedinMessage,
    /// A message to a non-connection; costs an InMail credit.
    LinkedinInmail,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::LinkedinConnect => "linkedin_connect",
            Channel::LinkedinMessage => "linkedin_message",
            Channel::LinkedinInmail => "linkedin_inmail",
        }
    }

    pub fn is_linkedin(self) -> bool {
        self != Channel::Email
    }
}

/// One touch of the sequence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub channel: Channel,
    /// Days after the previous step (after enrolment for the first step).
    pub wait_days: u32,
    /// Count `wait_days` as Monday–Friday working days.
    pub business_days: bool,
    /// On a `linkedin_connect` step: a lead who has not accepted after this many days
    /// skips the LinkedIn steps up to the next email step.
    pub if_not_accepted_after_days: Option<u32>,
    /// Never empty; pick one per lead with [`variant_for`] over [`Step::weights`].
    pub variants: Vec<Variant>,
}

impl Step {
    /// The variants' weights in order, as [`variant_for`] takes them.
    pub fn weights(&self) -> Vec<u32> {
        self.variants.iter().map(|v| v.weight).collect()
    }
}

/// One version of a step's message (the only one, or one side of an A/B test). Subject and
/// body are templates, rendered per lead elsewhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variant {
    /// `None` on a later step: reply in the thread ([`reply_subject`] of the first subject).
    /// Always set on the first email step.
    pub subject: Option<String>,
    /// Plain text: every message has it (empty on a `linkedin_connect` step, which has
    /// an optional `note` instead).
    pub body: String,
    /// The invitation note of a `linkedin_connect` step, if any.
    pub note: Option<String>,
    /// An HTML version of the body, sent beside the text when given. Lead fields are
    /// HTML-escaped in it.
    pub html: Option<String>,
    /// Relative share of leads, at least 1.
    pub weight: u32,
}

/// Why a campaign file could not be read. `line` and `column` (1-based, columns in
/// characters) are set when the problem has a place in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CampaignError {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for CampaignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, "line {line}, column {column}: {}", self.message),
            (Some(line), None) => write!(f, "line {line}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for CampaignError {}

/// Later steps wait this many days when `wait_days` is not given.
pub const DEFAULT_FOLLOW_UP_WAIT_DAYS: u32 = 3;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCampaign {
    name: String,
    #[serde(default)]
    mailboxes: Vec<String>,
    postal_address: Option<String>,
    unsubscribe_url: Option<String>,
    timezone: Option<String>,
    window: Option<WindowSpec>,
    daily_new_leads: Option<u32>,
    #[serde(default = "default_true")]
    stop_on_reply: bool,
    #[serde(default)]
    stop_company_on_reply: bool,
    #[serde(default)]
    linkedin_accounts: Vec<String>,
    #[serde(default)]
    steps: Vec<Spanned<RawStep>>,
}

fn default_true() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    channel: Option<Spanned<String>>,
    wait_days: Option<Spanned<u32>>,
    #[serde(default)]
    business_days: bool,
    subject: Option<Spanned<String>>,
    body: Option<Spanned<String>>,
    html: Option<Spanned<String>>,
    note: Option<Spanned<String>>,
    if_not_accepted_after_days: Option<Spanned<u32>>,
    #[serde(default)]
    variants: Vec<Spanned<RawVariant>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariant {
    subject: Option<Spanned<String>>,
    body: Option<Spanned<String>>,
    html: Option<Spanned<String>>,
    note: Option<Spanned<String>>,
    weight: Option<Spanned<u32>>,
}

/// Reads a campaign file. Fails on TOML syntax, unknown keys, wrong types and steps
/// without a meaning (see the module docs); campaign-wide problems are
/// [`lint_structure`]'s.
pub fn parse_campaign(text: &str) -> Result<CampaignSpec, CampaignError> {
    let raw: RawCampaign = toml::from_str(text).map_err(|err| {
        let (line, column) = err.span().map(|span| position(text, span.start)).unzip();
        CampaignError {
            line,
            column,
            message: err.message().trim_end().to_string(),
        }
    })?;
    let fail = |span: std::ops::Range<usize>, message: String| {
        let (line, column) = position(text, span.start);
        CampaignError {
            line: Some(line),
            column: Some(column),
            message,
        }
    };

    let mut steps = Vec::with_capacity(raw.steps.len());
    let mut seen_email = false;
    for (index, raw_step) in raw.steps.into_iter().enumerate() {
        let n = index + 1;
        let step_span = raw_step.span();
        let raw_step = raw_step.into_inner();

        let channel = match raw_step.channel.as_ref().map(|c| c.get_ref().as_str()) {
            None | Some("email") => Channel::Email,
            Some("linkedin_connect") => Channel::LinkedinConnect,
            Some("linkedin_message") => Channel::LinkedinMessage,
            Some("linkedin_inmail") => Channel::LinkedinInmail,
            Some(other) => {
                let message = format!(
                    "unknown channel {other:?} (step {n}); expected \"email\", \"linkedin_connect\", \
                     \"linkedin_message\" or \"linkedin_inmail\""
                );
                let span = raw_step.channel.as_ref().map_or(step_span.clone(), Spanned::span);
                return Err(fail(span, message));
            }
        };
        let if_not_accepted_after_days = match &raw_step.if_not_accepted_after_days {
            Some(d) if channel != Channel::LinkedinConnect => {
                let message =
                    format!("if_not_accepted_after_days belongs on a linkedin_connect step (step {n})");
                return Err(fail(d.span(), message));
            }
            Some(d) if *d.get_ref() == 0 => {
                return Err(fail(
                    d.span(),
                    format!("if_not_accepted_after_days must be at least 1 (step {n})"),
                ));
            }
            d => d.as_ref().map(|d| *d.get_ref()),
        };
        let first_email = channel == Channel::Email && !seen_email;
        seen_email |= channel == Channel::Email;

        let wait_days = match &raw_step.wait_days {
            None if index == 0 => 0,
            None => DEFAULT_FOLLOW_UP_WAIT_DAYS,
            Some(w) if index > 0 && *w.get_ref() == 0 => {
                let message = format!("wait_days must be at least 1 after the previous step (step {n})");
                return Err(fail(w.span(), message));
            }
            Some(w) => *w.get_ref(),
        };

        // A step without [[steps.variants]] is its own single variant.
        let raw_variants = if raw_step.variants.is_empty() {
            let only = RawVariant {
                subject: raw_step.subject.clone(),
                body: raw_step.body.clone(),
                html: raw_step.html.clone(),
                note: raw_step.note.clone(),
                weight: None,
            };
            vec![Spanned::new(step_span.clone(), only)]
        } else {
            raw_step.variants
        };
        let several = raw_variants.len() > 1;
        let mut variants = Vec::with_capacity(raw_variants.len());
        for (v_index, raw_variant) in raw_variants.into_iter().enumerate() {
            let where_ = place(index, v_index, several);
            let variant_span = raw_variant.span();
            let raw_variant = raw_variant.into_inner();
            let subject = raw_variant.subject.or_else(|| raw_step.subject.clone());
            let body = raw_variant.body.or_else(|| raw_step.body.clone());
            let note = raw_variant.note.or_else(|| raw_step.note.clone());
            let misplaced = |key: &str, value: &Option<Spanned<String>>, allowed: bool| match value {
                Some(v) if !allowed => {
                    let message = format!("{key} does not belong on a {} step ({where_})", channel.as_str());
                    Err(fail(v.span(), message))
                }
                _ => Ok(()),
            };
            misplaced("note", &note, channel == Channel::LinkedinConnect)?;
            misplaced(
                "html",
                &raw_variant.html.clone().or_else(|| raw_step.html.clone()),
                channel == Channel::Email,
            )?;
            misplaced(
                "subject",
                &subject,
                matches!(channel, Channel::Email | Channel::LinkedinInmail),
            )?;
            misplaced("body (use note)", &body, channel != Channel::LinkedinConnect)?;
            let note = match note {
                Some(n) if n.get_ref().trim().is_empty() => {
                    return Err(fail(
                        n.span(),
                        format!("note is empty ({where_}); leave it out to invite without one"),
                    ));
                }
                note => note.map(Spanned::into_inner),
            };
            let html = match raw_variant.html.or_else(|| raw_step.html.clone()) {
                Some(h) if h.get_ref().trim().is_empty() => {
                    return Err(fail(
                        h.span(),
                        format!("html is empty ({where_}); leave it out to send text only"),
                    ));
                }
                html => html.map(Spanned::into_inner),
            };
            let weight = match raw_variant.weight {
                None => 1,
                Some(w) if *w.get_ref() == 0 => {
                    return Err(fail(
                        w.span(),
                        format!("weight must be a positive integer ({where_})"),
                    ));
                }
                Some(w) => w.into_inner(),
            };
            let body = match body {
                None if channel == Channel::LinkedinConnect => {
                    Spanned::new(variant_span.clone(), String::new())
                }
                None => return Err(fail(variant_span, format!("body is missing ({where_})"))),
                Some(b) if b.get_ref().trim().is_empty() => {
                    return Err(fail(b.span(), format!("body is empty ({where_})")));
                }
                Some(b) => b,
            }
            .into_inner();
            let subject = match subject {
                None if first_email || channel == Channel::LinkedinInmail => {
                    let which = if first_email {
                        "the first email step"
                    } else {
                        "an InMail"
                    };
                    let message = format!("{which} needs a subject ({where_})");
                    return Err(fail(variant_span, message));
                }
                Some(s) if s.get_ref().trim().is_empty() => {
                    let hint = if first_email {
                        ""
                    } else {
                        "; leave it out to reply in the thread"
                    };
                    return Err(fail(s.span(), format!("subject is empty ({where_}){hint}")));
                }
                subject => subject.map(Spanned::into_inner),
            };
            variants.push(Variant {
                subject,
                body,
                html,
                note,
                weight,
            });
        }
        steps.push(Step {
            channel,
            wait_days,
            business_days: raw_step.business_days,
            if_not_accepted_after_days,
            variants,
        });
    }

    Ok(CampaignSpec {
        name: raw.name,
        mailboxes: raw.mailboxes,
        postal_address: raw.postal_address,
        unsubscribe_url: raw.unsubscribe_url,
        timezone: raw.timezone,
        window: raw.window,
        daily_new_leads: raw.daily_new_leads,
        stop_on_reply: raw.stop_on_reply,
        stop_company_on_reply: raw.stop_company_on_reply,
        linkedin_accounts: raw.linkedin_accounts,
        steps,
    })
}

/// 1-based line and character column of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

impl CampaignSpec {
    /// The first email step: its subject is the thread's, for follow-ups without one.
    pub fn first_email_step(&self) -> Option<usize> {
        self.steps.iter().position(|s| s.channel == Channel::Email)
    }

    /// The campaign's fallback time zone: `timezone`, or UTC when unset. Looks the name up
    /// in jiff's time zone database.
    pub fn time_zone(&self) -> Result<TimeZone, jiff::Error> {
        self.timezone.as_deref().map_or(Ok(TimeZone::UTC), TimeZone::get)
    }

    /// The sending window: `window`, or Monday–Friday 09:00–17:00 when unset.
    pub fn sending_window(&self) -> Result<Window, ScheduleError> {
        match &self.window {
            Some(w) => Window::parse(
                &w.days.iter().map(String::as_str).collect::<Vec<_>>(),
                &w.start,
                &w.end,
            ),
            None => Window::parse(&["mon", "tue", "wed", "thu", "fri"], "09:00", "17:00"),
        }
    }

    /// Where a lead goes who waits at step `waiting` (a message, which needs a connection)
    /// while the invitation it got at step `invited_step`, sent at `invited_at`, is not
    /// accepted: once that step's `if_not_accepted_after_days` have passed (24-hour days,
    /// counted from the invitation), past the LinkedIn steps to the next email step. `None`:
    /// it keeps waiting (too soon, or the step sets no such limit).
    pub fn skip_unaccepted(
        &self,
        invited_step: usize,
        invited_at: Timestamp,
        waiting: usize,
        now: Timestamp,
    ) -> Option<Skip> {
        let days = self.steps.get(invited_step)?.if_not_accepted_after_days?;
        let patience = SignedDuration::from_hours(24 * i64::from(days));
        if now < invited_at.saturating_add(patience).unwrap_or(Timestamp::MAX) {
            return None;
        }
        let next_email = self
            .steps
            .iter()
            .enumerate()
            .skip(waiting + 1)
            .find(|(_, s)| s.channel == Channel::Email);
        Some(next_email.map_or(Skip::Finished, |(step, _)| Skip::To(step)))
    }
}

/// Where [`CampaignSpec::skip_unaccepted`] sends a lead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    /// To this email step, due at once (its window decides the hour).
    To(usize),
    /// Out of the sequence: no email step is left.
    Finished,
}

/// The subject of a follow-up that replies in the thread: "Re: " before the first step's
/// (rendered) subject, unless it already starts with "Re:".
pub fn reply_subject(first_subject: &str) -> String {
    let has_re = first_subject
        .get(..3)
        .is_some_and(|p| p.eq_ignore_ascii_case("re:"));
    if has_re {
        first_subject.to_string()
    } else {
        format!("Re: {first_subject}")
    }
}

/// Whether a finding blocks the campaign from starting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The campaign refuses to start.
    Error,
    /// Worth fixing; the campaign may start.
    Warning,
}

/// One lint result, with a message that says what to change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{label}: {}", self.message)
    }
}

/// Subjects longer than this get cut off in most inboxes' list view.
pub const MAX_SUBJECT_CHARS: usize = 60;
/// More links than this in a cold email looks like marketing to filters and people.
pub const MAX_LINKS: usize = 2;
/// Words and phrases that spam filters and wary readers associate with bulk mail; matched
/// case-insensitively as whole words.
pub const SPAM_TRIGGERS: [&str; 10] = [
    "free",
    "guarantee",
    "act now",
    "limited time",
    "100%",
    "winner",
    "cash",
    "click here",
    "risk-free",
    "urgent",
];

/// Checks what a campaign needs before it may start, from the file alone (templates
/// against real leads are checked elsewhere). Errors block starting: a missing postal
/// address or unsubscribe URL (the law and Gmail/Yahoo's bulk-sender rules), no mailboxes,
/// no steps, an unknown time zone, an unreadable window. Warnings flag what hurts
/// deliverability or may surprise: long subjects, many links, spam-trigger words, and
/// settings left to their defaults.
pub fn lint_structure(spec: &CampaignSpec) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut error = |message: String| {
        findings.push(Finding {
            severity: Severity::Error,
            message,
        })
    };

    if spec.name.trim().is_empty() {
        error("name is empty".into());
    }
    let emails = spec.steps.is_empty() || spec.steps.iter().any(|s| s.channel == Channel::Email);
    let linkedin = spec.steps.iter().any(|s| s.channel.is_linkedin());
    if emails && spec.postal_address.as_deref().is_none_or(|a| a.trim().is_empty()) {
        error("postal_address is missing: every message must carry the sender's postal address".into());
    }
    match spec.unsubscribe_url.as_deref() {
        None if !emails => {}
        None => error(
            "unsubscribe_url is missing: set the public https:// address of `inroad serve` \
             so every message carries a one-click unsubscribe link"
                .into(),
        ),
        Some(url) => {
            if let Some(problem) = unsubscribe_url_problem(url) {
                error(format!("unsubscribe_url {url:?} {problem}"));
            }
        }
    }
    if emails && spec.mailboxes.is_empty() {
        error("no mailboxes: list at least one in mailboxes = [...]".into());
    }
    if linkedin && spec.linkedin_accounts.is_empty() {
        error("LinkedIn steps but no accounts: list them in linkedin_accounts = [...]".into());
    }
    if spec.linkedin_accounts.iter().any(|a| a.trim().is_empty()) {
        error("linkedin_accounts lists an empty name".into());
    }
    if spec.mailboxes.iter().any(|m| m.trim().is_empty()) {
        error("mailboxes lists an empty name".into());
    }
    if spec.steps.is_empty() {
        error("no steps: add at least one [[steps]]".into());
    }
    if let Err(err) = spec.time_zone() {
        let name = spec.timezone.as_deref().unwrap_or_default();
        error(format!(
            "timezone {name:?} is not a known IANA time zone such as \"Europe/Berlin\" ({err})"
        ));
    }
    if let Err(err) = spec.sending_window() {
        error(format!("window: {err}"));
    }
    for (variant, where_) in variants_with_places(spec) {
        if variant
            .subject
            .as_deref()
            .is_some_and(|s| s.contains(['\r', '\n']))
        {
            error(format!("subject contains a line break ({where_})"));
        }
    }

    let mut warn = |message: String| {
        findings.push(Finding {
            severity: Severity::Warning,
            message,
        })
    };
    for (s, step) in spec.steps.iter().enumerate() {
        let invited_before = spec.steps[..s]
            .iter()
            .any(|p| p.channel == Channel::LinkedinConnect);
        if step.channel == Channel::LinkedinMessage && !invited_before {
            warn(format!(
                "step {} messages on LinkedIn without an invitation step before it: every lead is \
                 taken to be a connection already",
                s + 1
            ));
        }
    }
    for (i, name) in spec.mailboxes.iter().enumerate() {
        if spec.mailboxes[..i].contains(name) {
            warn(format!("mailbox {name:?} is listed more than once"));
        }
    }
    if spec.timezone.is_none() {
        warn("timezone not set: leads and mailboxes without a time zone use UTC".into());
    }
    if spec.window.is_none() {
        warn("window not set: sending uses mon–fri 09:00–17:00 in the recipient's time zone".into());
    }
    match spec.daily_new_leads {
        None => warn("daily_new_leads not set: new leads start as fast as the mailboxes' caps allow".into()),
        Some(0) => warn("daily_new_leads = 0: no new lead will start".into()),
        Some(_) => {}
    }
    if !spec.stop_on_reply {
        warn("stop_on_reply = false: people who reply keep getting follow-ups".into());
    }
    for (variant, where_) in variants_with_places(spec) {
        if let Some(subject) = &variant.subject {
            let chars = subject.chars().count();
            if chars > MAX_SUBJECT_CHARS {
                warn(format!(
                    "subject is {chars} characters; keep it under {MAX_SUBJECT_CHARS} ({where_})"
                ));
            }
        }
        let links = count_links(&variant.body).max(variant.html.as_deref().map_or(0, count_links));
        if links > MAX_LINKS {
            warn(format!(
                "body has {links} links; more than {MAX_LINKS} looks like marketing ({where_})"
            ));
        }
        let text = format!("{}\n{}", variant.subject.as_deref().unwrap_or(""), variant.body);
        let triggers = spam_triggers_in(&text);
        if !triggers.is_empty() {
            let list = triggers
                .iter()
                .map(|t| format!("{t:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            warn(format!("spam-trigger words: {list} ({where_})"));
        }
    }
    findings
}

/// Every variant with a "step N[, variant M]" label for messages.
fn variants_with_places(spec: &CampaignSpec) -> impl Iterator<Item = (&Variant, String)> {
    spec.steps.iter().enumerate().flat_map(|(index, step)| {
        let several = step.variants.len() > 1;
        step.variants
            .iter()
            .enumerate()
            .map(move |(v_index, variant)| (variant, place(index, v_index, several)))
    })
}

/// "step N" or, for a step with several variants, "step N, variant M" (both 1-based), so
/// every message points at the text to change.
fn place(step_index: usize, variant_index: usize, several: bool) -> String {
    if several {
        format!("step {}, variant {}", step_index + 1, variant_index + 1)
    } else {
        format!("step {}", step_index + 1)
    }
}

/// What is wrong with an unsubscribe URL, if anything. Mail providers fetch one-click
/// unsubscribe links over HTTPS only; plain http is allowed for a local test server.
fn unsubscribe_url_problem(url: &str) -> Option<&'static str> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("contains spaces or control characters");
    }
    let lower = url.to_ascii_lowercase();
    let (secure, rest) = match (lower.strip_prefix("https://"), lower.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => return Some("must start with https://"),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = match host_port.strip_prefix('[') {
        Some(_) => host_port.find(']').map_or("", |end| &host_port[..=end]),
        None => host_port.split(':').next().unwrap_or(""),
    };
    if host.is_empty() {
        return Some("has no host");
    }
    if !secure && !matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
        return Some("must use https:// (plain http:// is accepted only for localhost)");
    }
    None
}

/// Occurrences of "http://" and "https://", in any case.
fn count_links(body: &str) -> usize {
    let lower = body.to_lowercase();
    lower.matches("http://").count() + lower.matches("https://").count()
}

/// The [`SPAM_TRIGGERS`] found in `text` as whole words (not inside a longer word),
/// ignoring case and treating any run of whitespace as one space.
fn spam_triggers_in(text: &str) -> Vec<&'static str> {
    let normalized = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    SPAM_TRIGGERS
        .into_iter()
        .filter(|trigger| contains_whole(&normalized, trigger))
        .collect()
}

/// Letters, digits and '_' (so a template variable such as `{{ free_trial }}` is one word).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn contains_whole(haystack: &str, word: &str) -> bool {
    haystack.match_indices(word).any(|(at, _)| {
        let before = haystack[..at].chars().next_back();
        let after = haystack[at + word.len()..].chars().next();
        !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
    })
}

/// Which of a step's variants a lead gets: a weighted choice fixed by the lead and the
/// step, so previews, retries and restarts always show and send the same variant. Returns
/// 0 for no weights or all-zero weights ([`parse_campaign`] allows neither).
pub fn variant_for(lead_id: i64, step: usize, variants_weights: &[u32]) -> usize {
    let total: u64 = variants_weights.iter().map(|&w| u64::from(w)).sum();
    if total == 0 {
        return 0;
    }
    let hash = splitmix64(splitmix64(lead_id as u64) ^ step as u64);
    // Multiply-shift maps the hash onto 0..total without modulo bias.
    let mut point = ((u128::from(hash) * u128::from(total)) >> 64) as u64;
    for (index, &weight) in variants_weights.iter().enumerate() {
        if point < u64::from(weight) {
            return index;
        }
        point -= u64::from(weight);
    }
    variants_weights.len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../examples/campaign.toml");

    /// A campaign that passes lint without findings; tests change one thing at a time.
    const CLEAN: &str = r#"
name = "Test"
mailboxes = ["main"]
postal_address = "1 Main St, Springfield"
unsubscribe_url = "https://example.com"
timezone = "America/New_York"
window = { days = ["mon"], start = "09:00", end = "17:00" }
daily_new_leads = 10

[[steps]]
subject = "Hello {{ first_name }}"
body = "Hi there"

[[steps]]
body = "Following up"
"#;

    fn parse(text: &str) -> CampaignSpec {
        parse_campaign(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn parse_err(text: &str) -> CampaignError {
        parse_campaign(text).expect_err("should not parse")
    }

    fn messages(spec: &CampaignSpec, severity: Severity) -> Vec<String> {
        lint_structure(spec)
            .into_iter()
            .filter(|f| f.severity == severity)
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn the_example_file_parses_and_lints_clean() {
        let spec = parse(EXAMPLE);
        assert_eq!(spec.name, "Q3 logistics managers");
        assert_eq!(spec.mailboxes, ["anna-main", "anna-second"]);
        assert_eq!(spec.daily_new_leads, Some(40));
        assert!(spec.stop_on_reply && spec.stop_company_on_reply);
        assert_eq!(spec.steps.len(), 3);
        let [first, second, third] = &spec.steps[..] else {
            unreachable!()
        };
        assert_eq!((first.wait_days, second.wait_days, third.wait_days), (0, 3, 7));
        assert!(second.business_days && !third.business_days);
        assert_eq!(first.weights(), [2, 1]);
        assert!(first.variants.iter().all(|v| v.subject.is_some()));
        assert_eq!(second.variants.len(), 1);
        assert_eq!(second.variants[0].subject, None, "replies in the thread");
        assert!(second.variants[0]
            .body
            .contains("https://northwind.example/pooling"));
        assert_eq!(spec.time_zone().unwrap().iana_name(), Some("Europe/Berlin"));
        let window = spec.sending_window().unwrap();
        assert_eq!(window.start, jiff::civil::Time::constant(8, 30, 0, 0));
        assert_eq!(lint_structure(&spec), vec![]);
    }

    #[test]
    fn defaults_apply_when_keys_are_left_out() {
        let spec = parse("name = \"x\"\n[[steps]]\nsubject = \"s\"\nbody = \"b\"\n[[steps]]\nbody = \"c\"\n");
        assert!(spec.stop_on_reply);
        assert!(!spec.stop_company_on_reply);
        assert_eq!(spec.mailboxes, Vec::<String>::new());
        assert_eq!(spec.daily_new_leads, None);
        let step = &spec.steps[1];
        assert_eq!(step.channel, Channel::Email);
        assert_eq!(
            (spec.steps[0].wait_days, step.wait_days),
            (0, DEFAULT_FOLLOW_UP_WAIT_DAYS)
        );
        assert!(!step.business_days);
        assert_eq!(
            step.variants,
            [Variant {
                subject: None,
                body: "c".into(),
                html: None,
                note: None,
                weight: 1
            }]
        );
        assert_eq!(spec.time_zone().unwrap(), TimeZone::UTC);
        let window = spec.sending_window().unwrap();
        assert_eq!(window.days.len(), 5);
        assert_eq!((window.start.hour(), window.end.hour()), (9, 17));
    }

    #[test]
    fn unknown_keys_are_errors_with_a_position() {
        let err = parse_err(&CLEAN.replace("daily_new_leads", "daily_new_lead"));
        assert!(err.message.contains("unknown field `daily_new_lead`"), "{err}");
        assert_eq!((err.line, err.column), (Some(8), Some(1)));
        assert!(
            err.to_string().starts_with("line 8, column 1: unknown field"),
            "{err}"
        );

        let err = parse_err(&CLEAN.replace("body = \"Following up\"", "bdy = \"Following up\""));
        assert!(err.message.contains("unknown field `bdy`"), "{err}");
        assert_eq!(err.line, Some(15));

        let err = parse_err(&CLEAN.replace("end = \"17:00\"", "end = \"17:00\", tz = \"UTC\""));
        assert!(err.message.contains("unknown field `tz`"), "{err}");

        let err = parse_err(&format!("{CLEAN}[[steps.variants]]\nbody = \"b\"\nweigth = 2\n"));
        assert!(err.message.contains("unknown field `weigth`"), "{err}");
        assert_eq!(err.line, Some(18));
    }

    #[test]
    fn syntax_and_type_errors_carry_positions() {
        let err = parse_err("name = \"x\"\nmailboxes = [\"a\",\n");
        assert!(err.line.is_some(), "{err:?}");
        let err = parse_err("name = \"x\"\ndaily_new_leads = -5\n");
        assert_eq!(err.line, Some(2), "{err:?}");
        let err = parse_err("name = \"x\"\nstop_on_reply = \"yes\"\n");
        assert_eq!(err.line, Some(2), "{err:?}");
        let err = parse_err("mailboxes = [\"a\"]\n");
        assert!(err.message.contains("missing field `name`"), "{err}");
    }

    #[test]
    fn unknown_channels_are_refused_clearly() {
        let err = parse_err(&CLEAN.replace("body = \"Following up\"", "channel = \"sms\"\nbody = \"x\""));
        assert!(
            err.message
                .starts_with("unknown channel \"sms\" (step 2); expected \"email\""),
            "{err}"
        );
        assert_eq!((err.line, err.column), (Some(15), Some(11)));
        let err = parse_err(&CLEAN.replace("body = \"Following up\"", "channel = \"Email\"\nbody = \"x\""));
        assert!(
            err.message.starts_with("unknown channel"),
            "channels are exact: {err}"
        );
    }

    const LINKEDIN: &str = r#"
name = "li"
linkedin_accounts = ["anna"]

[[steps]]
channel = "linkedin_connect"
note = "Hi {{ first_name }}, fellow logistics person here."
if_not_accepted_after_days = 10

[[steps]]
channel = "linkedin_message"
wait_days = 2
body = "Thanks for connecting, {{ first_name }}!"

[[steps]]
channel = "linkedin_inmail"
wait_days = 3
subject = "A question"
body = "Hi {{ first_name }}"
"#;

    #[test]
    fn a_linkedin_message_without_an_invitation_before_it_is_warned_about() {
        let warned = |text: &str| {
            messages(&parse(text), Severity::Warning)
                .iter()
                .any(|m| m.contains("without an invitation step before it"))
        };
        assert!(!warned(LINKEDIN));
        let message_first = "name = \"m\"\nlinkedin_accounts = [\"anna\"]\n[[steps]]\n\
                             channel = \"linkedin_message\"\nbody = \"Hi\"\n";
        assert!(warned(message_first));
    }

    #[test]
    fn linkedin_steps_are_read_and_need_no_mail_settings() {
        let spec = parse(LINKEDIN);
        let channels: Vec<Channel> = spec.steps.iter().map(|s| s.channel).collect();
        assert_eq!(
            channels,
            [
                Channel::LinkedinConnect,
                Channel::LinkedinMessage,
                Channel::LinkedinInmail
            ]
        );
        assert_eq!(spec.steps[0].if_not_accepted_after_days, Some(10));
        assert_eq!(
            spec.steps[0].variants[0].note.as_deref(),
            Some("Hi {{ first_name }}, fellow logistics person here.")
        );
        assert_eq!(spec.steps[0].variants[0].body, "");
        assert_eq!(spec.linkedin_accounts, ["anna"]);
        assert_eq!(spec.first_email_step(), None);
        // No email step: no postal address, unsubscribe URL or mailboxes needed.
        assert_eq!(messages(&spec, Severity::Error), Vec::<String>::new());
        let without_accounts = parse(&LINKEDIN.replace("linkedin_accounts = [\"anna\"]\n", ""));
        assert_eq!(
            messages(&without_accounts, Severity::Error),
            ["LinkedIn steps but no accounts: list them in linkedin_accounts = [...]"]
        );
        // A connect step without a note is fine; misplaced keys are not.
        let no_note = LINKEDIN.replace(
            "note = \"Hi {{ first_name }}, fellow logistics person here.\"\n",
            "",
        );
        assert_eq!(parse(&no_note).steps[0].variants[0].note, None);
        for (from, to, complaint) in [
            (
                "note = \"Hi",
                "body = \"Hi",
                "body (use note) does not belong on a linkedin_connect step",
            ),
            (
                "body = \"Thanks",
                "note = \"Thanks",
                "note does not belong on a linkedin_message step",
            ),
            (
                "subject = \"A question\"\n",
                "",
                "an InMail needs a subject (step 3)",
            ),
            (
                "if_not_accepted_after_days = 10\n\n[[steps]]\nchannel = \"linkedin_message\"\nwait_days = 2",
                "\n[[steps]]\nchannel = \"linkedin_message\"\nwait_days = 2\nif_not_accepted_after_days = 3",
                "if_not_accepted_after_days belongs on a linkedin_connect step",
            ),
        ] {
            let err = parse_err(&LINKEDIN.replacen(from, to, 1));
            assert!(err.message.starts_with(complaint), "{from:?}: {err}");
        }
    }

    #[test]
    fn steps_must_have_a_meaning() {
        let err = parse_err("name = \"x\"\n[[steps]]\nbody = \"b\"\n");
        assert_eq!(err.message, "the first email step needs a subject (step 1)");
        assert_eq!(err.line, Some(2));

        let err = parse_err("name = \"x\"\n[[steps]]\nsubject = \"s\"\n");
        assert_eq!(err.message, "body is missing (step 1)");

        let err = parse_err("name = \"x\"\n[[steps]]\nsubject = \"s\"\nbody = \"  \\n\"\n");
        assert_eq!(err.message, "body is empty (step 1)");
        assert_eq!((err.line, err.column), (Some(4), Some(8)));

        let err = parse_err(&CLEAN.replace("body = \"Following up\"", "subject = \"\"\nbody = \"x\""));
        assert_eq!(
            err.message,
            "subject is empty (step 2); leave it out to reply in the thread"
        );
        let err = parse_err(&CLEAN.replace("subject = \"Hello {{ first_name }}\"", "subject = \" \""));
        assert_eq!(err.message, "subject is empty (step 1)");

        let err = parse_err(&CLEAN.replace("body = \"Following up\"", "wait_days = 0\nbody = \"x\""));
        assert_eq!(
            err.message,
            "wait_days must be at least 1 after the previous step (step 2)"
        );
        assert_eq!(err.line, Some(15));

        // The first step may wait (after enrolment) or not.
        let spec = parse(&CLEAN.replace("subject = \"Hello", "wait_days = 2\nsubject = \"Hello"));
        assert_eq!(spec.steps[0].wait_days, 2);
    }

    #[test]
    fn html_is_optional_inherited_by_variants_and_never_empty() {
        let text = "name = \"h\"\n[[steps]]\nsubject = \"s\"\nbody = \"text\"\nhtml = \"<p>html</p>\"\n\
                    [[steps.variants]]\n[[steps.variants]]\nhtml = \"<p>other</p>\"\n";
        let step = &parse(text).steps[0];
        let html: Vec<Option<&str>> = step.variants.iter().map(|v| v.html.as_deref()).collect();
        assert_eq!(html, [Some("<p>html</p>"), Some("<p>other</p>")]);
        assert_eq!(
            parse(CLEAN).steps[0].variants[0].html,
            None,
            "text only by default"
        );
        let err = parse_err(&text.replace("<p>other</p>", " "));
        assert!(
            err.message.starts_with("html is empty (step 1, variant 2)"),
            "{err}"
        );
    }

    #[test]
    fn variants_inherit_from_their_step_and_need_positive_weights() {
        let text = r#"
name = "ab"
[[steps]]
subject = "Shared subject"
body = "Shared body"
[[steps.variants]]
weight = 3
[[steps.variants]]
subject = "Other subject"
[[steps.variants]]
body = "Other body"
"#;
        let step = &parse(text).steps[0];
        let got: Vec<(Option<&str>, &str, u32)> = step
            .variants
            .iter()
            .map(|v| (v.subject.as_deref(), v.body.as_str(), v.weight))
            .collect();
        assert_eq!(
            got,
            [
                (Some("Shared subject"), "Shared body", 3),
                (Some("Other subject"), "Shared body", 1),
                (Some("Shared subject"), "Other body", 1),
            ]
        );

        let err = parse_err(&text.replace("weight = 3", "weight = 0"));
        assert_eq!(
            err.message,
            "weight must be a positive integer (step 1, variant 1)"
        );
        assert_eq!(err.line, Some(7));
        let err = parse_err(&text.replace("weight = 3", "weight = -1"));
        assert_eq!(err.line, Some(7), "{err}");

        // A first step whose variant lacks a subject, with none on the step to inherit.
        let err = parse_err("name = \"x\"\n[[steps]]\n[[steps.variants]]\nsubject = \"a\"\nbody = \"b\"\n[[steps.variants]]\nbody = \"c\"\n");
        assert_eq!(
            err.message,
            "the first email step needs a subject (step 1, variant 2)"
        );
        assert_eq!(err.line, Some(6));
    }

    #[test]
    fn follow_ups_reply_with_re() {
        assert_eq!(reply_subject("Pallet costs at Acme"), "Re: Pallet costs at Acme");
        assert_eq!(reply_subject("Re: already a reply"), "Re: already a reply");
        assert_eq!(reply_subject("RE: shouting"), "RE: shouting");
        assert_eq!(reply_subject("Rebates"), "Re: Rebates");
        assert_eq!(reply_subject("ü"), "Re: ü");
    }

    #[test]
    fn the_clean_campaign_has_no_findings() {
        assert_eq!(lint_structure(&parse(CLEAN)), vec![]);
    }

    #[test]
    fn compliance_settings_are_blocking_errors() {
        let mut spec = parse(CLEAN);
        spec.postal_address = None;
        spec.unsubscribe_url = None;
        let errors = messages(&spec, Severity::Error);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("postal_address is missing"));
        assert!(errors[1].starts_with("unsubscribe_url is missing"));

        spec.postal_address = Some("  ".into());
        assert!(messages(&spec, Severity::Error)[0].starts_with("postal_address is missing"));
    }

    #[test]
    fn unsubscribe_urls_must_be_https_except_on_localhost() {
        for ok in [
            "https://example.com",
            "HTTPS://Example.com/u",
            "https://example.com:8443/unsub?x=1",
            "http://localhost:8080",
            "http://127.0.0.1/u",
            "http://[::1]:8080/u",
        ] {
            assert_eq!(unsubscribe_url_problem(ok), None, "{ok}");
        }
        for (bad, problem) in [
            ("http://example.com", "must use https://"),
            ("http://localhost.evil.example", "must use https://"),
            ("http://127.0.0.1.evil.example", "must use https://"),
            ("http://localhost@evil.example", "must use https://"),
            ("ftp://example.com", "must start with https://"),
            ("example.com", "must start with https://"),
            ("https://", "has no host"),
            ("https:///path", "has no host"),
            ("https://[::1", "has no host"),
            ("https://exa mple.com", "contains spaces"),
        ] {
            let got = unsubscribe_url_problem(bad).unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(got.starts_with(problem), "{bad}: {got}");
        }
        let mut spec = parse(CLEAN);
        spec.unsubscribe_url = Some("http://example.com".into());
        assert_eq!(
            messages(&spec, Severity::Error),
            ["unsubscribe_url \"http://example.com\" must use https:// (plain http:// is accepted only for localhost)"]
        );
    }

    #[test]
    fn mailboxes_steps_timezone_and_window_are_checked() {
        let mut spec = parse(CLEAN);
        spec.mailboxes.clear();
        spec.steps.clear();
        spec.timezone = Some("Europe/Atlantis".into());
        spec.window = Some(WindowSpec {
            days: vec!["mon".into()],
            start: "18:00".into(),
            end: "08:00".into(),
        });
        let errors = messages(&spec, Severity::Error);
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors[0].starts_with("no mailboxes"));
        assert!(errors[1].starts_with("no steps"));
        assert!(errors[2].starts_with("timezone \"Europe/Atlantis\" is not a known IANA time zone"));
        assert_eq!(
            errors[3],
            "window: start is after end; windows spanning midnight are not supported"
        );

        let mut spec = parse(CLEAN);
        spec.window.as_mut().unwrap().days = vec!["funday".into()];
        assert!(messages(&spec, Severity::Error)[0].starts_with("window: unknown day \"funday\""));

        let mut spec = parse(CLEAN);
        spec.mailboxes = vec!["main".into(), " ".into(), "main".into()];
        spec.name = String::new();
        assert_eq!(
            messages(&spec, Severity::Error),
            ["name is empty", "mailboxes lists an empty name"]
        );
        assert_eq!(
            messages(&spec, Severity::Warning),
            ["mailbox \"main\" is listed more than once"]
        );
    }

    #[test]
    fn defaults_left_unset_are_warned_about() {
        let mut spec = parse(CLEAN);
        spec.timezone = None;
        spec.window = None;
        spec.daily_new_leads = None;
        spec.stop_on_reply = false;
        let warnings = messages(&spec, Severity::Warning);
        assert_eq!(warnings.len(), 4, "{warnings:?}");
        assert!(warnings[0].starts_with("timezone not set"));
        assert!(warnings[1].starts_with("window not set"));
        assert!(warnings[2].starts_with("daily_new_leads not set"));
        assert!(warnings[3].starts_with("stop_on_reply = false"));
        assert_eq!(
            messages(&spec, Severity::Error),
            Vec::<String>::new(),
            "defaults are not errors"
        );
        spec.daily_new_leads = Some(0);
        assert!(messages(&spec, Severity::Warning)
            .iter()
            .any(|w| w.starts_with("daily_new_leads = 0")));
    }

    #[test]
    fn content_warnings_name_the_step_and_variant() {
        let mut spec = parse(CLEAN);
        spec.steps[0].variants[0].subject = Some("x".repeat(61));
        spec.steps[1].variants[0].body =
            "see http://a.example, HTTPS://b.example and https://c.example".into();
        spec.steps[1].variants.push(Variant {
            subject: None,
            body: "Act\n  NOW: this is FREE, risk-free and 100% urgent. Click here!".into(),
            html: None,
            note: None,
            weight: 1,
        });
        let warnings = messages(&spec, Severity::Warning);
        assert_eq!(
            warnings,
            [
                "subject is 61 characters; keep it under 60 (step 1)",
                "body has 3 links; more than 2 looks like marketing (step 2, variant 1)",
                "spam-trigger words: \"free\", \"act now\", \"100%\", \"click here\", \"risk-free\", \"urgent\" \
                 (step 2, variant 2)",
            ]
        );
        // Exactly 60 characters (not bytes) and two links are fine.
        spec.steps[0].variants[0].subject = Some("ü".repeat(60));
        spec.steps[1].variants[0].body = "http://a.example https://b.example".into();
        spec.steps[1].variants.pop();
        assert_eq!(messages(&spec, Severity::Warning), Vec::<String>::new());
    }

    #[test]
    fn spam_triggers_match_whole_words_only() {
        assert_eq!(
            spam_triggers_in("Freedom, carefree, cashew, urgently, 1100%"),
            Vec::<&str>::new()
        );
        assert_eq!(spam_triggers_in("Is it FREE? Cash."), ["free", "cash"]);
        assert_eq!(spam_triggers_in("a winner!"), ["winner"]);
        assert_eq!(spam_triggers_in("we guarantee it"), ["guarantee"]);
        assert_eq!(spam_triggers_in("for a limited\ttime"), ["limited time"]);
        assert_eq!(spam_triggers_in("subject\n100% sure"), ["100%"]);
        assert_eq!(
            spam_triggers_in("{{ free_text }}"),
            Vec::<&str>::new(),
            "a template variable is one word"
        );
    }

    #[test]
    fn line_breaks_in_a_subject_are_blocking() {
        let spec = parse(&CLEAN.replace(
            "subject = \"Hello {{ first_name }}\"",
            "subject = \"Hello\\nBcc: x@y\"",
        ));
        assert_eq!(
            messages(&spec, Severity::Error),
            ["subject contains a line break (step 1)"]
        );
    }

    #[test]
    fn variant_choice_is_deterministic_and_weighted() {
        assert_eq!(variant_for(1, 0, &[]), 0);
        assert_eq!(variant_for(1, 0, &[0, 0]), 0);
        assert_eq!(variant_for(42, 3, &[5]), 0);
        let weights = [2, 1];
        let picks: Vec<usize> = (0..30_000).map(|lead| variant_for(lead, 0, &weights)).collect();
        assert_eq!(
            picks,
            (0..30_000)
                .map(|lead| variant_for(lead, 0, &weights))
                .collect::<Vec<_>>()
        );
        let firsts = picks.iter().filter(|&&p| p == 0).count();
        assert!((19_000..21_000).contains(&firsts), "about two in three: {firsts}");
        // Zero-weight variants are never picked; negative lead ids are fine.
        assert!((-1000..1000).all(|lead| variant_for(lead, 1, &[0, 1, 0]) == 1));
        // The step takes part: the same lead does not always get the same side.
        let differs =
            (0..1000).filter(|&lead| variant_for(lead, 0, &[1, 1]) != variant_for(lead, 1, &[1, 1]));
        assert!(differs.count() > 300);
        // Pinned: changing the hash would switch live leads to another variant.
        let pinned: Vec<usize> = (0..12).map(|lead| variant_for(lead, 0, &[1, 1, 1])).collect();
        assert_eq!(pinned, PINNED_VARIANTS);
    }

    const PINNED_VARIANTS: [usize; 12] = [1, 1, 1, 2, 1, 2, 2, 2, 0, 2, 0, 1];

    #[test]
    fn a_lead_who_does_not_accept_skips_to_the_next_email_step_in_time() {
        let linkedin = |patience: &str, last: &str| {
            format!(
                "name = \"li\"\nlinkedin_accounts = [\"anna\"]\nmailboxes = [\"m\"]\n\
                 [[steps]]\nchannel = \"linkedin_connect\"\n{patience}\n\
                 [[steps]]\nchannel = \"linkedin_message\"\nwait_days = 1\nbody = \"Thanks\"\n{last}"
            )
        };
        let email = "[[steps]]\nwait_days = 2\nsubject = \"Hi\"\nbody = \"Hello\"\n";
        let spec = parse_campaign(&linkedin("if_not_accepted_after_days = 3", email)).unwrap();
        let sent: Timestamp = "2026-03-02T09:00:00Z".parse().unwrap();
        let three_days = SignedDuration::from_hours(72);
        let just_before = sent + three_days - SignedDuration::from_secs(1);
        assert_eq!(spec.skip_unaccepted(0, sent, 1, just_before), None);
        assert_eq!(
            spec.skip_unaccepted(0, sent, 1, sent + three_days),
            Some(Skip::To(2))
        );
        let no_email = parse_campaign(&linkedin("if_not_accepted_after_days = 3", "")).unwrap();
        assert_eq!(
            no_email.skip_unaccepted(0, sent, 1, sent + three_days),
            Some(Skip::Finished)
        );
        let patient = parse_campaign(&linkedin("", email)).unwrap();
        assert_eq!(
            patient.skip_unaccepted(0, sent, 1, Timestamp::MAX),
            None,
            "waits for good"
        );
    }
}

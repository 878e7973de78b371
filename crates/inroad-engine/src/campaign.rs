//! Campaigns before they send: create from a file, lint, preview.
//!
//! A campaign is stored as the file it was created from, and parsed again whenever
//! it is used, so what runs is always exactly what the user wrote and linted.

use inroad_core::campaign::{
    lint_structure, parse_campaign, reply_subject, variant_for, CampaignSpec, Channel, Finding, Severity,
};
use inroad_core::template::{spin_seed, Template};
use inroad_store::{CampaignRecord, Store, StoredLead};
use serde::Serialize;

use crate::{Error, Result};

/// Parses and stores a new draft campaign; returns its id and the lint findings.
pub fn create(store: &mut dyn Store, text: &str) -> Result<(i64, Vec<Finding>)> {
    let spec = parse_campaign(text).map_err(|e| Error::Usage(format!("campaign file: {e}")))?;
    let findings = lint_spec(store, &spec)?;
    let id = store.create_campaign(&spec.name, text)?;
    Ok((id, findings))
}

/// The campaign with this id or name, with its parsed file.
pub fn load(store: &dyn Store, id_or_name: &str) -> Result<(CampaignRecord, CampaignSpec)> {
    let campaigns = store.campaigns()?;
    let record = campaigns
        .into_iter()
        .find(|c| c.id.to_string() == id_or_name || c.name == id_or_name)
        .ok_or_else(|| {
            Error::Usage(format!(
                "no campaign {id_or_name:?}; `inroad campaign list` shows them"
            ))
        })?;
    let spec = parse_campaign(&record.spec).map_err(|e| {
        Error::Usage(format!(
            "campaign {}: stored file no longer parses: {e}",
            record.name
        ))
    })?;
    Ok((record, spec))
}

/// Everything that can be known without leads: the file's structure, the mailboxes
/// it names, and whether every template compiles.
pub fn lint_spec(store: &dyn Store, spec: &CampaignSpec) -> Result<Vec<Finding>> {
    let mut findings = lint_structure(spec);
    let known: Vec<String> = store.mailboxes()?.into_iter().map(|m| m.name).collect();
    for name in &spec.mailboxes {
        if !name.trim().is_empty() && !known.contains(name) {
            findings.push(Finding {
                severity: Severity::Error,
                message: format!("mailbox {name:?} does not exist (`inroad mailbox add {name} …`)"),
            });
        }
    }
    let accounts = store.linkedin_accounts()?;
    let inmail = spec
        .steps
        .iter()
        .position(|s| s.channel == Channel::LinkedinInmail);
    for name in &spec.linkedin_accounts {
        match accounts.iter().find(|a| &a.name == name) {
            None if !name.trim().is_empty() => findings.push(Finding {
                severity: Severity::Error,
                message: format!(
                    "LinkedIn account {name:?} does not exist (`inroad linkedin account add {name} --plan …`)"
                ),
            }),
            Some(a) if a.plan == "free" && inmail.is_some() => findings.push(Finding {
                severity: Severity::Error,
                message: format!(
                    "step {} is an InMail, but LinkedIn account {name:?} is on the free plan, which has no \
                     InMail credits",
                    inmail.map_or(0, |s| s + 1)
                ),
            }),
            _ => {}
        }
    }
    for (s, step) in spec.steps.iter().enumerate() {
        for (v, variant) in step.variants.iter().enumerate() {
            let name = format!("step {} variant {}", s + 1, v + 1);
            let compiled = [
                variant
                    .subject
                    .as_ref()
                    .map(|t| Template::new(&format!("{name} subject"), t)),
                Some(Template::new(&format!("{name} body"), &variant.body)),
                variant
                    .html
                    .as_ref()
                    .map(|t| Template::new_html(&format!("{name} html"), t)),
                variant
                    .note
                    .as_ref()
                    .map(|t| Template::new(&format!("{name} note"), t)),
            ];
            for error in compiled.into_iter().flatten().filter_map(|c| c.err()) {
                findings.push(Finding {
                    severity: Severity::Error,
                    message: error.to_string(),
                });
            }
        }
    }
    Ok(findings)
}

/// One step of a sequence as one lead would receive it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepPreview {
    pub step: usize,
    pub variant: usize,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub html: Option<String>,
    /// Why this lead cannot get this step (it would be parked "needs attention").
    pub problem: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LeadPreview {
    pub lead_id: i64,
    pub email: Option<String>,
    pub steps: Vec<StepPreview>,
}

/// Renders every step for one lead, or for the first `sample` leads with an email.
/// The footer (postal address, unsubscribe link) is added when sending.
pub fn preview(
    store: &dyn Store,
    spec: &CampaignSpec,
    lead: Option<i64>,
    sample: usize,
) -> Result<Vec<LeadPreview>> {
    let leads: Vec<StoredLead> = match lead {
        Some(id) => match store.lead(id)? {
            Some(l) => vec![l],
            None => return Err(Error::Usage(format!("no lead with id {id}"))),
        },
        None => {
            let mut picked = Vec::new();
            crate::export::for_each_lead(store, None, &mut |l| {
                if picked.len() < sample && l.lead.email.is_some() && !l.suppressed {
                    picked.push(l.clone());
                }
                Ok(())
            })?;
            picked
        }
    };
    let templates = compile(spec)?;
    Ok(leads.iter().map(|l| preview_lead(spec, &templates, l)).collect())
}

/// One variant's templates.
pub(crate) struct CompiledVariant {
    /// `None`: a follow-up that replies in the thread.
    pub subject: Option<Template>,
    pub body: Template,
    pub html: Option<Template>,
}

/// The templates of every step and variant.
pub(crate) type Compiled = Vec<Vec<CompiledVariant>>;

pub(crate) fn compile(spec: &CampaignSpec) -> Result<Compiled> {
    let usage = |e: inroad_core::template::TemplateError| Error::Usage(e.to_string());
    spec.steps
        .iter()
        .enumerate()
        .map(|(s, step)| {
            step.variants
                .iter()
                .enumerate()
                .map(|(v, variant)| {
                    let name = format!("step {} variant {}", s + 1, v + 1);
                    let subject = match &variant.subject {
                        Some(source) => {
                            Some(Template::new(&format!("{name} subject"), source).map_err(usage)?)
                        }
                        None => None,
                    };
                    let html = match &variant.html {
                        Some(source) => {
                            Some(Template::new_html(&format!("{name} html"), source).map_err(usage)?)
                        }
                        None => None,
                    };
                    // A connect step's text is its invitation note (empty: no note).
                    let (part, text) = match step.channel {
                        Channel::LinkedinConnect => ("note", variant.note.as_deref().unwrap_or_default()),
                        _ => ("body", variant.body.as_str()),
                    };
                    Ok(CompiledVariant {
                        subject,
                        body: Template::new(&format!("{name} {part}"), text).map_err(usage)?,
                        html,
                    })
                })
                .collect()
        })
        .collect()
}

fn preview_lead(spec: &CampaignSpec, templates: &Compiled, l: &StoredLead) -> LeadPreview {
    let mut first_subject: Option<String> = None;
    let steps = spec
        .steps
        .iter()
        .enumerate()
        .map(|(s, step)| {
            let variant = variant_for(l.id, s, &step.weights());
            let compiled = &templates[s][variant];
            let seed = spin_seed(l.id, s as u32);
            let subject = match &compiled.subject {
                Some(t) => t.render_subject(&l.lead, seed).map(Some),
                None => Ok(first_subject.as_deref().map(reply_subject)),
            };
            let body = compiled.body.render(&l.lead, seed);
            let html = compiled
                .html
                .as_ref()
                .map(|t| t.render(&l.lead, seed))
                .transpose();
            match (subject, body, html) {
                (Ok(subject), Ok(body), Ok(html)) => {
                    if Some(s) == spec.first_email_step() {
                        first_subject.clone_from(&subject);
                    }
                    StepPreview {
                        step: s + 1,
                        variant: variant + 1,
                        subject,
                        body: Some(body),
                        html,
                        problem: None,
                    }
                }
                (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => StepPreview {
                    step: s + 1,
                    variant: variant + 1,
                    subject: None,
                    body: None,
                    html: None,
                    problem: Some(e.to_string()),
                },
            }
        })
        .collect();
    LeadPreview {
        lead_id: l.id,
        email: l.lead.email.clone(),
        steps,
    }
}

/// Which leads may be enrolled, beyond the rule that suppressed leads never are.
#[derive(Clone, Copy, Debug, Default)]
pub struct EnrollPolicy {
    /// Also leads whose email is `risky` (catch-all, full mailbox).
    pub allow_risky: bool,
    /// Also leads whose email was never checked (or `unknown`).
    pub allow_unverified: bool,
    /// Also leads active in another campaign.
    pub allow_other_campaigns: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EnrollReport {
    pub enrolled: u64,
    pub already: u64,
    pub suppressed: u64,
    pub no_email: u64,
    /// Undeliverable, or not allowed by the policy (risky, unverified).
    pub email_not_usable: u64,
    pub active_elsewhere: u64,
    /// The sequence starts on LinkedIn and the lead has no profile URL.
    pub no_linkedin: u64,
}

/// Enrols the leads of a list, first step due at `now` (unix seconds).
pub fn enroll(
    store: &mut dyn Store,
    id_or_name: &str,
    list: &str,
    policy: EnrollPolicy,
    now: i64,
) -> Result<EnrollReport> {
    use inroad_core::verdict::EmailStatus;

    let (record, spec) = load(store, id_or_name)?;
    crate::export::check_list(store, Some(list))?;
    let starts_on_linkedin = spec.steps.first().is_some_and(|s| s.channel.is_linkedin());
    let needs_email = spec.first_email_step().is_some();
    let mut report = EnrollReport::default();
    let mut candidates = Vec::new();
    crate::export::for_each_lead(store, Some(list), &mut |l| {
        if l.suppressed {
            report.suppressed += 1;
        } else if starts_on_linkedin && l.lead.linkedin_url.is_none() {
            report.no_linkedin += 1;
        } else if !needs_email {
            candidates.push(l.id);
        } else if l.lead.email.is_none() {
            report.no_email += 1;
        } else {
            let usable = match l.email_status {
                Some(EmailStatus::Deliverable) => true,
                Some(EmailStatus::Risky) => policy.allow_risky,
                Some(EmailStatus::Unknown | EmailStatus::Unverified) | None => policy.allow_unverified,
                Some(EmailStatus::Undeliverable) => false,
            };
            if usable {
                candidates.push(l.id);
            } else {
                report.email_not_usable += 1;
            }
        }
        Ok(())
    })?;
    let mut chosen = Vec::with_capacity(candidates.len());
    for lead_id in candidates {
        if !policy.allow_other_campaigns && store.active_elsewhere(lead_id, record.id)? {
            report.active_elsewhere += 1;
        } else {
            chosen.push(lead_id);
        }
    }
    let added = store.enroll(record.id, &chosen, now)? as u64;
    report.enrolled = added;
    report.already = chosen.len() as u64 - added;
    Ok(report)
}

/// What `campaign show --json` reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CampaignSummary {
    pub id: i64,
    pub name: String,
    pub status: String,
    pub enrolled: u64,
    pub sent: u64,
    pub in_doubt: u64,
    pub by_state: std::collections::BTreeMap<String, u64>,
    /// The campaign's mailboxes and why any of them is paused.
    pub mailboxes: Vec<MailboxStatus>,
    /// Sends per step, and per variant where a step has several.
    pub steps: Vec<StepReport>,
    /// Leads that wait for a person (needs attention, or paused with an in-doubt
    /// send), with why: the first [`ATTENTION_SHOWN`] of `attention_total`.
    pub attention: Vec<AttentionLead>,
    pub attention_total: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepReport {
    pub step: usize,
    pub sent: u64,
    pub bounced: u64,
    pub in_doubt: u64,
    /// Leads who replied to this step's message.
    pub replies: u64,
    pub reply_rate: f64,
    /// Empty for a step with one text.
    pub variants: Vec<VariantReport>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VariantReport {
    pub variant: usize,
    pub weight: u32,
    pub sent: u64,
    pub replies: u64,
    pub reply_rate: f64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttentionLead {
    pub lead_id: i64,
    pub email: Option<String>,
    pub state: String,
    pub reason: Option<String>,
}

/// How many leads needing a person `campaign show` lists.
pub const ATTENTION_SHOWN: usize = 20;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MailboxStatus {
    pub name: String,
    /// `None` when it sends; "missing" when no mailbox has that name.
    pub paused_reason: Option<String>,
}

/// Every enrolment state, so reports show zeros rather than leave keys out.
const ENROLMENT_STATES: [&str; 8] = [
    "active",
    "linkedin",
    "needs_attention",
    "finished",
    "replied",
    "bounced",
    "unsubscribed",
    "paused",
];

pub fn summary(store: &dyn Store, id_or_name: &str) -> Result<CampaignSummary> {
    let (record, spec) = load(store, id_or_name)?;
    let all = store.mailboxes()?;
    let mailboxes = spec
        .mailboxes
        .iter()
        .map(|name| MailboxStatus {
            name: name.clone(),
            paused_reason: match all.iter().find(|m| &m.name == name) {
                Some(m) => m.paused_reason.clone(),
                None => Some("missing".into()),
            },
        })
        .collect();
    let counts = store.campaign_counts(record.id)?;
    let mut attention = Vec::new();
    for state in ["needs_attention", "paused"] {
        let rows = store.campaign_enrolments(record.id, Some(state), 0, ATTENTION_SHOWN)?;
        attention.extend(rows.into_iter().map(|e| AttentionLead {
            lead_id: e.lead_id,
            email: e.email,
            state: e.state,
            reason: e.reason,
        }));
    }
    attention.truncate(ATTENTION_SHOWN);
    let attention_total = ["needs_attention", "paused"]
        .iter()
        .map(|s| counts.enrolments.get(*s).copied().unwrap_or(0))
        .sum();
    let mut by_state: std::collections::BTreeMap<String, u64> =
        ENROLMENT_STATES.iter().map(|s| ((*s).to_owned(), 0)).collect();
    by_state.extend(counts.enrolments.clone());
    Ok(CampaignSummary {
        id: record.id,
        name: record.name,
        status: record.status,
        enrolled: counts.enrolments.values().sum(),
        sent: counts.sends.get("sent").copied().unwrap_or(0),
        in_doubt: counts.sends.get("in_doubt").copied().unwrap_or(0),
        by_state,
        mailboxes,
        steps: step_reports(store, record.id, &spec)?,
        attention,
        attention_total,
    })
}

/// Sends and replies per step and variant. A lead's variant is a function of its id
/// and the step's weights ([`variant_for`]), so it is recomputed rather than stored. A
/// reply counts for the step whose message it answers, once per lead.
pub(crate) fn step_reports(
    store: &dyn Store,
    campaign_id: i64,
    spec: &CampaignSpec,
) -> Result<Vec<StepReport>> {
    let weights: Vec<Vec<u32>> = spec.steps.iter().map(|s| s.weights()).collect();
    let mut steps: Vec<StepReport> = weights
        .iter()
        .enumerate()
        .map(|(s, w)| StepReport {
            step: s + 1,
            sent: 0,
            bounced: 0,
            in_doubt: 0,
            replies: 0,
            reply_rate: 0.0,
            variants: if w.len() > 1 {
                w.iter()
                    .enumerate()
                    .map(|(v, weight)| VariantReport {
                        variant: v + 1,
                        weight: *weight,
                        sent: 0,
                        replies: 0,
                        reply_rate: 0.0,
                    })
                    .collect()
            } else {
                Vec::new()
            },
        })
        .collect();
    let variant_of = |lead_id: i64, step: usize| variant_for(lead_id, step, &weights[step]);
    for send in store.campaign_sends(campaign_id)? {
        let step = send.step as usize;
        let Some(report) = steps.get_mut(step) else {
            continue;
        };
        match send.state.as_str() {
            "sent" => {
                report.sent += 1;
                if !report.variants.is_empty() {
                    report.variants[variant_of(send.lead_id, step)].sent += 1;
                }
            }
            "bounced" => report.bounced += 1,
            "in_doubt" => report.in_doubt += 1,
            _ => {}
        }
    }
    let mut replied = std::collections::HashSet::new();
    for event in store.campaign_events(campaign_id)? {
        let (Some(lead_id), Some(step)) = (event.lead_id, event.step) else {
            continue;
        };
        let step = step as usize;
        if event.kind != "reply" || !replied.insert((lead_id, step)) {
            continue;
        }
        if let Some(report) = steps.get_mut(step) {
            report.replies += 1;
            if !report.variants.is_empty() {
                report.variants[variant_of(lead_id, step)].replies += 1;
            }
        }
    }
    for report in &mut steps {
        report.reply_rate = rate(report.replies, report.sent);
        for v in &mut report.variants {
            v.reply_rate = rate(v.replies, v.sent);
        }
    }
    Ok(steps)
}

/// `part / whole`, 0 when there is no whole; rounded to 4 places for reports.
pub(crate) fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0
    }
}

/// Everything [`lint_spec`] finds, and, for the leads already enrolled and still to
/// be sent to, every step whose templates some of them cannot fill (they would be
/// parked, not sent): how many, with a few examples; and invitation notes longer than
/// the campaign's LinkedIn plans allow (those invitations go without a note).
pub fn lint(store: &dyn Store, record: &CampaignRecord, spec: &CampaignSpec) -> Result<Vec<Finding>> {
    let mut findings = lint_spec(store, spec)?;
    let Ok(templates) = compile(spec) else {
        return Ok(findings); // templates that do not compile cannot be tried
    };
    // The shortest note any of the campaign's accounts allows.
    let note_limit = store
        .linkedin_accounts()?
        .iter()
        .filter(|a| spec.linkedin_accounts.contains(&a.name))
        .filter_map(|a| inroad_core::linkedin::Plan::parse(&a.plan).ok())
        .map(|plan| (plan.note_chars(), plan))
        .min_by_key(|(chars, _)| *chars);
    let mut long_notes = vec![0u64; spec.steps.len()];
    let mut failing: Vec<(u64, Vec<String>)> = vec![(0, Vec::new()); spec.steps.len()];
    let mut checked = 0u64;
    for state in ["active", "linkedin"] {
        let mut after = 0;
        loop {
            let page = store.campaign_enrolments(record.id, Some(state), after, 1000)?;
            let Some(last) = page.last() else { break };
            after = last.id;
            checked += lint_enrolled(
                store,
                spec,
                &templates,
                &page,
                note_limit,
                &mut failing,
                &mut long_notes,
            )?;
        }
    }
    for (s, count) in long_notes.iter().enumerate() {
        if let (true, Some((chars, plan))) = (*count > 0, note_limit) {
            findings.push(Finding {
                severity: Severity::Warning,
                message: format!(
                    "step {}: the invitation note is longer than the {plan} plan's {chars} characters for \
                     {count} of {checked} enrolled leads; those invitations go without a note (their tasks \
                     say why)",
                    s + 1
                ),
            });
        }
    }
    for (s, (count, examples)) in failing.iter().enumerate() {
        if *count > 0 {
            findings.push(Finding {
                severity: Severity::Warning,
                message: format!(
                    "step {}: {count} of {checked} enrolled leads cannot fill its templates and will be \
                     parked, not sent (e.g. {})",
                    s + 1,
                    examples.join("; ")
                ),
            });
        }
    }
    Ok(findings)
}

/// Tries every remaining step's templates on a page of enrolled leads; returns how many
/// leads were checked.
fn lint_enrolled(
    store: &dyn Store,
    spec: &CampaignSpec,
    templates: &Compiled,
    page: &[inroad_store::EnrolmentRow],
    note_limit: Option<(usize, inroad_core::linkedin::Plan)>,
    failing: &mut [(u64, Vec<String>)],
    long_notes: &mut [u64],
) -> Result<u64> {
    const EXAMPLES: usize = 3;
    let mut checked = 0;
    for enrolment in page {
        let Some(lead) = store.lead(enrolment.lead_id)? else {
            continue;
        };
        checked += 1;
        let preview = preview_lead(spec, templates, &lead);
        for step in preview.steps.iter().skip(enrolment.next_step as usize) {
            if let Some(problem) = &step.problem {
                let (count, examples) = &mut failing[step.step - 1];
                *count += 1;
                if examples.len() < EXAMPLES {
                    let email = lead.lead.email.as_deref().unwrap_or("no email");
                    examples.push(format!("lead {} <{email}>: {problem}", lead.id));
                }
            } else if let (Some((chars, _)), Some(note)) = (note_limit, &step.body) {
                let connect = spec.steps[step.step - 1].channel == Channel::LinkedinConnect;
                if connect && inroad_core::linkedin::note_length(note) > chars {
                    long_notes[step.step - 1] += 1;
                }
            }
        }
    }
    Ok(checked)
}

/// Settles a lead's in-doubt send by hand (see [`Store::release_in_doubt`]): the
/// user checked the mailbox's Sent folder or asked the recipient.
pub fn release(
    store: &mut dyn Store,
    id_or_name: &str,
    lead_id: i64,
    delivered: bool,
    now: jiff::Timestamp,
) -> Result<bool> {
    let (record, spec) = load(store, id_or_name)?;
    let campaign_zone = spec
        .time_zone()
        .map_err(|e| Error::Usage(format!("campaign {}: {e}", record.name)))?;
    let lead_zone = store
        .lead(lead_id)?
        .and_then(|l| l.lead.timezone)
        .and_then(|tz| jiff::tz::TimeZone::get(&tz).ok());
    let zone = lead_zone.unwrap_or(campaign_zone);
    let next_due = |step: u32| {
        spec.steps
            .get(step as usize)
            .map(|next| inroad_core::planner::step_due(now, next, &zone).as_second())
    };
    Ok(store.release_in_doubt(record.id, lead_id, delivered, &next_due, now.as_second())?)
}

/// Moves a campaign to `active`, `paused` or `stopped`. Starting (or resuming)
/// requires a lint without blocking errors: a campaign without a postal address or
/// unsubscribe URL never sends.
pub fn set_status(store: &mut dyn Store, id_or_name: &str, status: &str) -> Result<()> {
    let (record, spec) = load(store, id_or_name)?;
    if record.status == "stopped" && status != "stopped" {
        return Err(Error::Usage(format!(
            "campaign {} is stopped for good",
            record.name
        )));
    }
    if status == "active" {
        let blocking: Vec<String> = lint_spec(store, &spec)?
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.message)
            .collect();
        if let Some(first) = blocking.first() {
            return Err(Error::Usage(format!(
                "campaign {} cannot start: {first} ({} blocking error(s); `inroad campaign lint {}`)",
                record.name,
                blocking.len(),
                record.id
            )));
        }
    }
    store.set_campaign_status(record.id, status)?;
    Ok(())
}

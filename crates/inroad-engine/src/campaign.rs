//! Campaigns before they send: create from a file, lint, preview.
//!
//! A campaign is stored as the file it was created from, and parsed again whenever
//! it is used, so what runs is always exactly what the user wrote and linted.

use inroad_core::campaign::{
    lint_structure, parse_campaign, reply_subject, variant_for, CampaignSpec, Finding, Severity,
};
use inroad_core::template::{spin_seed, Template};
use inroad_store::{CampaignRecord, LeadQuery, Store, StoredLead};
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
    for (s, step) in spec.steps.iter().enumerate() {
        for (v, variant) in step.variants.iter().enumerate() {
            let name = format!("step {} variant {}", s + 1, v + 1);
            let sources = [
                ("subject", variant.subject.as_deref()),
                ("body", Some(variant.body.as_str())),
            ];
            for (part, source) in sources {
                if let Some(Err(e)) = source.map(|source| Template::new(&format!("{name} {part}"), source)) {
                    findings.push(Finding {
                        severity: Severity::Error,
                        message: e.to_string(),
                    });
                }
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
        Some(id) => {
            let found = store.leads(&LeadQuery {
                list: None,
                after: id - 1,
                limit: 1,
            })?;
            match found.into_iter().next() {
                Some(l) if l.id == id => vec![l],
                _ => return Err(Error::Usage(format!("no lead with id {id}"))),
            }
        }
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

/// Subject and body templates per step and variant.
type Compiled = Vec<Vec<(Option<Template>, Template)>>;

fn compile(spec: &CampaignSpec) -> Result<Compiled> {
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
                    Ok((
                        subject,
                        Template::new(&format!("{name} body"), &variant.body).map_err(usage)?,
                    ))
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
            let (subject_template, body_template) = &templates[s][variant];
            let seed = spin_seed(l.id, s as u32);
            let subject = match subject_template {
                Some(t) => t.render_subject(&l.lead, seed).map(Some),
                None => Ok(first_subject.as_deref().map(reply_subject)),
            };
            let body = body_template.render(&l.lead, seed);
            match (subject, body) {
                (Ok(subject), Ok(body)) => {
                    if s == 0 {
                        first_subject.clone_from(&subject);
                    }
                    StepPreview {
                        step: s + 1,
                        variant: variant + 1,
                        subject,
                        body: Some(body),
                        problem: None,
                    }
                }
                (Err(e), _) | (_, Err(e)) => StepPreview {
                    step: s + 1,
                    variant: variant + 1,
                    subject: None,
                    body: None,
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

//! `inroad find`: a work address for every lead with a name and a company domain
//! but no email.
//!
//! Each domain's address pattern is learned from the addresses already known there
//! (imported or found), smoothed by the patterns seen across the database. Then,
//! at a domain that does not accept every address, candidates are probed most
//! probable first until the mail host accepts one; a confirmed address teaches the
//! domain's pattern to the leads still waiting, so later leads need fewer probes.
//! At a catch-all or unverifiable domain the most probable candidate is taken as
//! `risky`, with its probability as confidence. An inferred address is never
//! `deliverable` without an accepting RCPT at a domain known not to be catch-all.

use std::collections::{HashMap, HashSet};

use inroad_core::finder::{candidates, patterns_of, rank, NameParts, Pattern, PatternCounts};
use inroad_core::verdict::EmailStatus;
use inroad_store::{Store, StoredLead};
use serde::Serialize;

use crate::export::{check_list, for_each_lead};
use crate::verify::{Checker, VerifyOptions};
use crate::{Error, Result};

/// What `find` does.
#[derive(Clone, Debug, Default)]
pub struct FindOptions {
    /// Only leads on this list.
    pub list: Option<String>,
    /// Probe with these settings; `None` infers only (`--no-verify`).
    pub verify: Option<VerifyOptions>,
}

/// The finder's answer for one lead.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Found {
    pub lead_id: i64,
    pub name: String,
    pub domain: String,
    /// `None` when no address could be found (see `reason`).
    pub email: Option<String>,
    pub status: Option<String>,
    pub pattern: Option<String>,
    pub confidence: f64,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FindReport {
    /// Leads with a name and a domain but no email.
    pub considered: u64,
    /// Leads that got an address (of any status).
    pub found: u64,
    pub deliverable: u64,
    pub risky: u64,
    pub unverified: u64,
    pub results: Vec<Found>,
}

/// A lead waiting for an address, with its ranked candidates.
struct Target {
    lead_id: i64,
    name: String,
    domain: String,
    parts: NameParts,
    tried: HashSet<String>,
    outcome: Option<Found>,
}

pub fn find(
    store: &mut dyn Store,
    options: &FindOptions,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<FindReport> {
    check_list(store, options.list.as_deref())?;
    let (mut domains, global) = learn_patterns(store)?;
    let mut targets = Vec::new();
    for_each_lead(store, options.list.as_deref(), &mut |l| {
        if let Some(target) = target(l) {
            targets.push(target);
        }
        Ok(())
    })?;
    // A suppressed domain gets no address and no probe.
    let mut suppressed_domains = HashMap::new();
    for t in &targets {
        if !suppressed_domains.contains_key(&t.domain) {
            let suppressed = store.is_suppressed(&format!("@{}", t.domain))?;
            suppressed_domains.insert(t.domain.clone(), suppressed);
        }
    }
    targets.retain(|t| !suppressed_domains[&t.domain]);
    let mut report = FindReport {
        considered: targets.len() as u64,
        ..FindReport::default()
    };
    match &options.verify {
        None => {
            for t in &mut targets {
                let ranked = rank(domains.entry(t.domain.clone()).or_default(), &global);
                let best = candidates(&t.parts, &ranked).into_iter().next();
                t.outcome = Some(match best {
                    Some((local, pattern, p)) => found(
                        t,
                        &local,
                        pattern,
                        EmailStatus::Unverified,
                        p,
                        "inferred from the pattern, not checked",
                    ),
                    None => not_found(t, "no usable candidate from this name"),
                });
                progress(1);
            }
        }
        Some(verify) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| Error::Io(format!("cannot start the network runtime: {e}")))?;
            runtime.block_on(probe_candidates(
                store,
                verify,
                &mut targets,
                &mut domains,
                &global,
                progress,
            ))?;
        }
    }
    for t in targets {
        let outcome = t.outcome.expect("every target ends with an outcome");
        if let (Some(email), Some(status)) = (&outcome.email, &outcome.status) {
            let status = EmailStatus::parse(status).expect("statuses are written by this module");
            if store.set_found_email(outcome.lead_id, email, status)? {
                report.found += 1;
                match status {
                    EmailStatus::Deliverable => report.deliverable += 1,
                    EmailStatus::Risky => report.risky += 1,
                    EmailStatus::Unverified => report.unverified += 1,
                    _ => {}
                }
            }
        }
        report.results.push(outcome);
    }
    Ok(report)
}

/// Probes in rounds: each round, every waiting lead's most probable untried
/// candidate, all domains at once; between rounds, confirmed addresses update
/// their domain's pattern counts.
async fn probe_candidates(
    store: &mut dyn Store,
    options: &VerifyOptions,
    targets: &mut [Target],
    domains: &mut HashMap<String, PatternCounts>,
    global: &PatternCounts,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<()> {
    let mut checker = Checker::new(store, options)?;
    let quiet = |_: usize| {};
    loop {
        // This round's candidate per waiting lead.
        let mut round: Vec<(usize, String, Pattern, f64)> = Vec::new();
        for (i, t) in targets.iter_mut().enumerate() {
            if t.outcome.is_some() {
                continue;
            }
            let ranked = rank(domains.entry(t.domain.clone()).or_default(), global);
            let next = candidates(&t.parts, &ranked)
                .into_iter()
                .find(|(local, _, _)| !t.tried.contains(local));
            match next {
                Some((local, pattern, p)) => {
                    t.tried.insert(local.clone());
                    round.push((i, format!("{local}@{}", t.domain), pattern, p));
                }
                None => {
                    t.outcome = Some(not_found(t, "the mail server refused every candidate"));
                    progress(1);
                }
            }
        }
        if round.is_empty() {
            return Ok(());
        }
        let emails: Vec<String> = round.iter().map(|(_, email, _, _)| email.clone()).collect();
        let (checks, _) = checker.check(&emails, &quiet).await?;
        let by_email: HashMap<&str, _> = checks.iter().map(|c| (c.email.as_str(), c)).collect();
        for (i, email, pattern, p) in round {
            let t = &mut targets[i];
            let check = by_email[email.as_str()];
            let local = email.rsplit_once('@').map_or("", |(l, _)| l).to_owned();
            t.outcome = match check.status {
                EmailStatus::Deliverable => {
                    domains.entry(t.domain.clone()).or_default().add(pattern);
                    Some(found(
                        t,
                        &local,
                        pattern,
                        EmailStatus::Deliverable,
                        check.confidence,
                        "the mail server accepted it",
                    ))
                }
                EmailStatus::Undeliverable if check.smtp_code.is_some() => None, // try the next candidate
                EmailStatus::Undeliverable => Some(not_found(t, &check.reason)),
                // Catch-all, policy block, timeouts: probing more candidates would
                // learn nothing, so the most probable one stands, as `risky`.
                _ => {
                    let why = format!("most probable candidate left; not confirmed: {}", check.reason);
                    Some(found(t, &local, pattern, EmailStatus::Risky, p, &why))
                }
            };
            if t.outcome.is_some() {
                progress(1);
            }
        }
    }
}

fn found(
    t: &Target,
    local: &str,
    pattern: Pattern,
    status: EmailStatus,
    confidence: f64,
    reason: &str,
) -> Found {
    Found {
        lead_id: t.lead_id,
        name: t.name.clone(),
        domain: t.domain.clone(),
        email: Some(format!("{local}@{}", t.domain)),
        status: Some(status.as_str().to_owned()),
        pattern: Some(pattern.name().to_owned()),
        confidence: (confidence * 1000.0).round() / 1000.0,
        reason: reason.to_owned(),
    }
}

fn not_found(t: &Target, reason: &str) -> Found {
    Found {
        lead_id: t.lead_id,
        name: t.name.clone(),
        domain: t.domain.clone(),
        email: None,
        status: None,
        pattern: None,
        confidence: 0.0,
        reason: reason.to_owned(),
    }
}

/// A lead the finder can work on: no email, a first name, and a domain.
fn target(l: &StoredLead) -> Option<Target> {
    let lead = &l.lead;
    if lead.email.is_some() || l.suppressed {
        return None;
    }
    let domain = lead.domain.clone()?;
    let parts = NameParts::new(
        lead.first_name.as_deref()?,
        lead.last_name.as_deref().unwrap_or(""),
    )?;
    Some(Target {
        lead_id: l.id,
        name: lead.full_name.clone().unwrap_or_default(),
        domain,
        parts,
        tried: HashSet::new(),
        outcome: None,
    })
}

/// Pattern counts per domain, and across the database, from every lead whose email
/// is at its company domain.
fn learn_patterns(store: &dyn Store) -> Result<(HashMap<String, PatternCounts>, PatternCounts)> {
    let mut domains: HashMap<String, PatternCounts> = HashMap::new();
    let mut global = PatternCounts::default();
    for_each_lead(store, None, &mut |l| {
        let lead = &l.lead;
        let (Some(email), Some(first)) = (&lead.email, &lead.first_name) else {
            return Ok(());
        };
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Ok(());
        };
        if lead.domain.as_deref() != Some(domain) {
            return Ok(()); // a personal address says nothing about the company's pattern
        }
        let Some(parts) = NameParts::new(first, lead.last_name.as_deref().unwrap_or("")) else {
            return Ok(());
        };
        let patterns = patterns_of(&parts, local);
        if !patterns.is_empty() {
            domains.entry(domain.to_owned()).or_default().observe(&patterns);
            global.observe(&patterns);
        }
        Ok(())
    })?;
    Ok((domains, global))
}

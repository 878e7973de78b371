//! `inroad stats`: how campaigns and mailboxes are doing — replies and reply rates per
//! campaign, step and A/B variant; bounces and bounce rate per mailbox; unsubscribes.
//!
//! Everything is computed from the ledger (`sends`) and the lead timeline (`events`),
//! the same records the worker acts on, so the figures cannot drift from what happened.

use std::collections::HashSet;

use inroad_core::campaign::parse_campaign;
use inroad_store::Store;
use serde::Serialize;

use crate::campaign::{load, rate, step_reports, StepReport};
use crate::{Error, Result};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stats {
    pub campaigns: Vec<CampaignStats>,
    pub mailboxes: Vec<MailboxStats>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CampaignStats {
    pub id: i64,
    pub name: String,
    /// Leads sent at least one message.
    pub contacted: u64,
    /// Leads who replied (once each, whatever they answered).
    pub replied: u64,
    pub reply_rate: f64,
    pub hard_bounces: u64,
    pub unsubscribes: u64,
    pub auto_replies: u64,
    pub steps: Vec<StepReport>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MailboxStats {
    pub name: String,
    pub sent: u64,
    pub bounced: u64,
    pub bounce_rate: f64,
    pub paused_reason: Option<String>,
}

/// Stats for one campaign (by id or name), or for all of them.
pub fn stats(store: &dyn Store, campaign: Option<&str>) -> Result<Stats> {
    let records = match campaign {
        Some(id_or_name) => vec![load(store, id_or_name)?.0],
        None => store.campaigns()?,
    };
    let mut campaigns = Vec::with_capacity(records.len());
    for record in records {
        let spec = parse_campaign(&record.spec).map_err(|e| {
            Error::Usage(format!(
                "campaign {}: stored file no longer parses: {e}",
                record.name
            ))
        })?;
        let contacted: HashSet<i64> = store
            .campaign_sends(record.id)?
            .into_iter()
            .filter(|s| s.state == "sent" || s.state == "bounced")
            .map(|s| s.lead_id)
            .collect();
        let mut replied = HashSet::new();
        let (mut hard_bounces, mut unsubscribes, mut auto_replies) = (0, 0, 0);
        for event in store.campaign_events(record.id)? {
            match (event.kind.as_str(), event.lead_id) {
                ("reply", Some(lead)) => {
                    replied.insert(lead);
                }
                ("bounce_hard", _) => hard_bounces += 1,
                ("unsubscribe", _) => unsubscribes += 1,
                ("auto_reply", _) => auto_replies += 1,
                _ => {}
            }
        }
        let contacted = contacted.len() as u64;
        let replied = replied.len() as u64;
        campaigns.push(CampaignStats {
            id: record.id,
            name: record.name,
            contacted,
            replied,
            reply_rate: rate(replied, contacted),
            hard_bounces,
            unsubscribes,
            auto_replies,
            steps: step_reports(store, record.id, &spec)?,
        });
    }
    let all = store.mailboxes()?;
    let mailboxes = store
        .mailbox_sends()?
        .into_iter()
        .filter_map(|m| {
            let mailbox = all.iter().find(|b| b.id == m.mailbox_id)?;
            Some(MailboxStats {
                name: mailbox.name.clone(),
                sent: m.sent,
                bounced: m.bounced,
                bounce_rate: rate(m.bounced, m.sent),
                paused_reason: mailbox.paused_reason.clone(),
            })
        })
        .collect();
    Ok(Stats { campaigns, mailboxes })
}

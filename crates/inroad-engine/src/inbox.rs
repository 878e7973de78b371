//! Inbox sync: reading what came back (replies, bounces, out-of-office notices,
//! unsubscribe requests) and acting on it before the next send.
//!
//! A sequence that keeps mailing someone who replied, bounced or asked to be removed
//! burns the sending domain, so every pass of `inroad run` reads each mailbox's new
//! messages first. Each message is classified (pure, in `inroad_core::inbound`),
//! matched to our mail, and its effects are applied in the same transaction that
//! records its UID as handled — a restart never handles a message twice. After a
//! UIDVALIDITY change the folder is read again, and messages already handled are known
//! by their Message-ID.
//!
//! Matching: In-Reply-To / References name our stored Message-IDs; a bounce names the
//! Message-ID of the returned original (else its failed recipient is looked up); a
//! message naming none falls back on its sender's address, but only for a lead we have
//! written to. A message whose Message-ID is one of ours (a copy of our own mail) or
//! whose sender is the mailbox itself is never a reply.

use std::collections::HashMap;
use std::sync::mpsc::Sender;
use std::time::Duration;

use inroad_core::campaign::CampaignSpec;
use inroad_core::inbound::{classify, Class, Classified};
use inroad_mail::imap::{ImapReader, ImapSettings};
use inroad_mail::smtp::Security;
use inroad_store::{InboundEffects, Mailbox, NewEvent, SendRef, Store, Suppression};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Serialize;

use crate::Result;

/// How many messages are read from a folder at a time.
const BATCH: usize = 200;

/// What one sync of one or more mailboxes found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Messages read (each handled once).
    pub read: u64,
    pub replies: u64,
    pub hard_bounces: u64,
    pub soft_bounces: u64,
    pub auto_replies: u64,
    pub unsubscribes: u64,
    /// Other automated mail, and messages not about any lead.
    pub other: u64,
    /// Copies of our own mail (in INBOX through a Bcc or a rule), ignored.
    pub own: u64,
    /// Mailboxes that could not be read, and why (they are tried again next pass).
    pub errors: Vec<String>,
}

impl SyncReport {
    fn add(&mut self, other: SyncReport) {
        self.read += other.read;
        self.replies += other.replies;
        self.hard_bounces += other.hard_bounces;
        self.soft_bounces += other.soft_bounces;
        self.auto_replies += other.auto_replies;
        self.unsubscribes += other.unsubscribes;
        self.other += other.other;
        self.own += other.own;
        self.errors.extend(other.errors);
    }
}

/// The campaign settings inbound mail needs, by campaign id.
struct Campaigns(HashMap<i64, CampaignSpec>);

impl Campaigns {
    fn load(store: &dyn Store) -> Result<Campaigns> {
        let mut specs = HashMap::new();
        for record in store.campaigns()? {
            // A campaign whose file no longer parses keeps the defaults below.
            if let Ok(spec) = inroad_core::campaign::parse_campaign(&record.spec) {
                specs.insert(record.id, spec);
            }
        }
        Ok(Campaigns(specs))
    }

    fn stop_on_reply(&self, campaign: i64) -> bool {
        self.0.get(&campaign).is_none_or(|c| c.stop_on_reply)
    }

    fn stop_company_on_reply(&self, campaign: i64) -> bool {
        self.0.get(&campaign).is_some_and(|c| c.stop_company_on_reply)
    }

    fn time_zone(&self, campaign: i64) -> TimeZone {
        self.0
            .get(&campaign)
            .and_then(|c| c.time_zone().ok())
            .unwrap_or(TimeZone::UTC)
    }
}

/// Reads every mailbox in `held` (the leases this worker holds) that has IMAP
/// settings. A mailbox that cannot be read is
/// reported and skipped: sending goes on, and the next pass tries again.
pub fn sync_all(
    store: &mut dyn Store,
    install_key: &[u8],
    timeout: Duration,
    now: Timestamp,
    held: &std::collections::BTreeSet<i64>,
) -> Result<SyncReport> {
    let campaigns = Campaigns::load(store)?;
    let mut report = SyncReport::default();
    // Only the mailboxes whose leases this worker holds: one reader per inbox.
    for mailbox in store
        .mailboxes()?
        .into_iter()
        .filter(|m| m.imap_host.is_some() && held.contains(&m.id))
    {
        let settings = match imap_settings(&mailbox, install_key, timeout) {
            Ok(settings) => settings,
            Err(why) => {
                report.errors.push(format!("{}: {why}", mailbox.name));
                continue;
            }
        };
        let mut reader = ImapReader::new(settings)
            .map_err(|e| crate::Error::Io(format!("cannot start the IMAP client: {e}")))?;
        report.add(sync_mailbox(store, &campaigns, &mailbox, &mut reader, now)?);
    }
    Ok(report)
}

/// How long one IDLE lasts before it is renewed (servers drop idle sessions after
/// 30 minutes, RFC 2177).
const IDLE_ROUND: Duration = Duration::from_secs(25 * 60);

/// Watches the INBOX of every IMAP mailbox in `held` (this worker's leases) with IDLE,
/// each on its own thread, and sends on `wake` when one has new mail, so `inroad run`
/// handles a reply within seconds instead of at its next poll. A mailbox whose server
/// offers no IDLE, or whose connection breaks, stops being watched: every pass of its
/// holder reads it anyway.
pub fn watch(
    store: &dyn Store,
    install_key: &[u8],
    timeout: Duration,
    wake: &Sender<()>,
    held: &std::collections::BTreeSet<i64>,
) -> Result<()> {
    for mailbox in store
        .mailboxes()?
        .into_iter()
        .filter(|m| m.imap_host.is_some() && held.contains(&m.id))
    {
        let Ok(settings) = imap_settings(&mailbox, install_key, timeout) else {
            continue; // reported by every pass's sync
        };
        let wake = wake.clone();
        std::thread::spawn(move || {
            let Ok(mut reader) = ImapReader::new(settings) else {
                return;
            };
            let Ok(mut seen) = reader.wait_for_new("INBOX", None, IDLE_ROUND) else {
                return;
            };
            while let Ok(uid_next) = reader.wait_for_new("INBOX", Some(seen), IDLE_ROUND) {
                if uid_next > seen && wake.send(()).is_err() {
                    return; // the worker is gone
                }
                seen = seen.max(uid_next);
            }
        });
    }
    Ok(())
}

/// A mailbox's IMAP settings, with the same secret as its SMTP login.
pub fn imap_settings(m: &Mailbox, install_key: &[u8], timeout: Duration) -> Result<ImapSettings, String> {
    let host = m.imap_host.clone().ok_or("no IMAP server is set")?;
    let secret = crate::mailbox::mailbox_secret(m, install_key)?
        .ok_or("no password is set (--password-env or --password-stdin)")?;
    let security = match m.imap_tls.as_deref() {
        Some("none") => Security::None,
        Some("starttls") => Security::StartTls,
        _ => Security::Tls,
    };
    Ok(ImapSettings {
        host,
        port: m.imap_port.unwrap_or(993),
        security,
        user: m.imap_user.clone().unwrap_or_else(|| m.from_address.clone()),
        secret,
        timeout,
    })
}

fn sync_mailbox(
    store: &mut dyn Store,
    campaigns: &Campaigns,
    mailbox: &Mailbox,
    reader: &mut ImapReader,
    now: Timestamp,
) -> Result<SyncReport> {
    let mut report = SyncReport::default();
    let folders = std::iter::once("INBOX").chain(mailbox.imap_junk_folder.as_deref());
    for folder in folders {
        let mut known = store.imap_folder(mailbox.id, folder)?;
        loop {
            let batch = match reader.fetch_new(folder, known.map(|k| k.0), known.map_or(0, |k| k.1), BATCH) {
                Ok(batch) => batch,
                Err(e) => {
                    report.errors.push(format!("{} ({folder}): {e}", mailbox.name));
                    break;
                }
            };
            let renumbered = known.is_some_and(|(validity, _)| validity != batch.uidvalidity);
            if known.is_none() || renumbered {
                store.set_imap_folder(mailbox.id, folder, batch.uidvalidity, 0)?;
            }
            let mut last = if renumbered { 0 } else { known.map_or(0, |k| k.1) };
            for (uid, raw) in &batch.messages {
                let message = classify(raw);
                let already = renumbered
                    && match &message.message_id {
                        Some(id) => store.inbound_seen(mailbox.id, id)?,
                        None => false,
                    };
                let effects = if already {
                    InboundEffects::default()
                } else {
                    report.read += 1;
                    decide(store, campaigns, mailbox, &message, now, &mut report)?
                };
                store.apply_inbound(mailbox.id, folder, batch.uidvalidity, *uid, &effects)?;
                last = *uid;
            }
            known = Some((batch.uidvalidity, last));
            if !batch.more {
                break;
            }
        }
    }
    reader.close();
    Ok(report)
}

/// What one classified message changes.
fn decide(
    store: &dyn Store,
    campaigns: &Campaigns,
    mailbox: &Mailbox,
    message: &Classified,
    now: Timestamp,
    report: &mut SyncReport,
) -> Result<InboundEffects> {
    let mut effects = InboundEffects::default();
    let own_copy = match &message.message_id {
        Some(id) => store.send_by_message_ids(std::slice::from_ref(id))?.is_some(),
        None => false,
    };
    if own_copy || message.from.as_deref() == Some(mailbox.from_address.as_str()) {
        report.own += 1;
        return Ok(effects);
    }
    let bounce = matches!(message.class, Class::HardBounce | Class::SoftBounce);
    let send = if bounce {
        store.send_by_message_ids(&message.returned_message_ids)?
    } else {
        store.send_by_message_ids(&message.in_reply_to)?
    };
    let about = match &send {
        Some(s) => Some(About {
            lead_id: s.lead_id,
            enrolment_id: s.enrolment_id,
            campaign_id: s.campaign_id,
        }),
        None => {
            let address = if bounce {
                message.failed_recipient.as_deref()
            } else {
                message.from.as_deref()
            };
            match address {
                Some(address) => written_to(store, address)?,
                None => None,
            }
        }
    };
    let Some(About {
        lead_id,
        enrolment_id,
        campaign_id,
    }) = about
    else {
        // Not about anyone we wrote to. An unsubscribe request is honoured anyway.
        if message.class == Class::Unsubscribe {
            if let Some(from) = &message.from {
                effects.suppress = Some(suppression(from, "asked to be removed by email"));
                report.unsubscribes += 1;
                return Ok(effects);
            }
        }
        report.other += 1;
        return Ok(effects);
    };
    let mut event = NewEvent {
        lead_id: Some(lead_id),
        campaign_id: Some(campaign_id),
        enrolment_id: Some(enrolment_id),
        send_id: send.as_ref().map(|s| s.send_id),
        mailbox_id: Some(mailbox.id),
        kind: kind(message.class).to_owned(),
        detail: Some(message.reason.clone()),
        message_id: message.message_id.clone(),
        from_address: message.from.clone(),
        subject: message.subject.clone(),
        snippet: (!message.snippet.is_empty()).then(|| message.snippet.clone()),
        at: now.as_second(),
    };
    match message.class {
        Class::Human => {
            report.replies += 1;
            let (enrolment, campaign) = (enrolment_id, campaign_id);
            {
                if campaigns.stop_on_reply(campaign) {
                    effects.stop.push((enrolment, "replied", "replied".into()));
                }
                if campaigns.stop_company_on_reply(campaign) {
                    let domain = lead_domain(store, lead_id, message)?;
                    if let Some(domain) = domain {
                        for other in store.open_enrolments_at_domain(campaign, &domain)? {
                            if other != enrolment {
                                let why = format!("a colleague at {domain} replied");
                                effects.stop.push((other, "replied", why));
                            }
                        }
                    }
                }
            }
        }
        Class::HardBounce => {
            report.hard_bounces += 1;
            let recipient = message
                .failed_recipient
                .clone()
                .or_else(|| send.as_ref().map(|s| s.recipient.clone()));
            if let Some(recipient) = recipient {
                effects.suppress = Some(suppression(&recipient, "hard bounce"));
            }
            if let Some(SendRef { send_id, .. }) = &send {
                effects.bounced_send = Some((*send_id, message.reason.clone()));
            }
            effects
                .stop
                .push((enrolment_id, "bounced", message.reason.clone()));
        }
        Class::SoftBounce => report.soft_bounces += 1,
        Class::AutoReply => {
            report.auto_replies += 1;
            if let Some(back) = message.return_date {
                // The day after they are back, at midnight where the campaign lives; the
                // window then decides the hour.
                let zone = campaigns.time_zone(campaign_id);
                if let Ok(day_after) = back.tomorrow() {
                    let (start, _) = inroad_core::schedule::day_bounds(day_after, &zone);
                    effects.not_before = Some((enrolment_id, start.as_second()));
                    event.detail = Some(format!("away until {back}; the next step waits"));
                }
            }
        }
        Class::Unsubscribe => {
            report.unsubscribes += 1;
            let address = match store.lead(lead_id)?.and_then(|l| l.lead.email) {
                Some(email) => email,
                None => message.from.clone().unwrap_or_default(),
            };
            if !address.is_empty() {
                effects.suppress = Some(suppression(&address, "asked to be removed by email"));
            }
            for (enrolment, _) in store.open_enrolments(lead_id)? {
                effects
                    .stop
                    .push((enrolment, "unsubscribed", "asked to be removed".into()));
            }
        }
        Class::Other => report.other += 1,
    }
    effects.event = Some(event);
    Ok(effects)
}

/// Whom a message is about: a lead, in one campaign.
struct About {
    lead_id: i64,
    enrolment_id: i64,
    campaign_id: i64,
}

/// The lead behind `address` and its open enrolment that has been sent something —
/// someone who can be answering us.
fn written_to(store: &dyn Store, address: &str) -> Result<Option<About>> {
    let Some(lead_id) = store.lead_id_by_email(&address.to_lowercase())? else {
        return Ok(None);
    };
    for (enrolment_id, campaign_id) in store.open_enrolments(lead_id)? {
        if !store.thread(enrolment_id)?.is_empty() {
            return Ok(Some(About {
                lead_id,
                enrolment_id,
                campaign_id,
            }));
        }
    }
    Ok(None)
}

fn lead_domain(store: &dyn Store, lead_id: i64, message: &Classified) -> Result<Option<String>> {
    let email = store
        .lead(lead_id)?
        .and_then(|l| l.lead.email)
        .or_else(|| message.from.clone());
    Ok(email.and_then(|e| e.rsplit_once('@').map(|(_, d)| d.to_owned())))
}

fn suppression(value: &str, reason: &str) -> Suppression {
    Suppression {
        value: value.to_lowercase(),
        reason: Some(reason.to_owned()),
        created_at: inroad_store::now(),
    }
}

/// The event kind stored for a class.
pub fn kind(class: Class) -> &'static str {
    match class {
        Class::Human => "reply",
        Class::HardBounce => "bounce_hard",
        Class::SoftBounce => "bounce_soft",
        Class::AutoReply => "auto_reply",
        Class::Unsubscribe => "unsubscribe",
        Class::Other => "other",
    }
}

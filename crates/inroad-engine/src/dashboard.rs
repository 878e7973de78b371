//! What the dashboard's overview and mailbox pages show, computed from cheap reads only:
//! activity per day from the rollup the store keeps (never a count over millions of
//! sends and events), each mailbox's day from its index, and the counts of what needs a
//! person from partial indexes. The JSON API serves the same reports.

use inroad_core::schedule::{daily_cap, day_bounds, mailbox_day, Warmup};
use inroad_store::{AttentionCounts, DailyActivity, Mailbox, Store};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Serialize;

use crate::campaign::rate;
use crate::{Error, Result};

/// How many of a mailbox's last sends its bounce rate is read from.
pub const BOUNCE_SAMPLE: u32 = 200;

/// The overview: activity per day, and what needs a person.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Overview {
    /// One entry per UTC day of the period, oldest first, zeros included.
    pub days: Vec<DayActivity>,
    pub sent: u64,
    pub replies: u64,
    pub bounces: u64,
    /// Replies per message sent over the period.
    pub reply_rate: f64,
    pub mailboxes: Vec<MailboxHealth>,
    /// Open LinkedIn tasks (handed out and not yet done).
    pub linkedin_open_tasks: u64,
    pub needs_attention: u64,
    pub in_doubt: u64,
    pub paused_campaigns: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DayActivity {
    /// `YYYY-MM-DD`, UTC.
    pub date: String,
    pub sent: u64,
    pub replies: u64,
    pub bounces: u64,
}

/// One mailbox at a glance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MailboxHealth {
    pub name: String,
    pub from_address: String,
    /// Sends today, in the mailbox's time zone.
    pub sent_today: u32,
    /// Today's cap, warm-up included.
    pub cap_today: u32,
    pub daily_cap: u32,
    /// `Some((day, of_days))` while warming up (day 1 is the first sending day).
    pub warmup_day: Option<u32>,
    /// "warming up", "full volume" or "paused".
    pub stage: String,
    /// Of the last [`BOUNCE_SAMPLE`] sends handed over.
    pub recent_sent: u32,
    pub recent_bounced: u32,
    pub bounce_rate: f64,
    pub paused_reason: Option<String>,
    pub dkim_selector: Option<String>,
}

/// The overview over the `days` UTC days up to and including today.
pub fn overview(store: &dyn Store, now: Timestamp, days: u32) -> Result<Overview> {
    let today = now.as_second().div_euclid(86_400);
    let first = today - i64::from(days.max(1)) + 1;
    let stored = store.daily_activity(first, today + 1)?;
    let days: Vec<DayActivity> = (first..=today)
        .map(|day| {
            let found = stored
                .iter()
                .find(|d| d.day == day)
                .copied()
                .unwrap_or(DailyActivity {
                    day,
                    ..DailyActivity::default()
                });
            DayActivity {
                date: utc_date(day),
                sent: found.sent,
                replies: found.replies,
                bounces: found.bounces,
            }
        })
        .collect();
    let sent = days.iter().map(|d| d.sent).sum();
    let replies = days.iter().map(|d| d.replies).sum();
    let bounces = days.iter().map(|d| d.bounces).sum();
    let mut linkedin_open_tasks = 0;
    for account in store.linkedin_accounts()? {
        // Tasks done since "never" are none: this reads only the open ones.
        linkedin_open_tasks += store.linkedin_tasks(account.id, i64::MAX)?.len() as u64;
    }
    let AttentionCounts {
        needs_attention,
        in_doubt,
    } = store.attention_counts()?;
    Ok(Overview {
        days,
        sent,
        replies,
        bounces,
        reply_rate: rate(replies, sent),
        mailboxes: mailbox_health(store, now)?,
        linkedin_open_tasks,
        needs_attention,
        in_doubt,
        paused_campaigns: store
            .campaigns()?
            .into_iter()
            .filter(|c| c.status == "paused")
            .map(|c| c.name)
            .collect(),
    })
}

/// Every mailbox's day so far, warm-up stage and recent bounce rate.
pub fn mailbox_health(store: &dyn Store, now: Timestamp) -> Result<Vec<MailboxHealth>> {
    store
        .mailboxes()?
        .into_iter()
        .map(|m| one_mailbox(store, m, now))
        .collect()
}

fn one_mailbox(store: &dyn Store, m: Mailbox, now: Timestamp) -> Result<MailboxHealth> {
    let zone = TimeZone::get(&m.timezone)
        .map_err(|e| Error::Usage(format!("mailbox {}: time zone {}: {e}", m.name, m.timezone)))?;
    let today = mailbox_day(now, &zone);
    let (start, end) = day_bounds(today, &zone);
    let activity = store.mailbox_activity(m.id, start.as_second(), end.as_second())?;
    let first_day = activity
        .first_send
        .and_then(|s| Timestamp::from_second(s).ok())
        .map(|t| mailbox_day(t, &zone));
    let warmup = m.warmup.map(|(start, step)| Warmup { start, step });
    let cap_today = daily_cap(m.daily_cap, warmup, first_day, today);
    let warmup_day = match (warmup, first_day) {
        (Some(_), _) if cap_today >= m.daily_cap => None,
        (Some(_), Some(first)) => {
            Some(today.since(first).map_or(0, |span| span.get_days()).max(0) as u32 + 1)
        }
        (Some(_), None) => Some(1),
        (None, _) => None,
    };
    let stage = if m.paused_reason.is_some() {
        "paused"
    } else if warmup_day.is_some() {
        "warming up"
    } else {
        "full volume"
    };
    let (recent_sent, recent_bounced) = store.mailbox_recent_outcomes(m.id, BOUNCE_SAMPLE)?;
    Ok(MailboxHealth {
        sent_today: activity.sent_in_range,
        cap_today,
        daily_cap: m.daily_cap,
        warmup_day,
        stage: stage.to_owned(),
        recent_sent,
        recent_bounced,
        bounce_rate: rate(u64::from(recent_bounced), u64::from(recent_sent)),
        name: m.name,
        from_address: m.from_address,
        paused_reason: m.paused_reason,
        dkim_selector: m.dkim_selector,
    })
}

/// `YYYY-MM-DD` of a day since the epoch.
fn utc_date(day: i64) -> String {
    Timestamp::from_second(day * 86_400)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use inroad_store::{Mailbox, NewEvent};

    use super::*;

    fn mailbox(name: &str, warmup: Option<(u32, u32)>) -> Mailbox {
        Mailbox {
            id: 0,
            name: name.into(),
            from_name: None,
            from_address: format!("{name}@acme.test"),
            smtp_host: "localhost".into(),
            smtp_port: 25,
            smtp_tls: "none".into(),
            smtp_user: None,
            password_env: None,
            sealed_secret: None,
            daily_cap: 40,
            warmup,
            gap_secs: (0, 0),
            timezone: "Europe/Berlin".into(),
            dkim_selector: None,
            dkim_key_file: None,
            dkim_domain: None,
            imap_host: None,
            imap_port: None,
            imap_tls: None,
            imap_user: None,
            imap_junk_folder: None,
            paused_reason: None,
        }
    }

    #[test]
    fn the_overview_fills_quiet_days_and_reads_each_mailbox_stage() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = inroad_store::open(dir.path().join("db").to_str().unwrap()).unwrap();
        store.add_mailbox(&mailbox("new", Some((15, 2)))).unwrap();
        store.add_mailbox(&mailbox("old", None)).unwrap();
        store.set_mailbox_paused("old", Some("too many bounces")).unwrap();
        let now: Timestamp = "2026-11-28T12:00:00Z".parse().unwrap();
        for (kind, days_ago) in [("reply", 0), ("reply", 0), ("bounce_hard", 3), ("reply", 40)] {
            store
                .add_event(&NewEvent {
                    kind: kind.into(),
                    at: now.as_second() - days_ago * 86_400,
                    ..NewEvent::default()
                })
                .unwrap();
        }
        let o = overview(store.as_ref(), now, 30).unwrap();
        assert_eq!(o.days.len(), 30);
        assert_eq!(o.days[29].date, "2026-11-28");
        assert_eq!((o.days[29].replies, o.days[26].bounces), (2, 1));
        assert_eq!(
            (o.replies, o.bounces, o.sent),
            (2, 1, 0),
            "the reply 40 days ago is outside"
        );
        let new = &o.mailboxes[0];
        assert_eq!(
            (new.stage.as_str(), new.warmup_day, new.cap_today),
            ("warming up", Some(1), 15)
        );
        let old = &o.mailboxes[1];
        assert_eq!((old.stage.as_str(), old.cap_today), ("paused", 40));
    }
}

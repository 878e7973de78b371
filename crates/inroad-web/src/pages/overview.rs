//! `/` (the overview) and `/inbox` (replies waiting for a person).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::Extension;
use inroad_engine::dashboard::{self, Overview};
use inroad_store::InboxItem;

use super::{parse_id, render, see_other, when, Chrome, Query};
use crate::auth::LoggedIn;
use crate::chart::{line_chart, Series};
use crate::{not_found, AppState, ServerError};

/// Days the overview's chart and totals cover.
pub(crate) const OVERVIEW_DAYS: u32 = 30;

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    chrome: Chrome,
    o: Overview,
    chart: String,
    /// (what, where to see it)
    attention: Vec<(String, String)>,
}

pub(crate) async fn overview(
    State(state): State<AppState>,
    Extension(me): Extension<LoggedIn>,
) -> Result<Response, ServerError> {
    let now = jiff::Timestamp::now();
    let o = state
        .with_store(move |store| dashboard::overview(store, now, OVERVIEW_DAYS))
        .await?;
    let chart = activity_chart(&o);
    let attention = attention(&o);
    Ok(render(&OverviewPage {
        chrome: Chrome::new(&me, "Overview", "/"),
        o,
        chart,
        attention,
    }))
}

/// Sends, replies and bounces per day as lines, with the totals as its description.
pub(crate) fn activity_chart(o: &Overview) -> String {
    let labels: Vec<String> = o.days.iter().map(|d| d.date[5..].to_owned()).collect();
    let values = |f: fn(&dashboard::DayActivity) -> u64| o.days.iter().map(|d| f(d) as f64).collect();
    line_chart(
        "activity",
        "Sends, replies and bounces per day",
        &format!(
            "Over the last {} days: {} sent, {} replies, {} hard bounces. The table below has each day.",
            o.days.len(),
            o.sent,
            o.replies,
            o.bounces
        ),
        &labels,
        &[
            Series {
                name: "Sent",
                class: "sent",
                values: values(|d| d.sent),
            },
            Series {
                name: "Replies",
                class: "replies",
                values: values(|d| d.replies),
            },
            Series {
                name: "Hard bounces",
                class: "bounces",
                values: values(|d| d.bounces),
            },
        ],
    )
}

fn attention(o: &Overview) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if o.needs_attention > 0 {
        out.push((
            format!(
                "{} leads need attention (a template they cannot fill, …)",
                o.needs_attention
            ),
            "/campaigns".to_owned(),
        ));
    }
    if o.in_doubt > 0 {
        out.push((
            format!(
                "{} sends are in doubt: check the Sent folder, then `inroad campaign release`",
                o.in_doubt
            ),
            "/campaigns".to_owned(),
        ));
    }
    for m in &o.mailboxes {
        if let Some(reason) = &m.paused_reason {
            out.push((
                format!("Mailbox {} is paused: {reason}", m.name),
                "/mailboxes".to_owned(),
            ));
        }
    }
    for name in &o.paused_campaigns {
        out.push((format!("Campaign {name} is paused"), "/campaigns".to_owned()));
    }
    out
}

/// Replies a page of the inbox shows.
const INBOX_PAGE: usize = 50;

/// One waiting reply, ready to show.
struct InboxRow {
    event_id: i64,
    when: String,
    from: String,
    lead_id: Option<i64>,
    lead: String,
    campaign_id: Option<i64>,
    campaign: String,
    subject: String,
    snippet: String,
}

impl From<InboxItem> for InboxRow {
    fn from(i: InboxItem) -> InboxRow {
        let name = [i.first_name.as_deref(), i.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        InboxRow {
            event_id: i.event_id,
            when: when(i.at),
            from: i.from_address.unwrap_or_default(),
            lead_id: i.lead_id,
            lead: if name.is_empty() {
                i.email.unwrap_or_default()
            } else {
                name
            },
            campaign_id: i.campaign_id,
            campaign: i.campaign.unwrap_or_default(),
            subject: i.subject.unwrap_or_default(),
            snippet: i.snippet.unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    chrome: Chrome,
    items: Vec<InboxRow>,
    older: Option<String>,
}

pub(crate) async fn inbox(
    State(state): State<AppState>,
    Extension(me): Extension<LoggedIn>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ServerError> {
    let query = Query::parse(raw.as_deref());
    let before = query.get("before").and_then(parse_id).unwrap_or(i64::MAX);
    let items = state
        .with_store(move |store| Ok(store.inbox(before, INBOX_PAGE)?))
        .await?;
    let older = (items.len() == INBOX_PAGE)
        .then(|| items.last().map(|i| format!("/inbox?before={}", i.event_id)))
        .flatten();
    Ok(render(&InboxPage {
        chrome: Chrome::new(&me, "Inbox", "/inbox").with_notice(&query),
        items: items.into_iter().map(InboxRow::from).collect(),
        older,
    }))
}

/// `POST /inbox/{id}/handled`.
pub(crate) async fn reply_handled(
    State(state): State<AppState>,
    Path(id): Path<String>,
    _body: Bytes,
) -> Result<Response, ServerError> {
    let Some(id) = parse_id(&id) else {
        return Ok(not_found().await);
    };
    let now = jiff::Timestamp::now().as_second();
    state
        .with_store(move |store| Ok(store.mark_reply_handled(id, now)?))
        .await?;
    Ok(see_other("/inbox?notice=handled".to_owned()))
}

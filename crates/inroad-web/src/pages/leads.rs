//! `/leads` (search, filters and pages at any depth: see `inroad_engine::browse` for
//! why pages are id windows) and `/leads/{id}` with the lead's timeline.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::Extension;
use inroad_engine::browse::{self, LeadPage};
use inroad_store::{LeadFilter, StoredLead};

use super::{bad_request, parse_id, render, url_encode, when, Chrome, Query};
use crate::auth::LoggedIn;
use crate::{not_found, AppState, ServerError};

/// The filters as the form shows them back (empty: off).
#[derive(Default)]
pub(crate) struct FilterForm {
    q: String,
    list: String,
    status: String,
    campaign: String,
    suppressed: String,
}

/// Email statuses a lead can be filtered by, with how the form names them.
const STATUSES: [(&str, &str); 6] = [
    ("", "any"),
    ("deliverable", "deliverable"),
    ("risky", "risky"),
    ("unknown", "unknown"),
    ("undeliverable", "undeliverable"),
    ("unchecked", "never checked"),
];

/// The filters and page a query string asks for, or what is wrong with it.
pub(crate) fn parse_lead_query(query: &Query) -> Result<(LeadFilter, FilterForm, i64, Option<i64>), String> {
    let mut form = FilterForm::default();
    let mut filter = LeadFilter::default();
    if let Some(q) = query.get("q") {
        form.q = q.to_owned();
        filter.search = Some(q.to_owned());
    }
    if let Some(list) = query.get("list") {
        form.list = list.to_owned();
        filter.list = Some(list.to_owned());
    }
    if let Some(status) = query.get("status") {
        if !STATUSES.iter().any(|(value, _)| *value == status) {
            return Err(format!(
                "status {status:?} is not one of deliverable, risky, unknown, undeliverable, unchecked"
            ));
        }
        form.status = status.to_owned();
        filter.email_status = Some(status.to_owned());
    }
    if let Some(campaign) = query.get("campaign") {
        let id = parse_id(campaign).ok_or_else(|| format!("campaign {campaign:?} is not a campaign id"))?;
        form.campaign = campaign.to_owned();
        filter.campaign_id = Some(id);
    }
    if let Some(suppressed) = query.get("suppressed") {
        filter.suppressed = Some(match suppressed {
            "yes" => true,
            "no" => false,
            _ => return Err(format!("suppressed {suppressed:?} must be yes or no")),
        });
        form.suppressed = suppressed.to_owned();
    }
    let page = match query.get("page") {
        Some(page) => page
            .parse::<i64>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| format!("page {page:?} is not a page number (1, 2, …)"))?,
        None => 1,
    };
    let after = match query.get("after") {
        Some(after) => Some(parse_id(after).ok_or_else(|| format!("after {after:?} is not a lead id"))?),
        None => None,
    };
    Ok((filter, form, page, after))
}

impl FilterForm {
    /// `/leads?…&page=N` with these filters.
    fn href(&self, page: i64, after: Option<i64>) -> String {
        let mut href = format!("/leads?page={page}");
        for (name, value) in [
            ("q", &self.q),
            ("list", &self.list),
            ("status", &self.status),
            ("campaign", &self.campaign),
            ("suppressed", &self.suppressed),
        ] {
            if !value.is_empty() {
                href.push_str(&format!("&{name}={}", url_encode(value)));
            }
        }
        if let Some(after) = after {
            href.push_str(&format!("&after={after}"));
        }
        href
    }
}

struct LeadRow {
    id: i64,
    name: String,
    email: String,
    company: String,
    status: &'static str,
    suppressed: bool,
}

impl From<&StoredLead> for LeadRow {
    fn from(l: &StoredLead) -> LeadRow {
        LeadRow {
            id: l.id,
            name: l.lead.full_name.clone().unwrap_or_default(),
            email: l.lead.email.clone().unwrap_or_default(),
            company: l.lead.company.clone().unwrap_or_default(),
            status: l.email_status.map_or("unchecked", |s| s.as_str()),
            suppressed: l.suppressed,
        }
    }
}

#[derive(Template)]
#[template(path = "leads.html")]
struct LeadsPage {
    chrome: Chrome,
    f: FilterForm,
    statuses: [(&'static str, &'static str); 6],
    campaigns: Vec<(i64, String)>,
    p: LeadPage,
    rows: Vec<LeadRow>,
    more: Option<String>,
    /// (href, label, is the current page)
    pager: Vec<(String, String, bool)>,
}

pub(crate) async fn leads(
    State(state): State<AppState>,
    Extension(me): Extension<LoggedIn>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ServerError> {
    let query = Query::parse(raw.as_deref());
    let (filter, f, page, after) = match parse_lead_query(&query) {
        Ok(parsed) => parsed,
        Err(message) => return Ok(bad_request(&me, message, "/leads")),
    };
    let widths = std::sync::Arc::clone(&state.lead_widths);
    let (p, campaigns) = state
        .with_store(move |store| {
            let page = browse::lead_page(store, &widths, &filter, page, after)?;
            let campaigns = store.campaigns()?.into_iter().map(|c| (c.id, c.name)).collect();
            Ok((page, campaigns))
        })
        .await?;
    let more = p.more_after.map(|after| f.href(p.page, Some(after)));
    let pager = pager(p.page, p.pages)
        .into_iter()
        .map(|n| (f.href(n, None), n.to_string(), n == p.page))
        .collect();
    Ok(render(&LeadsPage {
        chrome: Chrome::new(&me, "Leads", "/leads"),
        rows: p.leads.iter().map(LeadRow::from).collect(),
        f,
        statuses: STATUSES,
        campaigns,
        p,
        more,
        pager,
    }))
}

/// The page numbers to link: the first, the last, and two either side of the current.
fn pager(current: i64, pages: i64) -> Vec<i64> {
    let mut numbers = vec![1];
    numbers.extend((current - 2).max(2)..=(current + 2).min(pages));
    if pages > 1 {
        numbers.push(pages);
    }
    numbers.dedup();
    numbers
}

/// One thing that happened to a lead.
struct TimelineEntry {
    at: i64,
    when: String,
    kind: String,
    label: String,
    text: String,
}

#[derive(Template)]
#[template(path = "lead.html")]
struct LeadDetail {
    chrome: Chrome,
    name: String,
    l: StoredLead,
    fields: Vec<(&'static str, String)>,
    timeline: Vec<TimelineEntry>,
}

pub(crate) async fn lead(
    State(state): State<AppState>,
    Extension(me): Extension<LoggedIn>,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let Some(id) = parse_id(&id) else {
        return Ok(not_found().await);
    };
    let found = state
        .with_store(move |store| {
            let Some(lead) = store.lead(id)? else {
                return Ok(None);
            };
            Ok(Some((
                lead,
                store.lead_sends(id)?,
                store.lead_events(id)?,
                store.lead_linkedin_tasks(id)?,
            )))
        })
        .await?;
    let Some((l, sends, events, tasks)) = found else {
        return Ok(not_found().await);
    };
    let mut timeline: Vec<TimelineEntry> = Vec::new();
    let mut push = |at: i64, kind: &str, label: String, text: String| {
        timeline.push(TimelineEntry {
            at,
            when: when(at),
            kind: kind.to_owned(),
            label,
            text,
        })
    };
    for s in sends {
        push(
            s.at,
            "send",
            format!("email {}", s.state),
            format!("step {} of {} to {}", s.step + 1, s.campaign, s.recipient),
        );
    }
    for e in events {
        let text = [e.subject.as_deref(), e.detail.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" — ");
        push(e.at, &e.kind, e.kind.replace('_', " "), text);
    }
    for t in tasks {
        push(
            t.created_at,
            "task",
            format!("LinkedIn {} task", t.kind),
            format!("handed out (step {})", t.step + 1),
        );
        if let Some(done) = t.done_at {
            push(
                done,
                "task",
                format!("LinkedIn {} {}", t.kind, t.state),
                String::new(),
            );
        }
        if let Some(accepted) = t.accepted_at {
            push(accepted, "task", "invitation accepted".to_owned(), String::new());
        }
    }
    timeline.sort_by_key(|t| t.at);
    let lead = &l.lead;
    let fields: Vec<(&'static str, String)> = [
        ("Email", lead.email.clone()),
        (
            "Email status",
            Some(l.email_status.map_or("never checked", |s| s.as_str()).to_owned()),
        ),
        (
            "Suppressed",
            Some(if l.suppressed { "yes" } else { "no" }.to_owned()),
        ),
        ("Title", lead.title.clone()),
        ("Company", lead.company.clone()),
        ("Domain", lead.domain.clone()),
        ("Location", lead.location.clone()),
        ("Time zone", lead.timezone.clone()),
        ("Phone", lead.phone.clone()),
        ("Notes", l.notes.clone()),
        ("Added", Some(l.created_at.clone())),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name, value?)))
    .chain(
        lead.custom
            .iter()
            .map(|(k, v)| ("Custom field", format!("{k}: {v}"))),
    )
    .collect();
    let name = lead
        .full_name
        .clone()
        .or_else(|| lead.email.clone())
        .unwrap_or_else(|| format!("Lead {}", l.id));
    Ok(render(&LeadDetail {
        chrome: Chrome::new(&me, name.clone(), "/leads"),
        name,
        fields,
        timeline,
        l,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pager_links_ends_and_neighbours() {
        assert_eq!(pager(1, 1), vec![1]);
        assert_eq!(pager(1, 20_000), vec![1, 2, 3, 20_000]);
        assert_eq!(pager(500, 20_000), vec![1, 498, 499, 500, 501, 502, 20_000]);
        assert_eq!(pager(20_000, 20_000), vec![1, 19_998, 19_999, 20_000]);
    }

    #[test]
    fn bad_query_values_are_refused_with_a_reason() {
        let bad = |raw: &str| {
            parse_lead_query(&Query::parse(Some(raw)))
                .err()
                .unwrap_or_default()
        };
        assert!(bad("page=0").contains("not a page number"));
        assert!(bad("page=x").contains("not a page number"));
        assert!(bad("status=great").contains("not one of"));
        assert!(bad("campaign=-3").contains("not a campaign id"));
        assert!(bad("suppressed=maybe").contains("yes or no"));
        let (filter, _, page, _) =
            parse_lead_query(&Query::parse(Some("q=jo&page=7&suppressed=no"))).unwrap();
        assert_eq!(
            (filter.search.as_deref(), filter.suppressed, page),
            (Some("jo"), Some(false), 7)
        );
    }
}

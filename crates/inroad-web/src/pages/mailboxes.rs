//! `/mailboxes`: each mailbox's day against its cap, warm-up stage, bounce rate and
//! pause reason, and its From domain's SPF, DKIM and DMARC records looked up live with
//! a verdict in plain words (the rules are `inroad_core::domain_auth`'s).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::Extension;
use inroad_core::domain_auth::{check_dkim, check_dmarc, check_spf, judge, DomainAuth, RecordCheck};
use inroad_engine::dashboard::{self, MailboxHealth};
use inroad_mail::dns::MailResolver;

use super::{render, Chrome};
use crate::auth::LoggedIn;
use crate::chart::{gauge, Fill};
use crate::{AppState, ServerError};

struct MailboxCard {
    h: MailboxHealth,
    gauge: String,
    domain: String,
    /// (record, "ok" | "missing" | "broken" | "unknown", what was found or why)
    records: Vec<(&'static str, &'static str, String)>,
    verdict: String,
}

#[derive(Template)]
#[template(path = "mailboxes.html")]
struct MailboxesPage {
    chrome: Chrome,
    boxes: Vec<MailboxCard>,
}

pub(crate) async fn mailboxes(
    State(state): State<AppState>,
    Extension(me): Extension<LoggedIn>,
) -> Result<Response, ServerError> {
    let now = jiff::Timestamp::now();
    let health = state
        .with_store(move |store| dashboard::mailbox_health(store, now))
        .await?;
    let resolver = MailResolver::new(state.dns_server);
    let mut boxes = Vec::with_capacity(health.len());
    for h in health {
        let domain = h
            .from_address
            .rsplit_once('@')
            .map_or_else(String::new, |(_, d)| d.to_ascii_lowercase());
        let auth = match &resolver {
            Ok(resolver) => domain_auth(resolver, &domain, h.dkim_selector.as_deref()).await,
            Err(e) => judge(
                RecordCheck::Unknown(e.clone()),
                RecordCheck::Unknown(e.clone()),
                RecordCheck::Unknown(e.clone()),
            ),
        };
        boxes.push(MailboxCard {
            gauge: gauge(
                &format!("{} sends today", h.name),
                u64::from(h.sent_today),
                u64::from(h.cap_today),
                Fill::Budget,
            ),
            records: vec![
                row("SPF", &auth.spf),
                row(
                    "DKIM",
                    &match (&auth.dkim, h.dkim_selector.as_deref()) {
                        (RecordCheck::Missing, None) => RecordCheck::Broken(
                            "no DKIM selector set for this mailbox (mailbox add --dkim-selector)".into(),
                        ),
                        (check, _) => check.clone(),
                    },
                ),
                row("DMARC", &auth.dmarc),
            ],
            verdict: auth.verdict,
            domain,
            h,
        });
    }
    Ok(render(&MailboxesPage {
        chrome: Chrome::new(&me, "Mailboxes", "/mailboxes"),
        boxes,
    }))
}

/// The three lookups of a From domain, at once.
pub(crate) async fn domain_auth(resolver: &MailResolver, domain: &str, selector: Option<&str>) -> DomainAuth {
    let dkim_name = selector.map(|s| format!("{s}._domainkey.{domain}"));
    let dmarc_name = format!("_dmarc.{domain}");
    let (spf, dmarc, dkim) = tokio::join!(resolver.txt(domain), resolver.txt(&dmarc_name), async {
        match &dkim_name {
            Some(name) => Some(resolver.txt(name).await),
            None => None,
        }
    });
    judge(
        check_spf(view(&spf)),
        check_dkim(dkim.as_ref().map(view)),
        check_dmarc(view(&dmarc)),
    )
}

/// A lookup's answer as the checks take it.
fn view(answer: &Result<Vec<String>, String>) -> Result<&[String], &str> {
    answer.as_ref().map(Vec::as_slice).map_err(String::as_str)
}

fn row(name: &'static str, check: &RecordCheck) -> (&'static str, &'static str, String) {
    match check {
        RecordCheck::Found(record) => (name, "ok", record.clone()),
        RecordCheck::Missing => (name, "missing", "no record published".to_owned()),
        RecordCheck::Broken(why) => (name, "broken", why.clone()),
        RecordCheck::Unknown(why) => (name, "unknown", why.clone()),
    }
}

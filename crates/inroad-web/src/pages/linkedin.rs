//! `/linkedin`: each account's budgets as gauges, and today's tasks with their outcome
//! buttons. Showing the page hands out today's tasks exactly as `inroad linkedin tasks`
//! does (the same tasks all day, within the budgets), so the page and the CLI agree.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::Extension;
use inroad_engine::linkedin::{self, Outcome, TaskView};

use super::{bad_request, form, parse_id, render, see_other, usage, Chrome, Query};
use crate::auth::LoggedIn;
use crate::chart::{gauge, Fill};
use crate::{not_found, AppState, ServerError};

struct AccountCard {
    name: String,
    plan: String,
    invitations: String,
    messages: String,
    inmail: u32,
    /// A gauge of the invitations of the last 90 days that were accepted.
    acceptance: String,
    pending: u32,
    guard: String,
}

#[derive(Template)]
#[template(path = "linkedin.html")]
struct LinkedinPage {
    chrome: Chrome,
    accounts: Vec<AccountCard>,
    tasks: Vec<TaskView>,
}

pub(crate) async fn linkedin(
    State(state): State<AppState>,
    Extension(me): Extension<LoggedIn>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ServerError> {
    let now = jiff::Timestamp::now();
    let outcome = state
        .with_store(move |store| {
            let tasks = match usage(linkedin::tasks(store, now, None, None))? {
                Ok(tasks) => tasks,
                Err(message) => return Ok(Err(message)),
            };
            let accounts = usage(linkedin::accounts(store, now))?;
            let acceptance = store
                .linkedin_accounts()?
                .into_iter()
                .map(|a| {
                    let since = now.as_second() - 90 * 86_400;
                    let invitations: Vec<_> = store
                        .linkedin_tasks(a.id, since)?
                        .into_iter()
                        .filter(|t| t.kind == "connect" && t.state == "done")
                        .collect();
                    let accepted = invitations.iter().filter(|t| t.accepted_at.is_some()).count();
                    Ok((a.name, accepted, invitations.len()))
                })
                .collect::<inroad_engine::Result<Vec<_>>>()?;
            Ok(accounts.map(|accounts| (accounts, acceptance, tasks)))
        })
        .await?;
    let (accounts, acceptance, tasks) = match outcome {
        Ok(found) => found,
        Err(message) => return Ok(bad_request(&me, message, "/")),
    };
    let accounts = accounts
        .into_iter()
        .map(|a| {
            let (accepted, sent) = acceptance
                .iter()
                .find(|(name, _, _)| *name == a.name)
                .map_or((0, 0), |(_, accepted, sent)| (*accepted, *sent));
            AccountCard {
                invitations: gauge(
                    "Invitations in the last 7 days",
                    u64::from(a.invitations_last_7_days),
                    u64::from(a.invitations_per_week),
                    Fill::Budget,
                ),
                messages: gauge(
                    "Messages in the last 7 days",
                    u64::from(a.messages_last_7_days),
                    u64::from(a.messages_per_week),
                    Fill::Budget,
                ),
                inmail: a.inmail_credits_left,
                acceptance: gauge(
                    "Invitations accepted, last 90 days",
                    accepted as u64,
                    sent as u64,
                    Fill::Share,
                ),
                pending: a.pending_invitations,
                guard: a.guard,
                name: a.name,
                plan: a.plan,
            }
        })
        .collect();
    let query = Query::parse(raw.as_deref());
    Ok(render(&LinkedinPage {
        chrome: Chrome::new(&me, "LinkedIn", "/linkedin").with_notice(&query),
        accounts,
        tasks,
    }))
}

/// `POST /linkedin/tasks/{id}` with `outcome` = `done`, `accepted` or `skipped`.
pub(crate) async fn linkedin_task_outcome(
    State(state): State<AppState>,
    Extension(me): Extension<LoggedIn>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ServerError> {
    let Some(id) = parse_id(&id) else {
        return Ok(not_found().await);
    };
    let Some(outcome) = form(&body).get("outcome").and_then(parse_outcome) else {
        return Ok(bad_request(
            &me,
            "outcome must be done, accepted, declined, replied or skipped",
            "/linkedin",
        ));
    };
    let now = jiff::Timestamp::now();
    let result = state
        .with_store(move |store| usage(linkedin::done(store, id, outcome, now)))
        .await?;
    Ok(match result {
        Ok(()) => see_other("/linkedin?notice=task-done".to_owned()),
        Err(message) => bad_request(&me, message, "/linkedin"),
    })
}

/// The outcomes the task list's buttons (and the API) record.
pub(crate) fn parse_outcome(text: &str) -> Option<Outcome> {
    Some(match text {
        "done" => Outcome::Done,
        "accepted" => Outcome::Accepted,
        "declined" => Outcome::Declined,
        "replied" => Outcome::Replied,
        "skipped" => Outcome::Skipped,
        _ => return None,
    })
}

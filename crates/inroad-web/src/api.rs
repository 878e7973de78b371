//! The JSON API under `/api/v1`, for scripts (with an API token) and for the dashboard's
//! own pages (with the session). It mirrors the CLI's reporting and task commands —
//! stats, campaigns, leads, mailboxes, LinkedIn accounts and tasks, suppressions — with
//! the same report structs the CLI prints with `--json`. Errors are `{"error": "…"}`:
//! 400 for a request to fix, 404 for what does not exist. `openapi.json` (served at
//! `/api/v1/openapi.json`) describes every route; a test holds it to the router.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use inroad_engine::browse;
use inroad_engine::{campaign, dashboard, linkedin, stats, suppress};
use inroad_store::StoredLead;
use serde_json::{json, Value};

use crate::auth::Principal;
use crate::pages::{parse_id, parse_lead_query, parse_outcome, usage, Query, OVERVIEW_DAYS};
use crate::{AppState, ServerError};

/// The OpenAPI 3 description of this API, written by hand next to the handlers.
pub(crate) const OPENAPI: &str = include_str!("../openapi.json");

/// `GET /api/v1/openapi.json`.
pub(crate) async fn openapi() -> Response {
    ([(CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// `GET /api/v1/me`: who is asking, `{"user": NAME|null, "token": NAME|null}`; a script
/// can check its token with it.
pub(crate) async fn me(Extension(principal): Extension<Principal>) -> Json<Value> {
    Json(match principal {
        Principal::User(me) => json!({ "user": me.user, "token": null }),
        Principal::Token(name) => json!({ "user": null, "token": name }),
    })
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// A report as JSON, or the user's mistake as a 400.
fn reply<T: serde::Serialize>(outcome: Result<T, String>) -> Response {
    match outcome {
        Ok(report) => match serde_json::to_value(report) {
            Ok(value) => Json(value).into_response(),
            Err(e) => ServerError::logged(format!("JSON: {e}")).into_response(),
        },
        Err(message) => error(StatusCode::BAD_REQUEST, &message),
    }
}

/// `GET /api/v1/overview`: what the overview page shows (`inroad stats` in brief).
pub(crate) async fn overview(State(state): State<AppState>) -> Result<Response, ServerError> {
    let now = jiff::Timestamp::now();
    let o = state
        .with_store(move |store| usage(dashboard::overview(store, now, OVERVIEW_DAYS)))
        .await?;
    Ok(reply(o))
}

/// `GET /api/v1/stats[?campaign=ID|NAME]`: `inroad stats --json`.
pub(crate) async fn stats(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ServerError> {
    let campaign = Query::parse(raw.as_deref()).get("campaign").map(str::to_owned);
    let s = state
        .with_store(move |store| usage(stats::stats(store, campaign.as_deref())))
        .await?;
    Ok(reply(s))
}

/// `GET /api/v1/campaigns`: `inroad campaign show --json` of every campaign.
pub(crate) async fn campaigns(State(state): State<AppState>) -> Result<Response, ServerError> {
    let all = state
        .with_store(|store| {
            let ids: Vec<i64> = store.campaigns()?.iter().map(|c| c.id).collect();
            usage(
                ids.into_iter()
                    .map(|id| campaign::summary(store, &id.to_string()))
                    .collect::<inroad_engine::Result<Vec<_>>>(),
            )
        })
        .await?;
    Ok(reply(all.map(|campaigns| json!({ "campaigns": campaigns }))))
}

/// `GET /api/v1/campaigns/{id}`: `inroad campaign show ID --json`.
pub(crate) async fn campaign(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let Some(id) = parse_id(&id) else {
        return Ok(error(StatusCode::NOT_FOUND, "no such campaign"));
    };
    let found = state
        .with_store(move |store| {
            if !store.campaigns()?.iter().any(|c| c.id == id) {
                return Ok(None);
            }
            usage(campaign::summary(store, &id.to_string())).map(Some)
        })
        .await?;
    Ok(match found {
        Some(summary) => reply(summary),
        None => error(StatusCode::NOT_FOUND, "no such campaign"),
    })
}

fn lead_json(l: &StoredLead) -> Value {
    let lead = &l.lead;
    json!({
        "id": l.id,
        "email": lead.email,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "full_name": lead.full_name,
        "title": lead.title,
        "company": lead.company,
        "domain": lead.domain,
        "linkedin_url": lead.linkedin_url,
        "location": lead.location,
        "timezone": lead.timezone,
        "phone": lead.phone,
        "custom": lead.custom,
        "notes": l.notes,
        "created_at": l.created_at,
        "suppressed": l.suppressed,
        "email_status": l.email_status.map(|s| s.as_str()),
        "email_source": l.email_source,
    })
}

/// `GET /api/v1/leads?q&list&status&campaign&suppressed&page&after`: a page of leads, the
/// same pages as the dashboard's (id windows: see `inroad_engine::browse`).
pub(crate) async fn leads(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ServerError> {
    let (filter, _, page, after) = match parse_lead_query(&Query::parse(raw.as_deref())) {
        Ok(parsed) => parsed,
        Err(message) => return Ok(error(StatusCode::BAD_REQUEST, &message)),
    };
    let widths = std::sync::Arc::clone(&state.lead_widths);
    let p = state
        .with_store(move |store| browse::lead_page(store, &widths, &filter, page, after))
        .await?;
    Ok(Json(json!({
        "page": p.page,
        "pages": p.pages,
        "from_id": p.from_id,
        "to_id": p.to_id,
        "more_after": p.more_after,
        "leads": p.leads.iter().map(lead_json).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// `GET /api/v1/leads/{id}`.
pub(crate) async fn lead(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let Some(id) = parse_id(&id) else {
        return Ok(error(StatusCode::NOT_FOUND, "no such lead"));
    };
    let found = state.with_store(move |store| Ok(store.lead(id)?)).await?;
    Ok(match found {
        Some(l) => Json(lead_json(&l)).into_response(),
        None => error(StatusCode::NOT_FOUND, "no such lead"),
    })
}

/// `GET /api/v1/mailboxes`: each mailbox's day, cap, warm-up and bounce rate.
pub(crate) async fn mailboxes(State(state): State<AppState>) -> Result<Response, ServerError> {
    let now = jiff::Timestamp::now();
    let m = state
        .with_store(move |store| usage(dashboard::mailbox_health(store, now)))
        .await?;
    Ok(reply(m.map(|mailboxes| json!({ "mailboxes": mailboxes }))))
}

/// `GET /api/v1/linkedin/accounts`: `inroad linkedin account list --json`.
pub(crate) async fn linkedin_accounts(State(state): State<AppState>) -> Result<Response, ServerError> {
    let now = jiff::Timestamp::now();
    let a = state
        .with_store(move |store| usage(linkedin::accounts(store, now)))
        .await?;
    Ok(reply(a.map(|accounts| json!({ "accounts": accounts }))))
}

/// `GET /api/v1/linkedin/tasks[?account=NAME]`: `inroad linkedin tasks --json` (hands
/// out today's tasks like the CLI: the same ones all day).
pub(crate) async fn linkedin_tasks(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ServerError> {
    let account = Query::parse(raw.as_deref()).get("account").map(str::to_owned);
    let now = jiff::Timestamp::now();
    let t = state
        .with_store(move |store| usage(linkedin::tasks(store, now, account.as_deref(), None)))
        .await?;
    Ok(reply(t.map(|tasks| json!({ "tasks": tasks }))))
}

/// `POST /api/v1/linkedin/tasks/{id}/done` with `{"outcome": "done" | "accepted" |
/// "declined" | "replied" | "skipped"}` (default `done`): `inroad linkedin done`.
pub(crate) async fn linkedin_done(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ServerError> {
    let Some(id) = parse_id(&id) else {
        return Ok(error(StatusCode::NOT_FOUND, "no such task"));
    };
    let outcome = if body.is_empty() {
        Some(linkedin::Outcome::Done)
    } else {
        serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("outcome").and_then(Value::as_str).and_then(parse_outcome))
    };
    let Some(outcome) = outcome else {
        return Ok(error(
            StatusCode::BAD_REQUEST,
            "send {\"outcome\": \"done\"|\"accepted\"|\"declined\"|\"replied\"|\"skipped\"}",
        ));
    };
    let now = jiff::Timestamp::now();
    let done = state
        .with_store(move |store| usage(linkedin::done(store, id, outcome, now)))
        .await?;
    Ok(reply(done.map(|()| json!({ "task": id, "recorded": true }))))
}

/// `GET /api/v1/suppressions?q&after`: a page of the list, in value order.
pub(crate) async fn suppressions(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ServerError> {
    let query = Query::parse(raw.as_deref());
    let q = query.get("q").unwrap_or("").to_owned();
    let after = query.get("after").unwrap_or("").to_owned();
    let rows = state
        .with_store(move |store| Ok(store.suppression_page(&q, &after, SUPPRESSIONS_PAGE)?))
        .await?;
    let entries: Vec<Value> = rows
        .iter()
        .map(|s| json!({ "value": s.value, "reason": s.reason, "created_at": s.created_at }))
        .collect();
    let next_after = (rows.len() == SUPPRESSIONS_PAGE).then(|| rows.last().map(|s| s.value.clone()));
    Ok(Json(json!({ "suppressions": entries, "next_after": next_after.flatten() })).into_response())
}

const SUPPRESSIONS_PAGE: usize = 500;

/// The `{"values": [...], "reason": ...}` body of a suppression change.
fn suppression_body(body: &[u8]) -> Result<(Vec<String>, Option<String>), String> {
    let bad = || "send {\"values\": [\"jo@acme.com\", \"@acme.com\"], \"reason\": \"…\"}".to_owned();
    let value: Value = serde_json::from_slice(body).map_err(|_| bad())?;
    let values = value
        .get("values")
        .and_then(Value::as_array)
        .ok_or_else(bad)?
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(bad))
        .collect::<Result<Vec<_>, _>>()?;
    let reason = value.get("reason").and_then(Value::as_str).map(str::to_owned);
    Ok((values, reason))
}

/// `POST /api/v1/suppressions`: `inroad suppress add`.
pub(crate) async fn add_suppressions(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ServerError> {
    let (values, reason) = match suppression_body(&body) {
        Ok(parsed) => parsed,
        Err(message) => return Ok(error(StatusCode::BAD_REQUEST, &message)),
    };
    let added = state
        .with_store(move |store| usage(suppress::add(store, &values, reason.as_deref())))
        .await?;
    Ok(reply(added.map(|added| json!({ "added": added }))))
}

/// `DELETE /api/v1/suppressions`: `inroad suppress remove`.
pub(crate) async fn remove_suppressions(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ServerError> {
    let (values, _) = match suppression_body(&body) {
        Ok(parsed) => parsed,
        Err(message) => return Ok(error(StatusCode::BAD_REQUEST, &message)),
    };
    let removed = state
        .with_store(move |store| usage(suppress::remove(store, &values)))
        .await?;
    Ok(reply(removed.map(|removed| json!({ "removed": removed }))))
}

//! `/suppressions`: search, add, and remove with a confirmation page first (removing
//! lets campaigns write to someone again, so it is never one click).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::Extension;
use inroad_engine::suppress;
use inroad_store::Suppression;

use super::{bad_request, form, render, see_other, url_encode, usage, Chrome, Query};
use crate::auth::LoggedIn;
use crate::{AppState, ServerError};

/// Entries a page of the list shows.
const PAGE: usize = 100;

#[derive(Template)]
#[template(path = "suppressions.html")]
struct SuppressionsPage {
    chrome: Chrome,
    q: String,
    rows: Vec<Suppression>,
    next: Option<String>,
}

pub(crate) async fn suppressions(
    State(state): State<AppState>,
    Extension(me): Extension<LoggedIn>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ServerError> {
    let query = Query::parse(raw.as_deref());
    let q = query.get("q").unwrap_or("").to_owned();
    let after = query.get("after").unwrap_or("").to_owned();
    let search = q.clone();
    let rows = state
        .with_store(move |store| Ok(store.suppression_page(&search, &after, PAGE)?))
        .await?;
    let next = (rows.len() == PAGE).then(|| rows.last()).flatten().map(|last| {
        format!(
            "/suppressions?q={}&after={}",
            url_encode(&q),
            url_encode(&last.value)
        )
    });
    Ok(render(&SuppressionsPage {
        chrome: Chrome::new(&me, "Suppressions", "/suppressions").with_notice(&query),
        q,
        rows,
        next,
    }))
}

/// `POST /suppressions` with `value` (an address or `@domain`) and an optional `reason`.
pub(crate) async fn add_suppression(
    State(state): State<AppState>,
    Extension(me): Extension<LoggedIn>,
    body: Bytes,
) -> Result<Response, ServerError> {
    let fields = form(&body);
    let Some(value) = fields.get("value").map(str::to_owned) else {
        return Ok(bad_request(
            &me,
            "give an address or @domain to suppress",
            "/suppressions",
        ));
    };
    let reason = fields.get("reason").map(str::to_owned);
    let added = state
        .with_store(move |store| usage(suppress::add(store, &[value], reason.as_deref())))
        .await?;
    Ok(match added {
        Ok(0) => see_other("/suppressions?notice=already-suppressed".to_owned()),
        Ok(_) => see_other("/suppressions?notice=suppressed".to_owned()),
        Err(message) => bad_request(&me, message, "/suppressions"),
    })
}

#[derive(Template)]
#[template(path = "confirm_remove.html")]
struct ConfirmRemove {
    chrome: Chrome,
    value: String,
}

/// `GET /suppressions/remove?value=…`: asks first.
pub(crate) async fn confirm_remove(Extension(me): Extension<LoggedIn>, RawQuery(raw): RawQuery) -> Response {
    match Query::parse(raw.as_deref()).get("value") {
        Some(value) => render(&ConfirmRemove {
            chrome: Chrome::new(&me, "Remove a suppression", "/suppressions"),
            value: value.to_owned(),
        }),
        None => bad_request(&me, "say which suppression to remove", "/suppressions"),
    }
}

/// `POST /suppressions/remove` with `value`: the confirmed removal.
pub(crate) async fn remove_suppression(
    State(state): State<AppState>,
    Extension(me): Extension<LoggedIn>,
    body: Bytes,
) -> Result<Response, ServerError> {
    let Some(value) = form(&body).get("value").map(str::to_owned) else {
        return Ok(bad_request(
            &me,
            "say which suppression to remove",
            "/suppressions",
        ));
    };
    let removed = state
        .with_store(move |store| usage(suppress::remove(store, &[value])))
        .await?;
    Ok(match removed {
        Ok(0) => bad_request(&me, "that is not on the suppression list", "/suppressions"),
        Ok(_) => see_other("/suppressions?notice=removed".to_owned()),
        Err(message) => bad_request(&me, message, "/suppressions"),
    })
}

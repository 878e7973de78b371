//! The dashboard's pages, all behind the login (each is listed in `protected_routes`):
//! server-rendered with askama templates (`templates/`), which escape every value
//! unless a template says `|safe` — and only our own SVG charts are marked so.
//!
//! Each page reads the store once, on the blocking pool (`AppState::with_store`), and
//! state changes are POSTs whose CSRF token `auth::require_login` has checked before the
//! handler runs; after one, the browser is sent back to the page with a notice (303), so
//! a reload never repeats it.

mod campaigns;
mod leads;
mod linkedin;
mod mailboxes;
mod overview;
mod suppressions;

use askama::Template;
use axum::body::Bytes;
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

pub(crate) use campaigns::{campaign, campaigns, set_campaign_status};
pub(crate) use leads::{lead, leads, parse_lead_query};
pub(crate) use linkedin::{linkedin, linkedin_task_outcome, parse_outcome};
pub(crate) use mailboxes::mailboxes;
pub(crate) use overview::{inbox, overview, reply_handled, OVERVIEW_DAYS};
pub(crate) use suppressions::{add_suppression, confirm_remove, remove_suppression, suppressions};

use crate::auth::LoggedIn;
use crate::ServerError;

/// What every page's frame needs: the title, who is logged in (and their CSRF token for
/// the logout form and every other form), where we are, and a notice after a POST.
pub(crate) struct Chrome {
    pub(crate) title: String,
    pub(crate) user: String,
    pub(crate) csrf: String,
    section: &'static str,
    pub(crate) notice: Option<String>,
}

impl Chrome {
    pub(crate) fn new(me: &LoggedIn, title: impl Into<String>, section: &'static str) -> Chrome {
        Chrome {
            title: title.into(),
            user: me.user.clone(),
            csrf: me.csrf().to_owned(),
            section,
            notice: None,
        }
    }

    /// The notice named by `?notice=` (a fixed set: a URL cannot put words on the page).
    pub(crate) fn with_notice(mut self, query: &Query) -> Chrome {
        self.notice = query.get("notice").and_then(notice_text).map(str::to_owned);
        self
    }

    pub(crate) fn nav(&self) -> [(&'static str, &'static str); 7] {
        [
            ("/", "Overview"),
            ("/campaigns", "Campaigns"),
            ("/leads", "Leads"),
            ("/mailboxes", "Mailboxes"),
            ("/linkedin", "LinkedIn"),
            ("/inbox", "Inbox"),
            ("/suppressions", "Suppressions"),
        ]
    }

    pub(crate) fn is_current(&self, href: &str) -> bool {
        href == self.section
    }
}

fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "started" => "The campaign is active: the worker sends its next steps.",
        "paused" => "The campaign is paused: nothing more goes out until you start it again.",
        "task-done" => "Task recorded.",
        "suppressed" => "Suppressed: no campaign will write to it again.",
        "already-suppressed" => "That was already on the suppression list.",
        "removed" => "Removed from the suppression list.",
        "handled" => "Marked handled.",
        _ => return None,
    })
}

/// A page's query string as name → first value.
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Query {
        Query(
            form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The value of `name`, if given and not blank.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// A URL-encoded form body as name → first value.
pub(crate) fn form(body: &Bytes) -> Query {
    Query(
        form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    )
}

/// Renders a template, or the generic failure if the template cannot (a bug, logged).
pub(crate) fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => ServerError::logged(format!("template: {e}")).into_response(),
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct Message {
    chrome: Chrome,
    message: String,
    back: String,
    is_error: bool,
}

/// A 400 page saying what was wrong with the request, with a way back.
pub(crate) fn bad_request(me: &LoggedIn, message: impl Into<String>, back: &str) -> Response {
    let page = Message {
        chrome: Chrome::new(me, "That did not work", ""),
        message: message.into(),
        back: back.to_owned(),
        is_error: true,
    };
    (StatusCode::BAD_REQUEST, render(&page)).into_response()
}

/// 303 to `location` (after a POST).
pub(crate) fn see_other(location: String) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response()
}

/// A store job's outcome with the user's mistakes (`Error::Usage`) kept apart from
/// failures: those become a 400 page saying what to fix, these the logged 500.
pub(crate) fn usage<T>(result: inroad_engine::Result<T>) -> inroad_engine::Result<Result<T, String>> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(inroad_engine::Error::Usage(message)) => Ok(Err(message)),
        Err(e) => Err(e),
    }
}

/// `0.123` → `12.3 %`. (By reference: templates pass their values so.)
pub(crate) fn percent(rate: &f64) -> String {
    format!("{:.1} %", rate * 100.0)
}

/// A value for a URL's query string.
pub(crate) fn url_encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Unix seconds as `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn when(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// An id from a path segment; `None` (→ the plain 404) for anything else.
pub(crate) fn parse_id(raw: &str) -> Option<i64> {
    raw.parse::<i64>().ok().filter(|id| *id > 0)
}

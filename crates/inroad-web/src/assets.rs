//! `/static/{file}`: the dashboard's stylesheet, public because the login page needs it
//! before anyone is logged in. Files are compiled into the binary: nothing on disk to
//! deploy, and no path from a URL ever reaches the file system.

use axum::extract::rejection::PathRejection;
use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::not_found;

/// (name, content type, bytes) of every static file.
const FILES: &[(&str, &str, &str)] = &[(
    "inroad.css",
    "text/css; charset=utf-8",
    include_str!("../static/inroad.css"),
)];

pub(crate) async fn asset(file: Result<Path<String>, PathRejection>) -> Response {
    let found = file
        .ok()
        .and_then(|Path(file)| FILES.iter().find(|(name, _, _)| *name == file));
    match found {
        // Public and the same for everyone: a browser may keep it for an hour.
        Some((_, content_type, body)) => (
            [
                (CONTENT_TYPE, *content_type),
                (CACHE_CONTROL, "public, max-age=3600"),
            ],
            *body,
        )
            .into_response(),
        None => not_found().await,
    }
}

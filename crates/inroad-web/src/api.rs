//! The JSON API under `/api/v1`, for scripts (with an API token) and for the dashboard's
//! own pages (with the session). Errors are `{"error": "…"}`.

use axum::{Extension, Json};
use serde_json::{json, Value};

use crate::auth::Principal;

/// `GET /api/v1/me`: who is asking, `{"user": NAME|null, "token": NAME|null}`; a script
/// can check its token with it.
pub(crate) async fn me(Extension(principal): Extension<Principal>) -> Json<Value> {
    Json(match principal {
        Principal::User(me) => json!({ "user": me.user, "token": null }),
        Principal::Token(name) => json!({ "user": null, "token": name }),
    })
}

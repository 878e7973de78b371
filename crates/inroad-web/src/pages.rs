//! The dashboard's pages, all behind the login (each is listed in `protected_routes`).
//! Today the overview is a placeholder that shows who is logged in; the campaign, lead
//! and inbox pages join it here.

use axum::response::Html;
use axum::Extension;

use crate::auth::LoggedIn;
use crate::html::{app_page, escape};

pub(crate) async fn overview(Extension(me): Extension<LoggedIn>) -> Html<String> {
    Html(app_page(
        "Overview",
        &format!(
            "<div class=\"bar\">\n<h1>Inroad</h1>\n{}\n</div>\n<p>Logged in as <strong>{}</strong>.</p>",
            me.logout_button(),
            escape(&me.user)
        ),
    ))
}

//! Server-rendered HTML, by hand: the pages are few and small, and writing them with
//! `format!` keeps every interpolated value visibly passing through [`escape`].

/// Makes text safe inside HTML text and double- or single-quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page shown to strangers (unsubscribe), self-contained: nothing else is
/// fetched from a server whose links people did not ask for.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{title}</title>\n\
         <h1>{title}</h1>\n{body}\n</html>\n"
    )
}

/// A dashboard page (login included), with the dashboard's stylesheet. `title` is
/// trusted text; `body` is HTML whose values the caller escaped.
pub(crate) fn app_page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{title} · Inroad</title>\n\
         <link rel=\"stylesheet\" href=\"/static/inroad.css\">\n<main>\n{body}\n</main>\n</html>\n"
    )
}

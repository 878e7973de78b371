//! `/campaigns` and `/campaigns/{id}`: each campaign's funnel, A/B variants with an
//! honest word on significance, the forecast, the leads needing a person, and start /
//! pause.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Extension;
use inroad_engine::campaign::{self, CampaignSummary, VariantReport};
use inroad_engine::forecast::{forecast, Forecast, ForecastOptions, DEFAULT_ACCEPTANCE_RATE};
use inroad_engine::stats;

use super::{bad_request, form, parse_id, render, see_other, usage, Chrome, Query};
use crate::auth::LoggedIn;
use crate::chart::{bar_chart, line_chart, Series};
use crate::html::escape;
use crate::{not_found, AppState, ServerError};

struct CampaignRow {
    id: i64,
    name: String,
    status: String,
    enrolled: u64,
    active: u64,
    attention: u64,
    sent: u64,
}

#[derive(Template)]
#[template(path = "campaigns.html")]
struct CampaignsPage {
    chrome: Chrome,
    rows: Vec<CampaignRow>,
}

pub(crate) async fn campaigns(
    State(state): State<AppState>,
    Extension(me): Extension<LoggedIn>,
) -> Result<Response, ServerError> {
    let rows = state
        .with_store(|store| {
            let mut rows = Vec::new();
            for c in store.campaigns()? {
                let counts = store.campaign_counts(c.id)?;
                let state = |s: &str| counts.enrolments.get(s).copied().unwrap_or(0);
                let sends = |s: &str| counts.sends.get(s).copied().unwrap_or(0);
                rows.push(CampaignRow {
                    id: c.id,
                    name: c.name,
                    status: c.status,
                    enrolled: counts.enrolments.values().sum(),
                    active: state("active") + state("linkedin"),
                    attention: state("needs_attention"),
                    sent: sends("sent") + sends("bounced"),
                });
            }
            Ok(rows)
        })
        .await?;
    Ok(render(&CampaignsPage {
        chrome: Chrome::new(&me, "Campaigns", "/campaigns"),
        rows,
    }))
}

/// One A/B-tested step, ready to show.
struct AbTest {
    step: usize,
    variants: Vec<VariantRow>,
    note: String,
}

struct VariantRow {
    name: String,
    weight: u32,
    sent: u64,
    replies: u64,
    reply_rate: f64,
}

#[derive(Template)]
#[template(path = "campaign.html")]
struct CampaignPage {
    chrome: Chrome,
    s: CampaignSummary,
    replied: u64,
    reply_rate: f64,
    funnel: String,
    ab: Vec<AbTest>,
    forecast: String,
}

pub(crate) async fn campaign(
    State(state): State<AppState>,
    Extension(me): Extension<LoggedIn>,
    Path(id): Path<String>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Result<Response, ServerError> {
    let Some(id) = parse_id(&id) else {
        return Ok(not_found().await);
    };
    let found = state
        .with_store(move |store| {
            if !store.campaigns()?.iter().any(|c| c.id == id) {
                return Ok(None);
            }
            let key = id.to_string();
            let summary = campaign::summary(store, &key)?;
            let stats = stats::stats(store, Some(&key))?;
            let forecast = match summary.status.as_str() {
                "active" | "draft" => Some(forecast(&*store, &key, &forecast_options())?),
                _ => None,
            };
            Ok(Some((summary, stats, forecast)))
        })
        .await?;
    let Some((s, stats, planned)) = found else {
        return Ok(not_found().await);
    };
    let (replied, reply_rate) = stats
        .campaigns
        .first()
        .map_or((0, 0.0), |c| (c.replied, c.reply_rate));
    let mut funnel_rows = vec![("Enrolled".to_owned(), s.enrolled)];
    funnel_rows.extend(
        s.steps
            .iter()
            .map(|st| (format!("Step {} sent", st.step + 1), st.sent)),
    );
    funnel_rows.push(("Replied".to_owned(), replied));
    let funnel = bar_chart("funnel", &format!("Funnel of {}", s.name), &funnel_rows);
    let ab = s
        .steps
        .iter()
        .filter(|st| st.variants.len() > 1)
        .map(|st| AbTest {
            step: st.step + 1,
            note: significance_note(&st.variants),
            variants: st
                .variants
                .iter()
                .map(|v| VariantRow {
                    name: variant_name(v.variant),
                    weight: v.weight,
                    sent: v.sent,
                    replies: v.replies,
                    reply_rate: v.reply_rate,
                })
                .collect(),
        })
        .collect();
    let query = Query::parse(raw.as_deref());
    Ok(render(&CampaignPage {
        chrome: Chrome::new(&me, s.name.clone(), "/campaigns").with_notice(&query),
        forecast: forecast_section(planned.as_ref(), s.sent),
        s,
        replied,
        reply_rate,
        funnel,
        ab,
    }))
}

/// The forecast from now, with the defaults of `inroad forecast` (its flags answer what-ifs).
fn forecast_options() -> ForecastOptions {
    ForecastOptions {
        now: jiff::Timestamp::now(),
        extra_mailboxes: 0,
        invitations_per_week: None,
        domain_limit_per_hour: Some(60),
        acceptance_rate: DEFAULT_ACCEPTANCE_RATE,
    }
}

/// Planned against done: touches so far (emails sent; `done` here) and, week by week, the
/// touches the forecast plans on top of them, as a chart and the same figures as a table.
/// `None`: a paused or stopped campaign has no plan.
fn forecast_section(f: Option<&Forecast>, done: u64) -> String {
    let Some(f) = f else {
        return "<p>A paused or stopped campaign plans nothing; start it to see its forecast.</p>".to_owned();
    };
    let when = |day: &Option<String>| day.clone().unwrap_or_else(|| "not within three years".to_owned());
    let mut html = format!(
        "<p>{} leads in sequence: first touches done by <strong>{}</strong>, last touch by \
         <strong>{}</strong>; held back most by {} (assuming nobody replies and {} % of LinkedIn \
         invitations are accepted).</p>",
        f.leads,
        escape(&when(&f.first_touches_done_by)),
        escape(&when(&f.last_touch_by)),
        escape(&f.bottleneck),
        f.acceptance_rate
    );
    if f.weeks.is_empty() {
        return html;
    }
    let labels: Vec<String> = f.weeks.iter().map(|w| w.week_start.clone()).collect();
    let mut total = done;
    let planned: Vec<f64> = f
        .weeks
        .iter()
        .map(|w| {
            total += w.touches;
            total as f64
        })
        .collect();
    let chart = line_chart(
        "forecast",
        "Planned against done",
        &format!("Touches so far ({done}) and the forecast's running total week by week, up to {total}."),
        &labels,
        &[
            Series {
                name: "Planned (running total)",
                class: "planned",
                values: planned,
            },
            Series {
                name: "Done",
                class: "sent",
                values: vec![done as f64; labels.len()],
            },
        ],
    );
    html.push_str(&format!(
        "<figure>{chart}<figcaption>Touches done so far and those planned, week by week.</figcaption></figure>"
    ));
    html.push_str(
        "<details><summary>The numbers</summary><table><thead><tr><th scope=\"col\">Week of</th>\
         <th scope=\"col\">Touches planned</th><th scope=\"col\">What holds it back</th></tr></thead><tbody>",
    );
    for w in &f.weeks {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&w.week_start),
            w.touches,
            escape(&w.bottleneck)
        ));
    }
    html.push_str("</tbody></table></details>");
    html
}

/// "A", "B", … for variant 0, 1, ….
fn variant_name(index: usize) -> String {
    char::from_u32(u32::from(b'A') + index as u32)
        .filter(char::is_ascii_uppercase)
        .map_or_else(|| format!("#{}", index + 1), String::from)
}

/// Sends each variant needs before any comparison is worth reading.
const MIN_SENDS_PER_VARIANT: u64 = 100;

/// What the reply rates of a step's variants can and cannot tell: the leader against the
/// runner-up with a two-proportion z-test, and no verdict on too few sends.
fn significance_note(variants: &[VariantReport]) -> String {
    let mut ranked: Vec<&VariantReport> = variants.iter().collect();
    ranked.sort_by(|a, b| b.reply_rate.total_cmp(&a.reply_rate));
    let (Some(best), Some(next)) = (ranked.first(), ranked.get(1)) else {
        return String::new();
    };
    if variants.iter().any(|v| v.sent < MIN_SENDS_PER_VARIANT) {
        return format!(
            "Too early to call: each variant needs at least {MIN_SENDS_PER_VARIANT} sends before \
             a difference in reply rate means much; at these numbers it is mostly chance."
        );
    }
    let p = two_proportion_p_value(best.replies, best.sent, next.replies, next.sent);
    if p < 0.05 {
        format!(
            "Variant {} leads {} and the gap is unlikely to be chance (p = {p:.3}, two-proportion \
             z-test). Looking again and again as sends come in makes a fluke more likely than \
             p says; confirm over another batch before you drop a variant.",
            variant_name(best.variant),
            variant_name(next.variant)
        )
    } else {
        format!(
            "No significant difference yet between {} and {} (p = {p:.2}): keep both running.",
            variant_name(best.variant),
            variant_name(next.variant)
        )
    }
}

/// The two-sided p-value of a two-proportion z-test (pooled variance).
fn two_proportion_p_value(hits_a: u64, n_a: u64, hits_b: u64, n_b: u64) -> f64 {
    if n_a == 0 || n_b == 0 {
        return 1.0;
    }
    let (na, nb) = (n_a as f64, n_b as f64);
    let pooled = (hits_a + hits_b) as f64 / (na + nb);
    let se = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    if se == 0.0 {
        return 1.0;
    }
    let z = ((hits_a as f64 / na) - (hits_b as f64 / nb)).abs() / se;
    2.0 * (1.0 - normal_cdf(z))
}

/// Φ(x) for x ≥ 0, by Abramowitz and Stegun 26.2.17 (error below 7.5e-8).
fn normal_cdf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.231_641_9 * x);
    let poly = t
        * (0.319_381_530
            + t * (-0.356_563_782 + t * (1.781_477_937 + t * (-1.821_255_978 + t * 1.330_274_429))));
    1.0 - (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt() * poly
}

/// `POST /campaigns/{id}/status` with `status` = `active` or `paused`.
pub(crate) async fn set_campaign_status(
    State(state): State<AppState>,
    Extension(me): Extension<LoggedIn>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ServerError> {
    let Some(id) = parse_id(&id) else {
        return Ok(not_found().await);
    };
    let back = format!("/campaigns/{id}");
    let status = match form(&body).get("status") {
        Some("active") => "active",
        Some("paused") => "paused",
        _ => return Ok(bad_request(&me, "status must be active or paused", &back)),
    };
    let outcome = state
        .with_store(move |store| usage(campaign::set_status(store, &id.to_string(), status)))
        .await?;
    Ok(match outcome {
        Ok(()) => see_other(format!(
            "{back}?notice={}",
            if status == "active" { "started" } else { "paused" }
        )),
        Err(message) => bad_request(&me, message, &back),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(variant: usize, sent: u64, replies: u64) -> VariantReport {
        VariantReport {
            variant,
            weight: 1,
            sent,
            replies,
            reply_rate: replies as f64 / sent.max(1) as f64,
        }
    }

    #[test]
    fn the_p_value_matches_a_textbook_case() {
        // 60/500 against 40/500: z ≈ 2.085, two-sided p ≈ 0.037.
        let p = two_proportion_p_value(60, 500, 40, 500);
        assert!((p - 0.037).abs() < 0.002, "{p}");
        assert!((two_proportion_p_value(5, 100, 5, 100) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn the_note_refuses_to_call_small_samples_and_names_a_clear_winner() {
        assert!(significance_note(&[variant(0, 40, 8), variant(1, 40, 1)]).starts_with("Too early"));
        let note = significance_note(&[variant(0, 500, 40), variant(1, 500, 60)]);
        assert!(note.starts_with("Variant B leads A"), "{note}");
        assert!(significance_note(&[variant(0, 500, 41), variant(1, 500, 40)]).starts_with("No significant"));
    }
}

//! Charts as server-rendered SVG: no script, nothing fetched, readable without colour
//! (each series also differs in shape) and with a text alternative — a `<title>` and
//! `<desc>` inside the SVG for screen readers, and the numbers as a table beside it.
//! Every text that goes into the SVG passes through `escape`.

use std::fmt::Write;

use crate::html::escape;

/// One named series of a chart, with its CSS class (colour and dash in inroad.css).
pub(crate) struct Series<'a> {
    pub(crate) name: &'a str,
    pub(crate) class: &'a str,
    pub(crate) values: Vec<f64>,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 44.0;

/// A line chart over `labels` (one x position each): the overview's activity per day,
/// and the forecast's planned against done.
pub(crate) fn line_chart(
    id: &str,
    title: &str,
    desc: &str,
    labels: &[String],
    series: &[Series<'_>],
) -> String {
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0_f64, f64::max);
    let top = nice_ceiling(max);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let step = if labels.len() > 1 {
        plot_w / (labels.len() - 1) as f64
    } else {
        0.0
    };
    let x = |i: usize| LEFT + step * i as f64;
    let y = |v: f64| TOP + plot_h - plot_h * v / top;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart\" id=\"{id}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         aria-labelledby=\"{id}-title {id}-desc\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        escape(title),
        escape(desc)
    );
    // Gridlines at quarters of the scale, labelled.
    for quarter in 0..=4 {
        let value = top * f64::from(quarter) / 4.0;
        let gy = y(value);
        let _ = write!(
            svg,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{gy:.1}\" y2=\"{gy:.1}\"/>\
             <text class=\"axis\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            gy + 4.0,
            format_number(value)
        );
    }
    // About six date labels, whatever the number of days.
    let every = labels.len().div_ceil(6).max(1);
    for (i, label) in labels.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let _ = write!(
            svg,
            "<text class=\"axis\" x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            x(i),
            HEIGHT - BOTTOM + 18.0,
            escape(label)
        );
    }
    for s in series {
        let points: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        let _ = write!(
            svg,
            "<polyline class=\"series {}\" fill=\"none\" points=\"{}\"/>",
            escape(s.class),
            points.join(" ")
        );
    }
    // The legend, under the axis.
    for (i, s) in series.iter().enumerate() {
        let lx = LEFT + 150.0 * i as f64;
        let ly = HEIGHT - 8.0;
        let _ = write!(
            svg,
            "<line class=\"series {}\" x1=\"{lx}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>\
             <text class=\"legend\" x=\"{}\" y=\"{ly}\">{}</text>",
            escape(s.class),
            lx + 24.0,
            ly - 4.0,
            ly - 4.0,
            lx + 30.0,
            escape(s.name)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// How a gauge is coloured as it fills.
#[derive(Clone, Copy)]
pub(crate) enum Fill {
    /// A budget: amber near the limit, red at it.
    Budget,
    /// A share where more is simply more (an acceptance rate): one colour.
    Share,
}

/// A gauge: `used` of `limit` as a filled bar with the figures written on it, for
/// budgets (invitations this week, a mailbox's sends today against its cap) and shares.
pub(crate) fn gauge(label: &str, used: u64, limit: u64, fill: Fill) -> String {
    let share = if limit == 0 {
        if used > 0 {
            1.0
        } else {
            0.0
        }
    } else {
        (used as f64 / limit as f64).min(1.0)
    };
    let level = match (fill, share) {
        (Fill::Share, _) => "share",
        (Fill::Budget, s) if s >= 0.95 => "full",
        (Fill::Budget, s) if s >= 0.75 => "high",
        (Fill::Budget, _) => "ok",
    };
    let text = format!("{label}: {used} of {limit}");
    format!(
        "<svg class=\"gauge\" viewBox=\"0 0 240 28\" role=\"img\" aria-label=\"{text}\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title>{text}</title>\
         <rect class=\"track\" x=\"0\" y=\"4\" width=\"240\" height=\"20\" rx=\"4\"/>\
         <rect class=\"fill {level}\" x=\"0\" y=\"4\" width=\"{:.1}\" height=\"20\" rx=\"4\"/>\
         <text x=\"8\" y=\"19\">{used} / {limit}</text></svg>",
        240.0 * share,
        text = escape(&text)
    )
}

/// Horizontal bars, one per row, for a funnel (leads enrolled, then sent each step,
/// then replied), each bar labelled with its figure.
pub(crate) fn bar_chart(id: &str, title: &str, rows: &[(String, u64)]) -> String {
    let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1) as f64;
    let row_h = 26.0;
    let label_w = 170.0;
    let height = row_h * rows.len() as f64 + 8.0;
    let mut svg = format!(
        "<svg class=\"chart funnel\" id=\"{id}\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" \
         aria-labelledby=\"{id}-title\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"{id}-title\">{}</title>",
        escape(title)
    );
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = 4.0 + row_h * i as f64;
        let w = (WIDTH - label_w - 60.0) * (*value as f64) / max;
        let _ = write!(
            svg,
            "<text class=\"axis\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <rect class=\"bar\" x=\"{label_w}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{:.1}\"/>\
             <text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\">{value}</text>",
            label_w - 8.0,
            y + 17.0,
            escape(label),
            row_h - 6.0,
            label_w + w + 6.0,
            y + 17.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A round top for the y scale (1, 2 or 5 times a power of ten), at least 4 so that
/// quarter gridlines stay whole numbers on small counts.
fn nice_ceiling(max: f64) -> f64 {
    if max <= 4.0 {
        return 4.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|v| *v >= max)
        .unwrap_or(10.0 * magnitude)
}

fn format_number(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_rounds_up_to_a_readable_top() {
        assert_eq!(nice_ceiling(0.0), 4.0);
        assert_eq!(nice_ceiling(37.0), 50.0);
        assert_eq!(nice_ceiling(120.0), 200.0);
        assert_eq!(nice_ceiling(1000.0), 1000.0);
    }

    #[test]
    fn charts_carry_a_text_alternative_and_escape_their_text() {
        let svg = line_chart(
            "c",
            "Sends <per> day",
            "a & b",
            &["11-01".into(), "11-02".into()],
            &[Series {
                name: "<sent>",
                class: "sent",
                values: vec![3.0, 5.0],
            }],
        );
        assert!(svg.contains("<title id=\"c-title\">Sends &lt;per&gt; day</title>"));
        assert!(svg.contains("<desc id=\"c-desc\">a &amp; b</desc>"));
        assert!(svg.contains("&lt;sent&gt;") && !svg.contains("<sent>"));
        assert!(gauge("Invitations <7d>", 30, 100, Fill::Budget)
            .contains("aria-label=\"Invitations &lt;7d&gt;: 30 of 100\""));
    }
}

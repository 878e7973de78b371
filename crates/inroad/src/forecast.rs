//! `inroad forecast`

use inroad_engine::forecast::{forecast, ForecastOptions, Week};

use crate::cli::ForecastArgs;
use crate::print_json;

pub fn run(db: &str, args: &ForecastArgs) -> anyhow::Result<()> {
    let store = inroad_store::open(db)?;
    let options = ForecastOptions {
        now: args.now.unwrap_or_else(jiff::Timestamp::now),
        extra_mailboxes: args.mailboxes.unwrap_or(0),
        invitations_per_week: args.invites_per_week,
        domain_limit_per_hour: (args.domain_hourly_limit > 0).then_some(args.domain_hourly_limit),
        acceptance_rate: args.acceptance_rate,
    };
    let f = forecast(store.as_ref(), &args.campaign, &options)?;
    if args.json {
        return print_json(&f);
    }
    println!(
        "campaign \"{}\": {} leads in sequence; forecast from {} (dates in {}), assuming nobody \
         replies and {} % of invitations are accepted (--acceptance-rate)",
        f.campaign, f.leads, f.from, f.time_zone, f.acceptance_rate
    );
    let first = match (&f.first_touches_done_by, f.first_touches) {
        (_, 0) => "no lead is waiting for its first touch".to_owned(),
        (Some(day), n) => format!("first touches done by {day} (all {n} leads waiting for theirs)"),
        (None, n) => format!("first touches: not all of the {n} leads waiting for theirs within three years"),
    };
    println!("  {first}");
    match &f.last_touch_by {
        Some(day) => println!("  last touch by {day} ({} touches)", f.touches),
        None if f.unfinished > 0 => println!(
            "  last touch: not within three years ({} touches; {} leads still under way)",
            f.touches, f.unfinished
        ),
        None => println!("  nothing left to send"),
    }
    if f.waiting_forever > 0 {
        println!(
            "  {} leads wait for good for an invitation to be accepted (their step has no \
             if_not_accepted_after_days)",
            f.waiting_forever
        );
    }
    println!("  bottleneck: {}", f.bottleneck);
    if !f.weeks.is_empty() {
        println!();
        println!("{:<23} {:>8}  bottleneck", "week of", "touches");
        for run in runs(&f.weeks) {
            let week = match run {
                [one] => one.week_start.clone(),
                [first, .., last] => format!("{} … {}", first.week_start, last.week_start),
                [] => continue,
            };
            let first = &run[0];
            println!("{week:<23} {:>8}  {}", first.touches, first.bottleneck);
        }
    }
    Ok(())
}

/// The weeks with quiet stretches (no touches, one bottleneck) folded into one line each.
fn runs(weeks: &[Week]) -> Vec<&[Week]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=weeks.len() {
        let same = |a: &Week, b: &Week| a.touches == 0 && b.touches == 0 && a.bottleneck == b.bottleneck;
        if i == weeks.len() || !same(&weeks[start], &weeks[i]) {
            out.push(&weeks[start..i]);
            start = i;
        }
    }
    out
}

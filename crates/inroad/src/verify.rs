//! `inroad verify …` and `inroad find …`, which share the network settings.

use std::time::Duration;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use inroad_core::email::normalize_email;
use inroad_engine::find::{find, FindOptions};
use inroad_engine::verify::{verify, VerifyOptions};
use inroad_mail::probe::ProbeConfig;

use crate::cli::{FindArgs, NetArgs, VerifyArgs};
use crate::print_json;

/// The verifier's options from the command line. HELO name and MAIL FROM have no
/// defaults on purpose: probing as "localhost" from an unnamed sender is what gets
/// an IP blocked.
pub fn verify_options(net: &NetArgs) -> anyhow::Result<VerifyOptions> {
    let Some(helo_name) = net.helo_name.clone() else {
        bail!("set --helo-name NAME (or INROAD_HELO_NAME): the host name mail servers see in EHLO");
    };
    let Some(mail_from) = net.mail_from.clone() else {
        bail!("set --mail-from ADDRESS (or INROAD_MAIL_FROM): the envelope sender of the probes");
    };
    let mail_from = normalize_email(&mail_from)
        .map_err(|why| anyhow::anyhow!("--mail-from {mail_from:?} is not a valid address ({why})"))?;
    let timeout = Duration::from_secs(net.timeout.max(1));
    let probe = ProbeConfig {
        helo_name,
        mail_from,
        port: net.smtp_port,
        sessions_per_host: net.sessions_per_host.max(1),
        max_sessions: net.max_sessions.max(1),
        connect_timeout: timeout,
        command_timeout: timeout,
        retry_delays: net.retry_after.iter().map(|s| Duration::from_secs(*s)).collect(),
        host_rcpts_per_second: net.host_rate,
        domain_deadline: Duration::from_secs(net.deadline),
        ..ProbeConfig::default()
    };
    let mut options = VerifyOptions::new(probe);
    options.dns = net.dns;
    Ok(options)
}

/// A progress bar over `total` items on stderr (a counter when the total is not
/// known), hidden when stderr is not a terminal.
pub fn progress_bar(total: Option<usize>, what: &str) -> ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (bar, template) = match total {
        Some(total) => (
            ProgressBar::new(total as u64),
            format!("{{spinner}} {what} [{{bar:40}}] {{pos}}/{{len}} ({{eta}} left)"),
        ),
        None => (
            ProgressBar::no_length(),
            format!("{{spinner}} {what}: {{pos}} done ({{elapsed}})"),
        ),
    };
    bar.set_style(
        ProgressStyle::with_template(&template)
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar
}

pub fn run(db: &str, args: VerifyArgs) -> anyhow::Result<()> {
    let options = verify_options(&args.net)?;
    let mut addresses = args.addresses.clone();
    if let Some(file) = &args.file {
        let values =
            inroad_engine::read_address_file(file).with_context(|| format!("reading {}", file.display()))?;
        addresses.extend(values.into_iter().map(|(_, value)| value));
    }
    let mut store = inroad_store::open(db)?;
    let bar = progress_bar(Some(addresses.len()), "verifying");
    let (results, _) = verify(store.as_mut(), &addresses, &options, &|n| bar.inc(n as u64))?;
    bar.finish_and_clear();
    if args.json {
        #[derive(serde::Serialize)]
        struct Report<'a> {
            results: &'a [inroad_engine::verify::VerifyResult],
        }
        return print_json(&Report { results: &results });
    }
    for r in &results {
        println!("{:<40} {:<13} {}", r.email, r.status, r.reason);
    }
    Ok(())
}

pub fn run_find(db: &str, args: FindArgs) -> anyhow::Result<()> {
    let verify = if args.no_verify {
        None
    } else {
        Some(verify_options(&args.net)?)
    };
    let mut store = inroad_store::open(db)?;
    let options = FindOptions {
        list: args.list.clone(),
        verify,
    };
    let bar = progress_bar(None, "finding emails");
    let report = find(store.as_mut(), &options, &|n| bar.inc(n as u64))?;
    bar.finish_and_clear();
    if args.json {
        return print_json(&report);
    }
    for r in &report.results {
        let email = r.email.as_deref().unwrap_or("-");
        let status = r.status.as_deref().unwrap_or("not found");
        println!(
            "{:<28} {:<40} {:<13} {:.2}  {}",
            r.name, email, status, r.confidence, r.reason
        );
    }
    eprintln!(
        "{} lead(s) without email: {} found ({} deliverable, {} risky, {} unverified)",
        report.considered, report.found, report.deliverable, report.risky, report.unverified
    );
    Ok(())
}

//! `inroad run`

use std::path::PathBuf;

use anyhow::{bail, Context};
use inroad_engine::worker::{run_once, RunOptions, Transport};

use crate::cli::RunArgs;
use crate::key::{install_key, KeyFile};
use crate::print_json;

pub fn run(db: &str, key_file: &KeyFile, args: &RunArgs) -> anyhow::Result<()> {
    let transport = match (args.transport.as_str(), args.transport.strip_prefix("dir:")) {
        ("smtp", _) => Transport::Smtp {
            hello_name: args.helo_name.clone().unwrap_or_else(host_name),
            timeout: std::time::Duration::from_secs(args.timeout.max(1)),
        },
        (_, Some(dir)) if !dir.is_empty() => {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {dir}"))?;
            Transport::Dir(PathBuf::from(dir))
        }
        _ => bail!("--transport {:?}: use smtp or dir:PATH", args.transport),
    };
    let key_path = key_file.path()?;
    // The database before the key: one that cannot be opened must not leave a new
    // key behind.
    let mut store = inroad_store::open(db)?;
    let install_key = install_key(key_path)?;
    let imap_timeout = std::time::Duration::from_secs(args.timeout.max(1));
    // New mail wakes the loop early; `wake` stays here so the channel never closes.
    let (wake, new_mail) = std::sync::mpsc::channel();
    let mut watching = false;
    loop {
        let now = args.now.unwrap_or_else(jiff::Timestamp::now);
        let options = RunOptions {
            now,
            transport: transport.clone(),
            install_key: install_key.clone(),
            domain_limit_per_hour: (args.domain_hourly_limit > 0).then_some(args.domain_hourly_limit),
            imap_timeout,
        };
        let report = run_once(store.as_mut(), &options)?;
        if args.json {
            print_json(&report)?;
        } else {
            let inbox = &report.inbox;
            if inbox.read > 0 {
                eprintln!(
                    "{now}: inbox: {} read — {} replies, {} hard and {} soft bounces, {} auto-replies, \
                     {} unsubscribes, {} other, {} own copies",
                    inbox.read,
                    inbox.replies,
                    inbox.hard_bounces,
                    inbox.soft_bounces,
                    inbox.auto_replies,
                    inbox.unsubscribes,
                    inbox.other,
                    inbox.own
                );
            }
            for error in &inbox.errors {
                eprintln!("{now}: inbox not read: {error}");
            }
            eprintln!(
                "{now}: {} sent, {} failed (retried later), {} bounced, {} in doubt, {} need attention, \
                 {} suppressed, {} found in doubt; next: {}",
                report.sent,
                report.failed,
                report.bounced,
                report.in_doubt,
                report.needs_attention,
                report.suppressed,
                report.in_doubt_found,
                report.next_wake.as_deref().unwrap_or("nothing pending")
            );
        }
        if args.once || args.now.is_some() {
            return Ok(());
        }
        // Wake when the planner says something can happen, when new mail arrives (IMAP
        // IDLE), and at least once a minute to see new enrolments and campaigns.
        let wait = report
            .next_wake
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map(|t| t.duration_since(jiff::Timestamp::now()))
            .and_then(|d| std::time::Duration::try_from(d).ok())
            .unwrap_or(std::time::Duration::from_secs(60))
            .min(std::time::Duration::from_secs(60));
        if !watching {
            // The mailboxes as they are now; a restart picks up new ones.
            inroad_engine::inbox::watch(store.as_ref(), &install_key, imap_timeout, &wake)?;
            watching = true;
        }
        if new_mail.recv_timeout(wait).is_ok() {
            while new_mail.try_recv().is_ok() {} // one pass reads all of it
        }
    }
}

/// The EHLO name when none is given: this machine's host name.
pub fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

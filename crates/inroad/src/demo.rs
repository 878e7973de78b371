//! `inroad demo`: the product end to end on embedded sample data, in a scratch
//! workspace, so a new user sees what Inroad does before touching their own data.
//! Each issue that adds a capability extends this walk-through.

use std::path::PathBuf;

use anyhow::Context;
use inroad_engine::export::export_leads;
use inroad_engine::find::{find, FindOptions};
use inroad_engine::import::ImportOptions;
use inroad_engine::suppress;
use inroad_store::LeadQuery;

use crate::cli::DemoArgs;
use crate::leads::import_with_progress;

/// The commented example campaign: a three-step sequence from two mailboxes.
const SAMPLE_CAMPAIGN: &str = include_str!("../../../examples/campaign.toml");

/// The demo's one worker (its leases are released when each run is over).
const DEMO_WORKER: &str = "demo";

/// Runs the example campaign over simulated days into a directory of .eml files:
/// the same worker as `inroad run`, with `--transport dir:` and `--now`.
fn run_campaign(store: &mut dyn inroad_store::Store, dir: &std::path::Path) -> anyhow::Result<()> {
    use inroad_engine::campaign::{create, enroll, set_status, summary, EnrollPolicy};
    use inroad_engine::worker::{run_once, Holdings, RunOptions, Transport};

    println!("\n6. Run a campaign — messages go to files, nothing is sent");
    for name in ["anna-main", "anna-second"] {
        store.add_mailbox(&inroad_store::Mailbox {
            id: 0,
            name: name.into(),
            from_name: Some("Anna Berg".into()),
            from_address: format!("{name}@northwind.example"),
            smtp_host: "smtp.northwind.example".into(),
            smtp_port: 587,
            smtp_tls: "starttls".into(),
            smtp_user: None,
            password_env: None,
            sealed_secret: None,
            daily_cap: 30,
            warmup: Some((15, 2)),
            gap_secs: (60, 120),
            timezone: "Europe/Berlin".into(),
            dkim_selector: None,
            dkim_key_file: None,
            dkim_domain: None,
            imap_host: None,
            imap_port: None,
            imap_tls: None,
            imap_user: None,
            imap_junk_folder: None,
            paused_reason: None,
        })?;
    }
    let (id, _) = create(store, SAMPLE_CAMPAIGN)?;
    let id = id.to_string();
    // The sample's emails were imported, not verified: the demo allows that.
    let policy = EnrollPolicy {
        allow_unverified: true,
        ..EnrollPolicy::default()
    };
    let start: jiff::Timestamp = "2026-12-07T08:00:00Z".parse().expect("a valid instant");
    let enrolled = enroll(store, &id, "demo", policy, start.as_second())?;
    set_status(store, &id, "active")?;
    let out = dir.join("outbox");
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let key = crate::key::install_key(&dir.join("inroad.db.key"))?;
    let mut now = start;
    let mut passes = 0;
    let mut holdings = Holdings::default();
    // Passes whenever the planner says something can happen, for three weeks.
    while now < start + jiff::SignedDuration::from_hours(21 * 24) && passes < 10_000 {
        let options = RunOptions {
            now,
            transport: Transport::Dir(out.clone()),
            install_key: key.clone(),
            domain_limit_per_hour: Some(60),
            imap_timeout: std::time::Duration::from_secs(30),
            worker_id: DEMO_WORKER.into(),
            lease_secs: 60,
        };
        let report = run_once(store, &options, &mut holdings)?;
        passes += 1;
        match report.next_wake.and_then(|t| t.parse::<jiff::Timestamp>().ok()) {
            Some(next) if next > now => now = next,
            Some(_) => now += jiff::SignedDuration::from_secs(60),
            None => break,
        }
    }
    store.release_leases(DEMO_WORKER)?;
    let s = summary(store, &id)?;
    println!(
        "   {} leads enrolled (suppressed ones never are); {} messages written to {} in {passes} passes",
        enrolled.enrolled,
        s.sent,
        out.display()
    );
    println!(
        "   by state: {} finished, {} active, {} need attention — each follow-up threads to the",
        s.by_state["finished"], s.by_state["active"], s.by_state["needs_attention"]
    );
    println!("   previous message, from the same mailbox, inside the window and the daily caps.");
    Ok(())
}

/// A Sales-Navigator-style list with the usual mess: missing emails, a duplicate in
/// other case and URL form, an invalid address, a row that identifies nobody.
const SAMPLE_LEADS: &str = include_str!("../../../examples/leads.csv");

pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let dir: PathBuf = match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            dir.clone()
        }
        None => tempfile::Builder::new()
            .prefix("inroad-demo-")
            .tempdir()
            .context("cannot create a temporary directory")?
            .keep(),
    };
    let db = dir.join("inroad.db");
    let leads_file = dir.join("leads.csv");
    std::fs::write(&leads_file, SAMPLE_LEADS)
        .with_context(|| format!("cannot write {}", leads_file.display()))?;
    let db_url = db.to_string_lossy().into_owned();
    let mut store = inroad_store::open(&db_url)?;
    println!("Inroad demo — workspace {}", dir.display());

    println!("\n1. Import a prospect list ({})", leads_file.display());
    let options = ImportOptions {
        list: Some("demo".into()),
        ..ImportOptions::default()
    };
    let report = import_with_progress(store.as_mut(), &leads_file, &options)?;
    println!(
        "   {} rows: {} new leads, {} duplicates merged ({} filled empty fields), {} rejected",
        report.rows, report.imported, report.duplicates, report.updated, report.rejected
    );
    if let Some(rejects) = &report.rejects_file {
        println!(
            "   rejected rows, with line numbers and reasons: {}",
            rejects.display()
        );
    }
    let again = import_with_progress(store.as_mut(), &leads_file, &ImportOptions::default())?;
    println!(
        "   importing the same file again adds {} leads ({} duplicates)",
        again.imported, again.duplicates
    );

    println!("\n2. Suppress an opted-out address and a whole domain");
    let first_email = store
        .leads(&LeadQuery {
            list: Some("demo"),
            after: 0,
            limit: 1000,
        })?
        .into_iter()
        .find_map(|l| l.lead.email)
        .context("the sample has leads with emails")?;
    let entries = [first_email.clone(), "@competitor.example".to_owned()];
    suppress::add(store.as_mut(), &entries, Some("demo: asked to be removed"))?;
    println!("   suppressed {first_email} and @competitor.example — no campaign will ever mail them");

    println!("\n3. Browse the list");
    let total = store.count_leads(Some("demo"))?;
    for l in store.leads(&LeadQuery {
        list: Some("demo"),
        after: 0,
        limit: 5,
    })? {
        println!(
            "   #{:<3} {:<24} {:<40} {}",
            l.id,
            l.lead.full_name.unwrap_or_default(),
            l.lead.email.unwrap_or_else(|| "(no email yet)".into()),
            if l.suppressed { "SUPPRESSED" } else { "" }
        );
    }
    println!("   … {total} leads on list \"demo\"");

    println!("\n4. Find work emails — offline inference (the demo uses no network)");
    let report = find(
        store.as_mut(),
        &FindOptions {
            list: Some("demo".into()),
            verify: None,
        },
        &|_| {},
    )?;
    for r in report.results.iter().filter(|r| r.email.is_some()).take(5) {
        println!(
            "   {:<24} {:<40} {} (pattern {}, p={:.2})",
            r.name,
            r.email.as_deref().unwrap_or_default(),
            r.status.as_deref().unwrap_or_default(),
            r.pattern.as_deref().unwrap_or_default(),
            r.confidence
        );
    }
    println!(
        "   {} of {} leads without email got an inferred address, status \"unverified\": learned from",
        report.found, report.considered
    );
    println!("   the known addresses at each domain. With network access, `inroad find` probes the");
    println!("   mail servers (RCPT TO only, no mail sent) and marks confirmed ones deliverable.");

    let export = dir.join("export.csv");
    let mut file =
        std::fs::File::create(&export).with_context(|| format!("cannot create {}", export.display()))?;
    let written = export_leads(store.as_ref(), Some("demo"), &mut file)?;
    println!(
        "\n5. Exported {written} leads with canonical columns to {}",
        export.display()
    );

    run_campaign(store.as_mut(), &dir)?;
    linkedin_tasks(store.as_mut(), &dir)?;

    let db_arg = shell_quote(&db_url);
    println!("\nTry next:");
    println!("   inroad --db {db_arg} leads list --json");
    println!("   inroad --db {db_arg} suppress list");
    println!("   inroad --db {db_arg} campaign show 1");
    println!("   inroad --db {db_arg} linkedin tasks --now 2026-12-28T08:00:00Z");
    println!("   inroad --db {db_arg} forecast 2 --now 2026-12-28T08:00:00Z --mailboxes +3");
    println!("   inroad --db {db_arg} leads import YOUR_EXPORT.csv --list prospects --dry-run");
    println!("   inroad --db {db_arg} verify someone@example.com --helo-name HOST --mail-from YOU@DOMAIN");
    Ok(())
}

/// A LinkedIn-first sequence: invitations become today's task list, inside the
/// account's budgets (Inroad never automates LinkedIn).
const LINKEDIN_CAMPAIGN: &str = r#"
name = "LinkedIn first"
linkedin_accounts = ["anna-linkedin"]
mailboxes = ["anna-main"]
postal_address = "Northwind Logistics GmbH, Hafenstraße 1, 20457 Hamburg, Germany"
unsubscribe_url = "https://unsubscribe.northwind.example"
timezone = "Europe/Berlin"

[[steps]]
channel = "linkedin_connect"
note = "Hi {{ first_name | first_name }}, I work on freight pooling in Hamburg; would be glad to connect."
if_not_accepted_after_days = 7

[[steps]]
channel = "linkedin_message"
wait_days = 2
body = "Thanks for connecting, {{ first_name | first_name }}! Is pallet return cost a topic at {{ company | company }}?"

[[steps]]
wait_days = 3
subject = "Return runs at {{ company | company }}"
body = "Hi {{ first_name | first_name }},\n\na short question about empty return runs at {{ company | company }}.\n\nAnna"
"#;

fn linkedin_tasks(store: &mut dyn inroad_store::Store, dir: &std::path::Path) -> anyhow::Result<()> {
    use inroad_engine::campaign::{create, enroll, set_status, EnrollPolicy};
    use inroad_engine::linkedin::{add_account, tasks};

    println!("\n7. LinkedIn steps become today's task list — paced inside the account's budgets");
    let overrides = inroad_core::linkedin::Overrides::default();
    add_account(
        store,
        "anna-linkedin",
        "premium-business",
        &overrides,
        "Europe/Berlin",
        15,
        "2026-12-01T08:00:00Z".parse().expect("a valid instant"),
    )?;
    let (id, _) = create(store, LINKEDIN_CAMPAIGN)?;
    let id = id.to_string();
    let policy = EnrollPolicy {
        allow_unverified: true,
        allow_other_campaigns: true,
        ..EnrollPolicy::default()
    };
    let monday: jiff::Timestamp = "2026-12-28T08:00:00Z".parse().expect("a valid instant");
    let enrolled = enroll(store, &id, "demo", policy, monday.as_second())?;
    set_status(store, &id, "active")?;
    // The worker hands LinkedIn steps to the task list instead of mailing them.
    let options = inroad_engine::worker::RunOptions {
        now: monday,
        transport: inroad_engine::worker::Transport::Dir(dir.join("outbox")),
        install_key: crate::key::install_key(&dir.join("inroad.db.key"))?,
        domain_limit_per_hour: Some(60),
        imap_timeout: std::time::Duration::from_secs(30),
        worker_id: DEMO_WORKER.into(),
        lease_secs: 60,
    };
    inroad_engine::worker::run_once(store, &options, &mut Default::default())?;
    store.release_leases(DEMO_WORKER)?;
    let today = tasks(store, monday, None, None)?;
    println!(
        "   {} leads enrolled ({} skipped: no LinkedIn profile URL); today's list holds {} invitations",
        enrolled.enrolled,
        enrolled.no_linkedin,
        today.len()
    );
    println!("   of the 100 a rolling week allows, spread so that no 7-day window goes over:");
    for task in today.iter().take(3) {
        println!(
            "   #{} invite {} — {}\n      note: {}",
            task.id,
            task.name.as_deref().unwrap_or("?"),
            task.profile_url.as_deref().unwrap_or("?"),
            task.note.as_deref().unwrap_or("(none)")
        );
    }
    println!("   A person sends each one and marks it: `inroad linkedin done ID [--accepted]`.");

    let options = inroad_engine::forecast::ForecastOptions {
        now: monday,
        extra_mailboxes: 0,
        invitations_per_week: None,
        domain_limit_per_hour: Some(60),
        acceptance_rate: inroad_engine::forecast::DEFAULT_ACCEPTANCE_RATE,
    };
    let f = inroad_engine::forecast::forecast(store, &id, &options)?;
    println!("\n8. The forecast: the same planner and budgets run day by day on a simulated clock");
    println!(
        "   \"{}\": {} leads; first touches done by {}, last touch by {} ({} touches);",
        f.campaign,
        f.leads,
        f.first_touches_done_by
            .as_deref()
            .unwrap_or("(not within three years)"),
        f.last_touch_by.as_deref().unwrap_or("(not within three years)"),
        f.touches
    );
    println!(
        "   held back most by: {} (assuming no replies, {} % of invitations accepted)",
        f.bottleneck, f.acceptance_rate
    );
    Ok(())
}

fn shell_quote(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c)) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

//! `inroad linkedin …`

use anyhow::Context;
use inroad_core::linkedin::Overrides;
use inroad_engine::linkedin::{
    accepted, accounts, add_account, done, record_outcomes, replied, resume, tasks, Outcome,
};
use serde_json::json;

use crate::cli::{LinkedinAccountCommand, LinkedinCommand};
use crate::print_json;

pub fn run(db: &str, cmd: LinkedinCommand) -> anyhow::Result<()> {
    let mut store = inroad_store::open(db)?;
    let now = |at: Option<jiff::Timestamp>| at.unwrap_or_else(jiff::Timestamp::now);
    match cmd {
        LinkedinCommand::Account(LinkedinAccountCommand::Add {
            name,
            plan,
            invitations_per_week,
            messages_per_week,
            timezone,
            inmail_credits,
            now: at,
        }) => {
            let overrides = Overrides {
                invitations_per_week,
                messages_per_week,
                ..Overrides::default()
            };
            add_account(
                store.as_mut(),
                &name,
                &plan,
                &overrides,
                &timezone,
                inmail_credits,
                now(at),
            )?;
            eprintln!("added LinkedIn account {name} ({plan})");
        }
        LinkedinCommand::Account(LinkedinAccountCommand::Resume { name, now: at }) => {
            resume(store.as_mut(), &name, now(at))?;
            eprintln!("LinkedIn account {name}: invitations resume at the normal pace");
        }
        LinkedinCommand::Account(LinkedinAccountCommand::List { now: at, json }) => {
            let list = accounts(store.as_ref(), now(at))?;
            if json {
                return print_json(&json!({ "accounts": list }));
            }
            for a in &list {
                println!(
                    "{:<16} {:<17} invitations {}/{} in 7 days, {} left today, {} pending; messages {}/{}; \
                     InMail {} left; guard: {}",
                    a.name,
                    a.plan,
                    a.invitations_last_7_days,
                    a.invitations_per_week,
                    a.invitations_left_today,
                    a.pending_invitations,
                    a.messages_last_7_days,
                    a.messages_per_week,
                    a.inmail_credits_left,
                    a.guard
                );
            }
            eprintln!("{} account(s)", list.len());
        }
        LinkedinCommand::Tasks {
            account,
            now: at,
            max,
            json,
            csv,
        } => {
            let list = tasks(store.as_mut(), now(at), account.as_deref(), max)?;
            if json {
                return print_json(&json!({ "tasks": list }));
            }
            if csv {
                let mut out = csv::Writer::from_writer(std::io::stdout());
                out.write_record([
                    "id",
                    "account",
                    "kind",
                    "lead_id",
                    "name",
                    "profile_url",
                    "note",
                    "why_no_note",
                    "subject",
                    "body",
                    "due",
                ])?;
                for t in &list {
                    out.write_record([
                        t.id.to_string(),
                        t.account.clone(),
                        t.kind.clone(),
                        t.lead_id.to_string(),
                        t.name.clone().unwrap_or_default(),
                        t.profile_url.clone().unwrap_or_default(),
                        t.note.clone().unwrap_or_default(),
                        t.why_no_note.clone().unwrap_or_default(),
                        t.subject.clone().unwrap_or_default(),
                        t.body.clone().unwrap_or_default(),
                        t.due.clone(),
                    ])?;
                }
                out.flush()?;
                return Ok(());
            }
            for t in &list {
                let who = t.name.as_deref().unwrap_or("(no name)");
                let url = t.profile_url.as_deref().unwrap_or("(no profile URL)");
                println!("#{} [{}] {} {who} — {url}", t.id, t.account, t.kind);
                if let Some(note) = &t.note {
                    println!("    note: {note}");
                }
                if let Some(why) = &t.why_no_note {
                    println!("    without a note: {why}");
                }
                if let Some(subject) = &t.subject {
                    println!("    subject: {subject}");
                }
                if let Some(body) = &t.body {
                    println!("    {}", body.trim_end().replace('\n', "\n    "));
                }
            }
            eprintln!(
                "{} task(s); mark each with `inroad linkedin done ID [--accepted|--replied|--skipped]`",
                list.len()
            );
        }
        LinkedinCommand::Done {
            task,
            accepted,
            declined,
            replied,
            skipped,
            now: at,
        } => {
            let outcome = match (accepted, declined, replied, skipped) {
                (true, ..) => Outcome::Accepted,
                (_, true, ..) => Outcome::Declined,
                (_, _, true, _) => Outcome::Replied,
                (.., true) => Outcome::Skipped,
                _ => Outcome::Done,
            };
            done(store.as_mut(), task, outcome, now(at))?;
            eprintln!("task {task}: recorded");
        }
        LinkedinCommand::Outcomes { file, now: at, json } => {
            let reader =
                std::fs::File::open(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let report = record_outcomes(store.as_mut(), reader, now(at))?;
            if json {
                return print_json(&report);
            }
            eprintln!(
                "{} accepted, {} declined, {} replied",
                report.accepted, report.declined, report.replied
            );
        }
        LinkedinCommand::Accepted { lead, now: at } => {
            accepted(store.as_mut(), lead, now(at))?;
            eprintln!("lead {lead}: invitation accepted");
        }
        LinkedinCommand::Replied { lead, now: at } => {
            replied(store.as_mut(), lead, now(at))?;
            eprintln!("lead {lead}: replied on LinkedIn; their sequences stop");
        }
    }
    Ok(())
}

//! `inroad campaign …`

use anyhow::{bail, Context};
use inroad_core::campaign::{Finding, Severity};
use inroad_engine::campaign::{
    create, enroll, lint, load, preview, release, set_status, summary, EnrollPolicy,
};
use serde_json::json;

use crate::cli::CampaignCommand;
use crate::print_json;

pub fn run(db: &str, cmd: CampaignCommand) -> anyhow::Result<()> {
    match cmd {
        CampaignCommand::Create { file, json } => {
            let text =
                std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let mut store = inroad_store::open(db)?;
            let (id, findings) = create(store.as_mut(), &text)?;
            report(&findings);
            eprintln!("created draft campaign {id}; `inroad campaign lint {id}` checks it again");
            if json {
                print_json(&json!({ "id": id }))?;
            }
            Ok(())
        }
        CampaignCommand::List { json } => {
            let store = inroad_store::open(db)?;
            let campaigns = store.campaigns()?;
            if json {
                let list: Vec<_> = campaigns
                    .iter()
                    .map(|c| json!({"id": c.id, "name": c.name, "status": c.status, "created_at": c.created_at}))
                    .collect();
                return print_json(&json!({ "campaigns": list }));
            }
            for c in &campaigns {
                println!("{:>4}  {:<32} {:<8} {}", c.id, c.name, c.status, c.created_at);
            }
            eprintln!("{} campaign(s)", campaigns.len());
            Ok(())
        }
        CampaignCommand::Lint { campaign, json } => {
            let store = inroad_store::open(db)?;
            let (record, spec) = load(store.as_ref(), &campaign)?;
            let findings = lint(store.as_ref(), &record, &spec)?;
            if json {
                let list: Vec<_> = findings
                    .iter()
                    .map(|f| json!({"severity": severity(f), "message": f.message}))
                    .collect();
                print_json(&json!({ "id": record.id, "findings": list }))?;
            } else {
                report(&findings);
            }
            let errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
            if errors > 0 {
                bail!(
                    "campaign {} has {errors} blocking error(s): it cannot start until they are fixed",
                    record.name
                );
            }
            Ok(())
        }
        CampaignCommand::Enroll {
            campaign,
            list,
            allow_risky,
            allow_unverified,
            allow_other_campaigns,
            json,
        } => {
            let mut store = inroad_store::open(db)?;
            let policy = EnrollPolicy {
                allow_risky,
                allow_unverified,
                allow_other_campaigns,
            };
            let now = jiff::Timestamp::now().as_second();
            let r = enroll(store.as_mut(), &campaign, &list, policy, now)?;
            if json {
                return print_json(&r);
            }
            eprintln!(
                "{} enrolled, {} already in; skipped: {} suppressed, {} without email, {} email not usable \
                 (see --allow-risky / --allow-unverified), {} active in another campaign, \
                 {} without a LinkedIn profile URL (the sequence starts on LinkedIn)",
                r.enrolled,
                r.already,
                r.suppressed,
                r.no_email,
                r.email_not_usable,
                r.active_elsewhere,
                r.no_linkedin
            );
            Ok(())
        }
        CampaignCommand::Show { campaign, json } => {
            let store = inroad_store::open(db)?;
            let s = summary(store.as_ref(), &campaign)?;
            if json {
                return print_json(&s);
            }
            println!("campaign {} \"{}\": {}", s.id, s.name, s.status);
            println!(
                "enrolled {}, sent {}, in doubt {}",
                s.enrolled, s.sent, s.in_doubt
            );
            for (state, n) in &s.by_state {
                println!("  {state:<16} {n}");
            }
            for step in &s.steps {
                println!(
                    "step {}: {} sent, {} bounced, {} in doubt",
                    step.step, step.sent, step.bounced, step.in_doubt
                );
                for v in &step.variants {
                    println!("  variant {} (weight {}): {} sent", v.variant, v.weight, v.sent);
                }
            }
            for m in &s.mailboxes {
                match &m.paused_reason {
                    Some(why) => println!("mailbox {}: PAUSED: {why}", m.name),
                    None => println!("mailbox {}: sending", m.name),
                }
            }
            if s.attention_total > 0 {
                println!("{} lead(s) need a person:", s.attention_total);
                for a in &s.attention {
                    println!(
                        "  lead {} <{}> {}: {}",
                        a.lead_id,
                        a.email.as_deref().unwrap_or("no email"),
                        a.state,
                        a.reason.as_deref().unwrap_or("")
                    );
                }
                if s.attention_total > s.attention.len() as u64 {
                    println!("  … and {} more", s.attention_total - s.attention.len() as u64);
                }
            }
            Ok(())
        }
        CampaignCommand::Release {
            campaign,
            lead,
            delivered,
            resend: _,
        } => {
            let mut store = inroad_store::open(db)?;
            if !release(store.as_mut(), &campaign, lead, delivered, jiff::Timestamp::now())? {
                bail!("lead {lead} has no send in doubt in campaign {campaign}; `inroad campaign show {campaign}` lists them");
            }
            if delivered {
                eprintln!("lead {lead}: counted as sent; the sequence goes on");
            } else {
                eprintln!("lead {lead}: will be sent again (the same message) on the next run");
            }
            Ok(())
        }
        CampaignCommand::Start { campaign } | CampaignCommand::Resume { campaign } => {
            change(db, &campaign, "active")
        }
        CampaignCommand::Pause { campaign } => change(db, &campaign, "paused"),
        CampaignCommand::Stop { campaign } => change(db, &campaign, "stopped"),
        CampaignCommand::Preview {
            campaign,
            lead,
            sample,
            json,
        } => {
            let store = inroad_store::open(db)?;
            let (_, spec) = load(store.as_ref(), &campaign)?;
            let previews = preview(store.as_ref(), &spec, lead, sample)?;
            if json {
                return print_json(&json!({ "leads": previews }));
            }
            for p in &previews {
                println!(
                    "=== lead {} <{}>",
                    p.lead_id,
                    p.email.as_deref().unwrap_or("no email")
                );
                for s in &p.steps {
                    match &s.problem {
                        Some(problem) => println!("--- step {}: NEEDS ATTENTION: {problem}", s.step),
                        None => {
                            println!("--- step {} (variant {})", s.step, s.variant);
                            println!("Subject: {}\n", s.subject.as_deref().unwrap_or("(no subject)"));
                            println!("{}", s.body.as_deref().unwrap_or_default().trim_end());
                            if let Some(html) = &s.html {
                                println!("--- step {} HTML version\n{}", s.step, html.trim_end());
                            }
                        }
                    }
                }
            }
            eprintln!("the footer (postal address, unsubscribe link) is added when sending");
            Ok(())
        }
    }
}

fn change(db: &str, campaign: &str, status: &str) -> anyhow::Result<()> {
    let mut store = inroad_store::open(db)?;
    set_status(store.as_mut(), campaign, status)?;
    eprintln!("campaign {campaign}: {status}");
    Ok(())
}

fn severity(f: &Finding) -> &'static str {
    match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn report(findings: &[Finding]) {
    for f in findings {
        eprintln!("{f}");
    }
}

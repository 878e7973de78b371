//! `inroad stats`

use crate::print_json;

pub fn run(db: &str, campaign: Option<&str>, json: bool) -> anyhow::Result<()> {
    let store = inroad_store::open(db)?;
    let stats = inroad_engine::stats::stats(store.as_ref(), campaign)?;
    if json {
        return print_json(&stats);
    }
    let percent = |rate: f64| format!("{:.1}%", rate * 100.0);
    for c in &stats.campaigns {
        println!(
            "campaign {} \"{}\": {} contacted, {} replied ({}), {} hard bounces, {} unsubscribes, {} auto-replies",
            c.id,
            c.name,
            c.contacted,
            c.replied,
            percent(c.reply_rate),
            c.hard_bounces,
            c.unsubscribes,
            c.auto_replies
        );
        for s in &c.steps {
            println!(
                "  step {}: {} sent, {} replies ({})",
                s.step,
                s.sent,
                s.replies,
                percent(s.reply_rate)
            );
            for v in &s.variants {
                println!(
                    "    variant {} (weight {}): {} sent, {} replies ({})",
                    v.variant,
                    v.weight,
                    v.sent,
                    v.replies,
                    percent(v.reply_rate)
                );
            }
        }
    }
    for m in &stats.mailboxes {
        let state = m
            .paused_reason
            .as_deref()
            .map_or(String::new(), |why| format!("  PAUSED: {why}"));
        println!(
            "mailbox {}: {} sent, {} bounced ({}){state}",
            m.name,
            m.sent,
            m.bounced,
            percent(m.bounce_rate)
        );
    }
    Ok(())
}

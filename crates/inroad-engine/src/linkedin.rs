//! LinkedIn steps as a person's daily task list, inside each account's budgets.
//!
//! Inroad never automates LinkedIn (its terms forbid it): a LinkedIn step becomes a
//! task — "invite Ann, with this note", "message Bob" — that a person does and marks
//! done. Budgets count what was done: an invitation is spent when its task is marked
//! done. Today's list holds at most today's allowance (`inroad_core::linkedin`: the
//! rolling 7-day budget paced over the week, the acceptance guard, the pending ceiling),
//! and a task handed out stays the same task until it is done, so asking twice in a day
//! never hands out more.
//!
//! A lead sticks to one account. A `linkedin_message` waits until the invitation was
//! accepted; with `if_not_accepted_after_days`, a lead who has not accepted by then
//! skips ahead to the next email step. InMail uses the plan's monthly credits,
//! counted conservatively (this month's grant less what was used this month; no
//! rollover is assumed), and never on a free plan.

use std::collections::HashMap;

use inroad_core::campaign::{parse_campaign, CampaignSpec, Channel, Skip};
use inroad_core::linkedin::{
    choose_account, day_budget, note_allowed, AccountHistory, InMailLedger, Limits, Overrides, Plan,
    TaskKind, TaskRecord, HISTORY,
};
use inroad_core::planner::step_due;
use inroad_core::template::spin_seed;
use inroad_store::{Advance, LinkedinAccount, LinkedinTask, NewEvent, Store};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::campaign::{compile, Compiled};
use crate::{Error, Result};

/// How many due LinkedIn steps one task list reads at most.
pub(crate) const DUE_BATCH: usize = 100_000;

/// Adds an account at `now`; `plan` as `inroad_core::linkedin::Plan::parse` reads it;
/// `inmail_credits` is the balance LinkedIn shows at `now`.
pub fn add_account(
    store: &mut dyn Store,
    name: &str,
    plan: &str,
    overrides: &Overrides,
    timezone: &str,
    inmail_credits: u32,
    now: Timestamp,
) -> Result<i64> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::Usage("the account needs a name".into()));
    }
    let plan = Plan::parse(plan).map_err(|e| Error::Usage(e.to_string()))?;
    Limits::new(plan, overrides).map_err(|e| Error::Usage(e.to_string()))?;
    if TimeZone::get(timezone).is_err() {
        return Err(Error::Usage(format!(
            "--timezone {timezone:?} is not an IANA time zone (like Europe/Berlin)"
        )));
    }
    Ok(store.add_linkedin_account(&LinkedinAccount {
        id: 0,
        name: name.to_owned(),
        plan: plan.as_str().to_owned(),
        invitations_per_week: overrides.invitations_per_week,
        messages_per_week: overrides.messages_per_week,
        timezone: timezone.to_owned(),
        guard_resumed_at: None,
        inmail_credits: if plan.is_paid() { inmail_credits } else { 0 },
        created_at: now.as_second(),
    })?)
}

/// Lifts an account's paused invitations (the acceptance guard): the invitations sent
/// so far no longer count against it.
pub fn resume(store: &mut dyn Store, name: &str, now: Timestamp) -> Result<()> {
    if !store.resume_linkedin_invitations(name, now.as_second())? {
        return Err(Error::Usage(format!(
            "no LinkedIn account {name:?}; `inroad linkedin account list` shows them"
        )));
    }
    Ok(())
}

/// An invitation still pending after this long becomes a "withdraw" task: LinkedIn
/// restricts accounts with many stale pending invitations.
const WITHDRAW_AFTER: SignedDuration = SignedDuration::from_hours(24 * 21);
/// A withdrawn invitation cannot be sent again to the same person for this long.
const REINVITE_AFTER: SignedDuration = SignedDuration::from_hours(24 * 21);

/// The account's InMail credits at `now`: the ledger from when the account was added,
/// replaying the InMails done (oldest credits first) and the refunds for those answered
/// within 90 days (the open InMail tasks are taken off by `day_budget`). `None`: a plan
/// without InMail.
pub(crate) fn inmail_ledger(
    store: &dyn Store,
    account: &LinkedinAccount,
    plan: Plan,
    zone: &TimeZone,
    tasks: &[LinkedinTask],
    now: Timestamp,
) -> Result<Option<InMailLedger>> {
    let opened = Timestamp::from_second(account.created_at).unwrap_or(now).min(now);
    let Ok(mut ledger) = InMailLedger::new(plan, 1, zone.clone(), opened, account.inmail_credits) else {
        return Ok(None);
    };
    // (when, Some(sent at) for a refund / None for a use), replayed in time order.
    let mut events: Vec<(Timestamp, Option<Timestamp>)> = Vec::new();
    for task in tasks.iter().filter(|t| t.kind == "inmail" && t.state == "done") {
        let Some(sent) = task.done_at.and_then(|d| Timestamp::from_second(d).ok()) else {
            continue;
        };
        events.push((sent, None));
        let reply = store
            .lead_events(task.lead_id)?
            .into_iter()
            .filter(|e| e.kind == "reply" && e.at >= sent.as_second())
            .find_map(|e| Timestamp::from_second(e.at).ok());
        if let Some(replied) = reply.filter(|r| *r <= now) {
            events.push((replied, Some(sent)));
        }
    }
    events.sort();
    for (at, refund) in events {
        // A use the ledger cannot cover was done by hand anyway (nothing to take), and a
        // refund for an expired credit gives nothing back: both outcomes are fine here.
        let _ = match refund {
            None => ledger.consume(at).is_ok(),
            Some(sent) => ledger.refund(sent, at),
        };
    }
    Ok(Some(ledger))
}

/// `now` less `span`, in unix seconds (the earliest instant for an out-of-range `now`).
fn before(now: Timestamp, span: SignedDuration) -> i64 {
    now.checked_sub(span).unwrap_or(Timestamp::MIN).as_second()
}

/// Whether a done invitation is still waiting for an answer.
fn is_pending(invitation: &LinkedinTask, tasks: &[LinkedinTask]) -> bool {
    invitation.kind == "connect"
        && invitation.state == "done"
        && invitation.accepted_at.is_none()
        && !invitation.declined
        && !is_withdrawn(invitation, tasks)
}

/// Whether a withdraw task was handed out for this invitation.
fn is_withdrawn(invitation: &LinkedinTask, tasks: &[LinkedinTask]) -> bool {
    invitation.kind == "connect"
        && tasks.iter().any(|w| {
            w.kind == "withdraw" && w.enrolment_id == invitation.enrolment_id && w.step == invitation.step
        })
}

/// An account as `linkedin account list` shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccountStatus {
    pub name: String,
    pub plan: String,
    pub invitations_per_week: u32,
    /// Invitations done in the last 7 × 24 hours.
    pub invitations_last_7_days: u32,
    /// Today's invitation allowance, and how much of it is left.
    pub invitations_today: u32,
    pub invitations_left_today: u32,
    pub pending_invitations: u32,
    /// The acceptance guard: "normal", or why the pace is halved or paused.
    pub guard: String,
    pub messages_per_week: u32,
    pub messages_last_7_days: u32,
    pub inmail_credits_left: u32,
}

/// One account's budgets at an instant.
struct Budget {
    account: LinkedinAccount,
    limits: Limits,
    tasks: Vec<LinkedinTask>,
    invitations_today: u32,
    invitations_left: u32,
    messages_left: u32,
    inmail_left: u32,
    noted_this_month: u32,
    pending: u32,
    guard: String,
    invitations_7d: u32,
    messages_7d: u32,
}

/// A stored task as the budgets count it: open, or done (a skipped one counts for nothing);
/// `tasks` is the account's history, where a withdraw task may follow an invitation.
pub(crate) fn task_record(t: &LinkedinTask, tasks: &[LinkedinTask]) -> Option<TaskRecord> {
    let done_at = match t.state.as_str() {
        "open" => None,
        "done" => Some(Timestamp::from_second(t.done_at?).ok()?),
        _ => return None,
    };
    Some(TaskRecord {
        kind: TaskKind::parse(&t.kind)?,
        done_at,
        noted: t.note.is_some(),
        accepted: t.accepted_at.is_some(),
        declined: t.declined,
        withdrawn: is_withdrawn(t, tasks),
    })
}

impl Budget {
    fn read(store: &dyn Store, account: LinkedinAccount, now: Timestamp, max: Option<u32>) -> Result<Budget> {
        let plan = Plan::parse(&account.plan).map_err(|e| Error::Usage(e.to_string()))?;
        let overrides = Overrides {
            invitations_per_week: account.invitations_per_week,
            messages_per_week: account.messages_per_week,
            ..Overrides::default()
        };
        let limits = Limits::new(plan, &overrides)
            .map_err(|e| Error::Usage(format!("LinkedIn account {}: {e}", account.name)))?;
        let zone = TimeZone::get(&account.timezone)
            .map_err(|e| Error::Usage(format!("LinkedIn account {}: {e}", account.name)))?;
        let since = now.checked_sub(HISTORY).unwrap_or(now).as_second();
        let tasks = store.linkedin_tasks(account.id, since)?;
        let records: Vec<TaskRecord> = tasks.iter().filter_map(|t| task_record(t, &tasks)).collect();
        let history = AccountHistory {
            tasks: &records,
            judged_since: account
                .guard_resumed_at
                .and_then(|at| Timestamp::from_second(at).ok()),
            inmail_credits: inmail_ledger(store, &account, plan, &zone, &tasks, now)?
                .map_or(0, |ledger| ledger.available(now)),
        };
        let budget = day_budget(&limits, history, now, &zone, max);
        Ok(Budget {
            invitations_today: budget.invitations.quota,
            invitations_left: budget.invitations_left,
            messages_left: budget.messages_left,
            inmail_left: budget.inmail_left,
            noted_this_month: budget.noted_this_month,
            pending: budget.pending,
            guard: match budget.guard {
                inroad_core::linkedin::Guard::Normal => "normal".into(),
                inroad_core::linkedin::Guard::Halved { rate } => format!("pace halved: {rate}"),
                inroad_core::linkedin::Guard::Paused { rate } => format!("invitations paused: {rate}"),
            },
            invitations_7d: budget.invitations_last_7_days,
            messages_7d: budget.messages_last_7_days,
            account,
            limits,
            tasks,
        })
    }

    /// What today's list may still hand out for a step on `channel`.
    fn left_for(&self, channel: Channel) -> u32 {
        match channel {
            Channel::LinkedinConnect => self.invitations_left,
            Channel::LinkedinMessage => self.messages_left,
            Channel::LinkedinInmail => self.inmail_left,
            Channel::Email => 0,
        }
    }

    fn status(&self) -> AccountStatus {
        AccountStatus {
            name: self.account.name.clone(),
            plan: self.account.plan.clone(),
            invitations_per_week: self.limits.invitations_per_week(),
            invitations_last_7_days: self.invitations_7d,
            invitations_today: self.invitations_today,
            invitations_left_today: self.invitations_left,
            pending_invitations: self.pending,
            guard: self.guard.clone(),
            messages_per_week: self.limits.messages_per_week(),
            messages_last_7_days: self.messages_7d,
            inmail_credits_left: self.inmail_left,
        }
    }
}

pub fn accounts(store: &dyn Store, now: Timestamp) -> Result<Vec<AccountStatus>> {
    store
        .linkedin_accounts()?
        .into_iter()
        .map(|a| Budget::read(store, a, now, None).map(|b| b.status()))
        .collect()
}

/// A task as the list shows it (`linkedin tasks --json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TaskView {
    pub id: i64,
    pub account: String,
    /// `connect`, `message` or `inmail`.
    pub kind: String,
    pub lead_id: i64,
    pub name: Option<String>,
    pub profile_url: Option<String>,
    pub note: Option<String>,
    /// Why an invitation goes without its note.
    pub why_no_note: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    /// When the step became due (RFC 3339).
    pub due: String,
}

/// An active campaign's file and templates.
struct Campaign {
    spec: CampaignSpec,
    templates: Compiled,
}

fn active_campaigns(store: &dyn Store) -> Result<HashMap<i64, Campaign>> {
    let mut campaigns = HashMap::new();
    for record in store.campaigns()?.into_iter().filter(|c| c.status == "active") {
        let spec = parse_campaign(&record.spec).map_err(|e| {
            Error::Usage(format!(
                "campaign {}: stored file no longer parses: {e}",
                record.name
            ))
        })?;
        let templates = compile(&spec)?;
        campaigns.insert(record.id, Campaign { spec, templates });
    }
    Ok(campaigns)
}

/// Today's tasks at `now`: the ones handed out and not done, then new ones while the
/// budgets allow. `max` asks for more invitations and messages today than the pace
/// (never more than the rolling budget allows).
pub fn tasks(
    store: &mut dyn Store,
    now: Timestamp,
    account: Option<&str>,
    max: Option<u32>,
) -> Result<Vec<TaskView>> {
    let all = store.linkedin_accounts()?;
    if let Some(name) = account {
        if !all.iter().any(|a| a.name == name) {
            return Err(Error::Usage(format!(
                "no LinkedIn account {name:?}; `inroad linkedin account list` shows them"
            )));
        }
    }
    let mut budgets: HashMap<i64, Budget> = HashMap::new();
    for a in all {
        budgets.insert(a.id, Budget::read(store, a, now, max)?);
    }
    let ids_by_name: HashMap<String, i64> = budgets
        .values()
        .map(|b| (b.account.name.clone(), b.account.id))
        .collect();
    // Invitations pending too long: take them back (no budget needed).
    for budget in budgets.values_mut() {
        let stale: Vec<LinkedinTask> = budget
            .tasks
            .iter()
            .filter(|t| is_pending(t, &budget.tasks))
            .filter(|t| t.done_at.is_some_and(|d| d <= before(now, WITHDRAW_AFTER)))
            .cloned()
            .collect();
        for invitation in stale {
            let withdraw = LinkedinTask {
                id: 0,
                kind: "withdraw".into(),
                note: None,
                why_no_note: None,
                subject: None,
                body: None,
                state: "open".into(),
                due: now.as_second(),
                created_at: now.as_second(),
                done_at: None,
                accepted_at: None,
                declined: false,
                ..invitation
            };
            if let Some(id) = store.add_linkedin_task(&withdraw)? {
                budget.tasks.push(LinkedinTask { id, ..withdraw });
            }
        }
    }
    let campaigns = active_campaigns(store)?;
    for due in store.linkedin_due(now.as_second(), DUE_BATCH)? {
        let Some(campaign) = campaigns.get(&due.campaign_id) else {
            continue;
        };
        let Some(step) = campaign.spec.steps.get(due.step as usize) else {
            continue;
        };
        // The lead's account, or the campaign's account with the most room today.
        let account_id = match due.account_id {
            Some(id) => id,
            None => {
                let candidates = campaign
                    .spec
                    .linkedin_accounts
                    .iter()
                    .filter_map(|n| ids_by_name.get(n))
                    .map(|id| (*id, budgets[id].left_for(step.channel)));
                let Some(id) = choose_account(candidates) else {
                    continue;
                };
                store.assign_linkedin_account(due.enrolment_id, id)?;
                id
            }
        };
        let Some(budget) = budgets.get_mut(&account_id) else {
            continue;
        };
        let Some(lead) = store.lead(due.lead_id)? else {
            continue;
        };
        let variant = inroad_core::campaign::variant_for(lead.id, due.step as usize, &step.weights());
        let templates = &campaign.templates[due.step as usize][variant];
        let seed = spin_seed(lead.id, due.step);
        let mut task = LinkedinTask {
            id: 0,
            account_id,
            enrolment_id: due.enrolment_id,
            campaign_id: due.campaign_id,
            lead_id: lead.id,
            step: due.step,
            kind: String::new(),
            note: None,
            subject: None,
            body: None,
            why_no_note: None,
            state: "open".into(),
            due: due.due,
            created_at: now.as_second(),
            done_at: None,
            accepted_at: None,
            declined: false,
        };
        let rendered_body = templates.body.render(&lead.lead, seed);
        match step.channel {
            Channel::LinkedinConnect => {
                if budget.invitations_left == 0 {
                    continue;
                }
                let withdrawn = store.linkedin_withdrawn_at(lead.id)?;
                if withdrawn.is_some_and(|at| at > before(now, REINVITE_AFTER)) {
                    continue; // LinkedIn refuses a new invitation for three weeks
                }
                task.kind = "connect".into();
                match rendered_body {
                    Ok(note) if note.trim().is_empty() => {}
                    Ok(note) => match note_allowed(budget.limits.plan(), budget.noted_this_month, &note) {
                        Ok(()) => {
                            budget.noted_this_month += 1;
                            task.note = Some(note);
                        }
                        Err(refusal) => task.why_no_note = Some(refusal.to_string()),
                    },
                    Err(e) => task.why_no_note = Some(format!("the note cannot be filled: {e}")),
                }
                budget.invitations_left -= 1;
            }
            Channel::LinkedinMessage => {
                // Without an invitation from us the lead is taken to be a connection
                // already (a sequence that starts with a message); with one, it must
                // have been accepted.
                let connect = store.linkedin_connect_of_lead(lead.id)?;
                if connect.as_ref().is_some_and(|c| c.accepted_at.is_none()) {
                    skip_if_not_accepted(store, &campaign.spec, &due, connect.as_ref(), now)?;
                    continue;
                }
                if budget.messages_left == 0 {
                    continue;
                }
                let Ok(body) = rendered_body else {
                    let why = "the LinkedIn message cannot be filled from the lead's data";
                    store.park_enrolment(due.enrolment_id, "needs_attention", why)?;
                    continue;
                };
                task.kind = "message".into();
                task.body = Some(body);
                budget.messages_left -= 1;
            }
            Channel::LinkedinInmail => {
                if budget.inmail_left == 0 {
                    continue;
                }
                let subject = templates
                    .subject
                    .as_ref()
                    .map(|t| t.render_subject(&lead.lead, seed));
                let (Some(Ok(subject)), Ok(body)) = (subject, rendered_body) else {
                    let why = "the InMail cannot be filled from the lead's data";
                    store.park_enrolment(due.enrolment_id, "needs_attention", why)?;
                    continue;
                };
                task.kind = "inmail".into();
                task.subject = Some(subject);
                task.body = Some(body);
                budget.inmail_left -= 1;
            }
            Channel::Email => continue,
        }
        if let Some(id) = store.add_linkedin_task(&task)? {
            task.id = id;
            budget.tasks.push(task);
        }
    }
    let mut views = Vec::new();
    for budget in budgets.values() {
        if account.is_some_and(|n| n != budget.account.name) {
            continue;
        }
        for task in budget.tasks.iter().filter(|t| t.state == "open") {
            let lead = store.lead(task.lead_id)?;
            views.push(TaskView {
                id: task.id,
                account: budget.account.name.clone(),
                kind: task.kind.clone(),
                lead_id: task.lead_id,
                name: lead.as_ref().and_then(|l| l.lead.full_name.clone()),
                profile_url: lead.as_ref().and_then(|l| l.lead.linkedin_url.clone()),
                note: task.note.clone(),
                why_no_note: task.why_no_note.clone(),
                subject: task.subject.clone(),
                body: task.body.clone(),
                due: Timestamp::from_second(task.due)
                    .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
                    .unwrap_or_default(),
            });
        }
    }
    views.sort_by_key(|v| v.id);
    Ok(views)
}

/// A lead whose invitation was not accepted within the connect step's
/// `if_not_accepted_after_days` skips ahead to the next email step.
fn skip_if_not_accepted(
    store: &mut dyn Store,
    spec: &CampaignSpec,
    due: &inroad_store::LinkedinDue,
    connect: Option<&LinkedinTask>,
    now: Timestamp,
) -> Result<()> {
    let Some(connect) = connect else { return Ok(()) };
    let Some(sent) = connect.done_at.and_then(|s| Timestamp::from_second(s).ok()) else {
        return Ok(());
    };
    let Some(skip) = spec.skip_unaccepted(connect.step as usize, sent, due.step as usize, now) else {
        return Ok(());
    };
    let advance = match skip {
        Skip::To(step) => Advance {
            enrolment_id: due.enrolment_id,
            mailbox_id: 0,
            next_step: step as u32,
            // Skipping ahead: the email step is due now (its window decides the hour).
            next_due: Some(now.as_second()),
            state: "active",
        },
        Skip::Finished => Advance {
            enrolment_id: due.enrolment_id,
            mailbox_id: 0,
            next_step: spec.steps.len() as u32,
            next_due: None,
            state: "finished",
        },
    };
    store.advance_linkedin(&advance)?;
    Ok(())
}

/// How a person says a task went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done (the invitation, message or InMail went out).
    Done,
    /// The invitation was accepted (marks it done too).
    Accepted,
    Declined,
    /// The lead replied on LinkedIn: the sequence stops, as for an email reply.
    Replied,
    /// Not done, and not to be done: the sequence moves on.
    Skipped,
}

/// Records a task's outcome at `now` and moves the lead's sequence on.
pub fn done(store: &mut dyn Store, task_id: i64, outcome: Outcome, now: Timestamp) -> Result<()> {
    let task = store.linkedin_task(task_id)?.ok_or_else(|| {
        Error::Usage(format!(
            "no LinkedIn task {task_id}; `inroad linkedin tasks` lists them"
        ))
    })?;
    if task.state == "open" {
        let state = if outcome == Outcome::Skipped {
            "skipped"
        } else {
            "done"
        };
        // Taking an invitation back moves nothing: the sequence went on when it was sent.
        let advance = match task.kind.as_str() {
            "withdraw" => None,
            _ => Some(next_step(store, &task, now)?),
        };
        store.finish_linkedin_task(task.id, state, now.as_second(), advance.as_ref())?;
    }
    match outcome {
        Outcome::Accepted => store.set_invitation_outcome(task.id, Some(now.as_second()), false)?,
        Outcome::Declined => store.set_invitation_outcome(task.id, None, true)?,
        Outcome::Replied => stop_replied(store, task.lead_id, now)?,
        Outcome::Done | Outcome::Skipped => {}
    }
    Ok(())
}

/// `linkedin accepted LEAD`: the lead accepted our invitation.
pub fn accepted(store: &mut dyn Store, lead_id: i64, now: Timestamp) -> Result<()> {
    let connect = store
        .linkedin_connect_of_lead(lead_id)?
        .ok_or_else(|| Error::Usage(format!("lead {lead_id} has no LinkedIn invitation from us")))?;
    done(store, connect.id, Outcome::Accepted, now)
}

/// `linkedin replied LEAD`: the lead answered on LinkedIn.
pub fn replied(store: &mut dyn Store, lead_id: i64, now: Timestamp) -> Result<()> {
    if store.lead(lead_id)?.is_none() {
        return Err(Error::Usage(format!("no lead with id {lead_id}")));
    }
    stop_replied(store, lead_id, now)
}

fn stop_replied(store: &mut dyn Store, lead_id: i64, now: Timestamp) -> Result<()> {
    let open = store.open_enrolments(lead_id)?;
    if open.is_empty() {
        // A reply after the sequence ended still counts (and refunds an InMail credit).
        store.add_event(&NewEvent {
            lead_id: Some(lead_id),
            kind: "reply".into(),
            detail: Some("replied on LinkedIn".into()),
            at: now.as_second(),
            ..NewEvent::default()
        })?;
    }
    for (enrolment_id, campaign_id) in open {
        store.park_enrolment(enrolment_id, "replied", "replied on LinkedIn")?;
        store.add_event(&NewEvent {
            lead_id: Some(lead_id),
            campaign_id: Some(campaign_id),
            enrolment_id: Some(enrolment_id),
            kind: "reply".into(),
            detail: Some("replied on LinkedIn".into()),
            at: now.as_second(),
            ..NewEvent::default()
        })?;
    }
    Ok(())
}

/// Where the lead's sequence goes after this task's step.
fn next_step(store: &dyn Store, task: &LinkedinTask, now: Timestamp) -> Result<Advance> {
    let record = store
        .campaigns()?
        .into_iter()
        .find(|c| c.id == task.campaign_id)
        .ok_or_else(|| Error::Usage(format!("campaign {} no longer exists", task.campaign_id)))?;
    let spec = parse_campaign(&record.spec).map_err(|e| {
        Error::Usage(format!(
            "campaign {}: stored file no longer parses: {e}",
            record.name
        ))
    })?;
    let zone = store
        .linkedin_accounts()?
        .into_iter()
        .find(|a| a.id == task.account_id)
        .and_then(|a| TimeZone::get(&a.timezone).ok())
        .unwrap_or(TimeZone::UTC);
    let next = task.step + 1;
    Ok(match spec.steps.get(next as usize) {
        Some(step) => Advance {
            enrolment_id: task.enrolment_id,
            mailbox_id: 0,
            next_step: next,
            next_due: Some(step_due(now, step, &zone).as_second()),
            state: if step.channel.is_linkedin() {
                "linkedin"
            } else {
                "active"
            },
        },
        None => Advance {
            enrolment_id: task.enrolment_id,
            mailbox_id: 0,
            next_step: next,
            next_due: None,
            state: "finished",
        },
    })
}

/// What a bulk outcome file changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OutcomesReport {
    pub accepted: u64,
    pub declined: u64,
    pub replied: u64,
}

/// Records outcomes from a CSV with a `lead_id` or `profile_url` column, an `outcome`
/// column (`accepted`, `declined` or `replied`) and optionally `at` (RFC 3339; else
/// `now`): what a person copies from LinkedIn's "Sent invitations" and messages. Every
/// row is checked before any is recorded, so a bad file changes nothing.
pub fn record_outcomes(
    store: &mut dyn Store,
    csv: impl std::io::Read,
    now: Timestamp,
) -> Result<OutcomesReport> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(csv);
    let headers = reader
        .headers()
        .map_err(|e| Error::Usage(format!("cannot read the header row: {e}")))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let (lead_col, url_col, outcome_col, at_col) = (
        column("lead_id"),
        column("profile_url"),
        column("outcome"),
        column("at"),
    );
    let Some(outcome_col) = outcome_col else {
        return Err(Error::Usage(
            "the file needs an `outcome` column (accepted, declined or replied)".into(),
        ));
    };
    if lead_col.is_none() && url_col.is_none() {
        return Err(Error::Usage(
            "the file needs a `lead_id` or a `profile_url` column".into(),
        ));
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| Error::Usage(format!("line {line}: {e}")))?;
        let cell = |c: Option<usize>| {
            c.and_then(|c| record.get(c))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let lead = match (cell(lead_col), cell(url_col)) {
            (Some(id), _) => {
                let id: i64 = id
                    .parse()
                    .map_err(|_| Error::Usage(format!("line {line}: lead_id {id:?} is not a number")))?;
                store.lead(id)?.map(|l| l.id)
            }
            (None, Some(url)) => match inroad_core::normalize::canonical_linkedin_url(url) {
                Some(url) => store.lead_id_by_linkedin(&url)?,
                None => {
                    return Err(Error::Usage(format!(
                        "line {line}: {url:?} is not a LinkedIn profile URL"
                    )))
                }
            },
            (None, None) => return Err(Error::Usage(format!("line {line}: no lead_id or profile_url"))),
        };
        let lead = lead.ok_or_else(|| Error::Usage(format!("line {line}: no such lead")))?;
        let outcome = match cell(Some(outcome_col)).map(str::to_ascii_lowercase).as_deref() {
            Some("accepted") => Outcome::Accepted,
            Some("declined") => Outcome::Declined,
            Some("replied") => Outcome::Replied,
            other => {
                return Err(Error::Usage(format!(
                    "line {line}: outcome {:?} is not accepted, declined or replied",
                    other.unwrap_or_default()
                )));
            }
        };
        let at = match cell(at_col) {
            Some(at) => at
                .parse::<Timestamp>()
                .map_err(|e| Error::Usage(format!("line {line}: at {at:?}: {e}")))?,
            None => now,
        };
        if outcome != Outcome::Replied && store.linkedin_connect_of_lead(lead)?.is_none() {
            return Err(Error::Usage(format!(
                "line {line}: lead {lead} has no LinkedIn invitation from us"
            )));
        }
        rows.push((lead, outcome, at));
    }
    let mut report = OutcomesReport::default();
    for (lead, outcome, at) in rows {
        match outcome {
            Outcome::Replied => {
                replied(store, lead, at)?;
                report.replied += 1;
            }
            Outcome::Accepted | Outcome::Declined => {
                let connect = store
                    .linkedin_connect_of_lead(lead)?
                    .ok_or_else(|| Error::Usage(format!("lead {lead} has no LinkedIn invitation from us")))?;
                done(store, connect.id, outcome, at)?;
                if outcome == Outcome::Accepted {
                    report.accepted += 1;
                } else {
                    report.declined += 1;
                }
            }
            Outcome::Done | Outcome::Skipped => {}
        }
    }
    Ok(report)
}

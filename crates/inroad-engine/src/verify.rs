//! `inroad verify`: is this address deliverable? Syntax, then DNS, then an SMTP
//! probe, then a verdict — with results cached per address and the catch-all
//! answer cached per domain, so a second run asks the servers nothing new.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::time::Duration;

use inroad_core::email::normalize_email;
use inroad_core::flags::{is_disposable, is_free_provider, is_role_account};
use inroad_core::smtp::Reply;
use inroad_core::verdict::{judge, reply_codes, EmailStatus, MailRoute, RcptResult};
use inroad_mail::dns::{MailHosts, MailResolver};
use inroad_mail::probe::{probe_domains, DomainJob, Probe, ProbeConfig, ProbeStats};
use inroad_store::{EmailCheck, Store};
use serde::Serialize;
use tokio::task::JoinSet;

use crate::{Error, Result};

/// How to verify.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// The DNS server to ask (`--dns`); the system's when `None`.
    pub dns: Option<SocketAddr>,
    pub probe: ProbeConfig,
    /// How long a stored result (and a domain's catch-all answer) is reused.
    pub ttl: Duration,
}

impl VerifyOptions {
    pub fn new(probe: ProbeConfig) -> VerifyOptions {
        VerifyOptions {
            dns: None,
            probe,
            ttl: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// One address's result, as `verify --json` prints it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VerifyResult {
    pub email: String,
    pub status: String,
    pub reason: String,
    pub mx: Option<String>,
    pub smtp_code: Option<u16>,
    pub enhanced_code: Option<String>,
    pub catch_all: Option<bool>,
    pub disposable: bool,
    pub role: bool,
    pub free: bool,
    pub confidence: f64,
    pub checked_at: String,
}

impl VerifyResult {
    fn from_check(check: &EmailCheck) -> VerifyResult {
        VerifyResult {
            email: check.email.clone(),
            status: check.status.as_str().to_owned(),
            reason: check.reason.clone(),
            mx: check.mx.clone(),
            smtp_code: check.smtp_code,
            enhanced_code: check.enhanced_code.clone(),
            catch_all: check.catch_all,
            disposable: check.disposable,
            role: check.role,
            free: check.free,
            confidence: check.confidence,
            checked_at: jiff::Timestamp::from_second(check.checked_at)
                .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_default(),
        }
    }
}

/// Verifies `addresses` (as typed: they are normalised here; an invalid one gets
/// its verdict without any lookup). Results come back in the given order.
pub fn verify(
    store: &mut dyn Store,
    addresses: &[String],
    options: &VerifyOptions,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<(Vec<VerifyResult>, ProbeStats)> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Io(format!("cannot start the network runtime: {e}")))?;
    let outcome = runtime.block_on(async {
        let mut checker = Checker::new(store, options)?;
        let mut valid = Vec::new();
        let mut invalid = HashMap::new();
        for raw in addresses {
            match normalize_email(raw) {
                Ok(email) => valid.push(email),
                Err(why) => {
                    invalid.insert(raw.clone(), why.to_string());
                }
            }
        }
        let (checks, stats) = checker.check(&valid, progress).await?;
        let by_email: HashMap<&str, &EmailCheck> = checks.iter().map(|c| (c.email.as_str(), c)).collect();
        let now = jiff::Timestamp::now().as_second();
        let results = addresses
            .iter()
            .map(|raw| match invalid.get(raw) {
                Some(why) => VerifyResult::from_check(&EmailCheck {
                    email: raw.clone(),
                    status: EmailStatus::Undeliverable,
                    reason: format!("invalid address: {why}"),
                    mx: None,
                    smtp_code: None,
                    enhanced_code: None,
                    catch_all: None,
                    disposable: false,
                    role: false,
                    free: false,
                    confidence: 0.0,
                    checked_at: now,
                }),
                None => {
                    let email = normalize_email(raw).expect("valid above");
                    VerifyResult::from_check(by_email[email.as_str()])
                }
            })
            .collect();
        Ok((results, stats))
    });
    // Closed sessions may still be winding down; nothing they do matters now.
    runtime.shutdown_background();
    outcome
}

/// DNS, catch-all and result caches over one run, shared by `verify` and `find`.
pub(crate) struct Checker<'s> {
    store: &'s mut dyn Store,
    resolver: MailResolver,
    probe: ProbeConfig,
    fresh_after: i64,
    routes: HashMap<String, MailHosts>,
}

impl<'s> Checker<'s> {
    pub(crate) fn new(store: &'s mut dyn Store, options: &VerifyOptions) -> Result<Checker<'s>> {
        let resolver = MailResolver::new(options.dns).map_err(Error::Usage)?;
        let ttl = i64::try_from(options.ttl.as_secs()).unwrap_or(i64::MAX);
        Ok(Checker {
            store,
            resolver,
            probe: options.probe.clone(),
            fresh_after: jiff::Timestamp::now().as_second().saturating_sub(ttl),
            routes: HashMap::new(),
        })
    }

    /// Checks distinct, normalised addresses; returns one check per address (in no
    /// particular order) and the probing counters. Stores every new result.
    pub(crate) async fn check(
        &mut self,
        emails: &[String],
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<(Vec<EmailCheck>, ProbeStats)> {
        let now = jiff::Timestamp::now().as_second();
        let mut done = Vec::new();
        let mut by_domain: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut seen = HashSet::new();
        for email in emails {
            // A stored answer is reused; an `unknown` one (a busy host, a timeout)
            // is not an answer, and a suppressed address is looked at below.
            let cached = self.store.email_check(email, self.fresh_after)?;
            if let Some(check) = cached.filter(|c| c.status != EmailStatus::Unknown) {
                if !self.store.is_suppressed(email)? {
                    progress(1);
                    done.push(check);
                    continue;
                }
            }
            if seen.insert(email.as_str()) {
                let domain = email
                    .rsplit_once('@')
                    .map(|(_, d)| d.to_owned())
                    .unwrap_or_default();
                by_domain.entry(domain).or_default().push(email.clone());
            }
        }
        // DNS answers come while the store is asked what it knows.
        let lookups = self.start_lookups(by_domain.keys());
        let mut suppressed = HashSet::new();
        let mut cached_catch_all = HashMap::new();
        for (domain, addresses) in &by_domain {
            for email in addresses {
                if self.store.is_suppressed(email)? {
                    suppressed.insert(email.clone());
                }
            }
            cached_catch_all.insert(
                domain.clone(),
                self.store.domain_catch_all(domain, self.fresh_after)?,
            );
        }
        self.finish_lookups(lookups).await;
        let mut fresh = Vec::new();
        let mut jobs = Vec::new();
        for (domain, addresses) in by_domain {
            let route = (self.routes.get(&domain).cloned())
                .unwrap_or_else(|| MailHosts::Failed("the DNS lookup did not finish".into()));
            let (mail_route, hosts) = match route {
                MailHosts::Hosts(hosts) => (MailRoute::Hosts, hosts),
                MailHosts::NoSuchDomain => (MailRoute::NoSuchDomain, Vec::new()),
                MailHosts::NullMx => (MailRoute::NullMx, Vec::new()),
                MailHosts::NoMailHost => (MailRoute::NoMailHost, Vec::new()),
                MailHosts::Failed(_) => (MailRoute::LookupFailed, Vec::new()),
            };
            let mut to_probe = Vec::new();
            for email in addresses {
                if mail_route != MailRoute::Hosts {
                    fresh.push(record(
                        &email,
                        judge(mail_route, None, None, false),
                        None,
                        None,
                        None,
                        now,
                    ));
                    progress(1);
                } else if suppressed.contains(&email) {
                    let never = RcptResult::NoAnswer("suppressed: never probed".into());
                    fresh.push(record(
                        &email,
                        judge(mail_route, Some(&never), None, false),
                        None,
                        None,
                        None,
                        now,
                    ));
                    progress(1);
                } else {
                    to_probe.push(email);
                }
            }
            if !to_probe.is_empty() {
                // Only a learned answer is reused; "could not tell" is asked again.
                let cached = cached_catch_all
                    .get(&domain)
                    .copied()
                    .flatten()
                    .filter(Option::is_some);
                let probe_catch_all = cached.is_none();
                jobs.push((
                    cached,
                    DomainJob {
                        domain,
                        hosts,
                        addresses: to_probe,
                        probe_catch_all,
                    },
                ));
            }
        }
        let probe_jobs: Vec<DomainJob> = jobs.iter().map(|(_, job)| job.clone()).collect();
        let (probed, stats) = probe_domains(&self.probe, &probe_jobs, progress).await;
        for ((cached, job), result) in jobs.iter().zip(probed) {
            let catch_all = match cached {
                Some(known) => *known,
                None => {
                    self.store
                        .save_domain_catch_all(&job.domain, result.catch_all, now)?;
                    result.catch_all
                }
            };
            for address in result.addresses {
                let (rcpt, reply) = match &address.probe {
                    Probe::Replied { reply, outcome } => (RcptResult::Replied(*outcome), Some(reply)),
                    Probe::NoSession(why) | Probe::Interrupted(why) => {
                        (RcptResult::NoAnswer(why.clone()), None)
                    }
                    Probe::DeadlineExceeded => {
                        (RcptResult::NoAnswer("the domain's deadline passed".into()), None)
                    }
                };
                let disposable = is_disposable(&job.domain);
                let verdict = judge(MailRoute::Hosts, Some(&rcpt), catch_all, disposable);
                fresh.push(record(
                    &address.address,
                    verdict,
                    address.mx.clone(),
                    reply,
                    catch_all,
                    now,
                ));
            }
        }
        self.store.save_email_checks(&fresh)?;
        done.extend(fresh);
        Ok((done, stats))
    }

    /// Starts looking up the mail hosts of every domain not looked up yet, all at once.
    fn start_lookups<'d>(&self, domains: impl Iterator<Item = &'d String>) -> JoinSet<(String, MailHosts)> {
        let mut lookups = JoinSet::new();
        for domain in domains.filter(|d| !self.routes.contains_key(*d)) {
            let (resolver, domain) = (self.resolver.clone(), domain.clone());
            lookups.spawn(async move {
                let hosts = resolver.mail_hosts(&domain).await;
                (domain, hosts)
            });
        }
        lookups
    }

    async fn finish_lookups(&mut self, mut lookups: JoinSet<(String, MailHosts)>) {
        while let Some(done) = lookups.join_next().await {
            if let Ok((domain, hosts)) = done {
                self.routes.insert(domain, hosts);
            }
        }
    }
}

/// A verdict on `email`, with the address's flags, as stored.
fn record(
    email: &str,
    verdict: inroad_core::verdict::Verdict,
    mx: Option<String>,
    reply: Option<&Reply>,
    catch_all: Option<bool>,
    now: i64,
) -> EmailCheck {
    let (local, domain) = email.rsplit_once('@').unwrap_or((email, ""));
    let (smtp_code, enhanced_code) = match reply.map(reply_codes) {
        Some((code, enhanced)) => (Some(code), enhanced),
        None => (None, None),
    };
    EmailCheck {
        email: email.to_owned(),
        status: verdict.status,
        reason: verdict.reason,
        mx,
        smtp_code,
        enhanced_code,
        catch_all,
        disposable: is_disposable(domain),
        role: is_role_account(local),
        free: is_free_provider(domain),
        confidence: verdict.confidence,
        checked_at: now,
    }
}

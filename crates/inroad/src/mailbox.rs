//! `inroad mailbox …`

use std::io::{BufRead, IsTerminal};
use std::time::Duration;

use anyhow::{bail, Context};
use inroad_core::email::{normalize_email, normalize_host};
use inroad_core::schedule::{Gap, Warmup};
use inroad_engine::secrets;
use inroad_store::{Mailbox, Store};
use serde_json::json;

use crate::cli::{MailboxAddArgs, MailboxCommand, MailboxTestArgs, SetPasswordArgs};
use crate::key::{install_key, KeyFile};
use crate::print_json;

pub fn run(db: &str, key_file: &KeyFile, cmd: MailboxCommand) -> anyhow::Result<()> {
    match cmd {
        MailboxCommand::Add(args) => {
            let mut mailbox = mailbox_from_args(&args)?;
            let mut store = inroad_store::open(db)?;
            if mailbox_named(store.as_ref(), &mailbox.name)?.is_some() {
                bail!("a mailbox named {:?} exists already", mailbox.name);
            }
            if args.password_stdin {
                let password = read_password(&format!("mailbox {}", mailbox.name), SMTP_EXAMPLE)?;
                mailbox.sealed_secret = Some(secrets::seal(
                    &install_key(key_file.path()?)?,
                    &mailbox.name,
                    &password,
                )?);
            }
            store.add_mailbox(&mailbox)?;
            eprintln!("added mailbox {} <{}>", mailbox.name, mailbox.from_address);
            if let Some(var) = &mailbox.password_env {
                note_unset(var);
            }
            Ok(())
        }
        MailboxCommand::SetPassword(args) => set_password(db, key_file, &args),
        MailboxCommand::Test(args) => test(db, key_file, &args),
        MailboxCommand::Resume { name } => {
            let mut store = inroad_store::open(db)?;
            if !store.set_mailbox_paused(&name, None)? {
                bail!("no mailbox named {name:?}; `inroad mailbox list` shows them");
            }
            eprintln!("mailbox {name} may send again");
            Ok(())
        }
        MailboxCommand::List { json } => {
            let store = inroad_store::open(db)?;
            let mailboxes = store.mailboxes()?;
            if json {
                let list: Vec<_> = mailboxes.iter().map(mailbox_json).collect();
                return print_json(&json!({ "mailboxes": list }));
            }
            for m in &mailboxes {
                let warmup = m.warmup.map_or("no warm-up".to_owned(), |(start, step)| {
                    format!("warm-up {start}+{step}/day")
                });
                let state = m
                    .paused_reason
                    .as_deref()
                    .map_or("active".to_owned(), |why| format!("PAUSED: {why}"));
                let password = password_source(m).unwrap_or_else(|| "none".to_owned());
                println!(
                    "{:<16} {:<36} cap {:>3}/day, {warmup}, gap {}-{}s, {}, password {password}  {state}",
                    m.name, m.from_address, m.daily_cap, m.gap_secs.0, m.gap_secs.1, m.timezone
                );
            }
            eprintln!("{} mailbox(es)", mailboxes.len());
            Ok(())
        }
    }
}

/// `mailbox set-password NAME (--password-env VAR | --password-stdin)`.
fn set_password(db: &str, key_file: &KeyFile, args: &SetPasswordArgs) -> anyhow::Result<()> {
    let mut store = inroad_store::open(db)?;
    let Some(mailbox) = mailbox_named(store.as_ref(), &args.name)? else {
        bail!(
            "no mailbox named {:?}; `inroad mailbox list` shows them",
            args.name
        );
    };
    match &args.source.password_env {
        Some(var) => {
            check_variable_name(var)?;
            store.set_mailbox_secret(&mailbox.name, Some(var), None)?;
            eprintln!(
                "mailbox {}: the password is read from {var} when sending",
                mailbox.name
            );
            note_unset(var);
        }
        None => {
            let password = read_password(&format!("mailbox {}", mailbox.name), SMTP_EXAMPLE)?;
            let sealed = secrets::seal(&install_key(key_file.path()?)?, &mailbox.name, &password)?;
            store.set_mailbox_secret(&mailbox.name, None, Some(&sealed))?;
            eprintln!(
                "mailbox {}: the password is stored, encrypted with the install key {}",
                mailbox.name,
                key_file.path()?.display()
            );
        }
    }
    if mailbox.paused_reason.is_some() {
        eprintln!(
            "note: mailbox {0} is paused; `inroad mailbox test {0}`, then `inroad mailbox resume {0}`",
            mailbox.name
        );
    }
    Ok(())
}

/// `mailbox test NAME`: one line on success; on failure, the same line as the error.
fn test(db: &str, key_file: &KeyFile, args: &MailboxTestArgs) -> anyhow::Result<()> {
    let store = inroad_store::open(db)?;
    let Some(mailbox) = mailbox_named(store.as_ref(), &args.name)? else {
        bail!(
            "no mailbox named {:?}; `inroad mailbox list` shows them",
            args.name
        );
    };
    // Only a stored password needs the install key: testing any other mailbox must not
    // create a key file as a side effect.
    let key = match mailbox.sealed_secret {
        Some(_) => install_key(key_file.path()?)?,
        None => Vec::new(),
    };
    let hello_name = args.helo_name.clone().unwrap_or_else(crate::run::host_name);
    let timeout = Duration::from_secs(args.timeout.max(1));
    let tested = inroad_engine::mailbox::test(&mailbox, &key, &hello_name, timeout);
    if args.json {
        print_json(&tested)?;
    }
    let line = format!(
        "mailbox {}: smtp {}:{} ({}) — {}",
        mailbox.name, mailbox.smtp_host, mailbox.smtp_port, mailbox.smtp_tls, tested.smtp.detail
    );
    if !tested.ok() {
        bail!(line);
    }
    if !args.json {
        println!("{line}; nothing sent");
    }
    Ok(())
}

fn mailbox_named(store: &dyn Store, name: &str) -> anyhow::Result<Option<Mailbox>> {
    Ok(store.mailboxes()?.into_iter().find(|m| m.name == name))
}

/// How to pipe a mailbox password in, for the error on an empty stdin.
const SMTP_EXAMPLE: &str = "printf '%s\\n' \"$SMTP_PASSWORD\" | inroad mailbox …";

/// The first line of stdin, without its line ending; an empty one is refused. `whose`
/// names the password in the prompt ("mailbox primary"); `example` shows how to pipe it.
pub(crate) fn read_password(whose: &str, example: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password for {whose} (shown as typed; pipe it in to avoid that): ");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("--password-stdin: cannot read stdin")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        bail!("--password-stdin: the first line of stdin is empty; pipe the password in, e.g. `{example}`");
    }
    Ok(password.to_owned())
}

pub(crate) fn check_variable_name(var: &str) -> anyhow::Result<()> {
    if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        bail!(
            "--password-env takes the NAME of an environment variable (like SMTP_PASSWORD), not a password"
        );
    }
    Ok(())
}

fn note_unset(var: &str) {
    if std::env::var_os(var).is_none() {
        eprintln!("note: {var} is not set in this shell; set it where `inroad run` runs");
    }
}

/// Where a mailbox's password comes from, as `mailbox list` shows it: never the secret.
fn password_source(m: &Mailbox) -> Option<String> {
    match (&m.password_env, &m.sealed_secret) {
        (_, Some(_)) => Some("stored (encrypted)".to_owned()),
        (Some(var), None) => Some(format!("env:{var}")),
        (None, None) => None,
    }
}

/// A mailbox as `mailbox list --json` shows it (where its password comes from, never a secret).
fn mailbox_json(m: &Mailbox) -> serde_json::Value {
    json!({
        "name": m.name,
        "from_name": m.from_name,
        "from_address": m.from_address,
        "smtp_host": m.smtp_host,
        "smtp_port": m.smtp_port,
        "smtp_tls": m.smtp_tls,
        "smtp_user": m.smtp_user,
        "password_env": m.password_env,
        "password": password_source(m),
        "daily_cap": m.daily_cap,
        "warmup": m.warmup.map(|(start, step)| json!({"start": start, "step": step})),
        "gap_secs": [m.gap_secs.0, m.gap_secs.1],
        "timezone": m.timezone,
        "dkim_selector": m.dkim_selector,
        "dkim_domain": m.dkim_domain,
        "imap_host": m.imap_host,
        "paused_reason": m.paused_reason,
    })
}

/// Checks every setting, so a typo fails here rather than at the first send.
fn mailbox_from_args(a: &MailboxAddArgs) -> anyhow::Result<Mailbox> {
    let (from_name, address) = parse_from(&a.from)?;
    let from_address = normalize_email(&address)
        .map_err(|why| anyhow::anyhow!("--from: {address:?} is not a valid address ({why})"))?;
    let smtp_host = normalize_host(&a.smtp_host)
        .or_else(|| (a.smtp_host == "localhost").then(|| a.smtp_host.clone()))
        .or_else(|| {
            a.smtp_host
                .parse::<std::net::IpAddr>()
                .ok()
                .map(|_| a.smtp_host.clone())
        })
        .with_context(|| format!("--smtp-host {:?} is not a host name or IP address", a.smtp_host))?;
    if let Some(var) = &a.password_env {
        check_variable_name(var)?;
    }
    if a.daily_cap == 0 {
        bail!("--daily-cap must be at least 1");
    }
    let warmup = match a.warmup.as_deref() {
        Some(spec) => {
            let w = Warmup::parse(spec).map_err(|e| anyhow::anyhow!("--warmup {spec:?}: {e}"))?;
            Some((w.start, w.step))
        }
        None => None,
    };
    let gap = Gap::parse(&a.gap).map_err(|e| anyhow::anyhow!("--gap {:?}: {e}", a.gap))?;
    let secs = |d: std::time::Duration| u32::try_from(d.as_secs()).unwrap_or(u32::MAX);
    let gap = (secs(gap.min), secs(gap.max));
    if jiff::tz::TimeZone::get(&a.timezone).is_err() {
        bail!(
            "--timezone {:?} is not an IANA time zone (like Europe/Berlin or America/New_York)",
            a.timezone
        );
    }
    let dkim_key_file = match &a.dkim_key {
        Some(path) => {
            std::fs::metadata(path).with_context(|| format!("--dkim-key {}", path.display()))?;
            Some(
                path.canonicalize()
                    .unwrap_or_else(|_| path.clone())
                    .to_string_lossy()
                    .into_owned(),
            )
        }
        None => None,
    };
    let dkim_domain = match (&a.dkim_selector, &a.dkim_domain) {
        (Some(_), Some(domain)) => Some(
            normalize_host(domain).with_context(|| format!("--dkim-domain {domain:?} is not a domain"))?,
        ),
        (Some(_), None) => from_address.rsplit_once('@').map(|(_, d)| d.to_owned()),
        (None, _) => None,
    };
    Ok(Mailbox {
        id: 0,
        name: a.name.trim().to_owned(),
        from_name,
        smtp_user: a.smtp_user.clone().or_else(|| Some(from_address.clone())),
        imap_user: a
            .imap_host
            .as_ref()
            .map(|_| a.imap_user.clone().unwrap_or_else(|| from_address.clone())),
        imap_junk_folder: a.imap_host.as_ref().and(a.imap_junk_folder.clone()),
        from_address,
        smtp_host,
        smtp_port: a.smtp_port,
        smtp_tls: a.smtp_tls.name().to_owned(),
        password_env: a.password_env.clone(),
        // Sealed once the name is final and the password read (after every check).
        sealed_secret: None,
        daily_cap: a.daily_cap,
        warmup,
        gap_secs: gap,
        timezone: a.timezone.clone(),
        dkim_selector: a.dkim_selector.clone(),
        dkim_key_file,
        dkim_domain,
        imap_port: a.imap_host.as_ref().map(|_| a.imap_port),
        imap_tls: a.imap_host.as_ref().map(|_| a.imap_tls.name().to_owned()),
        imap_host: a.imap_host.clone(),
        paused_reason: None,
    })
}

/// `Ann Lee <ann@acme.com>`, `"Lee, Ann" <ann@acme.com>` or `ann@acme.com`.
fn parse_from(from: &str) -> anyhow::Result<(Option<String>, String)> {
    let from = from.trim();
    match from.strip_suffix('>').and_then(|f| f.rsplit_once('<')) {
        Some((name, address)) => {
            let name = name.trim().trim_matches('"').trim();
            if name.chars().any(char::is_control) {
                bail!("--from: the display name has control characters");
            }
            Ok((
                (!name.is_empty()).then(|| name.to_owned()),
                address.trim().to_owned(),
            ))
        }
        None if from.contains('<') || from.contains('>') => {
            bail!("--from {from:?}: write it as \"Name <address>\"")
        }
        None => Ok((None, from.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_forms() {
        assert_eq!(
            parse_from("Ann Lee <ann@acme.com>").unwrap(),
            (Some("Ann Lee".into()), "ann@acme.com".into())
        );
        assert_eq!(
            parse_from("\"Lee, Ann\" <ann@acme.com>").unwrap().0.as_deref(),
            Some("Lee, Ann")
        );
        assert_eq!(parse_from("ann@acme.com").unwrap(), (None, "ann@acme.com".into()));
        assert!(parse_from("Ann <ann@acme.com").is_err());
    }
}

//! How Inroad reaches a mailbox's servers: the settings and credentials `inroad run`
//! sends with, and `inroad mailbox test`, which uses exactly the same ones so that a
//! passing test means the worker can log in.

use std::time::Duration;

use inroad_mail::smtp::{Refusal, Security, SmtpSender, SmtpSettings};
use inroad_store::Mailbox;
use serde::Serialize;

use crate::secrets;

/// The password (or OAuth token) a mailbox logs in with, if it has one: opened from
/// its sealed secret with the install key, or read from the environment variable it
/// names. `Err` says why it cannot be had, and what to do.
pub fn mailbox_secret(m: &Mailbox, install_key: &[u8]) -> Result<Option<String>, String> {
    if let Some(sealed) = &m.sealed_secret {
        return secrets::open(install_key, &m.name, sealed)
            .map(Some)
            .map_err(|e| e.to_string());
    }
    match m.password_env.as_deref() {
        None => Ok(None),
        Some(var) => match std::env::var(var) {
            Ok(secret) => Ok(Some(secret)),
            Err(std::env::VarError::NotPresent) => Err(format!(
                "cannot authenticate mailbox {}: its password comes from the environment variable {var}, \
                 which is not set here; set it where inroad runs, or store the password with \
                 `inroad mailbox set-password {} --password-stdin`",
                m.name, m.name
            )),
            Err(std::env::VarError::NotUnicode(_)) => Err(format!(
                "cannot authenticate mailbox {}: the environment variable {var} is not valid UTF-8",
                m.name
            )),
        },
    }
}

/// A mailbox's SMTP settings, credentials included (see [`mailbox_secret`]).
pub fn smtp_settings(
    m: &Mailbox,
    install_key: &[u8],
    hello_name: &str,
    timeout: Duration,
) -> Result<SmtpSettings, String> {
    let security = match m.smtp_tls.as_str() {
        "none" => Security::None,
        "tls" => Security::Tls,
        _ => Security::StartTls,
    };
    let user = m.smtp_user.clone().unwrap_or_else(|| m.from_address.clone());
    Ok(SmtpSettings {
        host: m.smtp_host.clone(),
        port: m.smtp_port,
        security,
        hello_name: hello_name.to_owned(),
        credentials: mailbox_secret(m, install_key)?.map(|secret| (user, secret)),
        timeout,
    })
}

/// What `inroad mailbox test` found, per server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MailboxTest {
    pub mailbox: String,
    pub smtp: Check,
}

impl MailboxTest {
    pub fn ok(&self) -> bool {
        self.smtp.ok
    }
}

/// One server's verdict: what was reached, or what to fix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub ok: bool,
    pub detail: String,
}

/// Connects to the mailbox's SMTP server as `inroad run` would (TLS, AUTH), then says
/// QUIT: nothing is sent.
pub fn test(m: &Mailbox, install_key: &[u8], hello_name: &str, timeout: Duration) -> MailboxTest {
    let failed = |detail: String| Check { ok: false, detail };
    let smtp = match smtp_settings(m, install_key, hello_name, timeout) {
        Err(why) => failed(why),
        Ok(settings) => match SmtpSender::new(settings).map(|sender| sender.check()) {
            Err(e) => failed(format!("cannot start the SMTP client: {e}")),
            Ok(Ok(detail)) => Check { ok: true, detail },
            Ok(Err(Refusal::Auth(why))) => failed(format!(
                "{why}; check the login (--smtp-user, default the From address) and the password \
                 (`inroad mailbox set-password {}`)",
                m.name
            )),
            Ok(Err(Refusal::Other(why))) => failed(format!(
                "{why}; check the host, the port and the TLS mode (--smtp-host, --smtp-port, --smtp-tls)"
            )),
        },
    };
    MailboxTest {
        mailbox: m.name.clone(),
        smtp,
    }
}

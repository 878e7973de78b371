//! Sending one message over SMTP, knowing exactly how far it got.
//!
//! The ledger's promise (a step goes out at most once) rests on one distinction:
//! did the failure happen before the server could have the message (safe to try
//! again), or after DATA began (it may have been delivered: never retry)? lettre's
//! high-level transport hides that, so this drives its `AsyncSmtpConnection` command
//! by command and classifies every failure by the stage it happened in.
//!
//! The TCP connection is made here, with Nagle's algorithm off: lettre writes the
//! message and its final dot in two writes, and with Nagle on, the dot waits for the
//! server's delayed ACK (40 ms a message on Linux).

use std::time::Duration;

use lettre::address::Address;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::ClientId;
use tokio::net::TcpStream;
use tokio::runtime::Runtime;
use tokio::time::timeout;

/// How the connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// Plain text: only for a relay on loopback or a test server.
    None,
    /// Upgrade with STARTTLS; refuse to send if the server does not offer it.
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// Where and as whom to send.
#[derive(Clone, Debug)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// The EHLO name.
    pub hello_name: String,
    /// Login and password (or OAuth token); `None` sends without AUTH.
    pub credentials: Option<(String, String)>,
    pub timeout: Duration,
}

/// How a delivery ended, by what the ledger must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// 250 after the final dot.
    Sent(String),
    /// Failed before the server could have the message (connection, TLS, AUTH,
    /// MAIL, a 4xx at RCPT, DATA refused, or a 4xx after the dot): try again later.
    Failed(String),
    /// The recipient was refused for good (5xx at RCPT or after the dot).
    Bounced(String),
    /// Broke after DATA began, without a final reply: it may have been delivered.
    InDoubt(String),
    /// The server refused the mailbox's credentials: nothing was sent, and nothing
    /// will be until they are fixed.
    AuthFailed(String),
}

/// One mailbox's sending connection, kept open between messages.
///
/// A message goes out in two calls, so the caller can record "DATA begins" in its
/// ledger at exactly the right moment: [`SmtpSender::start_transaction`] (connect if
/// needed, MAIL FROM, RCPT TO: nothing can have been delivered yet) and
/// [`SmtpSender::send_data`] (DATA and the message: from here on the server may have it).
pub struct SmtpSender {
    settings: SmtpSettings,
    runtime: Runtime,
    connection: Option<AsyncSmtpConnection>,
    /// RCPT was accepted and DATA is next.
    ready_for_data: bool,
}

impl SmtpSender {
    pub fn new(settings: SmtpSettings) -> std::io::Result<SmtpSender> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(SmtpSender {
            settings,
            runtime,
            connection: None,
            ready_for_data: false,
        })
    }

    /// Opens a transaction from `from` to `to`: a session (reused when it is still
    /// good), MAIL FROM and RCPT TO. `Err` says how it ended; no message was handed over.
    pub fn start_transaction(&mut self, from: &str, to: &str) -> Result<(), Delivery> {
        let (Ok(from), Ok(to)) = (from.parse::<Address>(), to.parse::<Address>()) else {
            return Err(Delivery::Failed("invalid envelope address".into()));
        };
        // A transaction left open (its DATA never sent) poisons the session.
        let reusable = self
            .connection
            .take()
            .filter(|c| !c.has_broken() && !self.ready_for_data);
        self.ready_for_data = false;
        let settings = &self.settings;
        let (connection, started) = self.runtime.block_on(async {
            let mut connection = match reusable {
                Some(connection) => connection,
                None => match connect(settings).await {
                    Ok(connection) => connection,
                    Err(Refusal::Auth(why)) => return (None, Err(Delivery::AuthFailed(why))),
                    Err(Refusal::Other(why)) => return (None, Err(Delivery::Failed(why))),
                },
            };
            let started = envelope(&mut connection, settings.timeout, from, to).await;
            if started.is_err() {
                abort(connection, settings.timeout).await;
                return (None, started);
            }
            (Some(connection), started)
        });
        self.connection = connection;
        self.ready_for_data = started.is_ok();
        started
    }

    /// Connects and logs in exactly as a send would (TLS, STARTTLS, AUTH), then says
    /// QUIT: no transaction is opened. `Ok` describes the session reached.
    pub fn check(&self) -> Result<String, Refusal> {
        let settings = &self.settings;
        self.runtime.block_on(async {
            let mut connection = connect(settings).await?;
            let server = connection.server_info().name().to_owned();
            // The verdict is in: a server slow to answer QUIT changes nothing.
            let _ = timeout(settings.timeout, connection.quit()).await;
            Ok(match &settings.credentials {
                Some((user, _)) => format!("connected to {server}, authenticated as {user}"),
                None => format!("connected to {server}; no password is set, so it did not authenticate"),
            })
        })
    }

    /// DATA and the message, after a successful [`SmtpSender::start_transaction`].
    pub fn send_data(&mut self, message: &[u8]) -> Delivery {
        let connection = self.connection.take().filter(|_| self.ready_for_data);
        self.ready_for_data = false;
        let Some(mut connection) = connection else {
            return Delivery::Failed("no transaction is open".into());
        };
        let limit = self.settings.timeout;
        let (connection, delivery) = self.runtime.block_on(async {
            let delivery = data(&mut connection, limit, message).await;
            if let Delivery::Sent(_) = delivery {
                (Some(connection), delivery)
            } else {
                abort(connection, limit).await;
                (None, delivery)
            }
        });
        self.connection = connection;
        delivery
    }
}

/// Ends a session in an unknown state: it is never reused. (lettre's abort says QUIT
/// and waits for the reply: a server that went silent would hold it forever.)
async fn abort(mut connection: AsyncSmtpConnection, limit: Duration) {
    let _ = timeout(limit, connection.abort()).await;
}

async fn connect(s: &SmtpSettings) -> Result<AsyncSmtpConnection, Refusal> {
    let hello = ClientId::Domain(s.hello_name.clone());
    let other = |what: String| Refusal::Other(what);
    let tls = || {
        TlsParameters::new_rustls(s.host.clone())
            .map_err(|e| other(format!("TLS settings for {}: {e}", s.host)))
    };
    let connected = match s.security {
        // Implicit TLS: lettre makes the connection (and wraps it).
        Security::Tls => AsyncSmtpConnection::connect_tokio1(
            (s.host.as_str(), s.port),
            Some(s.timeout),
            &hello,
            Some(tls()?),
            None,
        )
        .await
        .map_err(|e| other(format!("cannot connect to {}:{}: {e}", s.host, s.port)))?,
        Security::None | Security::StartTls => {
            let stream = timeout(s.timeout, TcpStream::connect((s.host.as_str(), s.port)))
                .await
                .map_err(|_| other(format!("connecting to {}:{} timed out", s.host, s.port)))?
                .map_err(|e| other(format!("cannot connect to {}:{}: {e}", s.host, s.port)))?;
            stream
                .set_nodelay(true)
                .map_err(|e| other(format!("socket option: {e}")))?;
            timeout(
                s.timeout,
                AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello),
            )
            .await
            .map_err(|_| other(format!("{} did not greet in time", s.host)))?
            .map_err(|e| other(format!("{} refused the session: {e}", s.host)))?
        }
    };
    let mut connection = connected;
    if s.security == Security::StartTls {
        if !connection.can_starttls() {
            return Err(other(format!(
                "{} does not offer STARTTLS; refusing to send in plain text",
                s.host
            )));
        }
        timeout(s.timeout, connection.starttls(tls()?, &hello))
            .await
            .map_err(|_| other(format!("STARTTLS with {} timed out", s.host)))?
            .map_err(|e| other(format!("STARTTLS with {} failed: {e}", s.host)))?;
    }
    if let Some((user, secret)) = &s.credentials {
        let mechanisms = [Mechanism::Plain, Mechanism::Login, Mechanism::Xoauth2];
        let credentials = Credentials::new(user.clone(), secret.clone());
        timeout(s.timeout, connection.auth(&mechanisms, &credentials))
            .await
            .map_err(|_| other(format!("authentication with {} timed out", s.host)))?
            .map_err(|e| Refusal::Auth(format!("authentication failed: {e}")))?;
    }
    Ok(connection)
}

/// Why no session could be had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The server refused the credentials (or offers no way to present them).
    Auth(String),
    /// Anything else: connecting, the greeting, TLS.
    Other(String),
}

/// MAIL and RCPT: each failure classified by its stage.
async fn envelope(
    connection: &mut AsyncSmtpConnection,
    limit: Duration,
    from: Address,
    to: Address,
) -> Result<(), Delivery> {
    // Every step has the same time limit; a step that runs out is a broken session.
    let timed = |what: &str| format!("{what}: no reply within {} s", limit.as_secs());
    match timeout(limit, connection.command(Mail::new(Some(from), vec![]))).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(Delivery::Failed(format!("MAIL FROM refused: {e}"))),
        Err(_) => return Err(Delivery::Failed(timed("MAIL FROM"))),
    }
    match timeout(limit, connection.command(Rcpt::new(to, vec![]))).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) if e.is_permanent() => Err(Delivery::Bounced(format!("RCPT TO refused: {e}"))),
        Ok(Err(e)) => Err(Delivery::Failed(format!("RCPT TO: {e}"))),
        Err(_) => Err(Delivery::Failed(timed("RCPT TO"))),
    }
}

/// DATA and the message: each failure classified by its stage.
async fn data(connection: &mut AsyncSmtpConnection, limit: Duration, message: &[u8]) -> Delivery {
    let timed = |what: &str| format!("{what}: no reply within {} s", limit.as_secs());
    match timeout(limit, connection.command(Data)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Delivery::Failed(format!("DATA refused: {e}")),
        Err(_) => return Delivery::Failed(timed("DATA")),
    }
    // From here the server may have the message.
    match timeout(limit, connection.message(message)).await {
        Ok(Ok(response)) => Delivery::Sent(format!(
            "{} {}",
            response.code(),
            response.first_line().unwrap_or_default()
        )),
        Ok(Err(e)) if e.is_permanent() => Delivery::Bounced(format!("refused after DATA: {e}")),
        Ok(Err(e)) if e.is_transient() => Delivery::Failed(format!("deferred after DATA: {e}")),
        Ok(Err(e)) => Delivery::InDoubt(format!("no final reply after DATA: {e}")),
        Err(_) => Delivery::InDoubt(timed("after the message")),
    }
}

//! Reading a mailbox's new messages over IMAP, without changing anything.
//!
//! Inbox sync has two promises to keep: a message is handled once (the caller records
//! the last UID it handled, per folder and UIDVALIDITY), and the user's mailbox is left
//! as it was — messages are fetched with `BODY.PEEK[]`, so not even the `\Seen` flag
//! changes, and folders are opened read-only (`EXAMINE`).
//!
//! Connections are TLS from the first byte (port 993), STARTTLS, or plain text — the
//! last only to a loopback address, because the login would cross the network in
//! clear. Logins use LOGIN, or XOAUTH2 when the secret is an OAuth token
//! (`oauth2:` prefix), as Gmail and Microsoft 365 require.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_imap::{Client, Session};
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;
use tokio::time::timeout;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

use crate::smtp::Security;

/// Where and as whom to read.
#[derive(Clone)]
pub struct ImapSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub user: String,
    /// A password, or `oauth2:<access token>` for XOAUTH2.
    pub secret: String,
    pub timeout: Duration,
}

impl std::fmt::Debug for ImapSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// New messages of one folder.
#[derive(Debug)]
pub struct FolderBatch {
    pub uidvalidity: u32,
    /// (UID, the raw message), in UID order.
    pub messages: Vec<(u32, Vec<u8>)>,
    /// Whether more new messages wait beyond `messages` (the batch was full).
    pub more: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("cannot connect to {0}")]
    Connect(String),
    #[error("login refused: {0}")]
    Auth(String),
    #[error("{0}")]
    Protocol(String),
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Stream for T {}

/// One mailbox's IMAP session, opened on first use and kept for the next folder.
pub struct ImapReader {
    settings: ImapSettings,
    runtime: Runtime,
    session: Option<Session<Box<dyn Stream>>>,
}

impl ImapReader {
    pub fn new(settings: ImapSettings) -> std::io::Result<ImapReader> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(ImapReader {
            settings,
            runtime,
            session: None,
        })
    }

    /// Messages of `folder` after UID `last_uid` (at most `limit`), read without
    /// changing them. `known_uidvalidity` is the UIDVALIDITY `last_uid` belongs to: when
    /// the folder has another one now, its UIDs were renumbered and every message is new
    /// again (the caller tells the ones it already handled by Message-ID). A folder that
    /// does not exist is an error naming it.
    pub fn fetch_new(
        &mut self,
        folder: &str,
        known_uidvalidity: Option<u32>,
        last_uid: u32,
        limit: usize,
    ) -> Result<FolderBatch, ImapError> {
        let settings = self.settings.clone();
        let session = self.session.take();
        let (session, batch) = self.runtime.block_on(async move {
            let mut session = match session {
                Some(session) => session,
                None => match login(&settings).await {
                    Ok(session) => session,
                    Err(e) => return (None, Err(e)),
                },
            };
            let batch = fetch(
                &mut session,
                &settings,
                folder,
                known_uidvalidity,
                last_uid,
                limit,
            )
            .await;
            // A session that failed mid-command is in an unknown state: not reused.
            (batch.is_ok().then_some(session), batch)
        });
        self.session = session;
        batch
    }

    /// Logs out, if a session is open.
    pub fn close(&mut self) {
        if let Some(mut session) = self.session.take() {
            let limit = self.settings.timeout;
            self.runtime.block_on(async {
                let _ = timeout(limit, session.logout()).await;
            });
        }
    }

    /// Waits until `folder` has a message beyond `uid_next_seen` (its UIDNEXT when last
    /// looked at), for at most `limit`, with IMAP IDLE (RFC 2177): replies are handled
    /// within seconds instead of at the next poll. Returns the folder's UIDNEXT now —
    /// greater than `uid_next_seen` when something arrived. `None` just looks. A server
    /// without IDLE is an error; the caller then keeps polling.
    pub fn wait_for_new(
        &mut self,
        folder: &str,
        uid_next_seen: Option<u32>,
        limit: Duration,
    ) -> Result<u32, ImapError> {
        let settings = self.settings.clone();
        let session = self.session.take();
        let (session, waited) = self.runtime.block_on(async move {
            let session = match session {
                Some(session) => session,
                None => match login(&settings).await {
                    Ok(session) => session,
                    Err(e) => return (None, Err(e)),
                },
            };
            idle(session, &settings, folder, uid_next_seen, limit).await
        });
        self.session = session;
        waited
    }

    /// Connects and logs in (no folder is opened): what `mailbox test` checks.
    pub fn check(&mut self) -> Result<String, ImapError> {
        let settings = self.settings.clone();
        let session = self.runtime.block_on(login(&settings))?;
        self.session = Some(session);
        self.close();
        Ok(format!(
            "imap {}:{} ({}) — logged in as {}",
            settings.host,
            settings.port,
            security_name(settings.security),
            settings.user
        ))
    }
}

impl Drop for ImapReader {
    fn drop(&mut self) {
        self.close();
    }
}

fn security_name(security: Security) -> &'static str {
    match security {
        Security::None => "plain",
        Security::StartTls => "starttls",
        Security::Tls => "tls",
    }
}

async fn fetch(
    session: &mut Session<Box<dyn Stream>>,
    settings: &ImapSettings,
    folder: &str,
    known_uidvalidity: Option<u32>,
    last_uid: u32,
    limit: usize,
) -> Result<FolderBatch, ImapError> {
    let limit_time = settings.timeout;
    let protocol = |what: &str, e: String| ImapError::Protocol(format!("{what} {folder}: {e}"));
    let mailbox = timeout(limit_time, session.examine(folder))
        .await
        .map_err(|_| protocol("opening", "timed out".into()))?
        .map_err(|e| protocol("opening", e.to_string()))?;
    let uidvalidity = mailbox
        .uid_validity
        .ok_or_else(|| protocol("opening", "the server gives no UIDVALIDITY".into()))?;
    let after = if known_uidvalidity == Some(uidvalidity) {
        last_uid
    } else {
        0
    };
    if mailbox.exists == 0 || mailbox.uid_next.is_some_and(|next| next <= after + 1) {
        return Ok(FolderBatch {
            uidvalidity,
            messages: Vec::new(),
            more: false,
        });
    }
    // "N:*" always returns the last message, even when its UID is below N (RFC 3501
    // §6.4.8): filter by UID rather than trust the range.
    let fetched: Vec<async_imap::types::Fetch> = timeout(limit_time, async {
        session
            .uid_fetch(format!("{}:*", after + 1), "(UID BODY.PEEK[])")
            .await?
            .try_collect()
            .await
    })
    .await
    .map_err(|_| protocol("reading", "timed out".into()))?
    .map_err(|e: async_imap::error::Error| protocol("reading", e.to_string()))?;
    let mut messages: Vec<(u32, Vec<u8>)> = fetched
        .iter()
        .filter_map(|f| Some((f.uid?, f.body()?.to_vec())))
        .filter(|(uid, _)| *uid > after)
        .collect();
    messages.sort_by_key(|(uid, _)| *uid);
    let more = messages.len() > limit;
    messages.truncate(limit);
    Ok(FolderBatch {
        uidvalidity,
        messages,
        more,
    })
}

/// One IDLE round on `folder`: the session back (when still good), and UIDNEXT after.
async fn idle(
    mut session: Session<Box<dyn Stream>>,
    settings: &ImapSettings,
    folder: &str,
    uid_next_seen: Option<u32>,
    limit: Duration,
) -> (Option<Session<Box<dyn Stream>>>, Result<u32, ImapError>) {
    let step = settings.timeout;
    let protocol = |what: &str, e: String| ImapError::Protocol(format!("{what} {folder}: {e}"));
    let capabilities = match timeout(step, session.capabilities()).await {
        Ok(Ok(capabilities)) => capabilities,
        Ok(Err(e)) => return (None, Err(protocol("asking about", e.to_string()))),
        Err(_) => return (None, Err(protocol("asking about", "timed out".into()))),
    };
    if !capabilities.has_str("IDLE") {
        let why = format!("{} does not offer IDLE", settings.host);
        return (Some(session), Err(ImapError::Protocol(why)));
    }
    let before = match examine_uid_next(&mut session, step, folder).await {
        Ok(uid_next) => uid_next,
        Err(e) => return (None, Err(e)),
    };
    if uid_next_seen.is_none_or(|seen| before > seen) {
        return (Some(session), Ok(before));
    }
    let mut handle = session.idle();
    let idled = async {
        handle.init().await?;
        let (wait, _stop) = handle.wait_with_timeout(limit);
        wait.await.map(|_| ())
    }
    .await;
    let mut session = match timeout(step, handle.done()).await {
        Ok(Ok(session)) => session,
        Ok(Err(e)) => return (None, Err(protocol("ending IDLE on", e.to_string()))),
        Err(_) => return (None, Err(protocol("ending IDLE on", "timed out".into()))),
    };
    if let Err(e) = idled {
        return (None, Err(protocol("waiting on", e.to_string())));
    }
    match examine_uid_next(&mut session, step, folder).await {
        Ok(after) => (Some(session), Ok(after)),
        Err(e) => (None, Err(e)),
    }
}

async fn examine_uid_next(
    session: &mut Session<Box<dyn Stream>>,
    step: Duration,
    folder: &str,
) -> Result<u32, ImapError> {
    let protocol = |e: String| ImapError::Protocol(format!("opening {folder}: {e}"));
    let mailbox = timeout(step, session.examine(folder))
        .await
        .map_err(|_| protocol("timed out".into()))?
        .map_err(|e| protocol(e.to_string()))?;
    Ok(mailbox.uid_next.unwrap_or(0))
}

/// XOAUTH2's initial response (RFC 7628 style, as Google and Microsoft document it).
struct XOAuth2 {
    response: String,
}

impl async_imap::Authenticator for &XOAuth2 {
    type Response = String;
    fn process(&mut self, _challenge: &[u8]) -> String {
        self.response.clone()
    }
}

async fn login(s: &ImapSettings) -> Result<Session<Box<dyn Stream>>, ImapError> {
    let connect = || ImapError::Connect(format!("{}:{}", s.host, s.port));
    let loopback = s.host == "localhost" || s.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if s.security == Security::None && !loopback {
        return Err(ImapError::Connect(format!(
            "{}:{} without TLS: plain IMAP is only allowed on loopback (use --imap-tls tls or starttls)",
            s.host, s.port
        )));
    }
    let tcp = timeout(s.timeout, TcpStream::connect((s.host.as_str(), s.port)))
        .await
        .map_err(|_| connect())?
        .map_err(|e| ImapError::Connect(format!("{}:{}: {e}", s.host, s.port)))?;
    let stream: Box<dyn Stream> = match s.security {
        Security::Tls => Box::new(tls(s, tcp).await?),
        Security::None | Security::StartTls => Box::new(tcp),
    };
    let mut client = Client::new(stream);
    timeout(s.timeout, client.read_response())
        .await
        .map_err(|_| ImapError::Connect(format!("{} did not greet in time", s.host)))?
        .map_err(|e| ImapError::Connect(format!("{}: {e}", s.host)))?;
    if s.security == Security::StartTls {
        timeout(s.timeout, client.run_command_and_check_ok("STARTTLS", None))
            .await
            .map_err(|_| ImapError::Connect(format!("STARTTLS with {} timed out", s.host)))?
            .map_err(|e| ImapError::Connect(format!("STARTTLS with {} refused: {e}", s.host)))?;
        let tcp = client.into_inner();
        let upgraded: Box<dyn Stream> = Box::new(tls(s, tcp).await?);
        client = Client::new(upgraded);
    }
    let logged_in = match s.secret.strip_prefix("oauth2:") {
        Some(token) => {
            let xoauth2 = XOAuth2 {
                response: format!("user={}\x01auth=Bearer {token}\x01\x01", s.user),
            };
            timeout(s.timeout, client.authenticate("XOAUTH2", &xoauth2)).await
        }
        None => timeout(s.timeout, client.login(&s.user, &s.secret)).await,
    };
    logged_in
        .map_err(|_| ImapError::Auth(format!("{} did not answer the login in time", s.host)))?
        .map_err(|(e, _)| ImapError::Auth(e.to_string()))
}

async fn tls<S: AsyncRead + AsyncWrite + Unpin>(
    s: &ImapSettings,
    stream: S,
) -> Result<tokio_rustls::client::TlsStream<S>, ImapError> {
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name =
        ServerName::try_from(s.host.clone()).map_err(|e| ImapError::Connect(format!("{}: {e}", s.host)))?;
    timeout(
        s.timeout,
        TlsConnector::from(Arc::new(config)).connect(name, stream),
    )
    .await
    .map_err(|_| ImapError::Connect(format!("TLS with {} timed out", s.host)))?
    .map_err(|e| ImapError::Connect(format!("TLS with {}: {e}", s.host)))
}

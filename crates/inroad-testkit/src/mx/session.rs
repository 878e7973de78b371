//! One SMTP session of the fake MX: reads commands as they arrive and answers them in order.

use std::collections::HashMap;
use std::io;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::script::{
    Action, HostMode, Mailbox, Script, GREYLISTED, POLICY_BLOCK, RCPT_OK, TOO_MANY_CONNECTIONS,
};
use super::stats::Stats;

/// A listening IP with its options resolved against the builder's defaults.
#[derive(Debug)]
pub(crate) struct Host {
    pub(crate) ip: Ipv4Addr,
    pub(crate) mode: HostMode,
    pub(crate) policy_block: bool,
    pub(crate) delay: Duration,
    pub(crate) pipelining: bool,
    pub(crate) ehlo: bool,
    pub(crate) max_rcpts_per_session: Option<u32>,
    pub(crate) max_concurrent: Option<u32>,
    pub(crate) auth: Option<(String, String)>,
}

/// State shared by all sessions of one fake MX.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) hostname: String,
    pub(crate) scripts: HashMap<String, Script>,
    pub(crate) default_script: Script,
    pub(crate) stats: Stats,
    pub(crate) accept_data: bool,
    pub(crate) after_data: super::AfterData,
}

/// The AUTH answers are fixed by RFC 4954; `334` lines carry base64 challenges.
const AUTH_OK: &str = "235 2.7.0 Authentication successful";
const AUTH_INVALID: &str = "535 5.7.8 Authentication credentials invalid";
const AUTH_REQUIRED: &str = "530 5.7.0 Authentication required";
/// `Username:` and `Password:` in base64, as AUTH LOGIN asks for them.
const LOGIN_USER_CHALLENGE: &str = "334 VXNlcm5hbWU6";
const LOGIN_PASSWORD_CHALLENGE: &str = "334 UGFzc3dvcmQ6";

/// The next line of an AUTH exchange the server is waiting for.
enum AuthStep {
    /// `AUTH PLAIN` came without its initial response.
    PlainResponse,
    LoginUser,
    LoginPassword {
        user: String,
    },
}

/// Decrements the open-session counters when a session ends, however it ends.
struct OpenGuard {
    shared: Arc<Shared>,
    ip: Ipv4Addr,
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.shared.stats.close(self.ip);
    }
}

enum Outcome {
    Reply(String),
    ReplyAndClose(String),
    Hang,
    /// 354, then the message up to its final dot.
    ReadData,
}

struct Session {
    shared: Arc<Shared>,
    host: Arc<Host>,
    index: usize,
    io: BufReader<TcpStream>,
    greeted: bool,
    esmtp: bool,
    in_transaction: bool,
    rcpts: u64,
    /// RCPTs accepted in the current transaction (DATA needs one).
    accepted_rcpts: u32,
    authenticated: bool,
    /// Set while an AUTH exchange waits for the client's next line.
    auth_step: Option<AuthStep>,
}

pub(crate) async fn serve(shared: Arc<Shared>, host: Arc<Host>, stream: TcpStream) {
    let (index, active) = shared.stats.open(host.ip);
    let guard = OpenGuard {
        shared: shared.clone(),
        ip: host.ip,
    };
    if host.mode == HostMode::CloseOnAccept {
        // The guard (a local) drops before the stream (a parameter): the counters are
        // updated before the client sees the close.
        return;
    }
    let _ = stream.set_nodelay(true);
    let mut session = Session {
        shared,
        host,
        index,
        io: BufReader::new(stream),
        greeted: false,
        esmtp: false,
        in_transaction: false,
        rcpts: 0,
        accepted_rcpts: 0,
        authenticated: false,
        auth_step: None,
    };
    // I/O errors (the client went away) simply end the session.
    let _ = session.run(active).await;
    // Count the session as closed before the client can see the connection close.
    drop(guard);
    drop(session);
}

impl Session {
    async fn run(&mut self, active: u64) -> io::Result<()> {
        match self.host.mode {
            HostMode::Hang => return self.drain().await,
            HostMode::Busy => return self.reply(TOO_MANY_CONNECTIONS).await,
            HostMode::Normal | HostMode::Refuse | HostMode::CloseOnAccept => {}
        }
        if self
            .host
            .max_concurrent
            .is_some_and(|max| active > u64::from(max))
        {
            return self.reply(TOO_MANY_CONNECTIONS).await;
        }
        let greeting = format!("220 {} ESMTP Inroad fake MX", self.shared.hostname);
        self.reply(&greeting).await?;
        while let Some(line) = self.read_command().await? {
            // Bytes already buffered behind this command: the client sent the next one
            // before reading this reply.
            if !self.io.buffer().is_empty() {
                let advertised = self.esmtp && self.host.pipelining;
                let mut inner = self.shared.stats.lock();
                inner.snapshot.pipelined_commands += 1;
                if !advertised {
                    inner.snapshot.improper_pipelining += 1;
                }
            }
            match self.handle(&line) {
                Outcome::Reply(text) => self.reply(&text).await?,
                Outcome::ReplyAndClose(text) => return self.reply(&text).await,
                Outcome::Hang => return self.drain().await,
                Outcome::ReadData => {
                    self.reply("354 End data with <CR><LF>.<CR><LF>").await?;
                    if self.shared.after_data == super::AfterData::Drop {
                        let mut first = Vec::new();
                        self.io.read_until(b'\n', &mut first).await?;
                        return Ok(()); // hang up mid-message
                    }
                    if !self.read_message().await? {
                        return Ok(());
                    }
                    self.in_transaction = false;
                    match self.shared.after_data.clone() {
                        super::AfterData::Hang => return self.drain().await,
                        super::AfterData::Reply(text) => self.reply(&text).await?,
                        super::AfterData::Queue | super::AfterData::Drop => {
                            self.shared.stats.lock().snapshot.messages += 1;
                            self.reply("250 2.0.0 Ok: queued").await?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads message lines (not logged) up to the lone dot; false if the stream ended first.
    async fn read_message(&mut self) -> io::Result<bool> {
        let mut line = Vec::new();
        loop {
            line.clear();
            if self.io.read_until(b'\n', &mut line).await? == 0 {
                return Ok(false);
            }
            if line == b".\r\n" || line == b".\n" {
                return Ok(true);
            }
        }
    }

    /// Reads one command line (logged), without its line ending; `None` at end of stream.
    async fn read_command(&mut self) -> io::Result<Option<String>> {
        let mut buf = Vec::new();
        if self.io.read_until(b'\n', &mut buf).await? == 0 {
            return Ok(None);
        }
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        let line = String::from_utf8_lossy(&buf).into_owned();
        self.shared.stats.log(self.index, &line);
        Ok(Some(line))
    }

    /// Never answers again: reads (and logs) commands until the client closes.
    async fn drain(&mut self) -> io::Result<()> {
        while self.read_command().await?.is_some() {}
        Ok(())
    }

    /// Waits the host's delay, then writes `text` as an SMTP reply. `{addr}` must already
    /// be substituted; lines separated by `\n` become a multi-line reply.
    async fn reply(&mut self, text: &str) -> io::Result<()> {
        if !self.host.delay.is_zero() {
            tokio::time::sleep(self.host.delay).await;
        }
        let wire = format_reply(text);
        let stream = self.io.get_mut();
        stream.write_all(wire.as_bytes()).await?;
        stream.flush().await
    }

    fn handle(&mut self, line: &str) -> Outcome {
        if let Some(step) = self.auth_step.take() {
            return Outcome::Reply(self.auth_continue(step, line));
        }
        let (verb, arg) = match line.find([' ', ':']) {
            Some(i) => (&line[..i], line[i..].trim_start_matches(' ')),
            None => (line, ""),
        };
        let verb = verb.to_ascii_uppercase();
        let reply = |s: &str| Outcome::Reply(s.to_string());
        match verb.as_str() {
            "EHLO" if !self.host.ehlo => reply("502 5.5.2 Error: command not recognized"),
            "EHLO" => {
                if arg.trim().is_empty() {
                    return reply("501 5.5.4 Syntax: EHLO hostname");
                }
                self.greeted = true;
                self.esmtp = true;
                self.in_transaction = false;
                let mut lines = vec![format!("250-{}", self.shared.hostname)];
                if self.host.pipelining {
                    lines.push("250-PIPELINING".to_string());
                }
                if self.host.auth.is_some() {
                    lines.push("250-AUTH PLAIN LOGIN".to_string());
                }
                lines.push("250-SIZE 10240000".to_string());
                lines.push("250-ENHANCEDSTATUSCODES".to_string());
                lines.push("250-8BITMIME".to_string());
                lines.push("250 SMTPUTF8".to_string());
                Outcome::Reply(lines.join("\n"))
            }
            "HELO" => {
                if arg.trim().is_empty() {
                    return reply("501 Syntax: HELO hostname");
                }
                self.greeted = true;
                self.esmtp = false;
                self.in_transaction = false;
                Outcome::Reply(format!("250 {}", self.shared.hostname))
            }
            "MAIL" => {
                self.shared.stats.lock().snapshot.mail_froms += 1;
                if !self.greeted {
                    reply("503 5.5.1 Error: send HELO/EHLO first")
                } else if self.host.auth.is_some() && !self.authenticated {
                    reply(AUTH_REQUIRED)
                } else if self.in_transaction {
                    reply("503 5.5.1 Error: nested MAIL command")
                } else if strip_prefix_ci(arg, "FROM:").is_none() {
                    reply("501 5.5.4 Syntax: MAIL FROM:<address>")
                } else {
                    self.in_transaction = true;
                    self.accepted_rcpts = 0;
                    reply("250 2.1.0 Ok")
                }
            }
            "RCPT" => {
                let outcome = self.rcpt(arg);
                if matches!(&outcome, Outcome::Reply(text) if text.starts_with("250")) {
                    self.accepted_rcpts += 1;
                }
                outcome
            }
            "RSET" => {
                self.shared.stats.lock().snapshot.rsets += 1;
                self.in_transaction = false;
                self.accepted_rcpts = 0;
                reply("250 2.0.0 Ok")
            }
            "AUTH" if self.host.auth.is_some() => Outcome::Reply(self.auth(arg)),
            "NOOP" => reply("250 2.0.0 Ok"),
            "QUIT" => {
                self.shared.stats.lock().snapshot.quits += 1;
                Outcome::ReplyAndClose("221 2.0.0 Bye".to_string())
            }
            "DATA" if self.shared.accept_data && self.in_transaction && self.accepted_rcpts > 0 => {
                Outcome::ReadData
            }
            "DATA" => reply("554 5.5.1 Error: DATA is not accepted by this server"),
            "VRFY" => reply("502 5.5.1 VRFY command is disabled"),
            "" => reply("500 5.5.2 Error: bad syntax"),
            _ => reply("502 5.5.2 Error: command not recognized"),
        }
    }

    /// `AUTH <mechanism> [initial response]`: the reply, or the first challenge.
    fn auth(&mut self, arg: &str) -> String {
        if !self.esmtp {
            return "503 5.5.1 Error: send EHLO first".to_string();
        }
        if self.authenticated {
            return "503 5.5.1 Error: already authenticated".to_string();
        }
        if self.in_transaction {
            return "503 5.5.1 Error: MAIL transaction in progress".to_string();
        }
        let (mechanism, initial) = match arg.split_once(' ') {
            Some((mechanism, initial)) => (mechanism, Some(initial.trim())),
            None => (arg.trim(), None),
        };
        match (mechanism.to_ascii_uppercase().as_str(), initial) {
            ("PLAIN", Some(response)) => self.auth_continue(AuthStep::PlainResponse, response),
            ("PLAIN", None) => {
                self.auth_step = Some(AuthStep::PlainResponse);
                "334 ".to_string()
            }
            ("LOGIN", Some(user)) => self.auth_continue(AuthStep::LoginUser, user),
            ("LOGIN", None) => {
                self.auth_step = Some(AuthStep::LoginUser);
                LOGIN_USER_CHALLENGE.to_string()
            }
            _ => "504 5.5.4 Unrecognized authentication type".to_string(),
        }
    }

    /// One base64 line of an AUTH exchange: the next challenge or the verdict.
    fn auth_continue(&mut self, step: AuthStep, line: &str) -> String {
        if line.trim() == "*" {
            return "501 5.7.0 Authentication cancelled".to_string();
        }
        let Some(decoded) = BASE64
            .decode(line.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
        else {
            return "501 5.5.2 Cannot decode the AUTH response".to_string();
        };
        let (user, password) = match step {
            AuthStep::LoginUser => {
                self.auth_step = Some(AuthStep::LoginPassword { user: decoded });
                return LOGIN_PASSWORD_CHALLENGE.to_string();
            }
            AuthStep::LoginPassword { user } => (user, decoded),
            // authzid NUL authcid NUL password; the authorization identity is ignored.
            AuthStep::PlainResponse => match decoded.splitn(3, '\0').collect::<Vec<_>>()[..] {
                [_, user, password] => (user.to_string(), password.to_string()),
                _ => return "501 5.5.2 Malformed AUTH PLAIN response".to_string(),
            },
        };
        let accepted = self
            .host
            .auth
            .as_ref()
            .is_some_and(|(u, p)| *u == user && *p == password);
        let mut inner = self.shared.stats.lock();
        if accepted {
            inner.snapshot.auth_successes += 1;
            self.authenticated = true;
            AUTH_OK.to_string()
        } else {
            inner.snapshot.auth_failures += 1;
            AUTH_INVALID.to_string()
        }
    }

    fn rcpt(&mut self, arg: &str) -> Outcome {
        self.rcpts += 1;
        {
            let mut inner = self.shared.stats.lock();
            let snapshot = &mut inner.snapshot;
            snapshot.rcpts += 1;
            if let Some(count) = snapshot.rcpts_per_session.get_mut(self.index) {
                *count = self.rcpts;
            }
            snapshot.max_rcpts_per_session = snapshot.max_rcpts_per_session.max(self.rcpts);
        }
        if self
            .host
            .max_rcpts_per_session
            .is_some_and(|max| self.rcpts > u64::from(max))
        {
            return Outcome::ReplyAndClose(TOO_MANY_CONNECTIONS.to_string());
        }
        if !self.in_transaction {
            return Outcome::Reply("503 5.5.1 Error: need MAIL command".to_string());
        }
        let Some(path) = strip_prefix_ci(arg, "TO:") else {
            return Outcome::Reply("501 5.5.4 Syntax: RCPT TO:<address>".to_string());
        };
        let Some((address, local, domain)) = parse_path(path) else {
            return Outcome::Reply("501 5.1.3 Bad recipient address syntax".to_string());
        };
        let key = format!("{}@{}", local.to_ascii_lowercase(), domain);
        *self
            .shared
            .stats
            .lock()
            .snapshot
            .rcpts_per_address
            .entry(key.clone())
            .or_default() += 1;
        if self.host.policy_block {
            return Outcome::Reply(POLICY_BLOCK.to_string());
        }
        let script = self
            .shared
            .scripts
            .get(&domain)
            .unwrap_or(&self.shared.default_script);
        let text = match &script.action {
            Action::Hang => return Outcome::Hang,
            Action::PolicyBlock => POLICY_BLOCK,
            Action::Fixed(text) => text.as_str(),
            Action::Mailbox => {
                let greylisted = script.greylist > 0 && {
                    let mut inner = self.shared.stats.lock();
                    let seen = inner.greylist_seen.entry(key).or_default();
                    *seen += 1;
                    *seen <= script.greylist
                };
                let local_lower = local.to_ascii_lowercase();
                if greylisted {
                    GREYLISTED
                } else if let Some(text) = script.overrides.get(&local_lower) {
                    text.as_str()
                } else {
                    match &script.mailbox {
                        Mailbox::CatchAll => RCPT_OK,
                        Mailbox::Known(set) if set.contains(&local_lower) => RCPT_OK,
                        Mailbox::Known(_) => script.unknown_reply.as_str(),
                    }
                }
            }
        };
        Outcome::Reply(text.replace("{addr}", &address))
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// Parses an RCPT path (`<local@domain>` plus optional parameters) into the address as
/// given, its local part and its lower-cased domain (trailing dot removed).
fn parse_path(path: &str) -> Option<(String, String, String)> {
    let path = path.trim_start();
    let address = if let Some(rest) = path.strip_prefix('<') {
        &rest[..rest.find('>')?]
    } else {
        path.split_whitespace().next()?
    };
    // A source route (`<@relay:user@domain>`) is ignored, as RFC 5321 allows.
    let address = match address.strip_prefix('@') {
        Some(_) => &address[address.find(':')? + 1..],
        None => address,
    };
    let at = address.rfind('@')?;
    let (local, domain) = (&address[..at], &address[at + 1..]);
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    Some((address.to_string(), local.to_string(), domain))
}

/// Turns `text` (lines separated by `\n`, each starting with the reply code) into wire
/// format: CRLF line endings, `-` after the code on all lines but the last.
fn format_reply(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches('\r')).collect();
    let mut out = String::with_capacity(text.len() + 2 * lines.len());
    for (i, line) in lines.iter().enumerate() {
        let last = i + 1 == lines.len();
        let bytes = line.as_bytes();
        if bytes.len() >= 3 && bytes[..3].iter().all(u8::is_ascii_digit) {
            out.push_str(&line[..3]);
            if !last {
                out.push('-');
            } else if bytes.len() >= 4 {
                // `334 ` (an empty AUTH challenge) keeps its space, as RFC 4954 spells it.
                out.push(' ');
            }
            if bytes.len() > 4 {
                out.push_str(&line[4..]);
            }
        } else {
            out.push_str(line);
        }
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_multi_line_replies() {
        assert_eq!(format_reply("250 2.1.5 OK"), "250 2.1.5 OK\r\n");
        assert_eq!(format_reply("250-a\n250-b\n250 c"), "250-a\r\n250-b\r\n250 c\r\n");
        assert_eq!(format_reply("250 a\n250 c"), "250-a\r\n250 c\r\n");
        assert_eq!(format_reply("250"), "250\r\n");
        assert_eq!(format_reply("334 "), "334 \r\n");
    }

    #[test]
    fn parses_paths() {
        let p = parse_path;
        assert_eq!(
            p("<Ann@Acme.Test>"),
            Some(("Ann@Acme.Test".into(), "Ann".into(), "acme.test".into()))
        );
        assert_eq!(p(" <a@b.test> NOTIFY=NEVER").unwrap().2, "b.test");
        assert_eq!(p("a@b.test").unwrap().1, "a");
        assert_eq!(p("<@relay.test:a@b.test>").unwrap().0, "a@b.test");
        assert_eq!(p("<\"x@y\"@b.test.>").unwrap().1, "\"x@y\"");
        assert_eq!(p("<>"), None);
        assert_eq!(p("<nobody>"), None);
        assert_eq!(p("<a@>"), None);
        assert_eq!(p("<a@b"), None);
    }
}

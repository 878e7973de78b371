//! How a fake MX answers: per recipient domain ([`Script`]) and per listening IP
//! ([`HostScript`]).

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

/// Reply to an unknown user in Postfix style (`{addr}` is replaced by the address).
pub const USER_UNKNOWN: &str = "550 5.1.1 <{addr}>: Recipient address rejected: User unknown";
/// Microsoft (Exchange Online) reply to an unknown user.
pub const MICROSOFT_UNKNOWN: &str = "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)";
/// Accepted recipient.
pub const RCPT_OK: &str = "250 2.1.5 OK";
/// Greylisting reply.
pub const GREYLISTED: &str = "451 4.7.1 Greylisted, try again later";
/// Policy block (the client's IP is on a blocklist).
pub const POLICY_BLOCK: &str = "554 5.7.1 Service unavailable; Client host blocked using zen.spamhaus.org";
/// Too many connections; the server closes the connection after sending it.
pub const TOO_MANY_CONNECTIONS: &str = "421 4.7.0 Too many connections";
/// Default reply for a domain with no script (an MX that is not responsible for it).
pub const RELAY_DENIED: &str = "554 5.7.1 <{addr}>: Relay access denied";

/// Which local parts exist at a domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mailbox {
    /// Only these local parts exist (compared case-insensitively).
    Known(BTreeSet<String>),
    /// Every local part is accepted.
    CatchAll,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Greylisting, per-address overrides, then the mailbox decide.
    Mailbox,
    /// Every RCPT gets the policy-block reply.
    PolicyBlock,
    /// Every RCPT gets this reply.
    Fixed(String),
    /// RCPT is never answered (the session hangs until the client gives up).
    Hang,
}

/// How RCPT TO is answered for one recipient domain.
///
/// Order of decisions for an RCPT: the action ([`Script::policy_block`], [`Script::hang`],
/// [`Script::reply`]), then greylisting (the first `k` RCPTs of each address get 451), then a
/// per-address reply override ([`Script::with_reply`]), then the mailbox: known or catch-all
/// addresses get `250 2.1.5 OK`, others the unknown-user reply (Postfix 5.1.1 by default,
/// Microsoft 5.4.1 with [`Script::microsoft`] / [`Script::microsoft_style`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    pub(crate) mailbox: Mailbox,
    pub(crate) unknown_reply: String,
    pub(crate) greylist: u32,
    pub(crate) overrides: HashMap<String, String>,
    pub(crate) action: Action,
}

fn lower_set<I, S>(local_parts: I) -> BTreeSet<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    local_parts
        .into_iter()
        .map(|s| s.as_ref().to_ascii_lowercase())
        .collect()
}

impl Script {
    /// A domain with exactly these mailboxes: others get `550 5.1.1 ... User unknown`.
    pub fn known<I, S>(local_parts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::from_mailbox(Mailbox::Known(lower_set(local_parts)))
    }

    /// A catch-all domain: every local part gets 250.
    pub fn catch_all() -> Self {
        Self::from_mailbox(Mailbox::CatchAll)
    }

    /// A script for this mailbox, Postfix-style replies.
    pub fn from_mailbox(mailbox: Mailbox) -> Self {
        Self {
            mailbox,
            unknown_reply: USER_UNKNOWN.to_string(),
            greylist: 0,
            overrides: HashMap::new(),
            action: Action::Mailbox,
        }
    }

    /// A Microsoft-hosted domain with these mailboxes: unknown users get
    /// `550 5.4.1 Recipient address rejected: Access denied. AS(201806281)`.
    pub fn microsoft<I, S>(local_parts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::known(local_parts).microsoft_style()
    }

    /// Every RCPT gets `554 5.7.1 Service unavailable; Client host blocked using zen.spamhaus.org`.
    pub fn policy_block() -> Self {
        Self {
            action: Action::PolicyBlock,
            ..Self::known::<_, &str>([])
        }
    }

    /// Every RCPT gets `reply` verbatim (a full reply line such as
    /// `"452 4.2.2 Mailbox full"`; `{addr}` is replaced by the address; multi-line
    /// replies separate lines with `\n`, each starting with the code).
    pub fn reply(reply: impl Into<String>) -> Self {
        Self {
            action: Action::Fixed(reply.into()),
            ..Self::known::<_, &str>([])
        }
    }

    /// RCPT for this domain is never answered; the session stays open, reading and
    /// logging commands, until the client closes it.
    pub fn hang() -> Self {
        Self {
            action: Action::Hang,
            ..Self::known::<_, &str>([])
        }
    }

    /// Greylisting: the first `attempts` RCPTs of each address (counted across sessions and
    /// hosts of this server) get `451 4.7.1 Greylisted, try again later`; later ones are
    /// answered normally. Deterministic: no clock involved.
    pub fn greylist(mut self, attempts: u32) -> Self {
        self.greylist = attempts;
        self
    }

    /// Unknown users get Microsoft's `550 5.4.1 ... Access denied` instead of 5.1.1.
    pub fn microsoft_style(mut self) -> Self {
        self.unknown_reply = MICROSOFT_UNKNOWN.to_string();
        self
    }

    /// Unknown users get this reply (`{addr}` is replaced by the address).
    pub fn unknown_reply(mut self, reply: impl Into<String>) -> Self {
        self.unknown_reply = reply.into();
        self
    }

    /// This local part gets `reply` (e.g. `"552 5.2.2 Mailbox full"`,
    /// `"550 5.2.1 Mailbox disabled"`), after greylisting.
    pub fn with_reply(mut self, local_part: &str, reply: impl Into<String>) -> Self {
        self.overrides
            .insert(local_part.to_ascii_lowercase(), reply.into());
        self
    }
}

/// What a listening IP does with a connection before any domain script applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HostMode {
    /// Greets with 220 and speaks SMTP.
    Normal,
    /// Not listening: connections are refused.
    Refuse,
    /// Accepts, then closes at once without a word.
    CloseOnAccept,
    /// Greets with `421 4.7.0 Too many connections` and closes.
    Busy,
    /// Accepts and never says anything (until the client closes).
    Hang,
}

/// Per-IP behaviour of a fake MX host. Unset options inherit the builder's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostScript {
    pub(crate) mode: HostMode,
    pub(crate) policy_block: bool,
    pub(crate) delay: Option<Duration>,
    pub(crate) pipelining: Option<bool>,
    pub(crate) ehlo: bool,
    pub(crate) max_rcpts_per_session: Option<u32>,
    pub(crate) max_concurrent: Option<u32>,
    /// The login and password AUTH accepts; `None`: AUTH is not offered.
    pub(crate) auth: Option<(String, String)>,
}

impl Default for HostScript {
    fn default() -> Self {
        Self::normal()
    }
}

impl HostScript {
    /// A well-behaved host.
    pub fn normal() -> Self {
        Self {
            mode: HostMode::Normal,
            policy_block: false,
            delay: None,
            pipelining: None,
            ehlo: true,
            max_rcpts_per_session: None,
            max_concurrent: None,
            auth: None,
        }
    }

    /// Not listening on this IP: connecting is refused (the port is reserved but no
    /// `listen()` is done, so nothing else can take it).
    pub fn refuse() -> Self {
        Self {
            mode: HostMode::Refuse,
            ..Self::normal()
        }
    }

    /// Accepts the TCP connection and closes it immediately, without a greeting.
    pub fn close_on_accept() -> Self {
        Self {
            mode: HostMode::CloseOnAccept,
            ..Self::normal()
        }
    }

    /// Greets every connection with `421 4.7.0 Too many connections` and closes it.
    pub fn busy() -> Self {
        Self {
            mode: HostMode::Busy,
            ..Self::normal()
        }
    }

    /// Accepts and never sends a greeting (a tarpit that never answers).
    pub fn hang() -> Self {
        Self {
            mode: HostMode::Hang,
            ..Self::normal()
        }
    }

    /// Every RCPT on this host gets `554 5.7.1 Service unavailable; Client host blocked
    /// using zen.spamhaus.org`, whatever the domain.
    pub fn policy_block(mut self) -> Self {
        self.policy_block = true;
        self
    }

    /// Delay before every reply on this host (overrides the builder's delay).
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Whether EHLO advertises PIPELINING on this host.
    pub fn pipelining(mut self, on: bool) -> Self {
        self.pipelining = Some(on);
        self
    }

    /// EHLO is not supported (`502 5.5.2`); the client must fall back to HELO.
    pub fn no_ehlo(mut self) -> Self {
        self.ehlo = false;
        self
    }

    /// After `n` RCPTs in a session, the next RCPT gets `421 4.7.0 Too many connections`
    /// and the connection is closed.
    pub fn max_rcpts_per_session(mut self, n: u32) -> Self {
        self.max_rcpts_per_session = Some(n);
        self
    }

    /// A connection arriving while `n` sessions are open on this IP is greeted with
    /// `421 4.7.0 Too many connections` and closed (it still counts in the statistics).
    pub fn max_concurrent(mut self, n: u32) -> Self {
        self.max_concurrent = Some(n);
        self
    }

    /// A submission server: EHLO advertises `AUTH PLAIN LOGIN`, only this login and
    /// password get `235` (others `535 5.7.8 Authentication credentials invalid`), and
    /// MAIL before a successful AUTH gets `530 5.7.0 Authentication required`.
    pub fn auth(mut self, user: &str, password: &str) -> Self {
        self.auth = Some((user.to_string(), password.to_string()));
        self
    }
}

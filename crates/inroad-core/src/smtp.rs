//! SMTP replies: parsing them off the wire and reading what a reply to RCPT TO says
//! about a mailbox.
//!
//! The parser is incremental and pure so the prober can feed it whatever bytes a
//! socket produced (including pipelined replies back to back) and so it can be fuzzed:
//! a remote server is untrusted input. Classification reads RFC 3463 enhanced status
//! codes first, because they are standardised, and the human text only when the code is
//! missing or says nothing specific, because the text is whatever the vendor wrote.

use std::fmt;

/// An RFC 3463 enhanced status code, such as 5.1.1 (bad destination mailbox).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EnhancedCode {
    /// 2 success, 4 persistent transient failure, 5 permanent failure.
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// One complete reply, possibly of several lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit reply code, 200..=599.
    pub code: u16,
    /// The enhanced status code at the start of the first (or else the last) line's text,
    /// when its class agrees with the reply code.
    pub enhanced: Option<EnhancedCode>,
    /// The lines' texts (after the code and separator) joined with "\n"; an enhanced code
    /// stays in the text as the server wrote it.
    pub text: String,
}

/// Why bytes are not an SMTP reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyError {
    /// A line does not start with three digits.
    BadCode,
    /// The code is outside 200..=599 (1xx and 6xx+ replies do not exist in SMTP).
    CodeOutOfRange,
    /// The code is followed by something other than '-', ' ' or the end of the line.
    BadSeparator,
    /// The lines of one reply carry different codes.
    InconsistentCodes,
    /// A line is longer than [`MAX_LINE_LEN`] bytes.
    LineTooLong,
    /// A reply has more than [`MAX_LINES`] lines.
    TooManyLines,
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReplyError::BadCode => "reply line does not start with a three-digit code",
            ReplyError::CodeOutOfRange => "reply code outside 200-599",
            ReplyError::BadSeparator => "reply code followed by neither '-' nor ' '",
            ReplyError::InconsistentCodes => "lines of one reply carry different codes",
            ReplyError::LineTooLong => "reply line too long",
            ReplyError::TooManyLines => "reply has too many lines",
        })
    }
}

impl std::error::Error for ReplyError {}

/// Longest reply line accepted, without its line ending. RFC 5321 allows 512 bytes;
/// real servers sometimes exceed that, but a line this long means the peer is not
/// speaking SMTP, and the caller must not buffer without bound waiting for its end.
pub const MAX_LINE_LEN: usize = 4096;

/// Most lines accepted in one reply. EHLO replies, the longest in practice, have a few
/// dozen; the bound keeps a hostile server from making the caller buffer forever.
pub const MAX_LINES: usize = 256;

/// Parses the first complete reply in `buf`.
///
/// Returns `Ok(None)` when `buf` holds no complete reply yet (read more and call again
/// with the grown buffer), or the reply and how many bytes it took; the bytes after it
/// may hold the next (pipelined) reply. Lines end in CRLF or a bare LF. Errors are
/// reported as soon as a complete line shows them, and a line that grows past
/// [`MAX_LINE_LEN`] is an error before its end arrives.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, ReplyError> {
    let mut code = None;
    let mut texts: Vec<&[u8]> = Vec::new();
    let mut pos = 0;
    loop {
        let rest = &buf[pos..];
        let Some(newline) = rest.iter().position(|&b| b == b'\n') else {
            if rest.len() > MAX_LINE_LEN {
                return Err(ReplyError::LineTooLong);
            }
            return Ok(None);
        };
        let line = &rest[..newline];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > MAX_LINE_LEN {
            return Err(ReplyError::LineTooLong);
        }
        pos += newline + 1;

        let (line_code, last, text) = parse_line(line)?;
        if *code.get_or_insert(line_code) != line_code {
            return Err(ReplyError::InconsistentCodes);
        }
        texts.push(text);
        if texts.len() > MAX_LINES {
            return Err(ReplyError::TooManyLines);
        }
        if last {
            break;
        }
    }
    let code = code.expect("a reply has at least one line");
    let class = (code / 100) as u8;
    let enhanced = enhanced_code(texts[0], class).or_else(|| enhanced_code(texts[texts.len() - 1], class));
    let text = texts
        .iter()
        .map(|t| String::from_utf8_lossy(t))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Some((Reply { code, enhanced, text }, pos)))
}

/// A line's code, whether it is the reply's last line, and its text.
fn parse_line(line: &[u8]) -> Result<(u16, bool, &[u8]), ReplyError> {
    let digits = line.get(..3).ok_or(ReplyError::BadCode)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(ReplyError::BadCode);
    }
    let code = digits.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    if !(200..=599).contains(&code) {
        return Err(ReplyError::CodeOutOfRange);
    }
    match line.get(3) {
        // "250" alone is a complete last line; some servers omit the space.
        None => Ok((code, true, &[])),
        Some(b' ') => Ok((code, true, &line[4..])),
        Some(b'-') => Ok((code, false, &line[4..])),
        Some(_) => Err(ReplyError::BadSeparator),
    }
}

/// The enhanced code at the start of `text` (`class.subject.detail`, one to three digits
/// each, then a space or the end), if its class is `reply_class`: a mismatch means the
/// text merely starts with something number-like.
fn enhanced_code(text: &[u8], reply_class: u8) -> Option<EnhancedCode> {
    let token_end = text.iter().position(|&b| b == b' ').unwrap_or(text.len());
    let mut fields = text[..token_end].split(|&b| b == b'.');
    let mut number = |max_digits: usize| {
        let digits = fields.next()?;
        let valid = (1..=max_digits).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit);
        valid.then(|| digits.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0')))
    };
    let class = number(1)? as u8;
    let subject = number(3)?;
    let detail = number(3)?;
    let complete = fields.next().is_none();
    (complete && matches!(class, 2 | 4 | 5) && class == reply_class).then_some(EnhancedCode {
        class,
        subject,
        detail,
    })
}

/// The service extensions an EHLO reply advertises: each line after the greeting
/// line, its keyword uppercased (`PIPELINING`, `SIZE`, `STARTTLS`, ...).
pub fn ehlo_extensions(reply: &Reply) -> Vec<String> {
    reply
        .text
        .split('\n')
        .skip(1)
        .filter_map(|line| line.split_ascii_whitespace().next())
        .map(str::to_ascii_uppercase)
        .collect()
}

/// What a reply to RCPT TO says about the mailbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RcptOutcome {
    /// The server would take mail for the address (which, at a catch-all domain, says
    /// nothing about the person).
    Accepted,
    /// The mailbox does not exist.
    NoSuchUser,
    /// The mailbox exists but is disabled or suspended.
    Disabled,
    /// The mailbox exists but is over quota.
    MailboxFull,
    /// The server refused the prober, not the address (blocklist, reputation, rate
    /// limit); no verdict on the mailbox.
    Policy,
    /// A 4xx: try again later (greylisting, busy server, temporary lookup failure).
    TemporaryFailure,
    /// The server would not say.
    Unknown,
}

impl RcptOutcome {
    /// A stable name for reports and storage.
    pub fn name(self) -> &'static str {
        match self {
            RcptOutcome::Accepted => "accepted",
            RcptOutcome::NoSuchUser => "no_such_user",
            RcptOutcome::Disabled => "disabled",
            RcptOutcome::MailboxFull => "mailbox_full",
            RcptOutcome::Policy => "policy",
            RcptOutcome::TemporaryFailure => "temporary_failure",
            RcptOutcome::Unknown => "unknown",
        }
    }
}

/// Words that mean the server judged the sender or its network, not the mailbox.
/// "listed" alone would also match Lotus Domino's "User not listed in public Name &
/// Address Book" (a missing user), so only block-list phrasings are used.
const POLICY_WORDS: &[&str] = &[
    "spamhaus",
    "spamcop",
    "as spam",
    "blocked",
    "blacklist",
    "blocklist",
    "denylist",
    "is listed",
    "listed on",
    "listed at",
    "reputation",
    "rate limit",
    "too many connections",
];

/// Phrases that mean the mailbox is over quota.
const FULL_WORDS: &[&str] = &[
    "over quota",
    "mailbox full",
    "mailbox is full",
    "quota exceeded",
    "exceeded storage",
    "full mailbox",
    "mailbox exceeds",
    "mailfolder is full",
    "too many messages on the server",
    "postfach ist voll",
    "postfach voll",
];

/// Phrases that mean the mailbox exists but is switched off.
const DISABLED_WORDS: &[&str] = &["disabled", "inactive", "suspended", "deactivated"];

/// Phrases that mean the mailbox does not exist. "mailbox unavailable" is RFC 5321's
/// own wording for 550, which servers use for a missing mailbox; block-list rejections
/// that reuse it are caught by [`POLICY_WORDS`] first.
const NO_SUCH_USER_WORDS: &[&str] = &[
    "user unknown",
    "unknown user",
    "no such user",
    "no such mailbox",
    "no such recipient",
    "mailbox unavailable",
    "mailbox not found",
    "does not exist",
    "doesn't exist",
    "recipient rejected",
    "invalid recipient",
    "unknown recipient",
    "recipient unknown",
    "invalid mailbox",
    "user not found",
    "not listed in",
    "no mailbox here",
    "user doesn't have",
    "user does not have",
    "not a valid user",
];

/// What a reply to RCPT TO says about the mailbox.
///
/// Rules, in order:
/// 1. 250/251 → `Accepted`; 252 (will try, cannot verify) and any other non-failure
///    code → `Unknown`.
/// 2. 4xx → `TemporaryFailure`, whatever the subject (a 4.1.1 from Postfix's address
///    verification or a 4.7.1 greylisting is still a "come back later"), except a full
///    mailbox (4.2.2, or quota words without a specific code) → `MailboxFull`.
/// 3. 5xx with a specific enhanced code, which is standard and beats vendor prose:
///    5.1.1 / 5.1.10 (bad mailbox; 5.1.10 is the null-MX-era "recipient not found"),
///    5.1.0 (other address status) and 5.1.6 (mailbox moved) → `NoSuchUser`;
///    5.2.1 → `Disabled`; 5.2.2 → `MailboxFull`; 5.7.x → `Policy` (a block is a
///    verdict on the prober, not the mailbox); 5.4.1 with "access denied" →
///    `NoSuchUser` (Microsoft 365 rejects unknown recipients this way).
/// 4. The text, when no enhanced code decided: policy words first (a block notice may
///    quote RFC 5321's "mailbox unavailable"), then quota, disabled, and missing-user
///    phrasings.
/// 5. Otherwise 550/551/553 (mailbox unavailable, not local, name not allowed) without
///    an enhanced code, or with a generic one (5.0.0, 5.5.0), → `NoSuchUser`: these are
///    the codes servers use for unknown recipients. Any other 5xx, or one whose
///    specific enhanced code points elsewhere (routing, system, syntax), → `Unknown`.
pub fn classify_rcpt(reply: &Reply) -> RcptOutcome {
    let text = reply.text.to_lowercase().replace('\u{2019}', "'");
    let says = |words: &[&str]| words.iter().any(|w| text.contains(w));
    let enhanced = reply.enhanced.map(|e| (e.class, e.subject, e.detail));
    let generic = matches!(enhanced, None | Some((5, 0, 0)) | Some((5, 5, 0)));

    match reply.code {
        250 | 251 => return RcptOutcome::Accepted,
        400..=499 if enhanced == Some((4, 2, 2)) || (generic_transient(enhanced) && says(FULL_WORDS)) => {
            return RcptOutcome::MailboxFull
        }
        400..=499 => return RcptOutcome::TemporaryFailure,
        500..=599 => {}
        _ => return RcptOutcome::Unknown,
    }

    match enhanced {
        Some((5, 1, 0 | 1 | 6 | 10)) => return RcptOutcome::NoSuchUser,
        Some((5, 2, 1)) => return RcptOutcome::Disabled,
        Some((5, 2, 2)) => return RcptOutcome::MailboxFull,
        Some((5, 7, _)) => return RcptOutcome::Policy,
        Some((5, 4, 1)) if text.contains("access denied") => return RcptOutcome::NoSuchUser,
        _ => {}
    }

    match outcome_from_words(&text) {
        Some(outcome) => outcome,
        None if generic && matches!(reply.code, 550 | 551 | 553) => RcptOutcome::NoSuchUser,
        None => RcptOutcome::Unknown,
    }
}

/// What the vendor's words alone say about a mailbox, in [`classify_rcpt`]'s order: policy
/// first (a block notice may quote RFC 5321's "mailbox unavailable"), then quota, disabled
/// and missing-user phrasings. `text` must already be lowercased, with typographic
/// apostrophes made plain. Bounce messages carry the same vendor prose as RCPT replies,
/// often without any code, so the inbound classifier reads them with this too.
pub(crate) fn outcome_from_words(text: &str) -> Option<RcptOutcome> {
    let says = |words: &[&str]| words.iter().any(|w| text.contains(w));
    if says(POLICY_WORDS) {
        Some(RcptOutcome::Policy)
    } else if says(FULL_WORDS) {
        Some(RcptOutcome::MailboxFull)
    } else if says(DISABLED_WORDS) {
        Some(RcptOutcome::Disabled)
    } else if says(NO_SUCH_USER_WORDS) {
        Some(RcptOutcome::NoSuchUser)
    } else {
        None
    }
}

/// Whether a 4xx reply's enhanced code leaves room for the text to decide.
fn generic_transient(enhanced: Option<(u8, u16, u16)>) -> bool {
    matches!(enhanced, None | Some((4, 0, 0)) | Some((4, 5, 0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(wire: &str) -> Reply {
        let (reply, used) = parse_reply(wire.as_bytes()).unwrap().unwrap();
        assert_eq!(used, wire.len(), "{wire:?}");
        reply
    }

    fn outcome(wire: &str) -> RcptOutcome {
        classify_rcpt(&reply(wire))
    }

    #[test]
    fn parses_a_single_line() {
        let r = reply("250 2.1.5 Ok\r\n");
        assert_eq!(r.code, 250);
        assert_eq!(
            r.enhanced,
            Some(EnhancedCode {
                class: 2,
                subject: 1,
                detail: 5
            })
        );
        assert_eq!(r.text, "2.1.5 Ok");
        assert_eq!(r.enhanced.unwrap().to_string(), "2.1.5");
    }

    #[test]
    fn parses_multiline_replies_and_bare_lf() {
        let r = reply("250-mx.example.com\r\n250-PIPELINING\n250-SIZE 10240000\r\n250 8BITMIME\r\n");
        assert_eq!(r.code, 250);
        assert_eq!(r.text, "mx.example.com\nPIPELINING\nSIZE 10240000\n8BITMIME");
        assert_eq!(ehlo_extensions(&r), ["PIPELINING", "SIZE", "8BITMIME"]);
        assert_eq!(reply("250\r\n").text, "");
    }

    #[test]
    fn waits_for_the_last_line() {
        assert_eq!(parse_reply(b""), Ok(None));
        assert_eq!(parse_reply(b"250 O"), Ok(None));
        assert_eq!(parse_reply(b"250-first\r\n250-second\r\n"), Ok(None));
        assert_eq!(parse_reply(b"250-first\r\n250 la"), Ok(None));
    }

    #[test]
    fn leaves_pipelined_replies_for_the_next_call() {
        let wire = b"250 2.1.0 Ok\r\n550 5.1.1 no\r\n250 2.1.5 Ok\r\n";
        let (first, used) = parse_reply(wire).unwrap().unwrap();
        assert_eq!((first.code, used), (250, 14));
        let (second, more) = parse_reply(&wire[used..]).unwrap().unwrap();
        assert_eq!(second.code, 550);
        let (third, rest) = parse_reply(&wire[used + more..]).unwrap().unwrap();
        assert_eq!((third.code, used + more + rest), (250, wire.len()));
    }

    #[test]
    fn refuses_malformed_replies() {
        assert_eq!(parse_reply(b"hello\r\n"), Err(ReplyError::BadCode));
        assert_eq!(parse_reply(b"25\r\n"), Err(ReplyError::BadCode));
        assert_eq!(parse_reply(b"2a0 x\r\n"), Err(ReplyError::BadCode));
        assert_eq!(parse_reply(b"199 x\r\n"), Err(ReplyError::CodeOutOfRange));
        assert_eq!(parse_reply(b"600 x\r\n"), Err(ReplyError::CodeOutOfRange));
        assert_eq!(parse_reply(b"250_x\r\n"), Err(ReplyError::BadSeparator));
        assert_eq!(
            parse_reply(b"250-a\r\n251 b\r\n"),
            Err(ReplyError::InconsistentCodes)
        );
        let long = format!("250 {}\r\n", "x".repeat(MAX_LINE_LEN));
        assert_eq!(parse_reply(long.as_bytes()), Err(ReplyError::LineTooLong));
        assert_eq!(
            parse_reply(&long.as_bytes()[..MAX_LINE_LEN + 1]),
            Err(ReplyError::LineTooLong)
        );
        assert_eq!(
            parse_reply("250-x\r\n".repeat(MAX_LINES + 1).as_bytes()),
            Err(ReplyError::TooManyLines)
        );
    }

    #[test]
    fn reads_enhanced_codes_only_when_they_fit() {
        assert_eq!(
            reply("550 5.1.10 RESOLVER.ADR.RecipientNotFound\r\n")
                .enhanced
                .unwrap()
                .to_string(),
            "5.1.10"
        );
        // Class disagrees with the reply code: just text.
        assert_eq!(reply("550 4.1.1 odd\r\n").enhanced, None);
        assert_eq!(reply("550 5.1 short\r\n").enhanced, None);
        assert_eq!(reply("550 5.1.1.1 long\r\n").enhanced, None);
        assert_eq!(reply("550 5.1.1000 wide\r\n").enhanced, None);
        assert_eq!(reply("550 5.1.1: colon\r\n").enhanced, None);
        // Found on the last line when the first has none.
        let r = reply("550-Sorry\r\n550 5.1.1 no such user\r\n");
        assert_eq!(r.enhanced.unwrap().to_string(), "5.1.1");
    }

    #[test]
    fn accepts_and_cannot_verify() {
        assert_eq!(outcome("250 2.1.5 Ok\r\n"), RcptOutcome::Accepted);
        assert_eq!(
            outcome("251 2.1.5 User not local; will forward\r\n"),
            RcptOutcome::Accepted
        );
        assert_eq!(
            outcome("252 2.1.5 Cannot VRFY user, but will accept\r\n"),
            RcptOutcome::Unknown
        );
        assert_eq!(outcome("354 go ahead\r\n"), RcptOutcome::Unknown);
    }

    #[test]
    fn enhanced_codes_decide_first() {
        let gmail = "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n\
                     550-5.1.1 double-checking the recipient's email address for typos or\r\n\
                     550 5.1.1 https://support.google.com/mail/?p=NoSuchUser a1si gsmtp\r\n";
        assert_eq!(outcome(gmail), RcptOutcome::NoSuchUser);
        let postfix =
            "550 5.1.1 <x@y.com>: Recipient address rejected: User unknown in virtual mailbox table\r\n";
        assert_eq!(outcome(postfix), RcptOutcome::NoSuchUser);
        let exchange =
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup\r\n";
        assert_eq!(outcome(exchange), RcptOutcome::NoSuchUser);
        assert_eq!(
            outcome("550 5.1.0 Address rejected.\r\n"),
            RcptOutcome::NoSuchUser
        );
        assert_eq!(
            outcome("551 5.1.6 Mailbox has moved\r\n"),
            RcptOutcome::NoSuchUser
        );
        assert_eq!(
            outcome("550 5.2.1 The email account that you tried to reach is disabled.\r\n"),
            RcptOutcome::Disabled
        );
        assert_eq!(
            outcome("552 5.2.2 The email account that you tried to reach is over quota.\r\n"),
            RcptOutcome::MailboxFull
        );
        assert_eq!(
            outcome("452 4.2.2 The email account that you tried to reach is over quota.\r\n"),
            RcptOutcome::MailboxFull
        );
    }

    #[test]
    fn policy_blocks_are_no_verdict_on_the_mailbox() {
        let spamhaus =
            "554 5.7.1 Service unavailable; Client host [203.0.113.9] blocked using zen.spamhaus.org\r\n";
        assert_eq!(outcome(spamhaus), RcptOutcome::Policy);
        // Even when the prose reads like a missing user, 5.7.x is about the sender.
        assert_eq!(
            outcome("550 5.7.1 Recipient address rejected: Access denied\r\n"),
            RcptOutcome::Policy
        );
        assert_eq!(
            outcome("550 5.7.606 Access denied, banned sending IP [203.0.113.9]\r\n"),
            RcptOutcome::Policy
        );
        // Without an enhanced code the words decide, before "mailbox unavailable".
        let rbl = "550 Requested action not taken: mailbox unavailable (client listed on bl.spamcop.net)\r\n";
        assert_eq!(outcome(rbl), RcptOutcome::Policy);
        assert_eq!(
            outcome("550 Your IP has a poor reputation\r\n"),
            RcptOutcome::Policy
        );
        assert_eq!(
            outcome("554 Rate limit exceeded for this sender\r\n"),
            RcptOutcome::Policy
        );
        assert_eq!(
            outcome("554 Message rejected: blacklisted\r\n"),
            RcptOutcome::Policy
        );
    }

    #[test]
    fn temporary_failures_are_not_verdicts() {
        assert_eq!(
            outcome("451 4.7.1 Please try again later\r\n"),
            RcptOutcome::TemporaryFailure
        );
        assert_eq!(
            outcome("450 4.2.0 <x@y.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/\r\n"),
            RcptOutcome::TemporaryFailure
        );
        assert_eq!(
            outcome(
                "450 4.1.1 <x@y.com>: Recipient address rejected: unverified address: host not found\r\n"
            ),
            RcptOutcome::TemporaryFailure
        );
        assert_eq!(
            outcome("421 4.7.0 Too many connections, try again later\r\n"),
            RcptOutcome::TemporaryFailure
        );
        assert_eq!(
            outcome("450 Requested mail action not taken: mailbox unavailable\r\n"),
            RcptOutcome::TemporaryFailure
        );
        assert_eq!(outcome("452 Mailbox full\r\n"), RcptOutcome::MailboxFull);
    }

    #[test]
    fn microsoft_access_denied_means_no_mailbox() {
        let outlook = "550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [DB5EUR03FT012.eop-EUR03.prod.protection.outlook.com]\r\n";
        assert_eq!(outcome(outlook), RcptOutcome::NoSuchUser);
        // Other 5.4.1 (no answer from host) is a routing problem, not the mailbox.
        assert_eq!(outcome("550 5.4.1 No answer from host\r\n"), RcptOutcome::Unknown);
    }

    #[test]
    fn text_decides_without_a_specific_code() {
        let yahoo = "554 delivery error: dd This user doesn't have a yahoo.com account (x@yahoo.com) [0] - mta1.mail.gq1.yahoo.com\r\n";
        assert_eq!(outcome(yahoo), RcptOutcome::NoSuchUser);
        assert_eq!(outcome("550 Unknown user\r\n"), RcptOutcome::NoSuchUser);
        assert_eq!(
            outcome("550 Requested action not taken\r\n"),
            RcptOutcome::NoSuchUser
        );
        assert_eq!(
            outcome("554 5.0.0 <x@y.com>: Recipient rejected\r\n"),
            RcptOutcome::NoSuchUser
        );
        assert_eq!(
            outcome("550 5.5.0 Invalid recipient\r\n"),
            RcptOutcome::NoSuchUser
        );
        assert_eq!(
            outcome("553 Requested action not taken: mailbox name not allowed\r\n"),
            RcptOutcome::NoSuchUser
        );
        assert_eq!(outcome("554 Unknown recipient\r\n"), RcptOutcome::NoSuchUser);
        assert_eq!(
            outcome("550 User not listed in public Name & Address Book\r\n"),
            RcptOutcome::NoSuchUser
        );
        let qmail = "554 Sorry, no mailbox here by that name. (#5.1.1)\r\n";
        assert_eq!(outcome(qmail), RcptOutcome::NoSuchUser);
        assert_eq!(outcome("552 Mailbox is full\r\n"), RcptOutcome::MailboxFull);
        assert_eq!(
            outcome("552 User mailbox exceeds allowed size\r\n"),
            RcptOutcome::MailboxFull
        );
        assert_eq!(
            outcome("554 The user's mailfolder is full\r\n"),
            RcptOutcome::MailboxFull
        );
        assert_eq!(outcome("554 Not a valid user here\r\n"), RcptOutcome::NoSuchUser);
        let web_de =
            "550 Benutzer hat zuviele Mails auf dem Server. / User has too many messages on the server.\r\n";
        assert_eq!(outcome(web_de), RcptOutcome::MailboxFull);
        assert_eq!(outcome("552 Postfach ist voll\r\n"), RcptOutcome::MailboxFull);
        assert_eq!(outcome("554 5.0.0 Quota exceeded\r\n"), RcptOutcome::MailboxFull);
        assert_eq!(outcome("550 Account inactive\r\n"), RcptOutcome::Disabled);
        assert_eq!(
            outcome("554 This account has been suspended\r\n"),
            RcptOutcome::Disabled
        );
    }

    #[test]
    fn other_permanent_failures_stay_unknown() {
        assert_eq!(outcome("554 Transaction failed\r\n"), RcptOutcome::Unknown);
        assert_eq!(
            outcome("503 5.5.1 Error: need MAIL command\r\n"),
            RcptOutcome::Unknown
        );
        assert_eq!(outcome("550 5.4.4 Unable to route\r\n"), RcptOutcome::Unknown);
        assert_eq!(
            outcome("501 5.1.3 Bad recipient address syntax\r\n"),
            RcptOutcome::Unknown
        );
    }
}

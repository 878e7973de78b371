//! A real IMAP server for tests: Dovecot, started on a free loopback port with its
//! own configuration, users and maildirs in a temporary directory.
//!
//! Inbox sync is only trustworthy against a real server's idea of UIDs, UIDVALIDITY,
//! flags and literals, so the tests do not fake IMAP: they place messages with IMAP
//! APPEND (as any mail client would) and let the code under test read them back.
//! Runs as root (CI: mail is stored as the `dovecot` user) or as an ordinary user.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const DOVECOT: &str = "/usr/sbin/dovecot";
const DOVEADM: &str = "/usr/bin/doveadm";

/// A running Dovecot, stopped (and its files removed) on drop.
pub struct Dovecot {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Dovecot {
    /// Starts Dovecot (Debian package dovecot-imapd) with IMAP on 127.0.0.1, plain
    /// text logins allowed (loopback only), no users yet.
    pub fn start() -> Dovecot {
        assert!(
            Path::new(DOVECOT).exists(),
            "{DOVECOT} not found: install dovecot-imapd (scripts/test does)"
        );
        let dir = tempfile::Builder::new()
            .prefix("inroad-dovecot")
            .tempdir()
            .unwrap();
        let root = dir.path();
        for sub in ["run", "mail"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        // The mail user (dovecot when we are root) must reach and write the maildirs.
        set_mode(root, 0o755);
        set_mode(&root.join("mail"), 0o777);
        std::fs::write(root.join("users"), "").unwrap();
        let port = free_port();
        let (mail_user, service_user) = if is_root() {
            ("dovecot".to_owned(), None)
        } else {
            let me = std::env::var("USER").unwrap_or_else(|_| whoami());
            (me.clone(), Some(me))
        };
        let services = match &service_user {
            Some(me) => format!("default_internal_user = {me}\ndefault_login_user = {me}\n"),
            None => String::new(),
        };
        let config = format!(
            "base_dir = {root}/run\nstate_dir = {root}/run/state\nlog_path = {root}/dovecot.log\n\
             protocols = imap\nlisten = 127.0.0.1\nssl = no\ndisable_plaintext_auth = no\n\
             auth_mechanisms = plain login\nauth_failure_delay = 0\nmail_location = maildir:{root}/mail/%u\n\
             first_valid_uid = 1\n{services}\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {root}/users\n}}\n\
             userdb {{\n  driver = static\n  args = uid={mail_user} gid={mail_user} home={root}/mail/%u\n}}\n\
             service imap-login {{\n  chroot =\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n\
               inet_listener imaps {{\n    port = 0\n  }}\n}}\n\
             service anvil {{\n  chroot =\n}}\n",
            root = root.display()
        );
        std::fs::write(root.join("dovecot.conf"), config).unwrap();
        let child = Command::new(DOVECOT)
            .arg("-F")
            .arg("-c")
            .arg(root.join("dovecot.conf"))
            .stdin(Stdio::null())
            .spawn()
            .expect("dovecot starts");
        let dovecot = Dovecot { child, dir, port };
        // Wait until it listens: a condition, bounded, not a timed guess.
        let ready = (0..1000).any(|_| {
            let up = TcpStream::connect(("127.0.0.1", port)).is_ok();
            if !up {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            up
        });
        assert!(ready, "dovecot did not listen; log:\n{}", dovecot.log());
        dovecot
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Adds a user who logs in with `password` (the passwd file is read per login).
    pub fn add_user(&self, user: &str, password: &str) {
        let mut users = std::fs::OpenOptions::new()
            .append(true)
            .open(self.dir.path().join("users"))
            .unwrap();
        writeln!(users, "{user}:{{PLAIN}}{password}").unwrap();
    }

    /// Places a message in `folder` (created if missing) with IMAP APPEND, as a mail
    /// client would; returns its UID.
    pub fn append(&self, user: &str, password: &str, folder: &str, message: &[u8]) -> u32 {
        let mut imap = Client::login(self.port, user, password);
        imap.command(&format!("CREATE \"{folder}\""), true);
        let reply = imap.append(folder, message);
        // "[APPENDUID <uidvalidity> <uid>]" (RFC 4315)
        reply
            .split("APPENDUID ")
            .nth(1)
            .and_then(|rest| rest.split([' ', ']']).nth(1))
            .and_then(|uid| uid.parse().ok())
            .unwrap_or_else(|| panic!("no APPENDUID in {reply:?}"))
    }

    /// The flags of message `uid` in `folder`, e.g. `\Seen`: to check that reading
    /// changed nothing.
    pub fn flags(&self, user: &str, password: &str, folder: &str, uid: u32) -> String {
        let mut imap = Client::login(self.port, user, password);
        imap.command(&format!("EXAMINE \"{folder}\""), false);
        let reply = imap.command(&format!("UID FETCH {uid} (FLAGS)"), false);
        reply
            .split("FLAGS (")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .unwrap_or_else(|| panic!("no FLAGS in {reply:?}"))
            .to_owned()
    }

    /// How many messages `folder` holds (nothing is ever deleted by a sync).
    pub fn count(&self, user: &str, password: &str, folder: &str) -> u32 {
        let mut imap = Client::login(self.port, user, password);
        let reply = imap.command(&format!("STATUS \"{folder}\" (MESSAGES)"), false);
        reply
            .split("MESSAGES ")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no MESSAGES in {reply:?}"))
    }

    /// Gives `folder` a new UIDVALIDITY, as when a server rebuilds its index: every
    /// UID a client remembered is void.
    pub fn change_uidvalidity(&self, user: &str, folder: &str, uidvalidity: u32) {
        let status = Command::new(DOVEADM)
            .arg("-c")
            .arg(self.dir.path().join("dovecot.conf"))
            .args(["mailbox", "update", "--uid-validity"])
            .arg(uidvalidity.to_string())
            .args(["-u", user, folder])
            .status()
            .expect("doveadm runs");
        assert!(
            status.success(),
            "doveadm mailbox update failed; log:\n{}",
            self.log()
        );
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Its children (imap, auth, …) exit when the master's pipes close.
    }
}

/// Just enough IMAP to place and inspect test messages: tagged commands, literals.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    tag: u32,
}

impl Client {
    fn login(port: u16, user: &str, password: &str) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let mut client = Client {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
            tag: 0,
        };
        let mut greeting = String::new();
        client.reader.read_line(&mut greeting).unwrap();
        client.command(&format!("LOGIN \"{user}\" \"{password}\""), false);
        client
    }

    /// Sends a command and reads through its tagged reply; panics on NO/BAD unless
    /// `may_fail`. Returns everything the server said.
    fn command(&mut self, command: &str, may_fail: bool) -> String {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        write!(self.writer, "{tag} {command}\r\n").unwrap();
        self.read_reply(&tag, may_fail)
    }

    fn append(&mut self, folder: &str, message: &[u8]) -> String {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        write!(self.writer, "{tag} APPEND \"{folder}\" {{{}}}\r\n", message.len()).unwrap();
        let mut go_ahead = String::new();
        self.reader.read_line(&mut go_ahead).unwrap();
        assert!(go_ahead.starts_with('+'), "APPEND refused: {go_ahead}");
        self.writer.write_all(message).unwrap();
        self.writer.write_all(b"\r\n").unwrap();
        self.read_reply(&tag, false)
    }

    fn read_reply(&mut self, tag: &str, may_fail: bool) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            assert!(
                self.reader.read_line(&mut line).unwrap() > 0,
                "IMAP server hung up"
            );
            all.push_str(&line);
            if let Some(status) = line.strip_prefix(tag) {
                assert!(may_fail || status.trim_start().starts_with("OK"), "{all}");
                return all;
            }
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn whoami() -> String {
    Command::new("id")
        .arg("-un")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

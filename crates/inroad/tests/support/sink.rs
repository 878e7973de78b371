//! Postfix's smtp-sink as a test server (shared by the sending tests).

use std::collections::HashMap;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command};

/// smtp-sink on a free loopback port, dumping every message into `dump`; killed on drop.
pub struct Sink {
    child: Child,
    pub port: u16,
}

impl Sink {
    /// Starts it, writing every message it receives into `dump` (which it makes
    /// writable for the `nobody` user smtp-sink runs as).
    pub fn start(dump: &Path) -> Sink {
        std::fs::create_dir_all(dump).unwrap();
        Command::new("chmod").arg("777").arg(dump).status().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let template = format!("{}/%M.", dump.display());
        let child = Command::new("smtp-sink")
            .args([
                "-u",
                "nobody",
                "-d",
                &template,
                &format!("127.0.0.1:{port}"),
                "100",
            ])
            .spawn()
            .expect("smtp-sink (Debian package postfix; scripts/test installs it)");
        // Wait until it listens: a condition, bounded, not a timed guess.
        let ready = (0..500).any(|_| {
            let up = TcpStream::connect(("127.0.0.1", port)).is_ok();
            if !up {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            up
        });
        assert!(ready, "smtp-sink did not start listening");
        Sink { child, port }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How many messages each recipient (the `To:` header) got, over everything smtp-sink
/// wrote into `dump`.
#[allow(dead_code)] // smtp.rs reads the messages themselves
pub fn messages_per_recipient(dump: &Path) -> HashMap<String, u32> {
    let mut per_recipient: HashMap<String, u32> = HashMap::new();
    for entry in std::fs::read_dir(dump).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let to = text
            .lines()
            .find_map(|l| l.strip_prefix("To: "))
            .expect("a To header")
            .to_owned();
        *per_recipient.entry(to).or_default() += 1;
    }
    per_recipient
}

//! A minimal blocking SMTP client for driving FakeMx from tests.

#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// One SMTP reply: its code and its lines as sent (without CRLF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// The last line, e.g. `"250 2.1.5 OK"`.
    pub fn text(&self) -> &str {
        self.lines.last().map(String::as_str).unwrap_or("")
    }
}

pub struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    /// Connects without reading the greeting. A read timeout guards against a broken
    /// server hanging the test run; it is not part of any assertion.
    pub fn connect(addr: SocketAddr) -> io::Result<Client> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(20)))?;
        let writer = stream.try_clone()?;
        Ok(Client {
            reader: BufReader::new(stream),
            writer,
        })
    }

    /// Connects and reads the greeting, which must be 220.
    pub fn open(addr: SocketAddr) -> Client {
        let mut client = Client::connect(addr).expect("connect");
        let greeting = client.read_reply().expect("greeting");
        assert_eq!(greeting.code, 220, "{greeting:?}");
        client
    }

    /// Connects, reads the greeting, sends EHLO and MAIL FROM.
    pub fn ready(addr: SocketAddr) -> Client {
        let mut client = Client::open(addr);
        assert_eq!(client.cmd("EHLO probe.test").code, 250);
        assert_eq!(client.cmd("MAIL FROM:<bounce@probe.test>").text(), "250 2.1.0 Ok");
        client
    }

    pub fn set_read_timeout(&mut self, timeout: Duration) {
        self.reader.get_ref().set_read_timeout(Some(timeout)).unwrap();
    }

    pub fn read_reply(&mut self) -> io::Result<Reply> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("EOF after {lines:?}"),
                ));
            }
            assert!(line.ends_with("\r\n"), "reply line without CRLF: {line:?}");
            let line = line.trim_end_matches("\r\n").to_string();
            assert!(line.len() >= 3, "short reply line {line:?}");
            let more = line.as_bytes().get(3) == Some(&b'-');
            lines.push(line);
            if !more {
                break;
            }
        }
        let code = lines[0][..3].parse().expect("numeric reply code");
        assert!(
            lines.iter().all(|l| l[..3] == lines[0][..3]),
            "mixed codes {lines:?}"
        );
        Ok(Reply { code, lines })
    }

    /// Sends one command and reads its reply.
    pub fn cmd(&mut self, line: &str) -> Reply {
        self.send(&[line]);
        self.read_reply()
            .unwrap_or_else(|e| panic!("no reply to {line:?}: {e}"))
    }

    /// Writes all these commands in one write (pipelining), without reading.
    pub fn send(&mut self, lines: &[&str]) {
        let mut wire = String::new();
        for line in lines {
            wire.push_str(line);
            wire.push_str("\r\n");
        }
        self.writer.write_all(wire.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Sends all commands at once, then reads one reply per command, in order.
    pub fn pipeline(&mut self, lines: &[&str]) -> Vec<Reply> {
        self.send(lines);
        lines
            .iter()
            .map(|l| {
                self.read_reply()
                    .unwrap_or_else(|e| panic!("no reply to {l:?}: {e}"))
            })
            .collect()
    }

    pub fn rcpt(&mut self, address: &str) -> Reply {
        self.cmd(&format!("RCPT TO:<{address}>"))
    }

    /// True if the server closed the connection (EOF or reset) without sending more.
    pub fn closed_by_server(&mut self) -> bool {
        let mut buf = [0u8; 64];
        match self.reader.read(&mut buf) {
            Ok(0) => true,
            Ok(n) => panic!("unexpected data: {:?}", String::from_utf8_lossy(&buf[..n])),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => true,
            Err(e) => panic!("read failed: {e}"),
        }
    }

    pub fn quit(mut self) {
        assert_eq!(self.cmd("QUIT").text(), "221 2.0.0 Bye");
        assert!(self.closed_by_server());
    }
}

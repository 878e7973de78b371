//! Shared by the verifier's integration tests (which include support/backend.rs as `backend`).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

/// `inroad --db DB verify --json` with a probe identity, the test resolver and the
/// test SMTP port, and nothing taken from the environment; callers add the rest.
pub fn verify_command(db: &Path, dns: SocketAddr, smtp_port: u16) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_inroad"));
    cmd.env_remove("INROAD_HELO_NAME")
        .env_remove("INROAD_MAIL_FROM")
        .env_remove("INROAD_DB");
    cmd.arg("--db").arg(super::backend::db_arg(db)).args([
        "verify",
        "--json",
        "--helo-name",
        "probe.inroad.test",
        "--mail-from",
        "check@inroad.test",
        "--dns",
        &dns.to_string(),
        "--smtp-port",
        &smtp_port.to_string(),
    ]);
    cmd
}

//! The database the CLI tests give `inroad --db`: the SQLite file they name (the
//! default), or, with `INROAD_TEST_BACKEND=postgres`, a PostgreSQL database of its own
//! on the test binary's throwaway cluster (inroad-testkit's `PgDatabase`), one per
//! path, so the same tests run on both backends unchanged.
//!
//! A PostgreSQL `--db` has no path to keep the install key beside, so it gets
//! `INROAD_KEY_FILE=<path>.key`: the file SQLite's default would use (a test's own
//! `--key-file` still wins over the variable).

// Each test binary includes this file and uses part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Output, Stdio};
use std::sync::Mutex;

use inroad_testkit::PgDatabase;

/// Whether this run tests the PostgreSQL backend.
pub fn postgres() -> bool {
    inroad_testkit::postgres_backend()
}

/// What `--db` gets for the database at `path`.
pub fn db_arg(path: &Path) -> OsString {
    if !postgres() {
        return path.as_os_str().to_owned();
    }
    // Kept until the test binary exits (the cluster goes then): a test may reopen
    // its database by path at any point.
    static DATABASES: Mutex<Option<HashMap<PathBuf, PgDatabase>>> = Mutex::new(None);
    let mut databases = DATABASES.lock().unwrap_or_else(|e| e.into_inner());
    let database = databases
        .get_or_insert_with(HashMap::new)
        .entry(path.to_path_buf())
        .or_insert_with(PgDatabase::create);
    database.url().into()
}

/// `--db` as a string, for argument lists.
pub fn db_str(path: &Path) -> String {
    db_arg(path).into_string().expect("a UTF-8 database argument")
}

/// Runs the real `inroad` on the database at `path`; the command must succeed.
pub fn inroad(path: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_inroad"))
        .db(path)
        .args(args)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "inroad {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// What a `--json` command printed.
pub fn json(out: Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

pub trait WithDb {
    /// Adds `--db` for the database at `path` (and, on PostgreSQL, its key file).
    fn db(&mut self, path: &Path) -> &mut Self;
}

impl WithDb for Command {
    fn db(&mut self, path: &Path) -> &mut Command {
        if postgres() {
            let mut key = path.as_os_str().to_owned();
            key.push(".key");
            self.env("INROAD_KEY_FILE", key);
        }
        self.arg("--db").arg(db_arg(path))
    }
}

/// Runs a query (SQL both backends accept) on the database at `path`, for tests that
/// look at the ledger itself: every value as text, NULL as `None`.
pub fn query(path: &Path, sql: &str) -> Vec<Vec<Option<String>>> {
    if postgres() {
        let mut client =
            postgres::Client::connect(&db_str(path), postgres::NoTls).expect("connect to the test database");
        return client
            .simple_query(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .into_iter()
            .filter_map(|message| match message {
                postgres::SimpleQueryMessage::Row(row) => {
                    Some((0..row.len()).map(|i| row.get(i).map(str::to_owned)).collect())
                }
                _ => None,
            })
            .collect();
    }
    let conn = rusqlite::Connection::open(path).expect("open the test database");
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let columns = stmt.column_count();
    stmt.query_map([], |row| {
        (0..columns)
            .map(|i| {
                Ok(match row.get::<_, rusqlite::types::Value>(i)? {
                    rusqlite::types::Value::Null => None,
                    rusqlite::types::Value::Integer(n) => Some(n.to_string()),
                    rusqlite::types::Value::Real(x) => Some(x.to_string()),
                    rusqlite::types::Value::Text(s) => Some(s),
                    rusqlite::types::Value::Blob(b) => Some(format!("{b:?}")),
                })
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// The one integer a query returns (a count, say).
pub fn query_i64(path: &Path, sql: &str) -> i64 {
    query(path, sql)[0][0]
        .as_deref()
        .unwrap_or_else(|| panic!("{sql}: NULL"))
        .parse()
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// `inroad serve` on a free loopback port over the database at `db` (with `args` after
/// `serve --listen 127.0.0.1:0`), once it says where it listens: the process, the rest of
/// its log, and that address.
pub fn serve(db: &Path, args: &[&str]) -> (Child, BufReader<ChildStderr>, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_inroad"))
        .db(db)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let address = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .parse()
        .unwrap();
    (child, stderr, address)
}

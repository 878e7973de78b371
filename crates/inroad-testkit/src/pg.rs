//! A throwaway PostgreSQL cluster for tests: `initdb` into a temporary directory and a
//! `postgres` server on a free loopback port, started by the first test of a test
//! binary that asks for a database and shared by the others; each test gets a database
//! of its own ([`PgDatabase`]), dropped with it.
//!
//! So that `scripts/test` needs no running server and no leftover process survives:
//! - the server runs with fsync, synchronous commit and full-page writes off (nothing
//!   here has to survive a crash) and listens on 127.0.0.1 and a socket in its directory;
//! - it is stopped (immediate shutdown) and its directory removed by an `atexit`
//!   handler when the test binary exits, passing or failing; and should the test binary
//!   die without running it (SIGKILL), the kernel sends the server SIGQUIT
//!   (`PR_SET_PDEATHSIG`, armed from a thread that lives as long as the process);
//! - initdb and postgres refuse to run as root: as root (CI) they run as the `postgres`
//!   user the Debian package creates, in a directory handed to that user.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long the server may take to accept connections (it takes well under a second).
const START_DEADLINE: Duration = Duration::from_secs(60);
/// Servers started before one gets its port (see `start`).
const START_ATTEMPTS: u32 = 3;
/// How long an immediate shutdown may take before the server is killed.
const STOP_DEADLINE: Duration = Duration::from_secs(10);

/// A database of its own in the test binary's cluster; dropped (connections and all)
/// when this is dropped.
pub struct PgDatabase {
    name: String,
    url: String,
}

impl PgDatabase {
    /// A new, empty database, starting the cluster on first use. Panics with what to
    /// do when PostgreSQL is not installed or does not start.
    pub fn create() -> PgDatabase {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "inroad_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let port = off_runtime(|| {
            let cluster = cluster();
            // An identifier cannot be a parameter; the name is ours, made of [a-z0-9_].
            cluster
                .admin
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
            cluster.port
        });
        let url = format!("postgres://postgres@127.0.0.1:{port}/{name}");
        PgDatabase { name, url }
    }

    /// `postgres://postgres@127.0.0.1:PORT/NAME` (trust authentication: no password).
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Each copy of the template takes ~8 MB: a suite creates hundreds.
        let dropped = off_runtime(|| {
            cluster()
                .admin
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
        });
        if let Err(e) = dropped {
            eprintln!("DROP DATABASE {}: {e}", self.name);
        }
    }
}

/// Whether the tests run on PostgreSQL: `INROAD_TEST_BACKEND=postgres` (default:
/// SQLite). For tests written against `--db`/`inroad_store::open` rather than looping
/// over every backend as the store's own tests do.
pub fn postgres_backend() -> bool {
    std::env::var("INROAD_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// The database a test opens: the SQLite file at `sqlite_path`, or, on the
/// PostgreSQL backend ([`postgres_backend`]), a [`PgDatabase`] of its own.
pub struct TestDatabase {
    url: String,
    _postgres: Option<PgDatabase>,
}

impl TestDatabase {
    pub fn new(sqlite_path: &Path) -> TestDatabase {
        if postgres_backend() {
            let database = PgDatabase::create();
            TestDatabase {
                url: database.url().to_owned(),
                _postgres: Some(database),
            }
        } else {
            TestDatabase {
                url: sqlite_path.to_str().expect("a UTF-8 database path").to_owned(),
                _postgres: None,
            }
        }
    }

    /// What `inroad_store::open` (or `--db`) takes.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Runs `f` (which uses the synchronous client) on a thread of its own: the client
/// blocks on a runtime of its own, which cannot start inside a `#[tokio::test]`.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| match scope.spawn(f).join() {
        Ok(out) => out,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

struct Cluster {
    port: u16,
    /// A superuser connection to the `postgres` database, for CREATE/DROP DATABASE.
    admin: Mutex<postgres::Client>,
}

/// The server's pid and directory, for the `atexit` handler.
static SERVER_PID: AtomicI32 = AtomicI32::new(0);
static SERVER_DIR: Mutex<Option<tempfile::TempDir>> = Mutex::new(None);

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(start)
}

/// The directory of the server binaries: Debian's newest `/usr/lib/postgresql/N/bin`,
/// else wherever `initdb` is on PATH.
fn bin_dir() -> PathBuf {
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .max();
    if let Some((_, bin)) = debian {
        return bin;
    }
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .find(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file())
        })
        .unwrap_or_else(|| {
            panic!("PostgreSQL's initdb not found: install the postgresql package (scripts/test does)")
        })
}

/// The user to run the server as when we are root: (uid, gid) of `postgres`.
fn server_user() -> Option<(u32, u32)> {
    // SAFETY: getuid has no preconditions and cannot fail.
    if unsafe { libc::getuid() } != 0 {
        return None;
    }
    let id = |flag: &str| -> u32 {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .expect("id runs");
        assert!(
            out.status.success(),
            "running as root, and there is no postgres user to run PostgreSQL as (the postgresql package creates it)"
        );
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("id prints a number")
    };
    Some((id("-u"), id("-g")))
}

fn as_server_user(cmd: &mut Command, user: Option<(u32, u32)>) -> &mut Command {
    if let Some((uid, gid)) = user {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start() -> Cluster {
    let bin = bin_dir();
    let user = server_user();
    let dir = tempfile::Builder::new()
        .prefix("inroad-pg")
        .tempdir()
        .expect("a temporary directory");
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown the cluster directory");
    }
    let data = dir.path().join("data");
    let initdb = as_server_user(&mut Command::new(bin.join("initdb")), user)
        .arg("-D")
        .arg(&data)
        .args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ])
        .current_dir(dir.path())
        .output()
        .expect("initdb runs");
    assert!(
        initdb.status.success(),
        "initdb failed:\n{}{}",
        String::from_utf8_lossy(&initdb.stdout),
        String::from_utf8_lossy(&initdb.stderr)
    );
    let log_path = dir.path().join("postgres.log");
    // SAFETY: registers a plain `extern "C" fn` with no arguments.
    unsafe {
        libc::atexit(stop);
    }
    // Another process may take the free port between our probe and the server's bind:
    // then the server says so and exits, and another port is tried.
    for _ in 0..START_ATTEMPTS {
        let port = free_port();
        let pid = spawn_server(&bin, user, &data, dir.path(), port, &log_path);
        SERVER_PID.store(pid as i32, Ordering::SeqCst);
        match connect_when_ready(port, pid, &log_path) {
            Ok(admin) => {
                *SERVER_DIR.lock().unwrap_or_else(|e| e.into_inner()) = Some(dir);
                return Cluster {
                    port,
                    admin: Mutex::new(admin),
                };
            }
            Err(log) if log.contains("Address already in use") => continue,
            Err(log) => panic!("postgres did not start; its log:\n{log}"),
        }
    }
    panic!("postgres found no free port in {START_ATTEMPTS} attempts");
}

/// Starts the server on `port`, as the server user when we are root; returns its pid.
fn spawn_server(
    bin: &Path,
    user: Option<(u32, u32)>,
    data: &Path,
    dir: &Path,
    port: u16,
    log_path: &Path,
) -> u32 {
    let log = std::fs::File::create(log_path).expect("the server log");
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(log_path, Some(uid), Some(gid)).expect("chown the server log");
    }
    let mut server = Command::new(bin.join("postgres"));
    as_server_user(&mut server, user)
        .arg("-D")
        .arg(data)
        .args(["-p", &port.to_string(), "-k"])
        .arg(dir)
        .args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=32MB",
        ])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        server.pre_exec(|| {
            // Runs after the uid change (which would clear it): the server gets SIGQUIT
            // (immediate shutdown) if the thread that started it, i.e. the process, dies.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    // The parent-death signal follows the thread that forked: this one never ends
    // before the process does, reaping the server when it exits.
    let (started, pid) = mpsc::channel();
    std::thread::Builder::new()
        .name("postgres".into())
        .spawn(move || match server.spawn() {
            Ok(mut child) => {
                started.send(Ok(child.id())).unwrap();
                let _ = child.wait();
                loop {
                    std::thread::park();
                }
            }
            Err(e) => started.send(Err(e)).unwrap(),
        })
        .expect("a thread for the server");
    pid.recv()
        .unwrap()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.join("postgres").display()))
}

/// Polls until the server accepts a connection (bounded); the server's log if it
/// exits first or never answers.
fn connect_when_ready(port: u16, pid: u32, log: &Path) -> Result<postgres::Client, String> {
    let mut config = postgres::Config::new();
    config
        .host("127.0.0.1")
        .port(port)
        .user("postgres")
        .dbname("postgres")
        .connect_timeout(Duration::from_secs(5));
    let deadline = Instant::now() + START_DEADLINE;
    loop {
        match config.connect(postgres::NoTls) {
            Ok(client) => return Ok(client),
            Err(e) => {
                let log = || std::fs::read_to_string(log).unwrap_or_default();
                if !alive(pid as i32) {
                    return Err(log());
                }
                if Instant::now() > deadline {
                    return Err(format!(
                        "no connection within {START_DEADLINE:?} ({e}):\n{}",
                        log()
                    ));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// Stops the server (immediate shutdown: its data is thrown away) and removes its
/// directory. Runs at exit; must not panic.
extern "C" fn stop() {
    let pid = SERVER_PID.swap(0, Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: signalling the server we started.
        unsafe { libc::kill(pid, libc::SIGQUIT) };
        let deadline = Instant::now() + STOP_DEADLINE;
        // The server's own thread reaps it; until then it still "exists".
        while alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if alive(pid) {
            // SAFETY: as above.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
    if let Ok(mut dir) = SERVER_DIR.lock() {
        drop(dir.take());
    }
}

//! The install key: 32 random bytes in a file of their own, outside the database.
//!
//! It signs unsubscribe links and the dashboard's CSRF tokens and encrypts the mailbox
//! passwords stored in the database, so it must never be in the database: a copy of the
//! database alone can then neither forge an unsubscribe link nor reveal a password.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// Where the install key is: `--key-file`, or the SQLite database's path + ".key".
/// A PostgreSQL database has no path to put it beside (and its URL may hold a
/// password, which must not end up in a file name or a message), and every worker
/// sharing it needs the same key: `--key-file` is then required, by the commands that
/// use the key.
pub struct KeyFile(Result<PathBuf, String>);

impl KeyFile {
    pub fn new(key_file: Option<&Path>, db: &str) -> KeyFile {
        KeyFile(match key_file {
            Some(path) => Ok(path.to_path_buf()),
            None if inroad_store::is_postgres_url(db) => Err(
                "--db is a PostgreSQL URL: give --key-file FILE (or INROAD_KEY_FILE) for the install key, \
                 the same file for every worker"
                    .to_owned(),
            ),
            None => Ok(PathBuf::from(format!("{db}.key"))),
        })
    }

    pub fn path(&self) -> anyhow::Result<&Path> {
        self.0.as_deref().map_err(|e| anyhow::anyhow!("{e}"))
    }
}

/// The install key: read, or created on first use (32 random bytes, owner-only).
pub fn install_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(key) if key.len() >= 32 => Ok(key),
        Ok(_) => bail!(
            "{} is too short for an install key (32 bytes at least)",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = vec![0u8; 32];
            std::fs::File::open("/dev/urandom")
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut key))
                .context("cannot read random bytes for the install key")?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            file.write_all(&key)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "created the install key {} (it signs unsubscribe links and encrypts stored passwords: \
                 back it up, apart from the database)",
                path.display()
            );
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

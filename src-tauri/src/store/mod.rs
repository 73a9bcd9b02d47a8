//! Chat storage: chats, messages and images in one SQLite file (`<app data>/iris.sqlite3`).
//!
//! The store knows nothing of Tauri; the shell keeps one [`Store`] in a `Mutex` and maps
//! [`StoreError`] to its `AppError` with [`StoreError::code`] and [`StoreError::user_message`].
//!
//! # Durability of streamed answers
//! [`Store::append_assistant_text`] commits each piece as its own small transaction. In WAL mode
//! with `synchronous=NORMAL` a commit is a single `write()` to the `-wal` file without `fsync`,
//! so once the call returns the piece survives the process being killed (the OS holds the
//! write); only an OS crash or power cut can drop the last commits. The shell appends a piece
//! *before* it sends that piece to the page, so every piece the user has seen is on disk. After
//! a crash, [`Store::open`] turns answers left `streaming` into `stopped`, keeping their text.
//!
//! # Layout
//! `schema` (recognising the file, migrations), `chats`, `messages`, `images`, `types` (the
//! IPC values), `error`.

mod chats;
mod error;
mod images;
mod messages;
mod schema;
mod types;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags};

pub use chats::{DEFAULT_TITLE, derive_title};
use error::SqlContext;
pub use error::StoreError;
pub use schema::{IRIS_APPLICATION_ID, SCHEMA_VERSION};
pub use types::{
    Chat, ChatSummary, ImageBytes, ImageRef, Message, MessageStats, MessageStatus, Role,
    StoredError, Turn,
};

/// The chat database. Not `Sync`: share it behind a `Mutex`.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (or creates) the database at `path`, creating its folder if needed.
    ///
    /// Refuses, without writing a byte, a file that is not SQLite ([`StoreError::Corrupt`]),
    /// another program's database ([`StoreError::NotIris`]) or a newer Iris schema
    /// ([`StoreError::TooNew`]). Migrates older schemas, then marks answers that were still
    /// streaming when the app last died as `stopped`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.to_owned(),
                source,
            })?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|source| StoreError::Sqlite {
                context: "opening the database file",
                source,
            })?;
        Self::from_connection(conn, path)
    }

    /// A private in-memory database, for tests and previews.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().ctx("opening an in-memory database")?;
        Self::from_connection(conn, Path::new(":memory:"))
    }

    fn from_connection(mut conn: Connection, path: &Path) -> Result<Self, StoreError> {
        schema::prepare(&mut conn, path)?;
        let store = Self { conn };
        store.stop_interrupted_answers()?;
        Ok(store)
    }

    /// Answers left `streaming` by a previous run that died become `stopped`, text kept.
    fn stop_interrupted_answers(&self) -> Result<usize, StoreError> {
        self.conn
            .execute(
                "UPDATE messages SET status = 'stopped' WHERE status = 'streaming'",
                [],
            )
            .ctx("stopping answers interrupted by a crash")
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

/// A random UUIDv4 string (122 random bits), e.g. `"3f2b8c1e-9d4a-4c6b-8e2f-0a1b2c3d4e5f"`.
pub(crate) fn new_id() -> String {
    let bits: u128 = rand::random();
    // Version 4 in bits 76..80, RFC 4122 variant (0b10) in bits 62..64.
    let bits = (bits & !(0xF << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

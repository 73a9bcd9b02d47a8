//! Recognising an Iris database, connection settings and schema migrations.
//!
//! An Iris database carries `PRAGMA application_id = IRIS_APPLICATION_ID` ("IRIS") and its
//! schema version in `PRAGMA user_version`. Nothing is written to a file before it has been
//! recognised as either an Iris database or an empty one, so a foreign or damaged file is
//! never altered.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode};

use super::error::{SqlContext, StoreError};

/// `PRAGMA application_id` of every Iris database: the ASCII bytes "IRIS".
pub const IRIS_APPLICATION_ID: i32 = i32::from_be_bytes(*b"IRIS");

/// How long a statement waits for a lock held by another connection before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Schema migrations; entry `i` brings the database from version `i` to `i + 1`. Append a new
/// entry for v2 (never edit a released one): `migrate` runs each pending step in its own
/// transaction together with the `user_version` bump.
const MIGRATIONS: &[&str] = &[V1];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// v1: chats, messages, staged/attached images. `images.bytes` is the last column on purpose:
/// SQLite reads a row's columns in order, so columns after a large blob cost a walk through its
/// overflow pages.
const V1: &str = "
CREATE TABLE chats (
    id TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    model_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX chats_by_update ON chats (updated_at);
CREATE TABLE messages (
    id TEXT PRIMARY KEY NOT NULL,
    chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    text TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'streaming', 'stopped', 'error')),
    error_json TEXT,
    stats_json TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (chat_id, seq)
);
CREATE INDEX messages_streaming ON messages (status) WHERE status = 'streaming';
CREATE TABLE images (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    width INTEGER NOT NULL CHECK (width > 0),
    height INTEGER NOT NULL CHECK (height > 0),
    mime TEXT NOT NULL,
    thumb_mime TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    thumb BLOB NOT NULL,
    bytes BLOB NOT NULL
);
CREATE TABLE message_images (
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    image_id TEXT NOT NULL REFERENCES images (id),
    position INTEGER NOT NULL,
    PRIMARY KEY (message_id, position)
) WITHOUT ROWID;
CREATE INDEX message_images_by_image ON message_images (image_id);
";

/// What a freshly opened file turned out to be.
enum Identity {
    /// No schema, no application id: a new (or zero-length) file, ours to initialise.
    Empty,
    /// An Iris database at this schema version.
    Iris(i64),
}

/// Checks that `conn` is an Iris (or empty) database, then configures and migrates it.
pub(crate) fn prepare(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT)
        .ctx("setting the busy timeout")?;
    let version = match identify(conn, path)? {
        Identity::Empty => 0,
        Identity::Iris(version) => version,
    };
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    configure(conn)?;
    migrate(conn, version)
}

/// Reads the header and the schema without writing anything.
fn identify(conn: &Connection, path: &Path) -> Result<Identity, StoreError> {
    let read = |sql: &str| conn.query_row(sql, [], |row| row.get::<_, i64>(0));
    let probe = (|| {
        let app_id = read("PRAGMA application_id")?;
        let version = read("PRAGMA user_version")?;
        let objects = read("SELECT count(*) FROM sqlite_schema")?;
        Ok((app_id, version, objects))
    })();
    let (app_id, version, objects) = probe.map_err(|source| open_error(path, source))?;
    if app_id == i64::from(IRIS_APPLICATION_ID) {
        return Ok(Identity::Iris(version));
    }
    if app_id == 0 && version == 0 && objects == 0 {
        return Ok(Identity::Empty);
    }
    let reason = if app_id == 0 {
        format!("it holds {objects} schema objects of another program and no Iris marker")
    } else {
        format!("its application id is {app_id:#010x}, not Iris's")
    };
    Err(StoreError::NotIris {
        path: path.to_owned(),
        reason,
    })
}

fn open_error(path: &Path, source: rusqlite::Error) -> StoreError {
    match source.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path: path.to_owned(),
            source,
        },
        _ => StoreError::Sqlite {
            context: "reading the database header",
            source,
        },
    }
}

/// WAL journal (readers never block the writer, and each commit is one append to the -wal
/// file), `synchronous=NORMAL` (a commit survives the process being killed; only an OS crash
/// or power cut can lose the last commits, never corrupt the file), foreign keys enforced.
fn configure(conn: &Connection) -> Result<(), StoreError> {
    // Answers the mode now in force: "wal", or "memory" for an in-memory database. Where WAL is
    // unavailable SQLite keeps a rollback journal, which is slower but no less durable.
    let _mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .ctx("switching to the WAL journal")?;
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
        .ctx("setting synchronous and foreign_keys")
}

/// Runs the pending migrations after `from`, each in one transaction with its version bump.
fn migrate(conn: &mut Connection, from: i64) -> Result<(), StoreError> {
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        let to = index as i64 + 1;
        let tx = conn.transaction().ctx("starting a migration")?;
        if index == 0 {
            tx.pragma_update(None, "application_id", IRIS_APPLICATION_ID)
                .ctx("marking the file as an Iris database")?;
        }
        tx.execute_batch(sql).ctx("creating the schema")?;
        tx.pragma_update(None, "user_version", to)
            .ctx("recording the schema version")?;
        tx.commit().ctx("committing a migration")?;
    }
    Ok(())
}

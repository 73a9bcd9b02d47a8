//! Opening files: new, reopened, interrupted, foreign, damaged, too new.

use rusqlite::Connection;

use super::{TempDir, TestResult, chat_with_exchange, image};
use crate::store::{IRIS_APPLICATION_ID, MessageStatus, SCHEMA_VERSION, Store, StoreError};

fn header(path: &std::path::Path) -> rusqlite::Result<(i64, i64, String)> {
    let conn = Connection::open(path)?;
    let read = |pragma: &str| conn.query_row(&format!("PRAGMA {pragma}"), [], |row| row.get(0));
    let journal: String = conn.query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
    Ok((read("application_id")?, read("user_version")?, journal))
}

#[test]
fn reopening_migrates_once_and_keeps_everything() -> TestResult {
    let dir = TempDir::new("reopen");
    let nested = dir.path().join("data").join("iris.sqlite3");
    let (chat, ..) = {
        let mut store = Store::open(&nested)?;
        let img = image(&mut store, "cat.png")?;
        chat_with_exchange(&mut store, "hello", &[img.id])?
    };
    let before = Store::open(&nested)?.get_chat(&chat)?;
    let after = Store::open(&nested)?.get_chat(&chat)?;
    assert_eq!(before, after);
    assert_eq!(before.messages[0].images.len(), 1);
    let (app_id, version, journal) = header(&nested)?;
    assert_eq!(app_id, i64::from(IRIS_APPLICATION_ID));
    assert_eq!(version, SCHEMA_VERSION);
    assert_eq!(journal, "wal");
    Ok(())
}

#[test]
fn a_zero_length_file_becomes_a_database() -> TestResult {
    let dir = TempDir::new("empty");
    std::fs::write(dir.db(), b"")?;
    let mut store = Store::open(dir.db())?;
    store.create_chat(None)?;
    assert_eq!(store.list_chats()?.len(), 1);
    Ok(())
}

#[test]
fn answers_cut_off_by_a_crash_reopen_as_stopped() -> TestResult {
    let dir = TempDir::new("interrupted");
    let mut store = Store::open(dir.db())?;
    let chat = store.create_chat(None)?.summary.id;
    let streaming = store.begin_assistant_message(&chat)?;
    store.append_assistant_text(&streaming.id, "Half an ans")?;
    drop(store); // never finished

    let store = Store::open(dir.db())?;
    let message = store.message(&streaming.id)?;
    assert_eq!(message.status, MessageStatus::Stopped);
    assert_eq!(message.text, "Half an ans");
    Ok(())
}

/// Opens `bytes` written as the database file; returns the error and checks the file is
/// byte-for-byte as it was.
fn open_refused(dir: &TempDir, bytes: &[u8]) -> Result<StoreError, Box<dyn std::error::Error>> {
    std::fs::write(dir.db(), bytes)?;
    let error = match Store::open(dir.db()) {
        Ok(_) => return Err("the store opened a file that is not an Iris database".into()),
        Err(error) => error,
    };
    assert_eq!(error.code(), "STORAGE");
    assert!(
        std::fs::read(dir.db())? == bytes,
        "the refused file was modified"
    );
    Ok(error)
}

#[test]
fn random_bytes_are_reported_as_damaged_and_left_alone() -> TestResult {
    let dir = TempDir::new("random");
    let bytes: Vec<u8> = (0..64 * 1024).map(|_| rand::random::<u8>()).collect();
    let error = open_refused(&dir, &bytes)?;
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
    assert!(
        error.user_message().contains("damaged"),
        "{}",
        error.user_message()
    );
    Ok(())
}

/// A database file written by another program, returned as bytes.
fn foreign_database(dir: &TempDir, sql: &str) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let path = dir.path().join("foreign.db");
    let conn = Connection::open(&path)?;
    conn.execute_batch(sql)?;
    conn.close().map_err(|(_, e)| e)?;
    Ok(std::fs::read(path)?)
}

#[test]
fn another_programs_database_is_refused_and_left_alone() -> TestResult {
    let dir = TempDir::new("foreign");
    let bytes = foreign_database(
        &dir,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
         INSERT INTO notes (body) VALUES ('keep me');",
    )?;
    let error = open_refused(&dir, &bytes)?;
    assert!(matches!(error, StoreError::NotIris { .. }), "{error:?}");
    assert!(
        error.to_string().contains("not an Iris database"),
        "{error}"
    );
    Ok(())
}

#[test]
fn an_empty_database_of_another_application_is_refused() -> TestResult {
    let dir = TempDir::new("foreign-id");
    let bytes = foreign_database(&dir, "PRAGMA application_id = 42; PRAGMA user_version = 3;")?;
    let error = open_refused(&dir, &bytes)?;
    assert!(matches!(error, StoreError::NotIris { .. }), "{error:?}");
    Ok(())
}

#[test]
fn a_newer_iris_schema_is_refused_and_left_alone() -> TestResult {
    let dir = TempDir::new("too-new");
    let future = SCHEMA_VERSION + 1;
    let sql = format!(
        "PRAGMA application_id = {IRIS_APPLICATION_ID}; PRAGMA user_version = {future};
         CREATE TABLE chats_v2 (id TEXT);"
    );
    let bytes = foreign_database(&dir, &sql)?;
    let error = open_refused(&dir, &bytes)?;
    assert!(
        matches!(error, StoreError::TooNew { found, .. } if found == future),
        "{error:?}"
    );
    Ok(())
}

#[test]
fn error_codes_and_messages_follow_the_ipc_contract() {
    let not_found = StoreError::NotFound {
        what: "chat",
        id: "abc".into(),
    };
    assert_eq!(not_found.code(), "NOT_FOUND");
    assert_eq!(not_found.user_message(), "That chat no longer exists.");
    assert!(
        not_found.to_string().contains("abc"),
        "Display keeps the id"
    );
    let invalid = StoreError::InvalidInput("Write a message first.".into());
    assert_eq!(
        (invalid.code(), invalid.user_message().as_str()),
        ("INVALID_INPUT", "Write a message first.")
    );
}

//! Crash safety: a child process (this test binary, running `append_helper`) plays the app: it
//! opens the database, starts an answer, streams pieces into it and reports each one once
//! `append_assistant_text` returned. It is killed with SIGKILL mid-stream, and the reopened
//! database must hold every reported piece.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{TempDir, TestResult};
use crate::store::{MessageStatus, Store};

/// Set (to the database path) only in the child process.
const DB_ENV: &str = "IRIS_STORE_CRASH_HELPER_DB";
/// The parent kills the child once it has reported this many pieces.
const KILL_AFTER: usize = 300;
/// The child stops by itself after this many pieces or this long, should nobody kill it.
const HELPER_MAX_PIECES: usize = 1_000_000;
const HELPER_MAX_TIME: Duration = Duration::from_secs(60);

fn piece(index: usize) -> String {
    format!("piece {index}; ")
}

fn pieces(count: usize) -> String {
    (0..count).map(piece).collect()
}

/// The child's side; a no-op in an ordinary test run.
#[test]
fn append_helper() -> TestResult {
    let Some(db) = std::env::var_os(DB_ENV) else {
        return Ok(());
    };
    let mut store = Store::open(db)?;
    let chat = store.create_chat(None)?.summary.id;
    store.add_user_message(&chat, "Tell me a long story.", &[])?;
    let message_id = store.begin_assistant_message(&chat)?.id;
    let mut out = std::io::stdout().lock();
    writeln!(out, "message {message_id}")?;
    let started = Instant::now();
    for index in 0..HELPER_MAX_PIECES {
        if started.elapsed() > HELPER_MAX_TIME {
            break;
        }
        store.append_assistant_text(&message_id, &piece(index))?;
        // Only now is the piece "shown": the store call has returned.
        writeln!(out, "appended {}", index + 1)?;
        out.flush()?;
    }
    Ok(())
}

/// The count in a child's "appended N" line.
fn reported_count(line: &str) -> Option<usize> {
    line.strip_prefix("appended ")?.parse().ok()
}

/// This test's name as the test harness knows it, without the crate name.
fn helper_test_name() -> String {
    let path = module_path!();
    let in_crate = path.split_once("::").map_or(path, |(_, rest)| rest);
    format!("{in_crate}::append_helper")
}

#[test]
fn killed_mid_answer_keeps_every_reported_piece() -> TestResult {
    let dir = TempDir::new("crash");
    let mut child = Command::new(std::env::current_exe()?)
        .args([helper_test_name().as_str(), "--exact", "--test-threads=1"])
        .env(DB_ENV, dir.db())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut reported = 0;
    let mut message_id = None;
    for line in lines.by_ref() {
        let line = line?;
        // libtest may have printed "test ... " on the same line before the helper's output.
        if let Some((_, id)) = line.split_once("message ") {
            message_id = Some(id.to_owned());
        }
        reported = reported_count(&line).unwrap_or(reported);
        if reported >= KILL_AFTER {
            break;
        }
    }
    child.kill()?; // SIGKILL on Unix: no destructors, no SQLite close, no checkpoint
    let status = child.wait()?;
    // Lines the child wrote before it died are still in the pipe.
    for line in lines {
        reported = reported_count(&line?).unwrap_or(reported);
    }
    assert!(
        !status.success(),
        "the helper must have been killed, not finished"
    );
    assert!(
        reported >= KILL_AFTER,
        "the helper stopped after {reported} pieces"
    );

    let message_id = message_id.ok_or("the helper reported no message id")?;
    let store = Store::open(dir.db())?;
    let message = store.message(&message_id)?;
    assert_eq!(message.status, MessageStatus::Stopped);
    // The child may have committed one more piece before it could report it.
    let exact = pieces(reported);
    let one_more = pieces(reported + 1);
    assert!(
        message.text == exact || message.text == one_more,
        "reported {reported} pieces, stored {} bytes ending {:?}",
        message.text.len(),
        message.text.get(message.text.len().saturating_sub(40)..)
    );
    Ok(())
}

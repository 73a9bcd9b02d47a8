//! Download events, their throttling, and the cancel flag.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

/// At most one `Progress` event per this interval (20 per second), plus a final one.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(50);

/// What a download reports while it runs. Serialises like docs/app.md's `DownloadEvent`
/// (`{ "kind": "progress", "file": ..., "doneBytes": ..., "totalBytes": ... }`); the shell
/// adds `finished` with the `ModelEntry` itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum DownloadProgress {
    /// Asking the Hub for the file list.
    Listing { repo_id: String },
    /// The files are known; `resumed_bytes` of `total_bytes` are already on disk.
    Started {
        repo_id: String,
        files: usize,
        total_bytes: u64,
        resumed_bytes: u64,
    },
    /// `done_bytes` of all files together (never decreasing), while `file` downloads.
    Progress {
        file: String,
        done_bytes: u64,
        total_bytes: u64,
    },
    /// `file` is complete and its checksum is being computed.
    Verifying { file: String },
}

/// Shared flag that asks a running download to stop; cheap to clone, one per download.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the download to stop at its next check (between chunks of at most 64 KiB).
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Passes events on, with `Progress` throttled to [`PROGRESS_INTERVAL`] and kept monotonic.
pub(crate) struct ProgressReporter<'a> {
    on_event: &'a mut dyn FnMut(DownloadProgress),
    total_bytes: u64,
    last_emit: Option<Instant>,
    last_done: Option<u64>,
}

impl<'a> ProgressReporter<'a> {
    pub(crate) fn new(on_event: &'a mut dyn FnMut(DownloadProgress)) -> Self {
        ProgressReporter {
            on_event,
            total_bytes: 0,
            last_emit: None,
            last_done: None,
        }
    }

    pub(crate) fn event(&mut self, event: DownloadProgress) {
        if let DownloadProgress::Started { total_bytes, .. } = &event {
            self.total_bytes = *total_bytes;
        }
        (self.on_event)(event);
    }

    /// Reports `done_bytes` overall if the last report is old enough.
    pub(crate) fn progress(&mut self, file: &str, done_bytes: u64) {
        let due = self
            .last_emit
            .is_none_or(|at| at.elapsed() >= PROGRESS_INTERVAL);
        if due {
            self.emit(file, done_bytes);
        }
    }

    /// Reports `done_bytes` now unless exactly that was the last report (the final event).
    pub(crate) fn progress_now(&mut self, file: &str, done_bytes: u64) {
        if self.last_done != Some(done_bytes) {
            self.emit(file, done_bytes);
        }
    }

    fn emit(&mut self, file: &str, done_bytes: u64) {
        // Never report less than before, even when a server ignores a Range request and a file
        // starts over: the count then stays put until the new bytes pass the old ones.
        let done_bytes = done_bytes.max(self.last_done.unwrap_or(0));
        self.last_emit = Some(Instant::now());
        self.last_done = Some(done_bytes);
        (self.on_event)(DownloadProgress::Progress {
            file: file.to_owned(),
            done_bytes,
            total_bytes: self.total_bytes,
        });
    }
}

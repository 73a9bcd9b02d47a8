//! The commands the page calls (docs/app.md), one file per feature. They are thin: argument
//! checks, then the state types do the work; blocking work runs off the IPC runtime.

pub mod chat;
pub mod demo;
pub mod dialogs;
pub mod documents;
pub mod explain;
pub mod images;
pub mod models;
pub mod settings;

use crate::error::{AppError, AppResult};

/// Runs blocking work (files, SQLite, wgpu enumeration) on Tauri's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| {
            AppError::new(
                "GENERATION_FAILED",
                "An internal task failed.",
                Some(e.to_string()),
            )
        })?
}

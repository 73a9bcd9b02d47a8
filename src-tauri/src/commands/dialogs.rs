//! Native file dialogs (rfd, GTK on Linux). GTK wants them created on the main thread: they are
//! built there, parented to the main window, and the command awaits the answer elsewhere.
//!
//! rfd's blocking dialogs must not be used here: on Linux they wait on the main thread for GTK
//! work that only the main loop can run, and the whole app freezes (seen in the real window).
//! The async dialogs only hand GTK a task for its main loop, as Tauri's dialog plugin does.

use std::future::Future;
use std::path::PathBuf;

use rfd::{AsyncFileDialog, FileHandle};
use tauri::{AppHandle, Manager, Runtime};

use crate::error::{AppError, AppResult};

/// Image files the chat can take.
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "webp", "gif", "bmp", "tif", "tiff"];

/// Builds the dialog on the main thread and awaits its answer on the caller's task.
async fn ask<R: Runtime, T, F>(
    app: &AppHandle<R>,
    dialog: impl FnOnce(AsyncFileDialog) -> F + Send + 'static,
) -> AppResult<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    let window = app.get_webview_window("main");
    app.run_on_main_thread(move || {
        let mut base = AsyncFileDialog::new();
        if let Some(window) = &window {
            base = base.set_parent(window);
        }
        let _ = tx.send(dialog(base));
    })
    .map_err(|e| {
        AppError::new(
            "INVALID_INPUT",
            "The file dialog could not open.",
            Some(e.to_string()),
        )
    })?;
    let answer = rx.await.map_err(|e| {
        AppError::new(
            "INVALID_INPUT",
            "The file dialog closed unexpectedly.",
            Some(e.to_string()),
        )
    })?;
    Ok(answer.await)
}

fn path(handle: Option<FileHandle>) -> Option<PathBuf> {
    handle.map(|h| h.path().to_path_buf())
}

/// Asks for a checkpoint folder; `None` when cancelled.
pub async fn pick_folder<R: Runtime>(app: &AppHandle<R>) -> AppResult<Option<PathBuf>> {
    let picked = ask(app, |d| d.set_title("Import a model folder").pick_folder()).await?;
    Ok(path(picked))
}

/// Asks for image files; empty when cancelled.
pub async fn pick_images<R: Runtime>(app: &AppHandle<R>) -> AppResult<Vec<PathBuf>> {
    let picked = ask(app, |d| {
        d.set_title("Add images")
            .add_filter("Images", IMAGE_EXTENSIONS)
            .pick_files()
    })
    .await?;
    Ok(picked
        .into_iter()
        .flatten()
        .map(|h| h.path().to_path_buf())
        .collect())
}

/// Asks for a document (a PDF or an image of a page); `None` when cancelled.
pub async fn pick_document<R: Runtime>(app: &AppHandle<R>) -> AppResult<Option<PathBuf>> {
    let picked = ask(app, |d| {
        d.set_title("Open a document")
            .add_filter(
                "PDFs and images",
                &["pdf", "png", "jpg", "jpeg", "webp", "tif", "tiff", "bmp"],
            )
            .pick_file()
    })
    .await?;
    Ok(path(picked))
}

/// Asks where to save a file named `suggested`; `None` when cancelled.
pub async fn save_path<R: Runtime>(
    app: &AppHandle<R>,
    suggested: String,
) -> AppResult<Option<PathBuf>> {
    let picked = ask(app, move |d| {
        d.set_title("Save").set_file_name(&suggested).save_file()
    })
    .await?;
    Ok(path(picked))
}

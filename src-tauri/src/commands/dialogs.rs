//! Native file dialogs (rfd, GTK on Linux). GTK wants them on the main thread: they run there,
//! parented to the main window, and the command awaits the answer.

use std::path::PathBuf;

use tauri::{AppHandle, Manager, Runtime};

use crate::error::{AppError, AppResult};

/// Image files the chat can take.
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "webp", "gif", "bmp", "tif", "tiff"];

async fn on_main_thread<R: Runtime, T: Send + 'static>(
    app: &AppHandle<R>,
    dialog: impl FnOnce(rfd::FileDialog) -> T + Send + 'static,
) -> AppResult<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let window = app.get_webview_window("main");
    app.run_on_main_thread(move || {
        let mut base = rfd::FileDialog::new();
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
    rx.await.map_err(|e| {
        AppError::new(
            "INVALID_INPUT",
            "The file dialog closed unexpectedly.",
            Some(e.to_string()),
        )
    })
}

/// Asks for a checkpoint folder; `None` when cancelled.
pub async fn pick_folder<R: Runtime>(app: &AppHandle<R>) -> AppResult<Option<PathBuf>> {
    on_main_thread(app, |d| d.set_title("Import a model folder").pick_folder()).await
}

/// Asks for image files; empty when cancelled.
pub async fn pick_images<R: Runtime>(app: &AppHandle<R>) -> AppResult<Vec<PathBuf>> {
    on_main_thread(app, |d| {
        d.set_title("Add images")
            .add_filter("Images", IMAGE_EXTENSIONS)
            .pick_files()
            .unwrap_or_default()
    })
    .await
}

/// Asks for a document (a PDF or an image of a page); `None` when cancelled.
pub async fn pick_document<R: Runtime>(app: &AppHandle<R>) -> AppResult<Option<PathBuf>> {
    on_main_thread(app, |d| {
        d.set_title("Open a document")
            .add_filter(
                "PDFs and images",
                &["pdf", "png", "jpg", "jpeg", "webp", "tif", "tiff", "bmp"],
            )
            .pick_file()
    })
    .await
}

/// Asks where to save a file named `suggested`; `None` when cancelled.
pub async fn save_path<R: Runtime>(
    app: &AppHandle<R>,
    suggested: String,
) -> AppResult<Option<PathBuf>> {
    on_main_thread(app, move |d| {
        d.set_title("Save").set_file_name(&suggested).save_file()
    })
    .await
}

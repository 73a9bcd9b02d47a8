//! Images the user adds: dropped on the window (paths), picked in the dialog, pasted (bytes).
//! Each is decoded as the engine will before it is staged, so a bad file is refused at once,
//! named in the message, and nothing half-added remains.

use std::path::PathBuf;

use tauri::{AppHandle, Manager, Runtime};

use crate::commands::blocking;
use crate::commands::chat::{ChatStore, store_error};
use crate::error::{AppError, AppResult};
use crate::images;
use crate::store::ImageRef;

/// Checks every file, then stages them all; one bad file refuses the whole drop.
fn stage_files<R: Runtime>(app: &AppHandle<R>, paths: &[PathBuf]) -> AppResult<Vec<ImageRef>> {
    let mut checked = Vec::with_capacity(paths.len());
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let bytes = std::fs::read(path).map_err(|e| {
            AppError::new(
                "BAD_IMAGE",
                format!("{name} could not be opened."),
                Some(e.to_string()),
            )
        })?;
        let image = images::check(&name, &bytes).map_err(|e| {
            let rest = if paths.len() > 1 {
                " Nothing was added."
            } else {
                ""
            };
            AppError {
                message: format!("{}{rest}", e.message),
                ..e
            }
        })?;
        checked.push((name, bytes, image));
    }
    let store = app.state::<ChatStore>();
    let mut store = store.lock();
    checked
        .into_iter()
        .map(|(name, bytes, image)| images::stage(&mut store, &name, &bytes, &image))
        .collect()
}

#[tauri::command]
pub async fn add_image_files<R: Runtime>(
    app: AppHandle<R>,
    paths: Vec<String>,
) -> AppResult<Vec<ImageRef>> {
    let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
    blocking(move || stage_files(&app, &paths)).await
}

#[tauri::command]
pub async fn pick_images<R: Runtime>(app: AppHandle<R>) -> AppResult<Vec<ImageRef>> {
    let paths = crate::commands::dialogs::pick_images(&app).await?;
    blocking(move || stage_files(&app, &paths)).await
}

/// A pasted image (the clipboard's file bytes, base64).
#[tauri::command]
pub async fn add_image_bytes<R: Runtime>(
    app: AppHandle<R>,
    name: String,
    data_base64: String,
) -> AppResult<ImageRef> {
    blocking(move || {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data_base64.trim())
            .map_err(|e| {
                AppError::new(
                    "BAD_IMAGE",
                    "The pasted data is not an image.",
                    Some(e.to_string()),
                )
            })?;
        let image = images::check(&name, &bytes)?;
        images::stage(&mut app.state::<ChatStore>().lock(), &name, &bytes, &image)
    })
    .await
}

/// The full image as a `data:` URL (the page shows it in a lightbox).
#[tauri::command]
pub async fn get_image<R: Runtime>(app: AppHandle<R>, id: String) -> AppResult<String> {
    blocking(move || {
        use base64::Engine as _;
        let image = app
            .state::<ChatStore>()
            .lock()
            .image_bytes(&id)
            .map_err(store_error)?;
        let data = base64::engine::general_purpose::STANDARD.encode(&image.bytes);
        Ok(format!("data:{};base64,{data}", image.mime))
    })
    .await
}

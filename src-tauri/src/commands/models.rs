//! The model manager: list, import (validated), delete, download from the Hub.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime, State};

use crate::catalog::{Catalog, ModelEntry};
use crate::commands::blocking;
use crate::error::{AppError, AppResult};
use crate::hub;
use crate::settings::SettingsState;

/// Downloads in flight, by repo id, with their cancel flags.
pub struct Downloads {
    dir: PathBuf,
    running: Mutex<HashMap<String, hub::CancelFlag>>,
}

impl Downloads {
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            running: Mutex::new(HashMap::new()),
        }
    }

    fn begin(&self, repo_id: &str) -> AppResult<hub::CancelFlag> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.contains_key(repo_id) {
            return Err(AppError::plain(
                "BUSY",
                format!("{repo_id} is already downloading."),
            ));
        }
        let flag = hub::CancelFlag::new();
        running.insert(repo_id.to_owned(), flag.clone());
        Ok(flag)
    }

    fn end(&self, repo_id: &str) {
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(repo_id);
    }

    fn cancel(&self, repo_id: &str) -> bool {
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        running.get(repo_id).map(hub::CancelFlag::cancel).is_some()
    }
}

/// What the page hears while a download runs (docs/app.md `DownloadEvent`).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum DownloadEvent {
    Listing {
        repo_id: String,
    },
    Started {
        repo_id: String,
        files: usize,
        total_bytes: u64,
        resumed_bytes: u64,
    },
    Progress {
        file: String,
        done_bytes: u64,
        total_bytes: u64,
    },
    Verifying {
        file: String,
    },
    Finished {
        model: ModelEntry,
    },
}

#[tauri::command]
pub async fn list_models<R: Runtime>(app: AppHandle<R>) -> AppResult<Vec<ModelEntry>> {
    blocking(move || app.state::<Catalog>().list()).await
}

/// Imports a checkpoint folder; with no path, the folder dialog asks (null when cancelled).
#[tauri::command]
pub async fn import_model<R: Runtime>(
    app: AppHandle<R>,
    path: Option<String>,
) -> AppResult<Option<ModelEntry>> {
    let path = match path {
        Some(p) => PathBuf::from(p),
        None => match crate::commands::dialogs::pick_folder(&app).await? {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    blocking(move || app.state::<Catalog>().import(&path).map(Some)).await
}

#[tauri::command]
pub async fn delete_model<R: Runtime>(app: AppHandle<R>, id: String) -> AppResult<()> {
    blocking(move || app.state::<Catalog>().delete(&id)).await
}

#[tauri::command]
pub async fn download_model<R: Runtime>(
    app: AppHandle<R>,
    repo_id: String,
    revision: Option<String>,
    on_event: Channel<DownloadEvent>,
) -> AppResult<ModelEntry> {
    let downloads = app.state::<Downloads>();
    let cancel = downloads.begin(&repo_id)?;
    let base_url = app.state::<SettingsState>().get().hub_url;
    let handle = app.clone();
    let id = repo_id.clone();
    let result = blocking(move || {
        let catalog = handle.state::<Catalog>();
        let request = hub::DownloadRequest {
            repo_id: id,
            revision,
            models_dir: catalog.dir().to_owned(),
            downloads_dir: handle.state::<Downloads>().dir.clone(),
        };
        let hub_error =
            |e: hub::HubError| AppError::new(e.code(), e.user_message(), Some(e.to_string()));
        let client = hub::HubClient::from_env(&base_url).map_err(hub_error)?;
        let mut forward = |p: hub::DownloadProgress| {
            let _ = on_event.send(download_event(p));
        };
        let done = hub::download(&client, &request, &cancel, &mut forward).map_err(hub_error)?;
        let model = catalog.get(&done.id)?;
        let _ = on_event.send(DownloadEvent::Finished {
            model: model.clone(),
        });
        Ok(model)
    })
    .await;
    downloads.end(&repo_id);
    result
}

#[tauri::command]
pub fn cancel_download(repo_id: String, downloads: State<'_, Downloads>) {
    downloads.cancel(&repo_id);
}

fn download_event(progress: hub::DownloadProgress) -> DownloadEvent {
    match progress {
        hub::DownloadProgress::Listing { repo_id } => DownloadEvent::Listing { repo_id },
        hub::DownloadProgress::Started {
            repo_id,
            files,
            total_bytes,
            resumed_bytes,
        } => DownloadEvent::Started {
            repo_id,
            files,
            total_bytes,
            resumed_bytes,
        },
        hub::DownloadProgress::Progress {
            file,
            done_bytes,
            total_bytes,
        } => DownloadEvent::Progress {
            file,
            done_bytes,
            total_bytes,
        },
        hub::DownloadProgress::Verifying { file } => DownloadEvent::Verifying { file },
    }
}

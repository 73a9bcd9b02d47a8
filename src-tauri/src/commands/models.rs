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

/// What the page hears while a download runs (docs/app.md `DownloadEvent`): the downloader's
/// own progress events (already `{ kind, ... }` objects), then `finished` with the model.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum DownloadEvent {
    Finished {
        model: ModelEntry,
    },
    #[serde(untagged)]
    Progress(hub::DownloadProgress),
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
            let _ = on_event.send(DownloadEvent::Progress(p));
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::Value;
    use tauri::ipc::{Channel, InvokeResponseBody};
    use tauri::test::{mock_builder, mock_context, noop_assets};

    use super::*;
    use crate::hub::test_server::{FakeRepo, TempDir, TestServer};

    const COMMIT: &str = "89abcdef0123456789abcdef0123456789abcdef";

    /// The tiny LLaVA fixture, served by a loopback server in the Hub's layout.
    fn serve_fixture(root: &std::path::Path) -> TestServer {
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/models/llava-tiny");
        let files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&fixture)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().unwrap().is_file())
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        let refs: Vec<(&str, Vec<u8>)> =
            files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
        TestServer::start(vec![FakeRepo::create(
            root,
            "acme/llava-tiny",
            COMMIT,
            &refs,
        )])
    }

    /// A mock-runtime app whose Hub is a loopback server holding the fixture as `acme/llava-tiny`.
    fn app_with_hub(scratch: &TempDir) -> (tauri::App<tauri::test::MockRuntime>, TestServer) {
        let server = serve_fixture(&scratch.path().join("hub"));
        let app = crate::builder(mock_builder(), None)
            .build(mock_context(noop_assets()))
            .unwrap();
        crate::manage_state(app.handle(), &scratch.path().join("data")).unwrap();
        let settings = app.state::<SettingsState>();
        settings
            .set(crate::settings::Settings {
                hub_url: server.base_url(),
                ..settings.get()
            })
            .unwrap();
        (app, server)
    }

    #[test]
    fn the_download_command_installs_a_runnable_model_with_progress() {
        let scratch = TempDir::new("download-command");
        let (app, server) = app_with_hub(&scratch);

        let events = Arc::new(Mutex::new(Vec::<Value>::new()));
        let sink = events.clone();
        let channel = Channel::new(move |body: InvokeResponseBody| {
            sink.lock().unwrap().push(body.deserialize().unwrap());
            Ok(())
        });
        let model = tauri::async_runtime::block_on(download_model(
            app.handle().clone(),
            "acme/llava-tiny".into(),
            None,
            channel,
        ))
        .unwrap();
        assert_eq!(model.id, "acme--llava-tiny");
        assert_eq!(model.name, "acme/llava-tiny");
        assert_eq!(
            (model.source.as_str(), model.runnable),
            ("downloaded", true)
        );
        assert_eq!(model.family, "LLaVA-1.5");
        let events = events.lock().unwrap();
        let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds.first(), Some(&"listing"));
        assert_eq!(kinds.last(), Some(&"finished"));
        assert!(kinds.contains(&"progress") && kinds.contains(&"verifying"));
        let listed = downloaded_and_imported(&app);
        assert_eq!(listed, vec![model]);
        // The download is no longer registered as running.
        drop(server);
        assert!(app.state::<Downloads>().running.lock().unwrap().is_empty());
    }

    #[test]
    fn an_unknown_repo_is_a_not_found_error_in_words() {
        let scratch = TempDir::new("download-missing");
        let (app, _server) = app_with_hub(&scratch);
        let error = tauri::async_runtime::block_on(download_model(
            app.handle().clone(),
            "acme/nothing-here".into(),
            None,
            Channel::new(|_| Ok(())),
        ))
        .unwrap_err();
        assert_eq!(error.code, "NOT_FOUND");
        assert!(
            error.message.contains("acme/nothing-here") || error.message.contains("not found"),
            "{}",
            error.message
        );
        assert!(downloaded_and_imported(&app).is_empty());
    }

    /// The listed models but the built-in demo one.
    fn downloaded_and_imported(app: &tauri::App<tauri::test::MockRuntime>) -> Vec<ModelEntry> {
        let mut listed = app.state::<Catalog>().list().unwrap();
        listed.retain(|m| m.source != crate::demo::BUILTIN_SOURCE);
        listed
    }
}

//! The built-in demo's sample scenes (`crate::demo`), for the empty chat's samples panel.

use tauri::{AppHandle, Manager, Runtime};

use crate::commands::blocking;
use crate::commands::chat::ChatStore;
use crate::demo::{Demo, DemoSample};
use crate::error::AppResult;

/// The sample scenes with their images staged (attach them by id, as a dropped image) and
/// their suggested questions.
#[tauri::command]
pub async fn demo_samples<R: Runtime>(app: AppHandle<R>) -> AppResult<Vec<DemoSample>> {
    blocking(move || {
        let store = app.state::<ChatStore>();
        app.state::<Demo>().samples(&mut store.lock())
    })
    .await
}

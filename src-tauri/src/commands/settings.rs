//! Settings and the devices a model can run on.

use tauri::State;

use crate::commands::blocking;
use crate::error::AppResult;
use crate::settings::{Settings, SettingsState};

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfo {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub backend: String,
}

#[tauri::command]
pub fn get_settings(settings: State<'_, SettingsState>) -> Settings {
    settings.get()
}

#[tauri::command]
pub fn set_settings(settings: Settings, state: State<'_, SettingsState>) -> AppResult<Settings> {
    state.set(settings)
}

/// Every GPU adapter (`gpu:<index>`), then the CPU.
#[tauri::command]
pub async fn list_devices() -> AppResult<Vec<DeviceInfo>> {
    blocking(|| {
        let mut devices: Vec<DeviceInfo> = iris_models::device::adapters()
            .into_iter()
            .enumerate()
            .map(|(i, a)| DeviceInfo {
                id: format!("gpu:{i}"),
                name: a.name,
                kind: a.device_type,
                backend: a.backend,
            })
            .collect();
        devices.push(DeviceInfo {
            id: "cpu".into(),
            name: "CPU".into(),
            kind: "Cpu".into(),
            backend: "burn flex".into(),
        });
        Ok(devices)
    })
    .await
}

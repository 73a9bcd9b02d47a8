//! The user's settings (docs/app.md `Settings`), kept as `settings.json` in the app data folder.
//! A missing or unreadable file gives the defaults; saving validates first and writes atomically.

use std::path::{Path, PathBuf};
use std::sync::RwLock;

use iris_models::device::{DeviceChoice, Precision};
use iris_models::generate::Sampling;

use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// `"auto"`, `"cpu"` or `"gpu:<index>"` (an index into `list_devices`).
    pub device: String,
    pub precision: Precision,
    pub max_new_tokens: usize,
    /// 0 means greedy decoding.
    pub temperature: f32,
    /// 0 means off.
    pub top_k: usize,
    /// 1 means off.
    pub top_p: f32,
    pub seed: Option<u64>,
    pub theme: Theme,
    pub hub_url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            device: "auto".into(),
            precision: Precision::F32,
            max_new_tokens: 256,
            temperature: 0.0,
            top_k: 0,
            top_p: 1.0,
            seed: None,
            theme: Theme::System,
            hub_url: "https://huggingface.co".into(),
        }
    }
}

/// Where a model runs, as the device setting names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceSetting {
    Choice(DeviceChoice),
    Adapter(usize),
}

impl Settings {
    /// Checks every field; the error names the field in words.
    pub fn validate(&self) -> AppResult<()> {
        self.device_setting()?;
        if !(1..=4096).contains(&self.max_new_tokens) {
            return Err(AppError::invalid_input(
                "Max new tokens must be between 1 and 4096.",
            ));
        }
        if !(0.0..=5.0).contains(&self.temperature) {
            return Err(AppError::invalid_input(
                "Temperature must be between 0 and 5.",
            ));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(AppError::invalid_input(
                "Top-p must be above 0 and at most 1.",
            ));
        }
        let url = self.hub_url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(AppError::invalid_input(
                "The Hub URL must start with https:// (or http:// for a local mirror).",
            ));
        }
        Ok(())
    }

    pub fn device_setting(&self) -> AppResult<DeviceSetting> {
        match self.device.as_str() {
            "auto" => Ok(DeviceSetting::Choice(DeviceChoice::Auto)),
            "cpu" => Ok(DeviceSetting::Choice(DeviceChoice::Cpu)),
            other => other
                .strip_prefix("gpu:")
                .and_then(|i| i.parse().ok())
                .map(DeviceSetting::Adapter)
                .ok_or_else(|| {
                    AppError::invalid_input(format!(
                        "Unknown device `{other}`: choose Auto, CPU or one of the listed GPUs."
                    ))
                }),
        }
    }

    /// The decoding rule these settings describe.
    pub fn sampling(&self) -> Sampling {
        if self.temperature <= 0.0 {
            Sampling::Greedy
        } else {
            Sampling::Sample {
                temperature: self.temperature,
                top_k: self.top_k,
                top_p: self.top_p,
                // Without a seed each answer draws anew.
                seed: self.seed.unwrap_or_else(fresh_seed),
            }
        }
    }
}

fn fresh_seed() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// The settings file and its current contents.
pub struct SettingsState {
    path: PathBuf,
    current: RwLock<Settings>,
}

impl SettingsState {
    /// Reads `settings.json` in `dir`; a missing or damaged file gives the defaults (and is
    /// replaced on the next save).
    pub fn load(dir: &Path) -> Self {
        let path = dir.join("settings.json");
        let current = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Settings>(&bytes).ok())
            .filter(|s| s.validate().is_ok())
            .unwrap_or_default();
        Self {
            path,
            current: RwLock::new(current),
        }
    }

    pub fn get(&self) -> Settings {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set(&self, settings: Settings) -> AppResult<Settings> {
        settings.validate()?;
        let json = serde_json::to_vec_pretty(&settings).map_err(AppError::storage)?;
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, json)
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .map_err(AppError::storage)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = settings.clone();
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_setting_parses_the_three_forms() {
        let with = |device: &str| Settings {
            device: device.into(),
            ..Settings::default()
        };
        assert_eq!(
            with("cpu").device_setting().unwrap(),
            DeviceSetting::Choice(DeviceChoice::Cpu)
        );
        assert_eq!(
            with("gpu:2").device_setting().unwrap(),
            DeviceSetting::Adapter(2)
        );
        assert_eq!(
            with("gpu:x").device_setting().unwrap_err().code,
            "INVALID_INPUT"
        );
    }

    #[test]
    fn sampling_follows_temperature() {
        assert_eq!(Settings::default().sampling(), Sampling::Greedy);
        let hot = Settings {
            temperature: 0.7,
            top_k: 40,
            top_p: 0.9,
            seed: Some(3),
            ..Settings::default()
        };
        assert_eq!(
            hot.sampling(),
            Sampling::Sample {
                temperature: 0.7,
                top_k: 40,
                top_p: 0.9,
                seed: 3
            }
        );
    }
}

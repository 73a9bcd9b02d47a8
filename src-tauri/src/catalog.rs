//! The models folder: one Hugging Face checkpoint folder per model (docs/app.md `ModelEntry`).
//! Listing reads only configs and safetensors headers, so it is fast even for large models;
//! importing validates a folder the same way and copies it in.

use std::path::{Path, PathBuf};

use iris_models::processor::Processor;
use iris_models::weights::WeightFiles;

use crate::error::{AppError, AppResult};

/// Written into each model folder by Iris: where the model came from.
pub const SOURCE_FILE: &str = "iris-source.json";

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelEntry {
    pub id: String,
    pub name: String,
    pub path: String,
    pub family: String,
    pub model_type: String,
    pub size_bytes: u64,
    pub dtype: String,
    pub parameters: u64,
    pub runnable: bool,
    pub problem: Option<String>,
    pub source: String,
}

/// What `iris-source.json` holds (a download writes more fields; these are the ones we read).
/// Field names are camelCase, as the downloader's `IrisSource` writes them.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SourceNote {
    source: String,
    name: Option<String>,
    repo_id: Option<String>,
    imported_from: Option<String>,
}

/// The user-facing name of a checkpoint family.
pub fn family_name(model_type: &str) -> &'static str {
    match model_type {
        "llava" => "LLaVA-1.5",
        "llava_onevision" => "LLaVA-OneVision",
        "blip-2" => "BLIP-2",
        "instructblip" => "InstructBLIP",
        "idefics3" => "Idefics3 / SmolVLM",
        "qwen2_vl" => "Qwen2-VL",
        _ => "unknown",
    }
}

/// The models folder.
pub struct Catalog {
    dir: PathBuf,
}

impl Catalog {
    pub fn new(dir: PathBuf) -> AppResult<Self> {
        std::fs::create_dir_all(&dir).map_err(AppError::storage)?;
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every model folder, sorted by name; folders that are not usable are listed with the
    /// reason, so the user sees what is wrong instead of a model silently missing.
    pub fn list(&self) -> AppResult<Vec<ModelEntry>> {
        let mut entries = Vec::new();
        for item in std::fs::read_dir(&self.dir).map_err(AppError::storage)? {
            let item = item.map_err(AppError::storage)?;
            let id = item.file_name().to_string_lossy().into_owned();
            if id.starts_with('.') || !item.path().is_dir() {
                continue;
            }
            entries.push(describe(&id, &item.path()));
        }
        entries.sort_by_key(|a| a.name.to_lowercase());
        Ok(entries)
    }

    /// The folder of model `id`, which must exist.
    pub fn path_of(&self, id: &str) -> AppResult<PathBuf> {
        let valid = !id.is_empty() && !id.starts_with('.') && !id.contains(['/', '\\']);
        let path = self.dir.join(id);
        if valid && path.is_dir() {
            Ok(path)
        } else {
            Err(AppError::plain(
                "MODEL_NOT_FOUND",
                "This chat's model is no longer installed. Pick another model for it.",
            ))
        }
    }

    pub fn get(&self, id: &str) -> AppResult<ModelEntry> {
        Ok(describe(id, &self.path_of(id)?))
    }

    /// Validates `source` as a checkpoint Iris can run, then copies its files in (hard links
    /// where the file system allows). A folder that is not usable is refused, with the reason.
    pub fn import(&self, source: &Path) -> AppResult<ModelEntry> {
        let probe = describe("", source);
        if let Some(problem) = &probe.problem {
            return Err(AppError::new(
                "INVALID_MODEL",
                format!("{} cannot be imported: {problem}", source.display()),
                None,
            ));
        }
        let base = source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .unwrap_or_else(|| "model".to_owned());
        let id = self.free_id(&base);
        let staging = self.dir.join(format!(".import-{id}"));
        copy_files(source, &staging)
            .and_then(|()| {
                let note = SourceNote {
                    source: "imported".into(),
                    name: Some(base.clone()),
                    imported_from: Some(source.display().to_string()),
                    ..SourceNote::default()
                };
                let json = serde_json::to_vec_pretty(&note).map_err(std::io::Error::other)?;
                std::fs::write(staging.join(SOURCE_FILE), json)
            })
            .and_then(|()| std::fs::rename(&staging, self.dir.join(&id)))
            .map_err(|e| {
                let _ = std::fs::remove_dir_all(&staging);
                AppError::storage(e)
            })?;
        self.get(&id)
    }

    /// Deletes model `id`'s folder; the built-in demo model is refused (see `crate::demo`).
    pub fn delete(&self, id: &str) -> AppResult<()> {
        let path = self.path_of(id)?;
        if read_note(&path).source == crate::demo::BUILTIN_SOURCE {
            return Err(AppError::invalid_input(
                "The built-in demo model cannot be deleted: it comes with Iris and takes only a few megabytes.",
            ));
        }
        std::fs::remove_dir_all(path).map_err(AppError::storage)
    }

    /// `base`, or `base-2`, `base-3`, … whichever is not taken.
    fn free_id(&self, base: &str) -> String {
        let clean: String = base
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        (1..)
            .map(|n| {
                if n == 1 {
                    clean.clone()
                } else {
                    format!("{clean}-{n}")
                }
            })
            .find(|id| !self.dir.join(id).exists())
            .unwrap_or(clean)
    }
}

/// Copies the regular files at the top of `from` (a checkpoint keeps everything there).
fn copy_files(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for item in std::fs::read_dir(from)? {
        let item = item?;
        if item.file_type()?.is_file() || item.path().is_file() {
            let target = to.join(item.file_name());
            if std::fs::hard_link(item.path(), &target).is_err() {
                std::fs::copy(item.path(), &target)?;
            }
        }
    }
    Ok(())
}

/// A folder's `iris-source.json`; the default when it is missing or unreadable.
fn read_note(dir: &Path) -> SourceNote {
    std::fs::read(dir.join(SOURCE_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Reads a folder's config, tokenizer and weight headers into a [`ModelEntry`].
pub fn describe(id: &str, dir: &Path) -> ModelEntry {
    let note = read_note(dir);
    let mut entry = ModelEntry {
        id: id.to_owned(),
        name: note
            .name
            .clone()
            .or(note.repo_id.clone())
            .unwrap_or_else(|| id.to_owned()),
        path: dir.display().to_string(),
        family: "unknown".into(),
        model_type: String::new(),
        size_bytes: 0,
        dtype: String::new(),
        parameters: 0,
        runnable: false,
        problem: None,
        source: match (note.source.is_empty(), note.repo_id.is_some()) {
            (false, _) => note.source,
            (true, true) => "downloaded".into(),
            (true, false) => "imported".into(),
        },
    };
    match Processor::from_dir(dir) {
        Ok(processor) => {
            entry.model_type = processor.config().model_type().to_owned();
            entry.family = family_name(&entry.model_type).to_owned();
        }
        Err(e) => {
            entry.problem = Some(AppError::invalid_model(&e).message);
            return entry;
        }
    }
    match WeightFiles::open(dir).and_then(|w| w.summary()) {
        Ok(summary) => {
            entry.size_bytes = summary.bytes;
            entry.parameters = summary.parameters;
            entry.dtype = match summary.dtypes.len() {
                1 => summary.dtypes.into_iter().next().unwrap_or_default(),
                _ => "mixed".into(),
            };
            entry.runnable = true;
        }
        Err(e) => {
            entry.problem = Some(format!(
                "The weight files are missing, incomplete or damaged ({e})."
            ));
        }
    }
    entry
}

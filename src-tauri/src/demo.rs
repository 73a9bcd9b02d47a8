//! The built-in demo model, "Iris shapes": a small BLIP-2 that Iris trained on synthetic scenes
//! of coloured shapes and printed words, and its sample scenes, all embedded in the binary.
//!
//! At start-up [`Demo::install`] writes the checkpoint into the models folder as `iris-shapes/`
//! (or `iris-shapes-builtin/` when the user has a folder of their own by the first name). The
//! folder Iris owns carries a marker: its `iris-source.json` says `"source": "builtin"` and
//! holds the content hash of the embedded files. A copy whose hash or file sizes differ is
//! replaced; a folder without the marker is never touched. A copy is written into a hidden
//! staging folder, marker last, then renamed into place, so an interrupted install leaves
//! nothing that looks like a model (the hidden leftovers are removed at the next start).

use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

use iris_models::demo::samples::{Sample, SampleQuestion};
use sha2::{Digest, Sha256};

use crate::catalog::{Catalog, SOURCE_FILE};
use crate::error::{AppError, AppResult};
use crate::store::{ImageRef, Store};

/// The folder name (model id) the demo model is installed under.
pub const MODEL_ID: &str = "iris-shapes";
/// The folder name used when a folder of the user's is already called [`MODEL_ID`].
pub const FALLBACK_ID: &str = "iris-shapes-builtin";
/// Its display name in the app.
pub const MODEL_NAME: &str = "Iris shapes — built-in demo";
/// The `source` of the installed copy's `iris-source.json` (docs/app.md `ModelEntry.source`).
pub const BUILTIN_SOURCE: &str = "builtin";

macro_rules! demo_file {
    ($path:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../models/demo/",
            $path
        ))
    };
}

/// The checkpoint, file by file, as written into its folder.
pub const CHECKPOINT_FILES: &[(&str, &[u8])] = &[
    ("config.json", demo_file!("iris-shapes/config.json")),
    (
        "generation_config.json",
        demo_file!("iris-shapes/generation_config.json"),
    ),
    (
        "model.safetensors",
        demo_file!("iris-shapes/model.safetensors"),
    ),
    (
        "preprocessor_config.json",
        demo_file!("iris-shapes/preprocessor_config.json"),
    ),
    (
        "processor_config.json",
        demo_file!("iris-shapes/processor_config.json"),
    ),
    (
        "special_tokens_map.json",
        demo_file!("iris-shapes/special_tokens_map.json"),
    ),
    ("tokenizer.json", demo_file!("iris-shapes/tokenizer.json")),
    (
        "tokenizer_config.json",
        demo_file!("iris-shapes/tokenizer_config.json"),
    ),
];

/// The sample scenes' index: `[{ file, questions: [{ question, answer }] }]`.
pub const SAMPLES_JSON: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../models/demo/samples/samples.json"
));

/// The sample scenes' PNG files, by the names `samples.json` uses.
pub const SAMPLE_IMAGES: &[(&str, &[u8])] = &[
    ("scene-1.png", demo_file!("samples/scene-1.png")),
    ("scene-2.png", demo_file!("samples/scene-2.png")),
    ("scene-3.png", demo_file!("samples/scene-3.png")),
    ("scene-4.png", demo_file!("samples/scene-4.png")),
    ("scene-5.png", demo_file!("samples/scene-5.png")),
    ("scene-6.png", demo_file!("samples/scene-6.png")),
];

/// `sha256:<hex>` over every checkpoint file's name, length and bytes (computed once a run).
pub fn content_hash() -> &'static str {
    static HASH: LazyLock<String> = LazyLock::new(|| {
        let mut hasher = Sha256::new();
        for (name, bytes) in CHECKPOINT_FILES {
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        }
        format!("sha256:{:x}", hasher.finalize())
    });
    &HASH
}

/// The installed copy's `iris-source.json`: what the catalog reads, plus the content hash.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Marker {
    source: String,
    name: String,
    content_hash: String,
}

/// A sample scene as the page receives it (docs/app.md `DemoSample`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoSample {
    /// "Scene 1", …
    pub name: String,
    /// Staged like a dropped image: the page shows its thumbnail and attaches it by id.
    pub image: ImageRef,
    /// Suggested questions, each with the answer the scene implies.
    pub questions: Vec<SampleQuestion>,
}

/// What an install failed on.
#[derive(Debug, thiserror::Error)]
#[error("installing the built-in demo model at {path}: {source}")]
pub struct InstallError {
    path: PathBuf,
    source: std::io::Error,
}

/// The managed demo state: where the model was installed, and the samples staged this run.
pub struct Demo {
    model_id: Option<String>,
    staged: Mutex<Vec<DemoSample>>,
}

impl Demo {
    /// Installs (or repairs) the demo model in `models_dir`. Never fails: a problem is logged
    /// and the app runs without the demo model.
    pub fn install(models_dir: &Path) -> Self {
        let model_id = match install(models_dir) {
            Ok(id) => id,
            Err(e) => {
                tracing::error!("{e}; Iris runs without its demo model");
                None
            }
        };
        Self {
            model_id,
            staged: Mutex::new(Vec::new()),
        }
    }

    /// The demo model's id, when it is installed now (its folder may have been removed by hand
    /// since start-up; it comes back at the next start).
    pub fn model_id(&self, catalog: &Catalog) -> Option<String> {
        let id = self.model_id.as_deref()?;
        catalog.path_of(id).ok().map(|_| id.to_owned())
    }

    /// The sample scenes, their images staged in `store`. Staged once a run and handed out
    /// again while every image is still stored (deleting a chat may remove one).
    pub fn samples(&self, store: &mut Store) -> AppResult<Vec<DemoSample>> {
        let mut staged = self.staged.lock().unwrap_or_else(|e| e.into_inner());
        let stored = |s: &DemoSample| store.has_image(&s.image.id).unwrap_or(false);
        if !staged.is_empty() && staged.iter().all(stored) {
            return Ok(staged.clone());
        }
        let fresh = sample_index()?
            .into_iter()
            .map(|sample| stage_sample(store, sample))
            .collect::<AppResult<Vec<_>>>()?;
        *staged = fresh.clone();
        Ok(fresh)
    }
}

/// The embedded `samples.json`.
pub fn sample_index() -> AppResult<Vec<Sample>> {
    serde_json::from_str(SAMPLES_JSON).map_err(|e| {
        AppError::new(
            "GENERATION_FAILED",
            "The built-in sample scenes are damaged.",
            Some(e.to_string()),
        )
    })
}

fn stage_sample(store: &mut Store, sample: Sample) -> AppResult<DemoSample> {
    let bytes = SAMPLE_IMAGES
        .iter()
        .find(|(file, _)| *file == sample.file)
        .map(|(_, bytes)| *bytes)
        .ok_or_else(|| {
            AppError::new(
                "NOT_FOUND",
                "A built-in sample scene is missing.",
                Some(format!("samples.json names {}", sample.file)),
            )
        })?;
    let checked = crate::images::check(&sample.file, bytes)?;
    let image = crate::images::stage(store, &sample.file, bytes, &checked)?;
    Ok(DemoSample {
        name: display_name(&sample.file),
        image,
        questions: sample.questions,
    })
}

/// "scene-1.png" → "Scene 1".
fn display_name(file: &str) -> String {
    let stem = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
    let words = stem.replace(['-', '_'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => words,
    }
}

/// What is at one of the demo's candidate folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Missing,
    /// Iris's copy, identical to the embedded one.
    Current,
    /// Iris's copy, from another version or damaged.
    Outdated,
    /// Something without the marker: the user's.
    Foreign,
}

fn slot(dir: &Path) -> Slot {
    if std::fs::symlink_metadata(dir).is_err() {
        return Slot::Missing;
    }
    let marker: Option<Marker> = std::fs::read(dir.join(SOURCE_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    match marker {
        Some(m) if m.source == BUILTIN_SOURCE && !m.content_hash.is_empty() => {
            let intact = CHECKPOINT_FILES.iter().all(|(name, bytes)| {
                std::fs::metadata(dir.join(name)).is_ok_and(|m| m.len() == bytes.len() as u64)
            });
            if intact && m.content_hash == content_hash() {
                Slot::Current
            } else {
                Slot::Outdated
            }
        }
        _ => Slot::Foreign,
    }
}

/// Puts the demo model in place; returns its id, or `None` when both names are the user's.
fn install(models_dir: &Path) -> Result<Option<String>, InstallError> {
    remove_leftovers(models_dir);
    let slots = [MODEL_ID, FALLBACK_ID].map(|id| (id, slot(&models_dir.join(id))));
    if slots[0].1 == Slot::Foreign {
        tracing::warn!(
            "{} is not Iris's built-in copy (it has no marker): left untouched; the demo model goes to {FALLBACK_ID}",
            models_dir.join(MODEL_ID).display()
        );
    }
    // Iris's own copy first (so there is only ever one), else the first free name.
    let chosen = slots
        .iter()
        .find(|(_, s)| matches!(s, Slot::Current | Slot::Outdated))
        .or_else(|| slots.iter().find(|(_, s)| *s == Slot::Missing));
    let Some(&(id, state)) = chosen else {
        tracing::warn!(
            "{MODEL_ID} and {FALLBACK_ID} in {} are both folders of the user's: the demo model is not installed",
            models_dir.display()
        );
        return Ok(None);
    };
    if state != Slot::Current {
        write_copy(models_dir, id, state == Slot::Outdated)?;
        tracing::info!(
            "installed the built-in demo model in {}",
            models_dir.join(id).display()
        );
    }
    Ok(Some(id.to_owned()))
}

/// Hidden folders of interrupted installs, by this or another run.
fn remove_leftovers(models_dir: &Path) {
    let Ok(items) = std::fs::read_dir(models_dir) else {
        return;
    };
    for item in items.flatten() {
        let name = item.file_name().to_string_lossy().into_owned();
        let ours = name.starts_with(&format!(".{MODEL_ID}"))
            && (name.contains(".install-") || name.contains(".old-"));
        if ours && let Err(e) = std::fs::remove_dir_all(item.path()) {
            tracing::warn!("could not remove {}: {e}", item.path().display());
        }
    }
}

/// Writes the checkpoint into a hidden staging folder, marker last, then renames it to `id`
/// (moving an outdated copy aside first, and deleting it after).
fn write_copy(models_dir: &Path, id: &str, replace: bool) -> Result<(), InstallError> {
    let pid = std::process::id();
    let staging = models_dir.join(format!(".{id}.install-{pid}"));
    let target = models_dir.join(id);
    let fail = |path: &Path| {
        let path = path.to_owned();
        move |source| InstallError { path, source }
    };
    let written = fill_staging(&staging);
    let moved = written.map_err(fail(&staging)).and_then(|()| {
        if !replace {
            return std::fs::rename(&staging, &target).map_err(fail(&target));
        }
        let old = models_dir.join(format!(".{id}.old-{pid}"));
        std::fs::rename(&target, &old).map_err(fail(&target))?;
        if let Err(e) = std::fs::rename(&staging, &target) {
            let _ = std::fs::rename(&old, &target);
            return Err(fail(&target)(e));
        }
        if let Err(e) = std::fs::remove_dir_all(&old) {
            tracing::warn!("could not remove the old copy {}: {e}", old.display());
        }
        Ok(())
    });
    if moved.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    moved
}

fn fill_staging(staging: &Path) -> std::io::Result<()> {
    if let Err(e) = std::fs::remove_dir_all(staging)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        return Err(e);
    }
    std::fs::create_dir_all(staging)?;
    for (name, bytes) in CHECKPOINT_FILES {
        write_synced(&staging.join(name), bytes)?;
    }
    let marker = Marker {
        source: BUILTIN_SOURCE.into(),
        name: MODEL_NAME.into(),
        content_hash: content_hash().into(),
    };
    let json = serde_json::to_vec_pretty(&marker).map_err(std::io::Error::other)?;
    write_synced(&staging.join(SOURCE_FILE), &json)
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_has_its_image_and_questions() {
        let samples = sample_index().unwrap();
        assert_eq!(samples.len(), SAMPLE_IMAGES.len());
        for sample in &samples {
            assert!(
                SAMPLE_IMAGES.iter().any(|(file, _)| *file == sample.file),
                "{}",
                sample.file
            );
            assert!(!sample.questions.is_empty(), "{}", sample.file);
        }
    }

    #[test]
    fn sample_names_read_as_words() {
        assert_eq!(display_name("scene-1.png"), "Scene 1");
        assert_eq!(display_name("x"), "X");
    }
}

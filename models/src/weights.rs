//! Safetensors checkpoints: one file or sharded with `model.safetensors.index.json`, memory
//! mapped, with HF tensor names. f32/f16/bf16 on disk are converted to f32 at load (WGSL has no
//! bf16). Loading collects every problem — missing, wrongly shaped, undecodable and unexpected
//! tensors — and reports them all at once, so a truncated or mismatched checkpoint is diagnosed
//! in one go.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::tensor::{DType, TensorData};
use memmap2::Mmap;
use safetensors::{Dtype, SafeTensors, tensor::Metadata};

/// Errors opening or reading checkpoint weights.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("{0}: no model.safetensors or model.safetensors.index.json in this folder")]
    NoWeights(PathBuf),
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a valid safetensors file (truncated or corrupt?): {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("{path}: bad shard index: {message}")]
    BadIndex { path: PathBuf, message: String },
    #[error("the weights in {dir} do not match the model's config:\n{}", .problems.join("\n"))]
    Mismatch { dir: PathBuf, problems: Vec<String> },
}

/// What [`WeightFiles::summary`] reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeightSummary {
    pub bytes: u64,
    pub parameters: u64,
    /// On-disk dtypes in lower case (`"f32"`, `"bf16"`, …).
    pub dtypes: BTreeSet<String>,
}

struct Shard {
    path: PathBuf,
    mmap: Mmap,
    data_start: usize,
    metadata: Metadata,
}

/// The memory-mapped safetensors files of one checkpoint.
pub struct WeightFiles {
    dir: PathBuf,
    shards: Vec<Shard>,
    /// canonical (Hub-layout) tensor name -> (shard index, name stored in the file)
    names: BTreeMap<String, (usize, String)>,
}

/// Key prefixes of the layout transformers >= 4.52 uses in memory (and some re-saved
/// checkpoints use on disk), mapped to the Hub layout the model code asks for.
const LAYOUT_ALIASES: &[(&str, &str)] = &[
    ("model.language_model.", "language_model.model."),
    ("model.vision_tower.", "vision_tower."),
    ("model.multi_modal_projector.", "multi_modal_projector."),
    ("model.image_newline", "image_newline"),
    ("lm_head.", "language_model.lm_head."),
];

/// The Hub-layout name of a stored tensor name.
fn canonical_name(stored: &str) -> String {
    LAYOUT_ALIASES
        .iter()
        .find_map(|(from, to)| stored.strip_prefix(from).map(|rest| format!("{to}{rest}")))
        .unwrap_or_else(|| stored.to_owned())
}

#[derive(serde::Deserialize)]
struct ShardIndex {
    weight_map: BTreeMap<String, String>,
}

impl WeightFiles {
    /// Opens `model.safetensors`, or the shards listed by `model.safetensors.index.json`.
    pub fn open(dir: &Path) -> Result<Self, WeightsError> {
        let index_path = dir.join("model.safetensors.index.json");
        let single = dir.join("model.safetensors");
        let files: Vec<PathBuf> = if index_path.exists() {
            let bytes = std::fs::read(&index_path).map_err(|source| WeightsError::Io {
                path: index_path.clone(),
                source,
            })?;
            let index: ShardIndex =
                serde_json::from_slice(&bytes).map_err(|e| WeightsError::BadIndex {
                    path: index_path.clone(),
                    message: e.to_string(),
                })?;
            let unique: BTreeSet<&String> = index.weight_map.values().collect();
            unique.into_iter().map(|f| dir.join(f)).collect()
        } else if single.exists() {
            vec![single]
        } else {
            return Err(WeightsError::NoWeights(dir.to_owned()));
        };
        let mut shards = Vec::with_capacity(files.len());
        let mut names = BTreeMap::new();
        for path in files {
            let shard = Shard::open(path)?;
            for name in shard.metadata.tensors().keys() {
                names.insert(canonical_name(name), (shards.len(), name.clone()));
            }
            shards.push(shard);
        }
        Ok(Self {
            dir: dir.to_owned(),
            shards,
            names,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every tensor name in the checkpoint.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.keys().map(String::as_str)
    }

    /// Bytes on disk, parameter count and dtypes of the checkpoint, read from the headers only;
    /// an error names the first file whose data ends before its header says (a cut download).
    pub fn summary(&self) -> Result<WeightSummary, WeightsError> {
        let mut summary = WeightSummary::default();
        for shard in &self.shards {
            summary.bytes += shard.mmap.len() as u64;
            let mut end = 0;
            for info in shard.metadata.tensors().values() {
                summary.parameters += info.shape.iter().product::<usize>() as u64;
                summary
                    .dtypes
                    .insert(format!("{:?}", info.dtype).to_lowercase());
                end = end.max(info.data_offsets.1);
            }
            if shard.data_start + end > shard.mmap.len() {
                return Err(WeightsError::Corrupt {
                    path: shard.path.clone(),
                    message: format!(
                        "the file is {} bytes but its tensors need {} (an interrupted copy or download?)",
                        shard.mmap.len(),
                        shard.data_start + end
                    ),
                });
            }
        }
        Ok(summary)
    }

    /// Shape and f32 values of a tensor, converted from its on-disk dtype.
    fn read_f32(&self, name: &str) -> Result<(Vec<usize>, Vec<f32>), String> {
        let (index, stored) = self.names.get(name).ok_or("missing")?;
        let shard = &self.shards[*index];
        let info = shard.metadata.info(stored).ok_or("missing")?;
        let (start, end) = info.data_offsets;
        let bytes = shard
            .mmap
            .get(shard.data_start + start..shard.data_start + end)
            .ok_or_else(|| {
                format!(
                    "{}: data lies beyond the end of the file",
                    shard.path.display()
                )
            })?;
        let values = match info.dtype {
            Dtype::F32 => bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Dtype::F16 => bytes
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Dtype::BF16 => bytes
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            other => {
                return Err(format!(
                    "dtype {other:?} is not supported (f32, f16, bf16 are)"
                ));
            }
        };
        Ok((info.shape.clone(), values))
    }
}

impl Shard {
    fn open(path: PathBuf) -> Result<Self, WeightsError> {
        let file = std::fs::File::open(&path).map_err(|source| WeightsError::Io {
            path: path.clone(),
            source,
        })?;
        // SAFETY: the file is opened read-only and the map is only read; a checkpoint that is
        // modified while Iris runs is outside what we can defend against (as in every mmap loader).
        let mmap = unsafe { Mmap::map(&file) }.map_err(|source| WeightsError::Io {
            path: path.clone(),
            source,
        })?;
        let (header_len, metadata) =
            SafeTensors::read_metadata(&mmap).map_err(|e| WeightsError::Corrupt {
                path: path.clone(),
                message: e.to_string(),
            })?;
        Ok(Self {
            path,
            mmap,
            data_start: 8 + header_len,
            metadata,
        })
    }
}

/// Loads named tensors onto a device, recording every problem instead of stopping at the first.
pub struct WeightLoader<'a> {
    files: &'a WeightFiles,
    device: Device,
    dtype: DType,
    used: BTreeSet<String>,
    ignored_prefixes: Vec<String>,
    problems: Vec<String>,
    on_progress: Option<&'a mut dyn FnMut(LoadProgress)>,
}

/// How far a [`WeightLoader`] has come: tensors read so far out of those in the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadProgress {
    pub tensors_read: usize,
    pub tensors_total: usize,
}

impl LoadProgress {
    /// The fraction done, in `0.0..=1.0`.
    pub fn fraction(&self) -> f32 {
        if self.tensors_total == 0 {
            1.0
        } else {
            (self.tensors_read as f32 / self.tensors_total as f32).min(1.0)
        }
    }
}

impl<'a> WeightLoader<'a> {
    /// A loader that puts every tensor on `device` as `dtype` (converted from the file's dtype).
    pub fn new(files: &'a WeightFiles, device: &Device, dtype: DType) -> Self {
        Self {
            files,
            device: device.clone(),
            dtype,
            used: BTreeSet::new(),
            ignored_prefixes: Vec::new(),
            problems: Vec::new(),
            on_progress: None,
        }
    }

    /// Calls `on_progress` after each tensor read (the app shows it as a load bar).
    pub fn with_progress(mut self, on_progress: &'a mut dyn FnMut(LoadProgress)) -> Self {
        self.on_progress = Some(on_progress);
        self
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Whether the checkpoint has a tensor of this name.
    pub fn contains(&self, name: &str) -> bool {
        self.files.names.contains_key(name)
    }

    /// Whether any tensor name starts with `prefix`.
    pub fn has_prefix(&self, prefix: &str) -> bool {
        self.files
            .names
            .range(prefix.to_owned()..)
            .next()
            .is_some_and(|(name, _)| name.starts_with(prefix))
    }

    /// The tensor `name`, which must have exactly `shape`. On a problem, records it and returns
    /// zeros so that loading can go on and report everything; [`finish`](Self::finish) fails.
    pub fn tensor<const D: usize>(&mut self, name: &str, shape: [usize; D]) -> Tensor<D> {
        let tensor = match self.read(name, &shape) {
            Ok(values) => Tensor::from_data(TensorData::new(values, shape), &self.device),
            Err(problem) => {
                self.problems.push(format!("  {name}: {problem}"));
                Tensor::zeros(shape, &self.device)
            }
        };
        if self.dtype == DType::F32 {
            tensor
        } else {
            tensor.cast(self.dtype)
        }
    }

    /// Like [`tensor`](Self::tensor) for a tensor that some checkpoints of a family omit.
    pub fn optional<const D: usize>(&mut self, name: &str, shape: [usize; D]) -> Option<Tensor<D>> {
        self.contains(name).then(|| self.tensor(name, shape))
    }

    /// Declares tensors under `prefix` as known and deliberately unused (e.g. a layer after the
    /// feature layer the connector reads), so they are not reported as unexpected.
    pub fn ignore_prefix(&mut self, prefix: impl Into<String>) {
        self.ignored_prefixes.push(prefix.into());
    }

    fn read(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, String> {
        if !self.contains(name) {
            return Err(format!("missing (expected shape {shape:?})"));
        }
        self.used.insert(name.to_owned());
        if let Some(report) = self.on_progress.as_mut() {
            report(LoadProgress {
                tensors_read: self.used.len(),
                tensors_total: self.files.names.len(),
            });
        }
        let (found, values) = self.files.read_f32(name)?;
        if found != shape {
            return Err(format!("shape {found:?}, expected {shape:?}"));
        }
        if values.len() != shape.iter().product::<usize>() {
            return Err("data length does not match the shape".into());
        }
        Ok(values)
    }

    /// Ends loading: an error listing every missing, mismatched and unexpected tensor, if any.
    pub fn finish(self) -> Result<(), WeightsError> {
        let mut problems = self.problems;
        let unexpected: Vec<&str> = self
            .files
            .names()
            .filter(|n| !self.used.contains(*n))
            .filter(|n| {
                !self
                    .ignored_prefixes
                    .iter()
                    .any(|p| n.starts_with(p.as_str()))
            })
            .collect();
        for name in unexpected {
            problems.push(format!("  {name}: unexpected (the config does not use it)"));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(WeightsError::Mismatch {
                dir: self.files.dir.clone(),
                problems,
            })
        }
    }
}

/// Named f32 tensors in a checkpoint's (HF) names and layout, written as one safetensors file:
/// what a trained model saves, each module writing the names its `load` reads.
#[derive(Default)]
pub struct WeightWriter {
    tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
}

impl WeightWriter {
    /// Records `tensor` (read back to the host as f32) under `name`.
    pub fn put<const D: usize>(&mut self, name: &str, tensor: Tensor<D>) {
        let shape = tensor.dims().to_vec();
        let values = tensor
            .inner()
            .cast(DType::F32)
            .into_data()
            .try_to_vec::<f32>()
            .expect("a cast f32 tensor reads back as f32");
        self.tensors.insert(name.to_owned(), (shape, values));
    }

    /// Records plain values under `name`.
    pub fn put_values(&mut self, name: &str, shape: Vec<usize>, values: Vec<f32>) {
        debug_assert_eq!(shape.iter().product::<usize>(), values.len());
        self.tensors.insert(name.to_owned(), (shape, values));
    }

    /// The recorded names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// Writes `model.safetensors` (f32, sorted names) at `path`.
    pub fn write(&self, path: &Path) -> Result<(), WeightsError> {
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = self
            .tensors
            .iter()
            .map(|(name, (shape, values))| {
                let view = safetensors::tensor::TensorView::new(
                    Dtype::F32,
                    shape.clone(),
                    bytemuck::cast_slice(values),
                )
                .expect("shape and data length agree");
                (name.clone(), view)
            })
            .collect();
        let metadata = std::collections::HashMap::from([("format".to_owned(), "pt".to_owned())]);
        safetensors::serialize_to_file(views, Some(metadata), path).map_err(|e| WeightsError::Io {
            path: path.to_owned(),
            source: std::io::Error::other(e.to_string()),
        })
    }
}

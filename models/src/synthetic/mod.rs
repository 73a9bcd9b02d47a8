//! Synthetic checkpoints: the real architecture, shapes, configs and tokenizer layout of a
//! supported checkpoint, with deterministic random weights, written on the fly so speed can be
//! measured (`iris bench --synthetic`) without downloading anything.
//!
//! The folder is a normal Hub-layout checkpoint that [`Session::load`](crate::session::Session::load)
//! reads like any other: `config.json`, `preprocessor_config.json`, `processor_config.json`,
//! `generation_config.json`, `tokenizer.json` (word-level, see [`tokenizer`]),
//! `tokenizer_config.json`, `chat_template.jinja` and `model.safetensors`. Its answers are
//! noise; its cost per token is the real model's.

mod arch;
mod configs;
mod tokenizer;
mod writer;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use writer::{Fill, TensorSpec};

/// The checkpoints a synthetic copy can be made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// llava-hf/llava-onevision-qwen2-0.5b-ov-hf (SigLIP so400m + Qwen2-0.5B, AnyRes).
    Qwen2_0_5b,
    /// HuggingFaceTB/SmolVLM-256M-Instruct (Idefics3: SigLIP base + SmolLM2-135M).
    Smolvlm256m,
    /// llava-hf/llava-1.5-7b-hf (CLIP ViT-L/14-336 + Vicuna-7B).
    Llava15_7b,
}

impl Preset {
    pub const ALL: [Preset; 3] = [Self::Qwen2_0_5b, Self::Smolvlm256m, Self::Llava15_7b];

    /// The Hub repository whose architecture the preset copies.
    pub fn hub_repo(self) -> &'static str {
        match self {
            Self::Qwen2_0_5b => "llava-hf/llava-onevision-qwen2-0.5b-ov-hf",
            Self::Smolvlm256m => "HuggingFaceTB/SmolVLM-256M-Instruct",
            Self::Llava15_7b => "llava-hf/llava-1.5-7b-hf",
        }
    }

    /// Idefics3's pixel-shuffle factor (SmolVLM-256M: 4, so 64 tokens per 512 px view).
    fn idefics3_scale_factor(self) -> usize {
        4
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Qwen2_0_5b => "qwen2-0.5b",
            Self::Smolvlm256m => "smolvlm-256m",
            Self::Llava15_7b => "llava-1.5-7b",
        })
    }
}

impl FromStr for Preset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.to_string() == s)
            .ok_or_else(|| {
                let names: Vec<String> = Self::ALL.iter().map(Preset::to_string).collect();
                format!("unknown preset `{s}` (expected {})", names.join(", "))
            })
    }
}

/// The dtype of the weights on disk (they are converted at load like a real checkpoint's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiskDtype {
    F32,
    #[default]
    F16,
    Bf16,
}

impl DiskDtype {
    pub fn bytes(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::F16 | Self::Bf16 => 2,
        }
    }

    fn safetensors_name(self) -> &'static str {
        match self {
            Self::F32 => "F32",
            Self::F16 => "F16",
            Self::Bf16 => "BF16",
        }
    }

    fn torch_name(self) -> &'static str {
        match self {
            Self::F32 => "float32",
            Self::F16 => "float16",
            Self::Bf16 => "bfloat16",
        }
    }

    /// Appends `values` in this dtype, little-endian.
    fn encode(self, values: &[f32], out: &mut Vec<u8>) {
        match self {
            Self::F32 => out.extend(values.iter().flat_map(|v| v.to_le_bytes())),
            Self::F16 => out.extend(
                values
                    .iter()
                    .flat_map(|&v| half::f16::from_f32(v).to_le_bytes()),
            ),
            Self::Bf16 => out.extend(
                values
                    .iter()
                    .flat_map(|&v| half::bf16::from_f32(v).to_le_bytes()),
            ),
        }
    }
}

impl fmt::Display for DiskDtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::F32 => "f32",
            Self::F16 => "f16",
            Self::Bf16 => "bf16",
        })
    }
}

impl FromStr for DiskDtype {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "f32" => Ok(Self::F32),
            "f16" => Ok(Self::F16),
            "bf16" => Ok(Self::Bf16),
            other => Err(format!(
                "unknown dtype `{other}` (expected f32, f16 or bf16)"
            )),
        }
    }
}

/// How to make a synthetic checkpoint. The overrides shrink it (for tests); widths, heads and
/// image sizes are always the real ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyntheticOptions {
    pub dtype: DiskDtype,
    /// Layers of the vision tower (default: the real count).
    pub vision_layers: Option<usize>,
    /// Layers of the language model (default: the real count).
    pub text_layers: Option<usize>,
    /// Vocabulary size (default: the real one); specials that do not fit move to its end.
    pub vocab_size: Option<usize>,
    /// Seed of the random weights.
    pub seed: u64,
}

impl SyntheticOptions {
    /// A folder name that tells these options apart: `smolvlm-256m-f16`, or
    /// `smolvlm-256m-f16-v1-t1-vocab1024` when shrunk.
    pub fn folder_name(&self, preset: Preset) -> String {
        let mut name = format!("{preset}-{}", self.dtype);
        for (tag, value) in [
            ("v", self.vision_layers),
            ("t", self.text_layers),
            ("vocab", self.vocab_size),
        ] {
            if let Some(v) = value {
                name.push_str(&format!("-{tag}{v}"));
            }
        }
        if self.seed != 0 {
            name.push_str(&format!("-seed{}", self.seed));
        }
        name
    }
}

/// Errors writing a synthetic checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum SyntheticError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("a {preset} vocabulary of {size} ids cannot hold its special tokens")]
    VocabularyTooSmall { preset: Preset, size: usize },
}

/// What was written (or found).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SyntheticCheckpoint {
    pub dir: PathBuf,
    pub parameters: u64,
    /// Size of `model.safetensors`.
    pub weight_bytes: u64,
    /// Whether a complete folder with the same options was there already.
    pub reused: bool,
}

/// Written last: a folder with this file and matching content is complete.
const MARKER: &str = "iris-synthetic.json";

/// The marker's content: everything that decides the folder's files.
fn marker(preset: Preset, options: &SyntheticOptions) -> serde_json::Value {
    serde_json::json!({
        "format": 1,
        "preset": preset.to_string(),
        "dtype": options.dtype.to_string(),
        "vision_layers": options.vision_layers,
        "text_layers": options.text_layers,
        "vocab_size": options.vocab_size,
        "seed": options.seed,
    })
}

/// The parameters and tensors of a preset with these options, without writing anything.
/// The language model's shapes of a preset, for measuring its decode-step operations one by one
/// (`iris bench --ops`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderShapes {
    pub hidden: usize,
    pub intermediate: usize,
    pub layers: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
    pub vocab: usize,
    /// Biases on the q/k/v projections (Qwen2).
    pub qkv_bias: bool,
}

impl Preset {
    /// The decoder's shapes at full size.
    pub fn decoder_shapes(self) -> DecoderShapes {
        let t = arch::Architecture::new(self, &SyntheticOptions::default()).text;
        DecoderShapes {
            hidden: t.hidden,
            intermediate: t.intermediate,
            layers: t.layers,
            heads: t.heads,
            kv_heads: t.kv_heads,
            head_dim: t.head_dim(),
            vocab: t.vocab,
            qkv_bias: t.kind == arch::TextKind::Qwen2,
        }
    }
}

pub fn tensors(preset: Preset, options: &SyntheticOptions) -> Vec<TensorSpec> {
    arch::Architecture::new(preset, options).tensors()
}

/// Writes the synthetic checkpoint into `dir` (created if missing; files of the same names are
/// replaced), calling `on_progress(bytes, total)` while the weights are written.
pub fn write_synthetic(
    preset: Preset,
    dir: &Path,
    options: &SyntheticOptions,
    on_progress: &mut dyn FnMut(u64, u64),
) -> Result<SyntheticCheckpoint, SyntheticError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| SyntheticError::Io { path, source }
    };
    let arch = arch::Architecture::new(preset, options);
    let vocab = tokenizer::Vocabulary::new(preset, arch.text.vocab).ok_or(
        SyntheticError::VocabularyTooSmall {
            preset,
            size: arch.text.vocab,
        },
    )?;
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let marker_path = dir.join(MARKER);
    if marker_path.exists() {
        std::fs::remove_file(&marker_path).map_err(io(&marker_path))?;
    }
    let mut texts: Vec<(&str, String)> = configs::json_files(&arch, &vocab, options.dtype)
        .into_iter()
        .map(|(name, value)| {
            let text = serde_json::to_string_pretty(&value).expect("JSON values serialise");
            (name, text + "\n")
        })
        .collect();
    texts.push((
        "chat_template.jinja",
        tokenizer::chat_template(preset).to_owned(),
    ));
    for (name, text) in texts {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    let tensors = arch.tensors();
    let weights = dir.join("model.safetensors");
    writer::write_safetensors(&weights, &tensors, options.dtype, options.seed, on_progress)?;
    let marker_text = serde_json::to_string_pretty(&marker(preset, options)).expect("JSON");
    std::fs::write(&marker_path, marker_text).map_err(io(&marker_path))?;
    Ok(SyntheticCheckpoint {
        dir: dir.to_owned(),
        parameters: tensors.iter().map(TensorSpec::elements).sum(),
        weight_bytes: writer::file_size(&tensors, options.dtype),
        reused: false,
    })
}

/// Reuses `dir` when a complete synthetic checkpoint with the same preset and options is
/// there (its marker matches and the weights have the expected size), else writes one.
pub fn ensure_synthetic(
    preset: Preset,
    dir: &Path,
    options: &SyntheticOptions,
    on_progress: &mut dyn FnMut(u64, u64),
) -> Result<SyntheticCheckpoint, SyntheticError> {
    let tensors = tensors(preset, options);
    let bytes = writer::file_size(&tensors, options.dtype);
    let found: Option<serde_json::Value> = std::fs::read(dir.join(MARKER))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let size_on_disk = std::fs::metadata(dir.join("model.safetensors")).map(|m| m.len());
    if found == Some(marker(preset, options)) && size_on_disk.ok() == Some(bytes) {
        return Ok(SyntheticCheckpoint {
            dir: dir.to_owned(),
            parameters: tensors.iter().map(TensorSpec::elements).sum(),
            weight_bytes: bytes,
            reused: true,
        });
    }
    write_synthetic(preset, dir, options, on_progress)
}

/// Where `iris bench --synthetic` keeps its checkpoints: `$XDG_CACHE_HOME/iris/synthetic`,
/// else `~/.cache/iris/synthetic` (`%LOCALAPPDATA%\iris\synthetic` on Windows), else the
/// temporary folder.
pub fn default_cache_dir() -> PathBuf {
    let env = |key: &str| {
        std::env::var_os(key)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = env("XDG_CACHE_HOME")
        .or_else(|| env("LOCALAPPDATA"))
        .or_else(|| env("HOME").map(|home| home.join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("iris").join("synthetic")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_names_round_trip_and_unknown_ones_list_the_choices() {
        for p in Preset::ALL {
            assert_eq!(p.to_string().parse::<Preset>().unwrap(), p);
        }
        let err = "gpt-4".parse::<Preset>().unwrap_err();
        assert!(
            err.contains("smolvlm-256m") && err.contains("llava-1.5-7b"),
            "{err}"
        );
    }

    #[test]
    fn folder_names_tell_shrunk_options_apart() {
        let full = SyntheticOptions::default();
        assert_eq!(full.folder_name(Preset::Smolvlm256m), "smolvlm-256m-f16");
        let shrunk = SyntheticOptions {
            vision_layers: Some(1),
            text_layers: Some(1),
            vocab_size: Some(1024),
            ..Default::default()
        };
        assert_eq!(
            shrunk.folder_name(Preset::Qwen2_0_5b),
            "qwen2-0.5b-f16-v1-t1-vocab1024"
        );
    }
}

//! `preprocessor_config.json` and `processor_config.json`, as transformers 4.x writes them.
//!
//! Every field is optional because the defaults belong to the processor class (CLIP defaults
//! to `size = {"shortest_edge": 224}`, LLaVA-OneVision to `{"height": 384, "width": 384}`);
//! each processor's `from_config` fills them in as its Python `__init__` does. Unknown fields
//! are ignored. Upstream: `image_processing_clip.py`, `image_processing_llava.py`,
//! `image_processing_llava_onevision.py`, `processing_llava_onevision.py` at transformers
//! v4.57.3.

use std::path::Path;

use serde::Deserialize;

use super::normalize::{MeanStd, Normalization};
use super::resize::Filter;

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The JSON does not have the expected shape.
    #[error("{origin}: invalid JSON: {source}")]
    Parse {
        /// The file path, or `<memory>`.
        origin: String,
        /// The parser error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// A field holds a value the processor cannot work with.
    #[error("invalid `{field}`: {reason}")]
    Invalid {
        /// The HF key.
        field: &'static str,
        /// What is wrong, with the value found.
        reason: String,
    },
}

pub(crate) fn parse_file<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| ConfigError::Parse {
        origin: path.display().to_string(),
        source,
    })
}

fn parse_str<T: for<'de> Deserialize<'de>>(json: &str) -> Result<T, ConfigError> {
    serde_json::from_str(json).map_err(|source| ConfigError::Parse {
        origin: "<memory>".to_string(),
        source,
    })
}

/// A `size` / `crop_size` value: a dict (current form), or an int or `[h, w]` (older configs).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum SizeParam {
    /// `{"shortest_edge": ..}` or `{"height": .., "width": ..}` (other keys are ignored).
    Dict {
        /// `shortest_edge`.
        #[serde(default)]
        shortest_edge: Option<u32>,
        /// `height`.
        #[serde(default)]
        height: Option<u32>,
        /// `width`.
        #[serde(default)]
        width: Option<u32>,
    },
    /// A bare integer.
    Int(u32),
    /// `[height, width]`.
    Pair([u32; 2]),
}

/// What a resize step targets (HF's normalised size dict).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum SizeSpec {
    /// Shortest edge to this length, aspect ratio kept.
    ShortestEdge(u32),
    /// Exactly this size.
    Exact {
        /// Height in pixels.
        height: u32,
        /// Width in pixels.
        width: u32,
    },
}

impl SizeParam {
    /// `get_size_dict(size, default_to_square)`: an int becomes a square when
    /// `default_to_square`, else a shortest edge; a dict with both `height` and `width` wins
    /// over `shortest_edge` as in the processors' own checks.
    pub fn to_spec(
        &self,
        field: &'static str,
        default_to_square: bool,
    ) -> Result<SizeSpec, ConfigError> {
        let spec = match *self {
            Self::Int(s) if default_to_square => SizeSpec::Exact {
                height: s,
                width: s,
            },
            Self::Int(s) => SizeSpec::ShortestEdge(s),
            Self::Pair([height, width]) => SizeSpec::Exact { height, width },
            Self::Dict {
                height: Some(height),
                width: Some(width),
                ..
            } => SizeSpec::Exact { height, width },
            Self::Dict {
                shortest_edge: Some(s),
                ..
            } => SizeSpec::ShortestEdge(s),
            Self::Dict { .. } => {
                return Err(ConfigError::Invalid {
                    field,
                    reason: format!(
                        "{self:?} has neither `shortest_edge` nor both `height` and `width`"
                    ),
                });
            }
        };
        let zero = match spec {
            SizeSpec::ShortestEdge(s) => s == 0,
            SizeSpec::Exact { height, width } => height == 0 || width == 0,
        };
        if zero {
            return Err(ConfigError::Invalid {
                field,
                reason: format!("{spec:?} has a zero length"),
            });
        }
        Ok(spec)
    }
}

/// `image_mean` / `image_std`: one value for all channels, or one per channel.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ChannelParam {
    /// Same value for every channel.
    Scalar(f64),
    /// One value per channel.
    PerChannel(Vec<f64>),
}

impl ChannelParam {
    fn to_rgb(&self, field: &'static str) -> Result<[f64; 3], ConfigError> {
        match self {
            Self::Scalar(v) => Ok([*v; 3]),
            Self::PerChannel(v) => {
                <[f64; 3]>::try_from(v.as_slice()).map_err(|_| ConfigError::Invalid {
                    field,
                    reason: format!("{v:?} has {} values, need 3", v.len()),
                })
            }
        }
    }
}

/// `preprocessor_config.json` (transformers 4.x layout). Keys are the HF names.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PreprocessorConfig {
    /// e.g. `CLIPImageProcessor`, `LlavaImageProcessor`, `LlavaOnevisionImageProcessor`.
    #[serde(default)]
    pub image_processor_type: Option<String>,
    /// `processor_class`, e.g. `LlavaOnevisionProcessor`.
    #[serde(default)]
    pub processor_class: Option<String>,
    /// `do_resize` (default true).
    #[serde(default)]
    pub do_resize: Option<bool>,
    /// `size` (default depends on the processor).
    #[serde(default)]
    pub size: Option<SizeParam>,
    /// `resample` as a PIL code (default 3, bicubic).
    #[serde(default)]
    pub resample: Option<u32>,
    /// `do_center_crop` (CLIP default true).
    #[serde(default)]
    pub do_center_crop: Option<bool>,
    /// `crop_size` (CLIP default 224×224).
    #[serde(default)]
    pub crop_size: Option<SizeParam>,
    /// `do_rescale` (default true).
    #[serde(default)]
    pub do_rescale: Option<bool>,
    /// `rescale_factor` (default 1/255).
    #[serde(default)]
    pub rescale_factor: Option<f64>,
    /// `do_normalize` (default true).
    #[serde(default)]
    pub do_normalize: Option<bool>,
    /// `image_mean` (default OpenAI CLIP mean).
    #[serde(default)]
    pub image_mean: Option<ChannelParam>,
    /// `image_std` (default OpenAI CLIP std).
    #[serde(default)]
    pub image_std: Option<ChannelParam>,
    /// `do_convert_rgb` (default true; our decoder always produces RGB).
    #[serde(default)]
    pub do_convert_rgb: Option<bool>,
    /// `do_pad`: square padding for `LlavaImageProcessor` (default false); batch padding of
    /// the tile dimension for LLaVA-OneVision (default true, no effect on one image).
    #[serde(default)]
    pub do_pad: Option<bool>,
    /// `image_grid_pinpoints`: candidate `[height, width]` resolutions for AnyRes.
    #[serde(default)]
    pub image_grid_pinpoints: Option<Vec<[u32; 2]>>,
}

/// OpenAI CLIP mean, transformers' default `image_mean`.
pub const OPENAI_CLIP_MEAN: [f64; 3] = [0.48145466, 0.4578275, 0.40821073];
/// OpenAI CLIP std, transformers' default `image_std`.
pub const OPENAI_CLIP_STD: [f64; 3] = [0.26862954, 0.26130258, 0.27577711];

impl PreprocessorConfig {
    /// Reads `preprocessor_config.json`.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        parse_file(path)
    }

    /// Parses the JSON text of `preprocessor_config.json`.
    pub fn from_json(json: &str) -> Result<Self, ConfigError> {
        parse_str(json)
    }

    /// `resample` as a filter (default bicubic).
    pub fn filter(&self) -> Result<Filter, ConfigError> {
        let code = self.resample.unwrap_or(3);
        Filter::from_pil_code(code).ok_or_else(|| ConfigError::Invalid {
            field: "resample",
            reason: format!("{code} is not a PIL filter code (0..=5)"),
        })
    }

    /// The rescale/normalise steps, with HF's defaults (1/255, OpenAI CLIP mean/std).
    pub fn normalization(&self) -> Result<Normalization, ConfigError> {
        let rescale_factor = self
            .do_rescale
            .unwrap_or(true)
            .then(|| self.rescale_factor.unwrap_or(1.0 / 255.0));
        let mean_std = if self.do_normalize.unwrap_or(true) {
            let mean = self
                .image_mean
                .as_ref()
                .map_or(Ok(OPENAI_CLIP_MEAN), |m| m.to_rgb("image_mean"))?;
            let std = self
                .image_std
                .as_ref()
                .map_or(Ok(OPENAI_CLIP_STD), |s| s.to_rgb("image_std"))?;
            if let Some(bad) = std.iter().find(|s| **s == 0.0 || !s.is_finite()) {
                return Err(ConfigError::Invalid {
                    field: "image_std",
                    reason: format!("{bad} in {std:?}"),
                });
            }
            Some(MeanStd { mean, std })
        } else {
            None
        };
        Ok(Normalization {
            rescale_factor,
            mean_std,
        })
    }

    /// The configured image mean (used as LLaVA's padding colour even when not normalising).
    pub fn mean(&self) -> Result<[f64; 3], ConfigError> {
        self.image_mean
            .as_ref()
            .map_or(Ok(OPENAI_CLIP_MEAN), |m| m.to_rgb("image_mean"))
    }
}

/// How the vision tower's output is selected (`vision_feature_select_strategy`): the same
/// type the model config uses. `Default` drops the CLS token, so the processor expands
/// `<image>` to one token fewer.
pub use crate::config::SelectStrategy as FeatureSelect;

/// `processor_config.json` of LLaVA-family processors (the keys the token count needs).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ProcessorConfig {
    /// Tokens of one encoded tile, e.g. 729 for SigLIP 384/14.
    #[serde(default)]
    pub num_image_tokens: Option<u32>,
    /// `vision_feature_select_strategy`.
    #[serde(default)]
    pub vision_feature_select_strategy: Option<FeatureSelect>,
    /// `vision_aspect_ratio`, e.g. `anyres_max_9` (the processor's default).
    #[serde(default)]
    pub vision_aspect_ratio: Option<String>,
    /// BLIP-2 / InstructBLIP: image tokens put in front of the prompt, one per query.
    #[serde(default)]
    pub num_query_tokens: Option<u32>,
}

impl ProcessorConfig {
    /// Reads `processor_config.json`.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        parse_file(path)
    }

    /// Parses the JSON text of `processor_config.json`.
    pub fn from_json(json: &str) -> Result<Self, ConfigError> {
        parse_str(json)
    }
}

/// `int(vision_aspect_ratio.strip("anyres_max_"))`: Python's `strip` removes any of those
/// characters from both ends, so `"anyres_max_9"` gives 9.
pub fn parse_anyres_max(vision_aspect_ratio: &str) -> Result<u32, ConfigError> {
    let digits = vision_aspect_ratio.trim_matches(|c: char| "anyres_max_".contains(c));
    digits.parse().map_err(|_| ConfigError::Invalid {
        field: "vision_aspect_ratio",
        reason: format!("{vision_aspect_ratio:?} is not of the form anyres_max_<N>"),
    })
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;

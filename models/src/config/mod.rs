//! Checkpoint configuration files, read as real Hub checkpoints ship them (transformers 4.x
//! layout). Struct field names are the HF keys; defaults are transformers' defaults.

mod family;
mod text;
mod vision;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use family::{
    Blip2Config, Blip2TextConfig, FeatureLayer, Idefics3Config, InstructBlipConfig,
    InstructBlipTextConfig, LlavaConfig, LlavaOnevisionConfig, Qwen2VlConfig, SelectStrategy,
};
pub use text::{DecoderSpec, LlamaConfig, Qwen2Config, RopeScaling, TextConfig};
pub use vision::{
    Blip2VisionConfig, ClipVisionConfig, Qwen2VlVisionConfig, SiglipVisionConfig, VisionConfig,
};

/// Activation functions by their HF names (`ACT2FN` keys).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub enum Activation {
    #[serde(rename = "gelu")]
    Gelu,
    #[serde(rename = "gelu_pytorch_tanh", alias = "gelu_new", alias = "gelu_fast")]
    GeluPytorchTanh,
    #[serde(rename = "quick_gelu")]
    QuickGelu,
    #[serde(rename = "silu", alias = "swish")]
    Silu,
    #[serde(rename = "relu")]
    Relu,
}

/// The model families Iris runs, by `config.json`'s `model_type`.
pub const SUPPORTED_MODEL_TYPES: &[&str] = &[
    "llava",
    "llava_onevision",
    "blip-2",
    "instructblip",
    "idefics3",
    "smolvlm",
    "qwen2_vl",
];

/// The `text_config.model_type`s each family runs with.
fn supported_language_models(model_type: &str) -> Option<&'static [&'static str]> {
    match model_type {
        "llava" | "llava_onevision" => Some(&["llama", "qwen2"]),
        "idefics3" | "smolvlm" => Some(&["llama"]),
        "instructblip" => Some(&["llama", "t5"]),
        "blip-2" => Some(&["opt", "t5"]),
        _ => None,
    }
}

/// A parsed `config.json`.
#[derive(Debug, Clone)]
pub enum ModelConfig {
    Llava(LlavaConfig),
    LlavaOnevision(LlavaOnevisionConfig),
    Blip2(Blip2Config),
    InstructBlip(InstructBlipConfig),
    Idefics3(Idefics3Config),
    Qwen2Vl(Qwen2VlConfig),
}

/// `generation_config.json`: the fields generation uses.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GenerationConfig {
    pub bos_token_id: Option<u32>,
    pub eos_token_id: Option<TokenIds>,
    pub pad_token_id: Option<u32>,
    pub max_new_tokens: Option<usize>,
    pub temperature: Option<f64>,
    pub top_k: Option<usize>,
    pub top_p: Option<f64>,
    pub do_sample: Option<bool>,
}

/// One token id or several (HF allows both for `eos_token_id`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum TokenIds {
    One(u32),
    Many(Vec<u32>),
}

impl TokenIds {
    pub fn ids(&self) -> Vec<u32> {
        match self {
            Self::One(id) => vec![*id],
            Self::Many(ids) => ids.clone(),
        }
    }
}

/// Errors reading a checkpoint's configuration files.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not valid JSON for this field layout: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: no `model_type`; is this a Hugging Face checkpoint folder?")]
    NoModelType { path: PathBuf },
    #[error(
        "{path}: model_type `{found}` is not supported; supported model types: {}",
        SUPPORTED_MODEL_TYPES.join(", ")
    )]
    Unsupported { path: PathBuf, found: String },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error(
        "{path}: a {family} checkpoint with a `{found}` language model is not supported yet (supported: {supported})"
    )]
    UnsupportedLanguageModel {
        path: PathBuf,
        family: String,
        found: String,
        supported: String,
    },
}

/// Reads and parses a JSON file into `T`, with the file name in every error.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Io {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| ConfigError::Parse {
        path: path.to_owned(),
        source,
    })
}

impl ModelConfig {
    /// Reads `config.json` from a checkpoint folder.
    pub fn from_dir(dir: &Path) -> Result<Self, ConfigError> {
        let path = dir.join("config.json");
        let value: serde_json::Value = read_json(&path)?;
        let model_type = value
            .get("model_type")
            .and_then(|v| v.as_str())
            .ok_or_else(|| ConfigError::NoModelType { path: path.clone() })?
            .to_owned();
        let parse_err = |source| ConfigError::Parse {
            path: path.clone(),
            source,
        };
        let text_type = value
            .pointer("/text_config/model_type")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        if let Some(supported) = supported_language_models(&model_type)
            && !supported.contains(&text_type)
        {
            return Err(ConfigError::UnsupportedLanguageModel {
                path,
                family: model_type,
                found: text_type.to_owned(),
                supported: supported.join(", "),
            });
        }
        let config = match model_type.as_str() {
            "llava" => Self::Llava(serde_json::from_value(value).map_err(parse_err)?),
            "llava_onevision" => {
                Self::LlavaOnevision(serde_json::from_value(value).map_err(parse_err)?)
            }
            "blip-2" => Self::Blip2(serde_json::from_value(value).map_err(parse_err)?),
            "instructblip" => Self::InstructBlip(serde_json::from_value(value).map_err(parse_err)?),
            // SmolVLM2's `smolvlm` is Idefics3's architecture under another name.
            "idefics3" | "smolvlm" => {
                Self::Idefics3(serde_json::from_value(value).map_err(parse_err)?)
            }
            "qwen2_vl" => Self::Qwen2Vl(Qwen2VlConfig::from_value(&value).map_err(parse_err)?),
            _ => {
                return Err(ConfigError::Unsupported {
                    path,
                    found: model_type,
                });
            }
        };
        Ok(config)
    }

    pub fn model_type(&self) -> &'static str {
        match self {
            Self::Llava(_) => "llava",
            Self::LlavaOnevision(_) => "llava_onevision",
            Self::Blip2(_) => "blip-2",
            Self::InstructBlip(_) => "instructblip",
            Self::Idefics3(_) => "idefics3",
            Self::Qwen2Vl(_) => "qwen2_vl",
        }
    }

    pub fn vision_config(&self) -> &VisionConfig {
        match self {
            Self::Llava(c) => &c.vision_config,
            Self::LlavaOnevision(c) => &c.vision_config,
            Self::Blip2(c) => &c.vision_config,
            Self::InstructBlip(c) => &c.vision_config,
            Self::Idefics3(c) => &c.vision_config,
            Self::Qwen2Vl(c) => &c.vision_config,
        }
    }

    /// The id of the image placeholder token, when the config names one.
    pub fn image_token_id(&self) -> Option<u32> {
        match self {
            Self::Llava(c) => Some(c.image_token_index),
            Self::LlavaOnevision(c) => Some(c.image_token_index),
            Self::Blip2(c) => c.image_token_index,
            Self::InstructBlip(c) => c.image_token_index,
            Self::Idefics3(c) => Some(c.image_token_id),
            Self::Qwen2Vl(c) => Some(c.image_token_id),
        }
    }
}

impl GenerationConfig {
    /// Reads `generation_config.json` when the checkpoint has one.
    pub fn from_dir(dir: &Path) -> Result<Self, ConfigError> {
        let path = dir.join("generation_config.json");
        if path.exists() {
            read_json(&path)
        } else {
            Ok(Self::default())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_hub_llava_config_takes_transformers_defaults() {
        // The shape of llava-hf/llava-1.5-7b-hf's config.json (trimmed): most fields absent.
        let json = r#"{
          "architectures": ["LlavaForConditionalGeneration"],
          "ignore_index": -100, "image_token_index": 32000, "model_type": "llava",
          "pad_token_id": 32001, "projector_hidden_act": "gelu",
          "text_config": {"_name_or_path": "lmsys/vicuna-7b-v1.5", "architectures": ["LlamaForCausalLM"],
            "max_position_embeddings": 4096, "model_type": "llama", "rms_norm_eps": 1e-05,
            "torch_dtype": "float16", "vocab_size": 32064},
          "tie_word_embeddings": false, "torch_dtype": "float16", "transformers_version": "4.36.0.dev0",
          "vision_config": {"hidden_size": 1024, "image_size": 336, "intermediate_size": 4096,
            "model_type": "clip_vision_model", "num_attention_heads": 16, "num_hidden_layers": 24,
            "patch_size": 14, "projection_dim": 768, "vocab_size": 32000},
          "vision_feature_layer": -2, "vision_feature_select_strategy": "default", "vocab_size": 32064
        }"#;
        let config: LlavaConfig = serde_json::from_str(json).unwrap();
        let spec = config.text_config.spec(None);
        assert_eq!(spec.hidden_size, 4096);
        assert_eq!(spec.num_layers, 32);
        assert_eq!(spec.num_kv_heads, 32);
        assert_eq!(spec.head_dim, 128);
        assert_eq!(spec.vocab_size, 32064);
        assert!(!spec.tie_word_embeddings);
        assert_eq!(config.vision_config.patches_per_side(), 24);
        assert_eq!(config.vision_feature_layer.layers(), vec![-2]);
        let VisionConfig::Clip(clip) = &config.vision_config else {
            panic!("expected a CLIP tower")
        };
        assert_eq!(clip.hidden_act, Activation::QuickGelu);
    }

    #[test]
    fn rope_scaling_kind_is_read_from_either_key_and_mrope_is_the_default_rotary() {
        let spec = |rope: &str| {
            let json = format!(r#"{{"model_type": "qwen2", "rope_scaling": {rope}}}"#);
            serde_json::from_str::<TextConfig>(&json)
                .unwrap()
                .spec(None)
        };
        // transformers 4.57 saves both keys.
        let both = spec(r#"{"rope_type": "llama3", "type": "llama3", "factor": 8.0}"#);
        assert_eq!(both.rope_scaling.as_deref(), Some("llama3"));
        assert_eq!(
            spec(r#"{"type": "yarn"}"#).rope_scaling.as_deref(),
            Some("yarn")
        );
        let mrope = spec(r#"{"type": "mrope", "mrope_section": [16, 24, 24]}"#);
        assert_eq!(mrope.rope_scaling, None);
        assert_eq!(mrope.mrope_section, Some(vec![16, 24, 24]));
    }

    #[test]
    fn qwen2_vl_hub_config_is_flat_with_qwen2_vl_text_defaults() {
        // The shape of Qwen/Qwen2-VL-2B-Instruct's config.json (trimmed).
        let json = serde_json::json!({
            "model_type": "qwen2_vl", "hidden_size": 1536, "num_attention_heads": 12,
            "num_key_value_heads": 2, "num_hidden_layers": 28, "intermediate_size": 8960,
            "vocab_size": 151936, "tie_word_embeddings": true,
            "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
            "vision_config": {"depth": 32, "embed_dim": 1280, "mlp_ratio": 4, "num_heads": 16,
                "in_chans": 3, "hidden_size": 1536, "patch_size": 14, "spatial_merge_size": 2,
                "spatial_patch_size": 14, "temporal_patch_size": 2},
            "image_token_id": 151655
        });
        let c = Qwen2VlConfig::from_value(&json).unwrap();
        let spec = c.text_config.spec(None);
        assert_eq!(
            (spec.hidden_size, spec.head_dim, spec.num_kv_heads),
            (1536, 128, 2)
        );
        assert!(spec.tie_word_embeddings);
        // Absent in the file: Qwen2VLTextConfig's defaults, not Qwen2Config's.
        assert_eq!((spec.rope_theta, spec.rms_norm_eps), (1e6, 1e-5));
        assert_eq!(c.vision.mlp_hidden(), 5120);
        assert_eq!(
            (c.image_token_id, c.vision_start_token_id),
            (151655, 151652)
        );
    }

    #[test]
    fn unsupported_language_model_of_a_family_is_named() {
        let dir = std::env::temp_dir().join(format!("iris-config-lm-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("config.json"),
            r#"{"model_type": "blip-2", "text_config": {"model_type": "mamba"}}"#,
        )
        .unwrap();
        let err = ModelConfig::from_dir(&dir).unwrap_err().to_string();
        assert!(
            err.contains("`mamba` language model") && err.contains("supported: opt"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unknown_model_type_names_the_supported_ones() {
        let dir = std::env::temp_dir().join(format!("iris-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.json"), r#"{"model_type": "mamba"}"#).unwrap();
        let err = ModelConfig::from_dir(&dir).unwrap_err().to_string();
        assert!(
            err.contains("mamba") && err.contains("llava_onevision"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

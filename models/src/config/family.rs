//! Top-level checkpoint configs (`config.json`) of the supported families, in the transformers
//! 4.x Hub layout: `LlavaConfig` and `LlavaOnevisionConfig` (v4.57).

use serde::Deserialize;

use super::{Activation, Qwen2Config, Qwen2VlVisionConfig, TextConfig, VisionConfig};
use crate::connector::QFormerConfig;
use crate::text::{OptConfig, T5Config};

/// `vision_feature_layer`: one hidden-state index (negative counts from the end) or several,
/// whose features are concatenated along the hidden dimension.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum FeatureLayer {
    One(i64),
    Many(Vec<i64>),
}

impl FeatureLayer {
    pub fn layers(&self) -> Vec<i64> {
        match self {
            Self::One(l) => vec![*l],
            Self::Many(ls) => ls.clone(),
        }
    }
}

/// `vision_feature_select_strategy`: `default` drops the CLS token, `full` keeps every token.
/// Read from `config.json` (the model) and `processor_config.json` (the token count) alike.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SelectStrategy {
    Default,
    Full,
}

/// `LlavaConfig` (transformers/models/llava/configuration_llava.py).
#[derive(Debug, Clone, Deserialize)]
pub struct LlavaConfig {
    pub vision_config: VisionConfig,
    pub text_config: TextConfig,
    #[serde(alias = "image_token_id", default = "llava_image_token")]
    pub image_token_index: u32,
    #[serde(default = "gelu")]
    pub projector_hidden_act: Activation,
    #[serde(default = "default_strategy")]
    pub vision_feature_select_strategy: SelectStrategy,
    #[serde(default = "minus_two")]
    pub vision_feature_layer: FeatureLayer,
    #[serde(default = "yes")]
    pub multimodal_projector_bias: bool,
}

/// `LlavaOnevisionConfig` (transformers/models/llava_onevision/configuration_llava_onevision.py).
#[derive(Debug, Clone, Deserialize)]
pub struct LlavaOnevisionConfig {
    pub vision_config: VisionConfig,
    pub text_config: TextConfig,
    #[serde(alias = "image_token_id", default = "onevision_image_token")]
    pub image_token_index: u32,
    #[serde(default = "gelu")]
    pub projector_hidden_act: Activation,
    #[serde(default = "full_strategy")]
    pub vision_feature_select_strategy: SelectStrategy,
    #[serde(default = "minus_one")]
    pub vision_feature_layer: FeatureLayer,
    #[serde(default = "anyres_max_9")]
    pub vision_aspect_ratio: String,
    pub image_grid_pinpoints: Option<Vec<[usize; 2]>>,
    #[serde(default = "yes")]
    pub multimodal_projector_bias: bool,
}

impl LlavaOnevisionConfig {
    /// N in `anyres_max_N`: the most base-tile areas of features kept before shrinking.
    pub fn max_num_patches(&self) -> Option<usize> {
        self.vision_aspect_ratio
            .strip_prefix("anyres_max_")
            .and_then(|n| n.parse().ok())
    }
}

fn llava_image_token() -> u32 {
    32000
}
fn onevision_image_token() -> u32 {
    151646
}
fn gelu() -> Activation {
    Activation::Gelu
}
fn default_strategy() -> SelectStrategy {
    SelectStrategy::Default
}
fn full_strategy() -> SelectStrategy {
    SelectStrategy::Full
}
fn minus_two() -> FeatureLayer {
    FeatureLayer::One(-2)
}
fn minus_one() -> FeatureLayer {
    FeatureLayer::One(-1)
}
fn anyres_max_9() -> String {
    "anyres_max_9".into()
}
fn yes() -> bool {
    true
}

/// The language model of a BLIP-2 checkpoint, chosen by its `model_type`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "model_type")]
pub enum Blip2TextConfig {
    #[serde(rename = "opt")]
    Opt(OptConfig),
    #[serde(rename = "t5")]
    T5(T5Config),
}

/// `Blip2Config` (transformers/models/blip_2/configuration_blip_2.py).
#[derive(Debug, Clone, Deserialize)]
pub struct Blip2Config {
    pub vision_config: VisionConfig,
    pub qformer_config: QFormerConfig,
    pub text_config: Blip2TextConfig,
    #[serde(default = "num_query_tokens")]
    pub num_query_tokens: usize,
    #[serde(alias = "image_token_id")]
    pub image_token_index: Option<u32>,
}

/// The language model of an InstructBLIP checkpoint, chosen by its `model_type`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "model_type")]
pub enum InstructBlipTextConfig {
    #[serde(rename = "llama")]
    Llama(crate::config::LlamaConfig),
    #[serde(rename = "t5")]
    T5(T5Config),
}

/// `InstructBlipConfig`: BLIP-2's parts with an instruction-aware Q-Former; the language model
/// is a Llama-family decoder (Vicuna) or Flan-T5.
#[derive(Debug, Clone, Deserialize)]
pub struct InstructBlipConfig {
    pub vision_config: VisionConfig,
    pub qformer_config: QFormerConfig,
    pub text_config: InstructBlipTextConfig,
    #[serde(default = "num_query_tokens")]
    pub num_query_tokens: usize,
    #[serde(alias = "image_token_id")]
    pub image_token_index: Option<u32>,
}

fn num_query_tokens() -> usize {
    32
}

/// `Idefics3Config` (transformers/models/idefics3/configuration_idefics3.py): SmolVLM and
/// SmolDocling. The vision tower is SigLIP's (`idefics3_vision`), the connector a pixel shuffle
/// by `scale_factor` and one bias-free linear layer, the language model Llama.
#[derive(Debug, Clone, Deserialize)]
pub struct Idefics3Config {
    pub vision_config: VisionConfig,
    pub text_config: TextConfig,
    #[serde(default = "idefics3_image_token")]
    pub image_token_id: u32,
    #[serde(default = "two")]
    pub scale_factor: usize,
    #[serde(default)]
    pub tie_word_embeddings: bool,
}

fn idefics3_image_token() -> u32 {
    128257
}

fn two() -> usize {
    2
}

/// `Qwen2VLConfig` (transformers/models/qwen2_vl/configuration_qwen2_vl.py, v4.57). Hub
/// checkpoints (Qwen/Qwen2-VL-2B-Instruct) are flat: the language model's fields at the top
/// level beside `vision_config`; transformers ≥ 4.52 may save them nested under `text_config`.
/// Both are read, with `Qwen2VLTextConfig`'s defaults (which differ from Qwen2's).
#[derive(Debug, Clone)]
pub struct Qwen2VlConfig {
    pub vision: Qwen2VlVisionConfig,
    /// The same tower config, as the family-neutral [`VisionConfig`].
    pub vision_config: VisionConfig,
    pub text_config: Qwen2Config,
    pub image_token_id: u32,
    pub video_token_id: u32,
    pub vision_start_token_id: u32,
}

/// `Qwen2VLTextConfig`'s defaults where they differ from `Qwen2Config`'s.
const QWEN2_VL_TEXT_DEFAULTS: &[(&str, f64)] = &[
    ("vocab_size", 152064.0),
    ("hidden_size", 8192.0),
    ("intermediate_size", 29568.0),
    ("num_hidden_layers", 80.0),
    ("num_attention_heads", 64.0),
    ("num_key_value_heads", 8.0),
    ("rms_norm_eps", 1e-5),
    ("rope_theta", 1e6),
];

impl Qwen2VlConfig {
    /// Parses config.json's value, flat or nested.
    pub fn from_value(value: &serde_json::Value) -> Result<Self, serde_json::Error> {
        let mut text = match value.get("text_config") {
            Some(nested @ serde_json::Value::Object(_)) => nested.clone(),
            _ => value.clone(),
        };
        if let Some(map) = text.as_object_mut() {
            for (key, default) in QWEN2_VL_TEXT_DEFAULTS {
                if !map.contains_key(*key) {
                    let number = if default.fract() == 0.0 {
                        serde_json::json!(*default as u64)
                    } else {
                        serde_json::json!(default)
                    };
                    map.insert((*key).to_owned(), number);
                }
            }
        }
        let text_config: Qwen2Config = serde_json::from_value(text)?;
        let vision: Qwen2VlVisionConfig = serde_json::from_value(
            value
                .get("vision_config")
                .cloned()
                .unwrap_or_else(|| serde_json::json!({})),
        )?;
        let id = |key: &str, default: u32| {
            value
                .get(key)
                .or_else(|| value.pointer(&format!("/text_config/{key}")))
                .and_then(serde_json::Value::as_u64)
                .map_or(default, |v| v as u32)
        };
        Ok(Self {
            vision_config: VisionConfig::Qwen2Vl(vision.clone()),
            vision,
            text_config,
            image_token_id: id("image_token_id", 151655),
            video_token_id: id("video_token_id", 151656),
            vision_start_token_id: id("vision_start_token_id", 151652),
        })
    }
}

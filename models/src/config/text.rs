//! Decoder configs, field names and defaults as in transformers' `LlamaConfig` and
//! `Qwen2Config` (v4.57).

use serde::Deserialize;

use super::Activation;

/// `rope_scaling` as checkpoints write it. Only the default rotary embedding is implemented
/// (with Qwen2-VL's multimodal sections); other types are rejected at load with a clear error
/// rather than silently mis-computed.
/// transformers 4.x writes the kind under `rope_type`, `type` or both (it copies one into the
/// other when it saves), so both keys are read.
#[derive(Debug, Clone, Deserialize)]
pub struct RopeScaling {
    rope_type: Option<String>,
    #[serde(rename = "type")]
    legacy_type: Option<String>,
    /// Qwen2-VL's M-RoPE: how many rotary frequencies follow the temporal, height and width
    /// position (they sum to `head_dim / 2`).
    pub mrope_section: Option<Vec<usize>>,
}

impl RopeScaling {
    /// The scaling kind that changes the rotary maths, if any: Qwen2-VL's `"mrope"` (which
    /// 4.x rewrites to `"default"` when it saves) is the default embedding split in sections.
    fn kind(&self) -> Option<String> {
        let kind = self.rope_type.as_ref().or(self.legacy_type.as_ref())?;
        let mrope = self.mrope_section.is_some() && kind == "mrope";
        (!mrope).then(|| kind.clone())
    }
}

/// `LlamaConfig` (transformers/models/llama/configuration_llama.py).
#[derive(Debug, Clone, Deserialize)]
pub struct LlamaConfig {
    #[serde(default = "llama::vocab_size")]
    pub vocab_size: usize,
    #[serde(default = "llama::hidden_size")]
    pub hidden_size: usize,
    #[serde(default = "llama::intermediate_size")]
    pub intermediate_size: usize,
    #[serde(default = "llama::num_hidden_layers")]
    pub num_hidden_layers: usize,
    #[serde(default = "llama::num_attention_heads")]
    pub num_attention_heads: usize,
    pub num_key_value_heads: Option<usize>,
    pub head_dim: Option<usize>,
    #[serde(default = "silu")]
    pub hidden_act: Activation,
    #[serde(default = "llama::max_position_embeddings")]
    pub max_position_embeddings: usize,
    #[serde(default = "llama::rms_norm_eps")]
    pub rms_norm_eps: f64,
    #[serde(default = "rope_theta")]
    pub rope_theta: f64,
    pub rope_scaling: Option<RopeScaling>,
    #[serde(default)]
    pub attention_bias: bool,
    #[serde(default)]
    pub mlp_bias: bool,
    #[serde(default)]
    pub tie_word_embeddings: bool,
}

mod llama {
    pub fn vocab_size() -> usize {
        32000
    }
    pub fn hidden_size() -> usize {
        4096
    }
    pub fn intermediate_size() -> usize {
        11008
    }
    pub fn num_hidden_layers() -> usize {
        32
    }
    pub fn num_attention_heads() -> usize {
        32
    }
    pub fn max_position_embeddings() -> usize {
        2048
    }
    pub fn rms_norm_eps() -> f64 {
        1e-6
    }
}

/// `Qwen2Config` (transformers/models/qwen2/configuration_qwen2.py). Qwen2 always has biases
/// on the q/k/v projections and none on `o_proj`.
#[derive(Debug, Clone, Deserialize)]
pub struct Qwen2Config {
    #[serde(default = "qwen2::vocab_size")]
    pub vocab_size: usize,
    #[serde(default = "qwen2::hidden_size")]
    pub hidden_size: usize,
    #[serde(default = "qwen2::intermediate_size")]
    pub intermediate_size: usize,
    #[serde(default = "qwen2::num_hidden_layers")]
    pub num_hidden_layers: usize,
    #[serde(default = "qwen2::num_attention_heads")]
    pub num_attention_heads: usize,
    pub num_key_value_heads: Option<usize>,
    #[serde(default = "silu")]
    pub hidden_act: Activation,
    #[serde(default = "qwen2::max_position_embeddings")]
    pub max_position_embeddings: usize,
    #[serde(default = "qwen2::rms_norm_eps")]
    pub rms_norm_eps: f64,
    #[serde(default = "rope_theta")]
    pub rope_theta: f64,
    pub rope_scaling: Option<RopeScaling>,
    #[serde(default)]
    pub tie_word_embeddings: bool,
}

mod qwen2 {
    pub fn vocab_size() -> usize {
        151936
    }
    pub fn hidden_size() -> usize {
        4096
    }
    pub fn intermediate_size() -> usize {
        22016
    }
    pub fn num_hidden_layers() -> usize {
        32
    }
    pub fn num_attention_heads() -> usize {
        32
    }
    pub fn max_position_embeddings() -> usize {
        32768
    }
    pub fn rms_norm_eps() -> f64 {
        1e-6
    }
}

fn silu() -> Activation {
    Activation::Silu
}

fn rope_theta() -> f64 {
    10000.0
}

/// The language model of a checkpoint, chosen by its `model_type`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "model_type")]
pub enum TextConfig {
    #[serde(rename = "llama")]
    Llama(LlamaConfig),
    #[serde(rename = "qwen2")]
    Qwen2(Qwen2Config),
}

/// What the decoder code needs, whichever family the numbers came from.
#[derive(Debug, Clone, PartialEq)]
pub struct DecoderSpec {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub head_dim: usize,
    pub activation: Activation,
    pub rms_norm_eps: f64,
    pub rope_theta: f64,
    pub max_position_embeddings: usize,
    pub qkv_bias: bool,
    pub o_bias: bool,
    pub mlp_bias: bool,
    pub tie_word_embeddings: bool,
    pub rope_scaling: Option<String>,
    /// Qwen2-VL: M-RoPE sections (temporal, height, width) of the rotary frequencies.
    pub mrope_section: Option<Vec<usize>>,
}

impl TextConfig {
    /// The decoder shape; `tie_word_embeddings` may be overridden by the top-level config.
    pub fn spec(&self, tie_override: Option<bool>) -> DecoderSpec {
        match self {
            Self::Llama(c) => DecoderSpec {
                vocab_size: c.vocab_size,
                hidden_size: c.hidden_size,
                intermediate_size: c.intermediate_size,
                num_layers: c.num_hidden_layers,
                num_heads: c.num_attention_heads,
                num_kv_heads: c.num_key_value_heads.unwrap_or(c.num_attention_heads),
                head_dim: c.head_dim.unwrap_or(c.hidden_size / c.num_attention_heads),
                activation: c.hidden_act,
                rms_norm_eps: c.rms_norm_eps,
                rope_theta: c.rope_theta,
                max_position_embeddings: c.max_position_embeddings,
                qkv_bias: c.attention_bias,
                o_bias: c.attention_bias,
                mlp_bias: c.mlp_bias,
                tie_word_embeddings: tie_override.unwrap_or(c.tie_word_embeddings),
                rope_scaling: c.rope_scaling.as_ref().and_then(RopeScaling::kind),
                mrope_section: None,
            },
            Self::Qwen2(c) => c.spec(tie_override),
        }
    }
}

impl Qwen2Config {
    /// The decoder shape; `tie_word_embeddings` may be overridden by the top-level config.
    pub fn spec(&self, tie_override: Option<bool>) -> DecoderSpec {
        let c = self;
        DecoderSpec {
            vocab_size: c.vocab_size,
            hidden_size: c.hidden_size,
            intermediate_size: c.intermediate_size,
            num_layers: c.num_hidden_layers,
            num_heads: c.num_attention_heads,
            num_kv_heads: c.num_key_value_heads.unwrap_or(c.num_attention_heads),
            head_dim: c.hidden_size / c.num_attention_heads,
            activation: c.hidden_act,
            rms_norm_eps: c.rms_norm_eps,
            rope_theta: c.rope_theta,
            max_position_embeddings: c.max_position_embeddings,
            qkv_bias: true,
            o_bias: false,
            mlp_bias: false,
            tie_word_embeddings: tie_override.unwrap_or(c.tie_word_embeddings),
            rope_scaling: c.rope_scaling.as_ref().and_then(RopeScaling::kind),
            mrope_section: c
                .rope_scaling
                .as_ref()
                .and_then(|r| r.mrope_section.clone()),
        }
    }
}

//! Vision-tower configs, field names and defaults as in transformers' `CLIPVisionConfig` and
//! `SiglipVisionConfig` (v4.57). Hub checkpoints often store only the fields that differ from
//! these defaults (llava-hf/llava-1.5-7b-hf's `vision_config` has eight keys), so the defaults
//! matter.

use serde::Deserialize;

use super::Activation;

/// `CLIPVisionConfig` (transformers/models/clip/configuration_clip.py).
#[derive(Debug, Clone, Deserialize)]
pub struct ClipVisionConfig {
    #[serde(default = "clip::hidden_size")]
    pub hidden_size: usize,
    #[serde(default = "clip::intermediate_size")]
    pub intermediate_size: usize,
    #[serde(default = "clip::num_hidden_layers")]
    pub num_hidden_layers: usize,
    #[serde(default = "clip::num_attention_heads")]
    pub num_attention_heads: usize,
    #[serde(default = "clip::num_channels")]
    pub num_channels: usize,
    #[serde(default = "clip::image_size")]
    pub image_size: usize,
    #[serde(default = "clip::patch_size")]
    pub patch_size: usize,
    #[serde(default = "clip::hidden_act")]
    pub hidden_act: Activation,
    #[serde(default = "clip::layer_norm_eps")]
    pub layer_norm_eps: f64,
}

mod clip {
    use super::Activation;
    pub fn hidden_size() -> usize {
        768
    }
    pub fn intermediate_size() -> usize {
        3072
    }
    pub fn num_hidden_layers() -> usize {
        12
    }
    pub fn num_attention_heads() -> usize {
        12
    }
    pub fn num_channels() -> usize {
        3
    }
    pub fn image_size() -> usize {
        224
    }
    pub fn patch_size() -> usize {
        32
    }
    pub fn hidden_act() -> Activation {
        Activation::QuickGelu
    }
    pub fn layer_norm_eps() -> f64 {
        1e-5
    }
}

/// `SiglipVisionConfig` (transformers/models/siglip/configuration_siglip.py).
#[derive(Debug, Clone, Deserialize)]
pub struct SiglipVisionConfig {
    #[serde(default = "siglip::hidden_size")]
    pub hidden_size: usize,
    #[serde(default = "siglip::intermediate_size")]
    pub intermediate_size: usize,
    #[serde(default = "siglip::num_hidden_layers")]
    pub num_hidden_layers: usize,
    #[serde(default = "siglip::num_attention_heads")]
    pub num_attention_heads: usize,
    #[serde(default = "siglip::num_channels")]
    pub num_channels: usize,
    #[serde(default = "siglip::image_size")]
    pub image_size: usize,
    #[serde(default = "siglip::patch_size")]
    pub patch_size: usize,
    #[serde(default = "siglip::hidden_act")]
    pub hidden_act: Activation,
    #[serde(default = "siglip::layer_norm_eps")]
    pub layer_norm_eps: f64,
}

mod siglip {
    use super::Activation;
    pub fn hidden_size() -> usize {
        768
    }
    pub fn intermediate_size() -> usize {
        3072
    }
    pub fn num_hidden_layers() -> usize {
        12
    }
    pub fn num_attention_heads() -> usize {
        12
    }
    pub fn num_channels() -> usize {
        3
    }
    pub fn image_size() -> usize {
        224
    }
    pub fn patch_size() -> usize {
        16
    }
    pub fn hidden_act() -> Activation {
        Activation::GeluPytorchTanh
    }
    pub fn layer_norm_eps() -> f64 {
        1e-6
    }
}

/// `Blip2VisionConfig` / `InstructBlipVisionConfig` (the EVA ViT of BLIP-2).
#[derive(Debug, Clone, Deserialize)]
pub struct Blip2VisionConfig {
    #[serde(default = "blip2::hidden_size")]
    pub hidden_size: usize,
    #[serde(default = "blip2::intermediate_size")]
    pub intermediate_size: usize,
    #[serde(default = "blip2::num_hidden_layers")]
    pub num_hidden_layers: usize,
    #[serde(default = "blip2::num_attention_heads")]
    pub num_attention_heads: usize,
    #[serde(default = "blip2::image_size")]
    pub image_size: usize,
    #[serde(default = "blip2::patch_size")]
    pub patch_size: usize,
    #[serde(default = "blip2::hidden_act")]
    pub hidden_act: Activation,
    #[serde(default = "blip2::layer_norm_eps")]
    pub layer_norm_eps: f64,
}

mod blip2 {
    use super::Activation;
    pub fn hidden_size() -> usize {
        1408
    }
    pub fn intermediate_size() -> usize {
        6144
    }
    pub fn num_hidden_layers() -> usize {
        39
    }
    pub fn num_attention_heads() -> usize {
        16
    }
    pub fn image_size() -> usize {
        224
    }
    pub fn patch_size() -> usize {
        14
    }
    pub fn hidden_act() -> Activation {
        Activation::Gelu
    }
    pub fn layer_norm_eps() -> f64 {
        1e-6
    }
}

/// `Qwen2VLVisionConfig` (transformers/models/qwen2_vl/configuration_qwen2_vl.py): a ViT on
/// `patch_size` px patches of an image at its own resolution, 2-D rotary positions, and a
/// merger that folds `spatial_merge_size²` patches into one token of the language model's
/// width (`hidden_size`). Hub files name the channel count `in_chans` and carry no `model_type`.
#[derive(Debug, Clone, Deserialize)]
pub struct Qwen2VlVisionConfig {
    #[serde(default = "qwen2_vl::depth")]
    pub depth: usize,
    #[serde(default = "qwen2_vl::embed_dim")]
    pub embed_dim: usize,
    /// The merger's output width: the language model's hidden size.
    #[serde(default = "qwen2_vl::hidden_size")]
    pub hidden_size: usize,
    #[serde(default = "qwen2_vl::hidden_act")]
    pub hidden_act: Activation,
    #[serde(default = "qwen2_vl::mlp_ratio")]
    pub mlp_ratio: f64,
    #[serde(default = "qwen2_vl::num_heads")]
    pub num_heads: usize,
    #[serde(default = "qwen2_vl::in_channels", alias = "in_chans")]
    pub in_channels: usize,
    #[serde(default = "qwen2_vl::patch_size")]
    pub patch_size: usize,
    #[serde(default = "qwen2_vl::spatial_merge_size")]
    pub spatial_merge_size: usize,
    #[serde(default = "qwen2_vl::temporal_patch_size")]
    pub temporal_patch_size: usize,
}

mod qwen2_vl {
    use super::Activation;
    pub fn depth() -> usize {
        32
    }
    pub fn embed_dim() -> usize {
        1280
    }
    pub fn hidden_size() -> usize {
        3584
    }
    pub fn hidden_act() -> Activation {
        Activation::QuickGelu
    }
    pub fn mlp_ratio() -> f64 {
        4.0
    }
    pub fn num_heads() -> usize {
        16
    }
    pub fn in_channels() -> usize {
        3
    }
    pub fn patch_size() -> usize {
        14
    }
    pub fn spatial_merge_size() -> usize {
        2
    }
    pub fn temporal_patch_size() -> usize {
        2
    }
}

impl Qwen2VlVisionConfig {
    /// The MLP's hidden width, `int(embed_dim * mlp_ratio)` as HF computes it.
    pub fn mlp_hidden(&self) -> usize {
        (self.embed_dim as f64 * self.mlp_ratio) as usize
    }
}

/// The vision tower of a checkpoint, chosen by its `model_type`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "model_type")]
pub enum VisionConfig {
    #[serde(rename = "clip_vision_model")]
    Clip(ClipVisionConfig),
    #[serde(
        rename = "siglip_vision_model",
        alias = "idefics3_vision",
        alias = "smolvlm_vision"
    )]
    Siglip(SiglipVisionConfig),
    #[serde(rename = "blip_2_vision_model", alias = "instructblip_vision_model")]
    Blip2(Blip2VisionConfig),
    /// Qwen2-VL's tower takes images at their own resolution: it has no fixed input size, so
    /// [`image_size`](Self::image_size) is one patch and [`patches_per_side`](Self::patches_per_side) 1.
    /// Only [`Qwen2VlConfig`](super::Qwen2VlConfig) builds it (Hub files carry no tag), so no
    /// other family's config can name this tower.
    #[serde(skip)]
    Qwen2Vl(Qwen2VlVisionConfig),
}

impl VisionConfig {
    /// Patches per side of one encoder input (e.g. 24 for 336 px / 14 px).
    pub fn patches_per_side(&self) -> usize {
        match self {
            Self::Clip(c) => c.image_size / c.patch_size,
            Self::Siglip(c) => c.image_size / c.patch_size,
            Self::Blip2(c) => c.image_size / c.patch_size,
            Self::Qwen2Vl(_) => 1,
        }
    }

    pub fn image_size(&self) -> usize {
        match self {
            Self::Clip(c) => c.image_size,
            Self::Siglip(c) => c.image_size,
            Self::Blip2(c) => c.image_size,
            Self::Qwen2Vl(c) => c.patch_size,
        }
    }

    pub fn hidden_size(&self) -> usize {
        match self {
            Self::Clip(c) => c.hidden_size,
            Self::Siglip(c) => c.hidden_size,
            Self::Blip2(c) => c.hidden_size,
            Self::Qwen2Vl(c) => c.embed_dim,
        }
    }

    pub fn num_hidden_layers(&self) -> usize {
        match self {
            Self::Clip(c) => c.num_hidden_layers,
            Self::Siglip(c) => c.num_hidden_layers,
            Self::Blip2(c) => c.num_hidden_layers,
            Self::Qwen2Vl(c) => c.depth,
        }
    }
}

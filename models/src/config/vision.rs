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

/// The vision tower of a checkpoint, chosen by its `model_type`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "model_type")]
pub enum VisionConfig {
    #[serde(rename = "clip_vision_model")]
    Clip(ClipVisionConfig),
    #[serde(rename = "siglip_vision_model", alias = "idefics3_vision")]
    Siglip(SiglipVisionConfig),
    #[serde(rename = "blip_2_vision_model", alias = "instructblip_vision_model")]
    Blip2(Blip2VisionConfig),
}

impl VisionConfig {
    /// Patches per side of one encoder input (e.g. 24 for 336 px / 14 px).
    pub fn patches_per_side(&self) -> usize {
        match self {
            Self::Clip(c) => c.image_size / c.patch_size,
            Self::Siglip(c) => c.image_size / c.patch_size,
            Self::Blip2(c) => c.image_size / c.patch_size,
        }
    }

    pub fn image_size(&self) -> usize {
        match self {
            Self::Clip(c) => c.image_size,
            Self::Siglip(c) => c.image_size,
            Self::Blip2(c) => c.image_size,
        }
    }

    pub fn hidden_size(&self) -> usize {
        match self {
            Self::Clip(c) => c.hidden_size,
            Self::Siglip(c) => c.hidden_size,
            Self::Blip2(c) => c.hidden_size,
        }
    }

    pub fn num_hidden_layers(&self) -> usize {
        match self {
            Self::Clip(c) => c.num_hidden_layers,
            Self::Siglip(c) => c.num_hidden_layers,
            Self::Blip2(c) => c.num_hidden_layers,
        }
    }
}

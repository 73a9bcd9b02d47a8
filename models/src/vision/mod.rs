//! Vision towers: CLIP and SigLIP ViTs as transformers' `CLIPVisionModel` and
//! `SiglipVisionModel`, returning the hidden states a connector reads.

mod encoder;
mod qwen2_vl;
mod towers;

pub use encoder::{AttentionLayout, VitEncoder, VitSpec};
pub use qwen2_vl::{Qwen2VlVisionTower, merge_block_order};
pub use towers::{VisionTower, feature_layer_index};

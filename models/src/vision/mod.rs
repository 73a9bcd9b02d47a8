//! Vision towers: CLIP and SigLIP ViTs as transformers' `CLIPVisionModel` and
//! `SiglipVisionModel`, returning the hidden states a connector reads.

mod encoder;
mod towers;

pub use encoder::{AttentionLayout, VitEncoder, VitSpec};
pub use towers::{VisionTower, feature_layer_index};

//! Idefics3 (SmolVLM, SmolDocling): each view of the image through the SigLIP-style tower, a
//! pixel shuffle that folds `scale_factor²` neighbouring patches into one token, and one
//! bias-free linear layer into the language model's width (`Idefics3Connector`).

use burn::nn::Linear;
use burn::prelude::*;

use crate::config::Idefics3Config;
use crate::nn::linear;
use crate::vision::VisionTower;
use crate::weights::WeightLoader;

use super::FamilyError;

#[derive(Module, Debug)]
pub struct Idefics3 {
    tower: VisionTower,
    proj: Linear,
    #[module(skip)]
    scale: usize,
}

/// HF's `Idefics3Connector.pixel_shuffle`: `[views, seq, d]` → `[views, seq / s², d · s²]`,
/// each output token the `s × s` block of patches (row-major inside the block, as HF's two
/// reshapes and permutes order them).
pub fn pixel_shuffle(x: Tensor<3>, s: usize) -> Tensor<3> {
    let [n, seq, d] = x.dims();
    let side = (seq as f64).sqrt() as usize;
    x.reshape([n, side, side / s, d * s])
        .swap_dims(1, 2)
        .reshape([n, side / s, side / s, d * s * s])
        .swap_dims(1, 2)
        .reshape([n, seq / (s * s), d * s * s])
}

impl Idefics3 {
    pub fn load(
        w: &mut WeightLoader,
        config: &Idefics3Config,
        d_text: usize,
    ) -> Result<Self, FamilyError> {
        let tower = VisionTower::load_idefics3(w, "model.vision_model", &config.vision_config)
            .ok_or(FamilyError::NoFeatureLayer)?;
        let s = config.scale_factor;
        let d_in = config.vision_config.hidden_size() * s * s;
        let proj = linear(
            w,
            "model.connector.modality_projection.proj",
            d_in,
            d_text,
            false,
        );
        Ok(Self {
            tower,
            proj,
            scale: s,
        })
    }

    /// The tower's last hidden state per view. # Shapes: `[views, 3, T, T]` → `[views, seq, d]`
    pub fn vision_features(&self, pixels: Tensor<4>) -> Tensor<3> {
        self.tower.last_hidden_state(pixels)
    }

    /// Visual tokens for every view, in order. # Shapes: `[views, 3, T, T]` → `[views · tokens, d_text]`
    pub fn image_features(&self, pixels: Tensor<4>) -> Tensor<2> {
        let shuffled = pixel_shuffle(self.vision_features(pixels), self.scale);
        let out = self.proj.forward(shuffled);
        let [n, t, d] = out.dims();
        out.reshape([n * t, d])
    }

    /// The connector's output per view. # Shapes: `[views, 3, T, T]` → `[views, tokens, d_text]`
    pub fn connector_output(&self, pixels: Tensor<4>) -> Tensor<3> {
        self.proj
            .forward(pixel_shuffle(self.vision_features(pixels), self.scale))
    }
}

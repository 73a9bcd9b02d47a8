//! BLIP-2 (`Blip2ForConditionalGeneration`): EVA ViT → Q-Former with learned queries →
//! `language_projection` → a frozen language model (OPT here). The projected queries replace
//! the prompt's image tokens (transformers ≥ 4.47 processors insert one per query).

use burn::nn::Linear;
use burn::prelude::*;

use crate::config::Blip2Config;
use crate::connector::{QFormer, QFormerAttentions};
use crate::nn::linear;
use crate::vision::VisionTower;
use crate::weights::WeightLoader;

#[derive(Module, Debug)]
pub struct Blip2 {
    tower: VisionTower,
    qformer: QFormer,
    language_projection: Linear,
}

impl Blip2 {
    pub fn load(w: &mut WeightLoader, config: &Blip2Config, d_text: usize) -> Self {
        let layers = config.vision_config.num_hidden_layers();
        let q = &config.qformer_config;
        Self {
            tower: VisionTower::load(w, "vision_model", &config.vision_config, layers),
            qformer: QFormer::load(w, "qformer", q, config.num_query_tokens),
            language_projection: linear(w, "language_projection", q.hidden_size, d_text, true),
        }
    }

    /// The image features the Q-Former reads (last hidden state after `post_layernorm`).
    ///
    /// # Shapes
    /// - pixels: `[images, 3, size, size]` → `[images, 1 + patches, d_vision]`
    pub fn vision_features(&self, pixels: Tensor<4>) -> Tensor<3> {
        self.tower.last_hidden_state(pixels)
    }

    /// Q-Former query outputs and every layer's attention probabilities.
    ///
    /// # Shapes
    /// - pixels: `[images, 3, size, size]` → `[images, queries, d_qformer]`
    pub fn qformer(&self, pixels: Tensor<4>) -> (Tensor<3>, QFormerAttentions) {
        self.qformer.forward(self.vision_features(pixels))
    }

    /// The visual tokens: projected query outputs.
    ///
    /// # Shapes
    /// - pixels: `[images, 3, size, size]` → `[images, queries, d_text]`
    pub fn image_features(&self, pixels: Tensor<4>) -> Tensor<3> {
        let (queries, _) = self.qformer(pixels);
        self.language_projection.forward(queries)
    }

    /// The language projection alone (for parity checks of each stage).
    pub fn project(&self, queries: Tensor<3>) -> Tensor<3> {
        self.language_projection.forward(queries)
    }

    pub fn num_queries(&self) -> usize {
        self.qformer.num_queries()
    }
}

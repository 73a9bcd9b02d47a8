//! BLIP-2 (`Blip2ForConditionalGeneration`) and InstructBLIP: EVA ViT → Q-Former with learned
//! queries (InstructBLIP's also read the instruction) → `language_projection` → a frozen
//! language model (OPT or a Llama-family decoder here). The projected queries replace the
//! prompt's image tokens (transformers ≥ 4.47 processors insert one per query).

use burn::nn::Linear;
use burn::prelude::*;

use crate::config::VisionConfig;
use crate::connector::{QFormer, QFormerAttentions, QFormerConfig};
use crate::nn::{linear, save_linear};
use crate::vision::VisionTower;
use crate::weights::{WeightLoader, WeightWriter};

#[derive(Module, Debug)]
pub struct Blip2 {
    tower: VisionTower,
    qformer: QFormer,
    language_projection: Linear,
}

impl Blip2 {
    /// Loads BLIP-2's (`instruction_aware` false) or InstructBLIP's vision side.
    pub fn load(
        w: &mut WeightLoader,
        vision: &VisionConfig,
        q: &QFormerConfig,
        num_queries: usize,
        instruction_aware: bool,
        d_text: usize,
    ) -> Self {
        let layers = vision.num_hidden_layers();
        Self {
            tower: VisionTower::load(w, "vision_model", vision, layers),
            qformer: QFormer::load(w, "qformer", q, num_queries, instruction_aware),
            language_projection: linear(w, "language_projection", q.hidden_size, d_text, true),
        }
    }

    /// Writes BLIP-2's vision side back in the names [`load`](Self::load) reads.
    pub fn save(&self, out: &mut WeightWriter) {
        self.tower.save_blip2(out, "vision_model");
        self.qformer.save(out, "qformer");
        save_linear(out, "language_projection", &self.language_projection);
    }

    /// Q-Former query outputs for a batch of images (BLIP-2: no instruction).
    ///
    /// # Shapes
    /// - pixels: `[images, 3, size, size]` → `[images, queries, d_qformer]`
    pub fn queries_batch(&self, pixels: Tensor<4>) -> Tensor<3> {
        self.queries_from_features(self.vision_features(pixels))
    }

    /// Q-Former query outputs for image features [`vision_features`](Self::vision_features)
    /// gave (BLIP-2: no instruction).
    ///
    /// # Shapes
    /// - features: `[images, 1 + patches, d_vision]` → `[images, queries, d_qformer]`
    pub fn queries_from_features(&self, features: Tensor<3>) -> Tensor<3> {
        self.qformer.forward(features, &[]).0
    }

    /// Q-Former query outputs for image features, with every image's cross-attention maps
    /// (one `[images, heads, queries, image_tokens]` tensor per cross-attention layer).
    pub fn queries_with_cross(&self, features: Tensor<3>) -> (Tensor<3>, Vec<Tensor<4>>) {
        let (queries, trace) = self.qformer.forward(features, &[]);
        (queries, trace.cross_batch)
    }

    /// Query outputs projected into the language model's embedding space.
    ///
    /// # Shapes
    /// - queries: `[images, queries, d_qformer]` → `[images, queries, d_text]`
    pub fn project(&self, queries: Tensor<3>) -> Tensor<3> {
        self.language_projection.forward(queries)
    }

    /// The image features the Q-Former reads (last hidden state after `post_layernorm`).
    ///
    /// # Shapes
    /// - pixels: `[1, 3, size, size]` → `[1, 1 + patches, d_vision]`
    pub fn vision_features(&self, pixels: Tensor<4>) -> Tensor<3> {
        self.tower.last_hidden_state(pixels)
    }

    /// Q-Former query outputs and every layer's attention probabilities.
    ///
    /// # Shapes
    /// - pixels: `[1, 3, size, size]` → `[1, queries, d_qformer]`
    pub fn qformer(
        &self,
        pixels: Tensor<4>,
        instruction: &[u32],
    ) -> (Tensor<3>, QFormerAttentions) {
        self.qformer
            .forward(self.vision_features(pixels), instruction)
    }

    /// The visual tokens: projected query outputs.
    ///
    /// # Shapes
    /// - pixels: `[1, 3, size, size]` → `[1, queries, d_text]`
    pub fn image_features(&self, pixels: Tensor<4>, instruction: &[u32]) -> Tensor<3> {
        let (queries, _) = self.qformer(pixels, instruction);
        self.language_projection.forward(queries)
    }

    pub fn num_queries(&self) -> usize {
        self.qformer.num_queries()
    }
}

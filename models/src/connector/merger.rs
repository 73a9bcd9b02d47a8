//! Qwen2-VL's `PatchMerger`: each `merge × merge` block of neighbouring patch features (they
//! arrive consecutively, in the processor's merge-block order) is normalised, concatenated and
//! mapped by a two-layer GELU MLP into one token of the language model's width.

use burn::nn::{LayerNorm, Linear};
use burn::prelude::*;

use crate::config::Activation;
use crate::nn::{layer_norm, linear};
use crate::weights::WeightLoader;

/// HF builds `ln_q` with this epsilon whatever the config says.
const LAYER_NORM_EPS: f64 = 1e-6;

#[derive(Module, Debug)]
pub struct PatchMerger {
    ln_q: LayerNorm,
    /// `mlp.0`: `[dim · merge², dim · merge²]`.
    fc1: Linear,
    /// `mlp.2`: `[dim · merge², d_text]`.
    fc2: Linear,
    #[module(skip)]
    folded: usize,
}

impl PatchMerger {
    /// Loads `{prefix}.ln_q` and `{prefix}.mlp.{0,2}`.
    pub fn load(
        w: &mut WeightLoader,
        prefix: &str,
        dim: usize,
        merge: usize,
        d_text: usize,
    ) -> Self {
        let folded = dim * merge * merge;
        Self {
            ln_q: layer_norm(w, &format!("{prefix}.ln_q"), dim, LAYER_NORM_EPS),
            fc1: linear(w, &format!("{prefix}.mlp.0"), folded, folded, true),
            fc2: linear(w, &format!("{prefix}.mlp.2"), folded, d_text, true),
            folded,
        }
    }

    /// # Shapes
    /// - x: `[patches, dim]` → `[patches / merge², d_text]`
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let [n, d] = x.dims();
        let x = self
            .ln_q
            .forward(x)
            .reshape([n * d / self.folded, self.folded]);
        self.fc2
            .forward(Activation::Gelu.forward(self.fc1.forward(x)))
    }
}

//! The LLaVA multimodal projector (`LlavaMultiModalProjector`): `linear_1` → activation →
//! `linear_2`, mapping vision features into the language model's embedding space. LLaVA-1.5's
//! "2-layer MLP with GELU" from the seed document.

use burn::nn::Linear;
use burn::prelude::*;

use crate::config::Activation;
use crate::nn::linear;
use crate::weights::WeightLoader;

#[derive(Module, Debug)]
pub struct MlpProjector {
    linear_1: Linear,
    linear_2: Linear,
    #[module(skip)]
    activation: Activation,
}

impl MlpProjector {
    /// Loads `{prefix}.linear_1` (`d_vision → d_text`) and `{prefix}.linear_2` (`d_text → d_text`).
    pub fn load(
        w: &mut WeightLoader,
        prefix: &str,
        d_vision: usize,
        d_text: usize,
        activation: Activation,
        bias: bool,
    ) -> Self {
        Self {
            linear_1: linear(w, &format!("{prefix}.linear_1"), d_vision, d_text, bias),
            linear_2: linear(w, &format!("{prefix}.linear_2"), d_text, d_text, bias),
            activation,
        }
    }

    /// # Shapes
    /// - features: `[images, tokens, d_vision]` → `[images, tokens, d_text]`
    pub fn forward(&self, features: Tensor<3>) -> Tensor<3> {
        let _span = tracing::debug_span!("connector").entered();
        self.linear_2
            .forward(self.activation.forward(self.linear_1.forward(features)))
    }
}

//! Checkpoint families. Each file only composes parts (vision tower, connector, decoder).

mod blip2;
mod idefics3;
mod llava;
mod llava_onevision;
mod qwen2_vl;

pub use blip2::Blip2;
pub use idefics3::{Idefics3, pixel_shuffle};
pub use llava::Llava;
pub use llava_onevision::{LlavaOnevision, PackLayout};
pub use qwen2_vl::{Qwen2Vl, mrope_positions};

use burn::prelude::*;

use crate::config::{FeatureLayer, SelectStrategy, VisionConfig};
use crate::vision::feature_layer_index;

/// A family's config that cannot be built as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FamilyError {
    #[error("vision_feature_layer {layer} is outside a vision tower of {layers} layers")]
    FeatureLayerOutOfRange { layer: i64, layers: usize },
    #[error("vision_feature_layer is an empty list")]
    NoFeatureLayer,
}

/// Which vision hidden states a connector reads and whether the CLS token is dropped
/// (`vision_feature_layer`, `vision_feature_select_strategy`).
#[derive(Debug, Clone)]
pub struct FeatureSelect {
    /// Resolved indices into the hidden-state list.
    pub layers: Vec<usize>,
    pub strategy: SelectStrategy,
}

impl FeatureSelect {
    pub fn new(
        layer: &FeatureLayer,
        strategy: SelectStrategy,
        vision: &VisionConfig,
    ) -> Result<Self, FamilyError> {
        let n = vision.num_hidden_layers();
        let layers = layer
            .layers()
            .into_iter()
            .map(|l| {
                feature_layer_index(l, n).ok_or(FamilyError::FeatureLayerOutOfRange {
                    layer: l,
                    layers: n,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if layers.is_empty() {
            return Err(FamilyError::NoFeatureLayer);
        }
        Ok(Self { layers, strategy })
    }

    /// The deepest hidden state read: the number of encoder layers to run.
    pub fn deepest(&self) -> usize {
        self.layers.iter().copied().max().unwrap_or(0)
    }

    /// Picks and concatenates the chosen states; `default` drops the first (CLS) token.
    ///
    /// # Shapes
    /// - states: each `[images, tokens, d]` → `[images, tokens (- 1), d * layers]`
    pub fn apply(&self, states: Vec<Tensor<3>>) -> Tensor<3> {
        let picked: Vec<Tensor<3>> = self
            .layers
            .iter()
            .map(|&l| {
                let s = states[l].clone();
                match self.strategy {
                    SelectStrategy::Default => {
                        let tokens = s.dims()[1];
                        s.narrow(1, 1, tokens - 1)
                    }
                    SelectStrategy::Full => s,
                }
            })
            .collect();
        Tensor::cat(picked, 2)
    }
}

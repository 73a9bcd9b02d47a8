//! LLaVA-1.5 (`LlavaForConditionalGeneration`): CLIP tower → feature layer(s) and select
//! strategy → 2-layer MLP projector; one fixed-size view per image.

use burn::prelude::*;

use crate::config::{LlavaConfig, SelectStrategy};
use crate::connector::MlpProjector;
use crate::vision::VisionTower;
use crate::weights::WeightLoader;

use super::{FamilyError, FeatureSelect};

#[derive(Module, Debug)]
pub struct Llava {
    tower: VisionTower,
    projector: MlpProjector,
    #[module(skip)]
    select: FeatureSelect,
}

impl Llava {
    pub fn load(
        w: &mut WeightLoader,
        config: &LlavaConfig,
        d_text: usize,
    ) -> Result<Self, FamilyError> {
        let select = FeatureSelect::new(
            &config.vision_feature_layer,
            config.vision_feature_select_strategy,
            &config.vision_config,
        )?;
        let tower = VisionTower::load(
            w,
            "vision_tower.vision_model",
            &config.vision_config,
            select.deepest(),
        );
        let d_vision = config.vision_config.hidden_size() * select.layers.len();
        let projector = MlpProjector::load(
            w,
            "multi_modal_projector",
            d_vision,
            d_text,
            config.projector_hidden_act,
            config.multimodal_projector_bias,
        );
        Ok(Self {
            tower,
            projector,
            select,
        })
    }

    /// Vision features as the projector receives them (after layer selection and strategy).
    ///
    /// # Shapes
    /// - pixels: `[images, 3, size, size]` → `[images, tokens, d_vision * layers]`
    pub fn vision_features(&self, pixels: Tensor<4>) -> Tensor<3> {
        self.select.apply(self.tower.hidden_states(pixels))
    }

    /// Visual tokens for each image, ready to replace the image tokens.
    ///
    /// # Shapes
    /// - pixels: `[images, 3, size, size]` → `[images, tokens, d_text]`
    pub fn image_features(&self, pixels: Tensor<4>) -> Tensor<3> {
        self.projector.forward(self.vision_features(pixels))
    }

    pub fn strategy(&self) -> SelectStrategy {
        self.select.strategy
    }
}

//! `LlavaOnevisionImageProcessor` (PIL implementation, transformers 4.57.3,
//! `models/llava_onevision/image_processing_llava_onevision.py`) and the `<image>` token count
//! of `LlavaOnevisionProcessor`.
//!
//! One image (HF `need_patching`): pick the best pinpoint → resize the image to fit it
//! (aspect kept, `math.ceil` on the free side) → pad with zeros (black, before normalising),
//! centred → cut `size.height`-pixel square tiles row-major → prepend the whole image resized
//! to `size` → resize each view to `size` (a no-op for square tiles) → rescale → normalise.
//! Several images in one prompt (HF `batch_num_images > 1`) take [`preprocess_unpatched`]:
//! pad to a square of the mean colour, resize, normalise, one view each.
//!
//! `do_pad` (HF `_pad_for_batching`) only zero-pads the tile dimension of a batch to its
//! largest tile count; with one image at a time there is nothing to pad, so it is not applied.
//!
//! [`preprocess_unpatched`]: LlavaOnevisionImageProcessor::preprocess_unpatched

use image::RgbImage;
use serde::Serialize;

use super::anyres::Resolution;
use super::config::{
    ConfigError, FeatureSelect, PreprocessorConfig, ProcessorConfig, SizeSpec, parse_anyres_max,
};
use super::geometry::{crop, mean_background, pad, pad_to_square};
use super::normalize::{Normalization, PixelValues};
use super::resize::{Filter, resize};
use super::tile_plan::{TilePlan, TokenSpec, plan_tiles};

/// `LlavaOnevisionImageProcessor`'s default `image_grid_pinpoints`: `384·i × 384·j`, i, j in 1..=6.
fn default_pinpoints() -> Vec<Resolution> {
    (1..=6)
        .flat_map(|i| (1..=6).map(move |j| Resolution::new(384 * i, 384 * j)))
        .collect()
}

impl TokenSpec {
    /// Reads the token settings of `processor_config.json`. `num_image_tokens` is required
    /// (HF fails without it); `vision_aspect_ratio` defaults to `anyres_max_9` and the select
    /// strategy to `full` (the processor's `None`, which subtracts nothing).
    pub fn from_processor_config(cfg: &ProcessorConfig) -> Result<Self, ConfigError> {
        let num_image_tokens =
            cfg.num_image_tokens
                .filter(|&n| n > 0)
                .ok_or_else(|| ConfigError::Invalid {
                    field: "num_image_tokens",
                    reason: "missing or zero in processor_config.json".to_string(),
                })?;
        let anyres_max =
            parse_anyres_max(cfg.vision_aspect_ratio.as_deref().unwrap_or("anyres_max_9"))?;
        Ok(Self {
            num_image_tokens,
            anyres_max: Some(anyres_max),
            feature_select: cfg
                .vision_feature_select_strategy
                .unwrap_or(FeatureSelect::Full),
        })
    }
}

/// The encoder views of one image and the plan that produced them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessedImage {
    /// Base view first, then the grid tiles row-major (HF's `pixel_values[i]` order), each
    /// `[3, size.height, size.width]`.
    pub tiles: Vec<PixelValues>,
    /// How the image was split and how many tokens it becomes.
    pub plan: TilePlan,
}

/// A configured LLaVA-OneVision image processor.
#[derive(Debug, Clone, PartialEq)]
pub struct LlavaOnevisionImageProcessor {
    /// `size` as HF's `size_tuple` (`shortest_edge` s means s × s).
    pub size: Resolution,
    /// `image_grid_pinpoints`, `(height, width)`.
    pub pinpoints: Vec<Resolution>,
    /// `resample`.
    pub filter: Filter,
    /// `do_resize` (applies to the final per-view resize only, as in HF).
    pub do_resize: bool,
    /// `do_rescale` / `do_normalize`.
    pub normalization: Normalization,
    /// `int(mean · 255)`: the square padding colour of the unpatched path.
    pub pad_background: [u8; 3],
    /// Token-count settings.
    pub tokens: TokenSpec,
}

impl LlavaOnevisionImageProcessor {
    /// Builds the processor from `preprocessor_config.json` (defaults as in HF's `__init__`:
    /// 384 × 384, bicubic, 36 pinpoints, 1/255, OpenAI CLIP mean/std) and the token settings.
    pub fn from_config(cfg: &PreprocessorConfig, tokens: TokenSpec) -> Result<Self, ConfigError> {
        let size = match cfg.size.as_ref() {
            Some(s) => s.to_spec("size", false)?,
            None => SizeSpec::Exact {
                height: 384,
                width: 384,
            },
        };
        let size = match size {
            SizeSpec::Exact { height, width } => Resolution::new(height, width),
            SizeSpec::ShortestEdge(s) => Resolution::new(s, s),
        };
        let pinpoints = match &cfg.image_grid_pinpoints {
            Some(p) => p.iter().map(|&[h, w]| Resolution::new(h, w)).collect(),
            None => default_pinpoints(),
        };
        if pinpoints.is_empty() || pinpoints.iter().any(|p| p.height == 0 || p.width == 0) {
            return Err(ConfigError::Invalid {
                field: "image_grid_pinpoints",
                reason: format!("need at least one non-zero [height, width], got {pinpoints:?}"),
            });
        }
        Ok(Self {
            size,
            pinpoints,
            filter: cfg.filter()?,
            do_resize: cfg.do_resize.unwrap_or(true),
            normalization: cfg.normalization()?,
            pad_background: mean_background(cfg.mean()?),
            tokens,
        })
    }

    /// Builds the processor from the two JSON files of a checkpoint.
    pub fn from_configs(
        preprocessor: &PreprocessorConfig,
        processor: &ProcessorConfig,
    ) -> Result<Self, ConfigError> {
        Self::from_config(preprocessor, TokenSpec::from_processor_config(processor)?)
    }

    /// The AnyRes plan for an image of `width` × `height` pixels.
    pub fn plan(&self, width: u32, height: u32) -> TilePlan {
        plan_tiles(
            Resolution::new(height, width),
            self.size,
            &self.pinpoints,
            &self.tokens,
        )
        .expect("pinpoints validated non-empty at construction")
    }

    /// `<image>` tokens for one image of `width` × `height` alone in its prompt
    /// (`LlavaOnevisionProcessor._get_number_of_features`, minus one for the `default`
    /// select strategy).
    pub fn num_image_tokens(&self, width: u32, height: u32) -> u32 {
        self.plan(width, height).tokens.total
    }

    /// `<image>` tokens for each image of a prompt holding several (`num_image_tokens + 1`
    /// for the newline, minus one for the `default` select strategy).
    pub fn num_image_tokens_unpatched(&self) -> u32 {
        self.tokens.num_image_tokens + 1
            - u32::from(self.tokens.feature_select == FeatureSelect::Default)
    }

    /// Preprocesses one image into its base view and grid tiles.
    pub fn preprocess(&self, img: &RgbImage) -> ProcessedImage {
        let plan = self.plan(img.width(), img.height());
        let _span = tracing::debug_span!(
            "preprocess_onevision",
            width = img.width(),
            height = img.height(),
            views = plan.num_views()
        )
        .entered();
        let resized = resize(img, plan.resized.width, plan.resized.height, self.filter);
        let canvas = pad(&resized, plan.padding, [0, 0, 0]);
        let cut = self.size.height;
        let best = plan.best_resolution;
        let base = resize(img, self.size.width, self.size.height, self.filter);
        let tiles = std::iter::once(base)
            .chain(plan.tiles.iter().map(|t| {
                let (x, y) = (t.col * cut, t.row * cut);
                crop(
                    &canvas,
                    i64::from(x),
                    i64::from(y),
                    cut.min(best.width - x),
                    cut.min(best.height - y),
                )
            }))
            .map(|view| self.finish_view(&view))
            .collect();
        ProcessedImage { tiles, plan }
    }

    /// Preprocesses one image of a multi-image prompt: padded to a square of the mean colour,
    /// resized to `size`, one view.
    pub fn preprocess_unpatched(&self, img: &RgbImage) -> PixelValues {
        self.finish_view(&pad_to_square(img, self.pad_background))
    }

    /// HF `_preprocess`: resize to `size` when `do_resize`, rescale, normalise.
    fn finish_view(&self, view: &RgbImage) -> PixelValues {
        if self.do_resize {
            self.normalization.to_pixel_values(&resize(
                view,
                self.size.width,
                self.size.height,
                self.filter,
            ))
        } else {
            self.normalization.to_pixel_values(view)
        }
    }
}

#[cfg(test)]
#[path = "onevision_tests.rs"]
mod tests;

//! Image preprocessing: bytes → 8-bit RGB → the `f32` pixel values HF image processors
//! produce, bit for bit (transformers 4.57 PIL processors, Pillow 13 resampling).
//!
//! - [`image_io`]: decode files like Pillow's `load_image` (`convert("RGB")` rules).
//! - [`mod@resize`]: Pillow-exact 8-bit resampling.
//! - [`geometry`], [`normalize`]: HF's crop/pad integer rules and float rescale/normalise.
//! - [`clip`]: `CLIPImageProcessor` / `LlavaImageProcessor`.
//! - [`anyres`], [`tile_plan`], [`onevision`]: LLaVA-OneVision's AnyRes tiling, its
//!   [`TilePlan`] and `<image>` token count.
//! - [`idefics3`], [`qwen2_vl`]: Idefics3/SmolVLM tiles; Qwen2-VL's dynamic-resolution patches.
//! - [`image_views`]: [`ImageViews`], every tiling family's cut into encoder views in one shape
//!   (what the teaching view draws).
//!
//! The exact rules relied on are listed in `docs/preprocessing.md`.

pub mod anyres;
pub mod clip;
pub mod config;
pub mod geometry;
pub mod idefics3;
pub mod image_io;
pub mod image_views;
pub mod normalize;
pub mod onevision;
pub mod qwen2_vl;
pub mod resize;
pub mod tile_plan;

#[cfg(test)]
mod test_support;

pub use anyres::{
    FeatureGrid, GridSize, PinpointScore, Resolution, UnpadAxis, feature_grid,
    select_best_resolution,
};
pub use clip::ClipImageProcessor;
pub use config::{
    ConfigError, FeatureSelect, PreprocessorConfig, ProcessorConfig, SizeParam, SizeSpec,
};
pub use geometry::Padding;
pub use idefics3::{Idefics3ImageProcessor, Idefics3Processed, Idefics3TilePlan};
pub use image_io::{ImageError, decode_image, load_image};
pub use image_views::{EncoderView, ImageViews, TilingScheme, TokenTerm, ViewKind};
pub use normalize::{MeanStd, Normalization, PixelValues};
pub use onevision::{LlavaOnevisionImageProcessor, ProcessedImage};
pub use qwen2_vl::{PatchGrid, Qwen2VlImageProcessor, Qwen2VlProcessed};
pub use resize::{Filter, resize};
pub use tile_plan::{PlannedTile, SourceRect, TilePlan, TokenLayout, TokenSpec, plan_tiles};

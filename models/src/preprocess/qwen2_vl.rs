//! Qwen2-VL's image processor (`Qwen2VLImageProcessor`, transformers 4.57, the PIL one): the
//! image keeps its aspect ratio and is resized so that both sides are multiples of
//! `patch_size · merge_size` and its area lies within `[min_pixels, max_pixels]`
//! (`smart_resize`); then rescaled, normalised and cut into `patch_size` px patches, each
//! repeated over `temporal_patch_size` frames, in the order the merger folds them.

use std::path::Path;

use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::config::{ConfigError, PreprocessorConfig};
use super::normalize::{Normalization, PixelValues};
use super::resize::{Filter, resize};

/// `preprocessor_config.json` of a Qwen2-VL checkpoint (HF keys; unknown keys are ignored).
/// Hub files carry `min_pixels` / `max_pixels` at the top level; 4.5x also writes `size`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct HfQwen2VlPreprocessorConfig {
    /// The keys every processor shares (rescale, normalise, resample, `do_resize`).
    #[serde(flatten)]
    pub common: PreprocessorConfig,
    /// `{"shortest_edge": min_pixels, "longest_edge": max_pixels}`; transformers 4.57 ignores
    /// it (see [`Qwen2VlImageProcessor::from_config`]).
    #[serde(default)]
    pub size: Option<PixelBounds>,
    #[serde(default)]
    pub min_pixels: Option<u64>,
    #[serde(default)]
    pub max_pixels: Option<u64>,
    #[serde(default)]
    pub patch_size: Option<u32>,
    #[serde(default)]
    pub temporal_patch_size: Option<u32>,
    #[serde(default)]
    pub merge_size: Option<u32>,
}

/// Qwen2-VL's `size`: pixel counts, not edge lengths, despite the key names.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PixelBounds {
    #[serde(default)]
    pub shortest_edge: Option<u64>,
    #[serde(default)]
    pub longest_edge: Option<u64>,
}

impl HfQwen2VlPreprocessorConfig {
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        super::config::parse_file(path)
    }
}

/// One image's patch grid: frames × patch rows × patch columns (`image_grid_thw`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PatchGrid {
    pub t: u32,
    pub h: u32,
    pub w: u32,
}

impl PatchGrid {
    pub fn patches(&self) -> usize {
        (self.t * self.h * self.w) as usize
    }
}

/// An image the processor cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Qwen2VlError {
    #[error(
        "the image is {width}×{height} px; Qwen2-VL takes images whose long side is at most 200 times the short side"
    )]
    AspectRatio { width: u32, height: u32 },
    #[error(
        "the image is {width}×{height} px; with resizing turned off (do_resize: false) both sides must be multiples of {factor} px"
    )]
    NotMultiple {
        width: u32,
        height: u32,
        factor: u32,
    },
}

/// `Qwen2VLImageProcessor` with the settings of one checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Qwen2VlImageProcessor {
    pub min_pixels: u64,
    pub max_pixels: u64,
    pub patch_size: u32,
    pub temporal_patch_size: u32,
    pub merge_size: u32,
    /// `None` when `do_resize` is false.
    pub resample: Option<Filter>,
    pub normalization: Normalization,
}

/// What the processor makes of one image.
#[derive(Debug, Clone)]
pub struct Qwen2VlProcessed {
    /// The resized, normalised image (channel-first), before it is cut into patches.
    pub pixels: PixelValues,
    pub grid: PatchGrid,
}

impl Qwen2VlImageProcessor {
    /// The settings of `preprocessor_config.json`, with `Qwen2VLImageProcessor`'s defaults
    /// (`min_pixels` 56², `max_pixels` 28²·1280, 14 px patches, 2 frames, 2×2 merge, bicubic,
    /// OpenAI CLIP mean/std). Only the top-level `min_pixels`/`max_pixels` count: 4.57's
    /// `__init__` replaces a given `size` by the defaults before applying them.
    pub fn from_config(c: &HfQwen2VlPreprocessorConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            min_pixels: c.min_pixels.unwrap_or(56 * 56),
            max_pixels: c.max_pixels.unwrap_or(28 * 28 * 1280),
            patch_size: c.patch_size.unwrap_or(14),
            temporal_patch_size: c.temporal_patch_size.unwrap_or(2),
            merge_size: c.merge_size.unwrap_or(2),
            resample: c
                .common
                .do_resize
                .unwrap_or(true)
                .then(|| c.common.filter())
                .transpose()?,
            normalization: c.common.normalization()?,
        })
    }

    /// Both sides are multiples of this many pixels.
    pub fn factor(&self) -> u32 {
        self.patch_size * self.merge_size
    }

    /// HF's `smart_resize`: the `(height, width)` an image of this size is resized to.
    pub fn smart_resize(&self, height: u32, width: u32) -> Result<(u32, u32), Qwen2VlError> {
        let (h, w) = (f64::from(height), f64::from(width));
        if h.max(w) / h.min(w) > 200.0 {
            return Err(Qwen2VlError::AspectRatio { width, height });
        }
        let factor = f64::from(self.factor());
        // Python's round() rounds halves to even.
        let mut h_bar = (h / factor).round_ties_even() * factor;
        let mut w_bar = (w / factor).round_ties_even() * factor;
        let (min, max) = (self.min_pixels as f64, self.max_pixels as f64);
        if h_bar * w_bar > max {
            let beta = (h * w / max).sqrt();
            h_bar = factor.max((h / beta / factor).floor() * factor);
            w_bar = factor.max((w / beta / factor).floor() * factor);
        } else if h_bar * w_bar < min {
            let beta = (min / (h * w)).sqrt();
            h_bar = (h * beta / factor).ceil() * factor;
            w_bar = (w * beta / factor).ceil() * factor;
        }
        Ok((h_bar as u32, w_bar as u32))
    }

    /// The size one image is resized to, `(width, height)`.
    pub fn resized_size(&self, width: u32, height: u32) -> Result<(u32, u32), Qwen2VlError> {
        if self.resample.is_none() {
            let factor = self.factor();
            if !width.is_multiple_of(factor) || !height.is_multiple_of(factor) {
                return Err(Qwen2VlError::NotMultiple {
                    width,
                    height,
                    factor,
                });
            }
            return Ok((width, height));
        }
        let (h, w) = self.smart_resize(height, width)?;
        Ok((w, h))
    }

    /// The patch grid of an image of this size (one frame, padded to `temporal_patch_size`).
    pub fn grid(&self, width: u32, height: u32) -> Result<PatchGrid, Qwen2VlError> {
        let (w, h) = self.resized_size(width, height)?;
        Ok(PatchGrid {
            t: 1,
            h: h / self.patch_size,
            w: w / self.patch_size,
        })
    }

    /// Visual tokens of one image: its patches folded `merge_size²` at a time.
    pub fn num_image_tokens(&self, grid: PatchGrid) -> usize {
        grid.patches() / (self.merge_size * self.merge_size) as usize
    }

    /// Resizes (Pillow-exact, 8-bit), rescales and normalises one image.
    pub fn preprocess(&self, image: &RgbImage) -> Result<Qwen2VlProcessed, Qwen2VlError> {
        let (width, height) = image.dimensions();
        let grid = self.grid(width, height)?;
        let (w, h) = (grid.w * self.patch_size, grid.h * self.patch_size);
        let pixels = match self.resample {
            Some(filter) if (w, h) != (width, height) => self
                .normalization
                .to_pixel_values(&resize(image, w, h, filter)),
            _ => self.normalization.to_pixel_values(image),
        };
        Ok(Qwen2VlProcessed { pixels, grid })
    }

    /// The model's `pixel_values` rows for one processed image: `[patches, C · T · P · P]`,
    /// patches in merge-block order (block row, block column, row in block, column in block),
    /// each patch's values channel-major, then frame (the one frame repeated), row, column.
    pub fn patches(&self, pixels: &PixelValues, grid: PatchGrid) -> Vec<f32> {
        let (p, m, frames) = (
            self.patch_size as usize,
            self.merge_size as usize,
            self.temporal_patch_size as usize,
        );
        let (gh, gw) = (grid.h as usize, grid.w as usize);
        let (c, width) = (pixels.channels, pixels.width);
        let plane = pixels.height * width;
        let mut out = Vec::with_capacity(gh * gw * c * frames * p * p);
        for block_row in 0..gh / m {
            for block_col in 0..gw / m {
                for i in 0..m {
                    for j in 0..m {
                        let (top, left) = ((block_row * m + i) * p, (block_col * m + j) * p);
                        for ch in 0..c {
                            for _ in 0..frames {
                                for y in 0..p {
                                    let row = ch * plane + (top + y) * width + left;
                                    out.extend_from_slice(&pixels.data[row..row + p]);
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn processor(min_pixels: u64, max_pixels: u64) -> Qwen2VlImageProcessor {
        let json = format!(r#"{{"min_pixels": {min_pixels}, "max_pixels": {max_pixels}}}"#);
        let config: HfQwen2VlPreprocessorConfig = serde_json::from_str(&json).unwrap();
        Qwen2VlImageProcessor::from_config(&config).unwrap()
    }

    #[test]
    fn hub_defaults_resize_to_multiples_of_28_within_the_pixel_bounds() {
        let p = processor(3136, 12845056);
        assert_eq!(p.smart_resize(480, 640), Ok((476, 644)));
        // Tiny images grow to min_pixels; huge ones shrink below max_pixels.
        let (h, w) = p.smart_resize(10, 10).unwrap();
        assert!(h * w >= 3136 && h % 28 == 0 && w % 28 == 0);
        let (h, w) = p.smart_resize(8000, 6000).unwrap();
        assert!(u64::from(h) * u64::from(w) <= 12845056 && h % 28 == 0);
    }

    #[test]
    fn halves_round_to_even_as_python_does() {
        let p = processor(28 * 28, 28 * 28 * 10_000);
        // 42 / 28 = 1.5 → 2; 70 / 28 = 2.5 → 2 (not 3).
        assert_eq!(p.smart_resize(42, 70), Ok((56, 56)));
    }

    #[test]
    fn extreme_aspect_ratios_are_refused_in_words() {
        let err = processor(3136, 12845056).smart_resize(1, 201).unwrap_err();
        assert!(err.to_string().contains("200 times"), "{err}");
    }

    #[test]
    fn patches_follow_the_merge_block_order() {
        let p = Qwen2VlImageProcessor {
            patch_size: 1,
            merge_size: 2,
            temporal_patch_size: 2,
            ..processor(1, 1 << 20)
        };
        // One channel, 2 × 4 pixels numbered row-major: blocks are the left and right 2 × 2.
        let pixels = PixelValues {
            channels: 1,
            height: 2,
            width: 4,
            data: (0..8).map(|v| v as f32).collect(),
        };
        let grid = PatchGrid { t: 1, h: 2, w: 4 };
        let rows = p.patches(&pixels, grid);
        // Each patch repeated over two frames.
        let expected: Vec<f32> = [0., 1., 4., 5., 2., 3., 6., 7.]
            .iter()
            .flat_map(|&v| [v, v])
            .collect();
        assert_eq!(rows, expected);
    }
}

#[cfg(test)]
#[path = "qwen2_vl_tests.rs"]
mod fixture_tests;

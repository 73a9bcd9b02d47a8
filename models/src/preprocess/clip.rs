//! `CLIPImageProcessor` (and `LlavaImageProcessor`, which adds square padding), the PIL
//! implementation of transformers 4.57.3 (`models/clip/image_processing_clip.py`,
//! `models/llava/image_processing_llava.py`).
//!
//! Steps, each optional: pad to square with the mean colour (LLaVA only, `do_pad`) → resize
//! (shortest edge, or exact size) → centre crop → rescale → normalise.

use image::RgbImage;

use super::config::{ConfigError, PreprocessorConfig, SizeParam, SizeSpec};
use super::geometry::{center_crop, mean_background, pad_to_square};
use super::normalize::{Normalization, PixelValues};
use super::resize::{Filter, resize};

/// A configured CLIP-style image processor.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipImageProcessor {
    /// `size` and `resample`, when `do_resize`.
    pub resize: Option<(SizeSpec, Filter)>,
    /// `crop_size` as `(height, width)`, when `do_center_crop`.
    pub center_crop: Option<(u32, u32)>,
    /// Background colour of the square padding, when `LlavaImageProcessor` has `do_pad`.
    pub pad_to_square: Option<[u8; 3]>,
    /// `do_rescale` / `do_normalize`.
    pub normalization: Normalization,
}

impl ClipImageProcessor {
    /// Builds the processor from `preprocessor_config.json` with `CLIPImageProcessor`'s
    /// defaults (shortest edge 224, bicubic, centre crop 224×224, 1/255, OpenAI CLIP mean/std).
    /// `do_pad` is honoured only when `image_processor_type` is `LlavaImageProcessor`, since
    /// `CLIPImageProcessor` ignores it.
    pub fn from_config(cfg: &PreprocessorConfig) -> Result<Self, ConfigError> {
        let resize = if cfg.do_resize.unwrap_or(true) {
            let size = cfg.size.clone().unwrap_or(SizeParam::Int(224));
            Some((size.to_spec("size", false)?, cfg.filter()?))
        } else {
            None
        };
        let center_crop = if cfg.do_center_crop.unwrap_or(true) {
            let crop = cfg.crop_size.clone().unwrap_or(SizeParam::Int(224));
            match crop.to_spec("crop_size", true)? {
                SizeSpec::Exact { height, width } => Some((height, width)),
                SizeSpec::ShortestEdge(_) => {
                    return Err(ConfigError::Invalid {
                        field: "crop_size",
                        reason: "center crop needs `height` and `width`".to_string(),
                    });
                }
            }
        } else {
            None
        };
        let is_llava = cfg.image_processor_type.as_deref() == Some("LlavaImageProcessor");
        let pad_to_square = if is_llava && cfg.do_pad.unwrap_or(false) {
            Some(mean_background(cfg.mean()?))
        } else {
            None
        };
        Ok(Self {
            resize,
            center_crop,
            pad_to_square,
            normalization: cfg.normalization()?,
        })
    }

    /// Size `(width, height)` of the pixel values for an image of `width` × `height`.
    pub fn output_size(&self, width: u32, height: u32) -> (u32, u32) {
        let (mut w, mut h) = (width, height);
        if self.pad_to_square.is_some() {
            (w, h) = (w.max(h), w.max(h));
        }
        if let Some((spec, _)) = self.resize {
            (w, h) = resize_output_size(spec, w, h);
        }
        if let Some((ch, cw)) = self.center_crop {
            (w, h) = (cw, ch);
        }
        (w, h)
    }

    /// Preprocesses one RGB image into `[3, H, W]` pixel values.
    pub fn preprocess(&self, img: &RgbImage) -> PixelValues {
        let _span = tracing::debug_span!(
            "preprocess_clip",
            width = img.width(),
            height = img.height()
        )
        .entered();
        let padded;
        let mut img = img;
        if let Some(background) = self.pad_to_square {
            padded = pad_to_square(img, background);
            img = &padded;
        }
        let resized;
        if let Some((spec, filter)) = self.resize {
            let (w, h) = resize_output_size(spec, img.width(), img.height());
            resized = resize(img, w, h, filter);
            img = &resized;
        }
        let cropped;
        if let Some((ch, cw)) = self.center_crop {
            cropped = center_crop(img, ch, cw);
            img = &cropped;
        }
        self.normalization.to_pixel_values(img)
    }
}

/// `get_resize_output_image_size(image, size, default_to_square=False)` as `(width, height)`:
/// the short side becomes `size`, the long side `int(size * long / short)` (truncated).
pub fn resize_output_size(spec: SizeSpec, width: u32, height: u32) -> (u32, u32) {
    match spec {
        SizeSpec::Exact { height, width } => (width, height),
        SizeSpec::ShortestEdge(size) => {
            let (short, long) = if width <= height {
                (width, height)
            } else {
                (height, width)
            };
            let new_long =
                ((u64::from(size) * u64::from(long)) as f64 / f64::from(short.max(1))) as u32;
            if width <= height {
                (size, new_long)
            } else {
                (new_long, size)
            }
        }
    }
}

#[cfg(test)]
#[path = "clip_tests.rs"]
mod tests;

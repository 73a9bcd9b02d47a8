//! Rescaling and normalisation into channel-first `f32` pixel values.
//!
//! transformers 4.57 (`image_transforms.py`) does, on a uint8 `[H, W, 3]` array:
//!
//! * `rescale`: `(image.astype(float64) * scale).astype(float32)` — the product is taken in
//!   `f64` and rounded to `f32` once;
//! * `normalize`: casts a non-float image to `float32`, casts `mean` and `std` to the image's
//!   dtype (`f32`), then `(image - mean) / std` in `f32`.
//!
//! Each output value depends only on its channel and its 8-bit input, so a 3 × 256 lookup
//! table built with exactly those operations reproduces HF bit for bit.

use image::RgbImage;
use serde::Serialize;

/// Pixel values in channel-first layout, `data[c * height * width + y * width + x]`.
///
/// # Shapes
/// `data: [channels, height, width]`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PixelValues {
    /// Number of channels (3).
    pub channels: usize,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
    /// The values, channel-first.
    pub data: Vec<f32>,
}

impl PixelValues {
    /// The shape as `[channels, height, width]`.
    pub fn shape(&self) -> [usize; 3] {
        [self.channels, self.height, self.width]
    }
}

/// Per-channel mean and standard deviation, as written in `preprocessor_config.json`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MeanStd {
    /// `image_mean`.
    pub mean: [f64; 3],
    /// `image_std`.
    pub std: [f64; 3],
}

/// The `do_rescale` / `do_normalize` steps of an HF image processor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Normalization {
    /// `rescale_factor` when `do_rescale` is true.
    pub rescale_factor: Option<f64>,
    /// `image_mean` / `image_std` when `do_normalize` is true.
    pub mean_std: Option<MeanStd>,
}

impl Normalization {
    /// The value HF produces for an 8-bit input `value` in channel `channel`.
    pub fn apply(&self, channel: usize, value: u8) -> f32 {
        let x = match self.rescale_factor {
            Some(scale) => (f64::from(value) * scale) as f32,
            None => f32::from(value),
        };
        match self.mean_std {
            Some(ms) => (x - ms.mean[channel] as f32) / ms.std[channel] as f32,
            None => x,
        }
    }

    /// One 256-entry table per channel.
    fn tables(&self) -> [[f32; 256]; 3] {
        let mut t = [[0f32; 256]; 3];
        for (c, table) in t.iter_mut().enumerate() {
            for (v, slot) in table.iter_mut().enumerate() {
                *slot = self.apply(c, v as u8);
            }
        }
        t
    }

    /// Rescales and normalises `img` into channel-first pixel values.
    pub fn to_pixel_values(&self, img: &RgbImage) -> PixelValues {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let tables = self.tables();
        let plane = w * h;
        let mut data = vec![0f32; 3 * plane];
        for (i, px) in img.as_raw().chunks_exact(3).enumerate() {
            for c in 0..3 {
                data[c * plane + i] = tables[c][px[c] as usize];
            }
        }
        PixelValues {
            channels: 3,
            height: h,
            width: w,
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIP: MeanStd = MeanStd {
        mean: [0.48145466, 0.4578275, 0.40821073],
        std: [0.26862954, 0.26130258, 0.27577711],
    };

    #[test]
    fn rescale_rounds_the_f64_product_once() {
        let n = Normalization {
            rescale_factor: Some(1.0 / 255.0),
            mean_std: None,
        };
        // 0.2 is not representable: the f64 product rounds to f32 differently than an f32
        // product would (51 * (1/255) in f32 arithmetic is 0.20000002).
        assert_eq!(n.apply(0, 51), 0.2f32);
        assert_eq!(n.apply(0, 255), 1.0);
        assert_eq!(n.apply(0, 0), 0.0);
    }

    #[test]
    fn normalisation_is_f32_arithmetic() {
        let n = Normalization {
            rescale_factor: Some(0.00392156862745098),
            mean_std: Some(CLIP),
        };
        let x = (128.0f64 * 0.00392156862745098) as f32;
        // HF casts the config's f64 mean and std to f32, then works in f32.
        assert_eq!(
            n.apply(1, 128),
            (x - 0.4578275f64 as f32) / 0.26130258f64 as f32
        );
    }

    #[test]
    fn layout_is_channel_first() {
        let img = RgbImage::from_fn(3, 2, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let n = Normalization {
            rescale_factor: None,
            mean_std: None,
        };
        let pv = n.to_pixel_values(&img);
        assert_eq!(pv.shape(), [3, 2, 3]);
        assert_eq!(&pv.data[..6], &[0.0, 1.0, 2.0, 0.0, 1.0, 2.0]);
        assert_eq!(&pv.data[6..12], &[0.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
        assert!(pv.data[12..].iter().all(|&v| v == 7.0));
    }
}

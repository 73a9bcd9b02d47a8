//! Decoding image files into the 8-bit RGB pixels the HF image processors see.
//!
//! HF's `load_image` opens a file with Pillow, applies `ImageOps.exif_transpose`, then
//! `convert("RGB")` (the processors' `do_convert_rgb` does the same conversion). We decode
//! with the `image` crate and reproduce Pillow's conversion rules:
//!
//! | decoded as                  | Pillow mode → RGB                    | here                      |
//! |-----------------------------|--------------------------------------|---------------------------|
//! | gray 8-bit (and 1/2/4-bit)  | `L` → replicate                      | replicate                 |
//! | gray + alpha 8-bit          | `LA` → replicate, drop alpha         | same                      |
//! | RGBA 8-bit                  | `RGBA` → drop alpha (no compositing) | same                      |
//! | palette                     | `P` → palette colour, alpha dropped  | same (decoder expands it) |
//! | gray 16-bit                 | `I;16` → `min(v, 255)` (saturates!)  | same                      |
//! | RGB(A)/LA 16-bit            | unpacked to the high byte (`v >> 8`) | same                      |
//!
//! Pixel-exactness caveats: JPEG and lossy WebP are decoded by different libraries than
//! Pillow's (libjpeg-turbo, libwebp), so they can differ by a few levels; PNG, BMP, GIF,
//! TIFF (uncompressed/deflate/LZW) and lossless WebP are exact. Float images (TIFF `F`) are
//! not reproduced.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::error::UnsupportedErrorKind;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage};

/// Largest image accepted by default, in pixels (100 megapixels).
pub const MAX_PIXELS: u64 = 100_000_000;

/// Decoder memory budget: a 100 MP image with four 16-bit channels fits.
const MAX_DECODE_ALLOC: u64 = 1 << 30;

/// Why an image could not be turned into RGB pixels.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The file could not be read.
    #[error("cannot read image file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not in a format we can decode.
    #[error(
        "{origin}: unrecognised or unsupported image format ({message}); supported: PNG, JPEG, WebP, GIF, BMP, TIFF"
    )]
    UnsupportedFormat {
        /// The file path, or `<memory>`.
        origin: String,
        /// The decoder's message.
        message: String,
    },
    /// The decoder rejected the data (corrupt, truncated, or using an unsupported feature).
    #[error("{origin}: cannot decode {format} image: {message}")]
    Decode {
        /// The file path, or `<memory>`.
        origin: String,
        /// The detected format.
        format: String,
        /// The decoder's message.
        message: String,
    },
    /// The image has no pixels.
    #[error("{origin}: image has zero size ({width}×{height})")]
    Empty {
        /// The file path, or `<memory>`.
        origin: String,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The image is larger than the pixel limit.
    #[error(
        "{origin}: image is {width}×{height} ({pixels} pixels), above the limit of {limit} pixels"
    )]
    TooLarge {
        /// The file path, or `<memory>`.
        origin: String,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// `width × height`.
        pixels: u64,
        /// The limit that was exceeded.
        limit: u64,
    },
}

/// Reads and decodes an image file into 8-bit RGB (see the module docs), applying its EXIF
/// orientation, with the default [`MAX_PIXELS`] limit.
pub fn load_image(path: &Path) -> Result<RgbImage, ImageError> {
    let bytes = std::fs::read(path).map_err(|source| ImageError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    decode(&bytes, &path.display().to_string(), MAX_PIXELS)
}

/// Decodes an in-memory image file into 8-bit RGB, with the default [`MAX_PIXELS`] limit.
pub fn decode_image(bytes: &[u8]) -> Result<RgbImage, ImageError> {
    decode(bytes, "<memory>", MAX_PIXELS)
}

/// Decodes an in-memory image file into 8-bit RGB, rejecting images above `max_pixels`.
pub fn decode_image_with_limit(bytes: &[u8], max_pixels: u64) -> Result<RgbImage, ImageError> {
    decode(bytes, "<memory>", max_pixels)
}

fn decode(bytes: &[u8], origin: &str, max_pixels: u64) -> Result<RgbImage, ImageError> {
    let unsupported = |message: String| ImageError::UnsupportedFormat {
        origin: origin.to_string(),
        message,
    };
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| unsupported(e.to_string()))?;
    let format = match reader.format() {
        Some(f) => format!("{f:?}").to_uppercase(),
        None => return Err(unsupported("no known file signature".to_string())),
    };
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    let corrupt = |e: image::ImageError| ImageError::Decode {
        origin: origin.to_string(),
        format: format.clone(),
        message: e.to_string(),
    };

    let mut decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Unsupported(u)
            if matches!(u.kind(), UnsupportedErrorKind::Format(_)) =>
        {
            unsupported(u.to_string())
        }
        other => corrupt(other),
    })?;
    let (width, height) = decoder.dimensions();
    check_dimensions(origin, width, height, max_pixels)?;
    // A broken EXIF block does not stop Pillow's exif_transpose from opening the image either.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    image.apply_orientation(orientation);
    Ok(to_rgb_like_pillow(image))
}

/// Rejects empty images and images above `max_pixels`, before any pixel is decoded.
fn check_dimensions(
    origin: &str,
    width: u32,
    height: u32,
    max_pixels: u64,
) -> Result<(), ImageError> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels == 0 {
        return Err(ImageError::Empty {
            origin: origin.to_string(),
            width,
            height,
        });
    }
    if pixels > max_pixels {
        return Err(ImageError::TooLarge {
            origin: origin.to_string(),
            width,
            height,
            pixels,
            limit: max_pixels,
        });
    }
    Ok(())
}

/// `Image.convert("RGB")` for every layout the decoders produce (see the module table).
pub fn to_rgb_like_pillow(image: DynamicImage) -> RgbImage {
    let (w, h) = (image.width(), image.height());
    let rgb = |data: Vec<u8>| RgbImage::from_raw(w, h, data).expect("3 bytes per pixel");
    match image {
        DynamicImage::ImageRgb8(img) => img,
        DynamicImage::ImageLuma8(img) => {
            rgb(img.as_raw().iter().flat_map(|&v| [v, v, v]).collect())
        }
        DynamicImage::ImageLumaA8(img) => rgb(img
            .as_raw()
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0]])
            .collect()),
        DynamicImage::ImageRgba8(img) => rgb(img
            .as_raw()
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect()),
        // I;16 -> RGB saturates (Convert.c I16_RGB); it does not scale.
        DynamicImage::ImageLuma16(img) => rgb(img
            .as_raw()
            .iter()
            .flat_map(|&v| {
                let v = v.min(255) as u8;
                [v, v, v]
            })
            .collect()),
        // 16-bit colour and gray+alpha are unpacked to their most significant byte.
        DynamicImage::ImageLumaA16(img) => rgb(img
            .as_raw()
            .chunks_exact(2)
            .flat_map(|p| {
                let v = (p[0] >> 8) as u8;
                [v, v, v]
            })
            .collect()),
        DynamicImage::ImageRgb16(img) => {
            rgb(img.as_raw().iter().map(|&v| (v >> 8) as u8).collect())
        }
        DynamicImage::ImageRgba16(img) => rgb(img
            .as_raw()
            .chunks_exact(4)
            .flat_map(|p| [(p[0] >> 8) as u8, (p[1] >> 8) as u8, (p[2] >> 8) as u8])
            .collect()),
        other => other.to_rgb8(),
    }
}

#[cfg(test)]
#[path = "image_io_tests.rs"]
mod tests;

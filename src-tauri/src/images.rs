//! Images the user adds (dropped, picked or pasted): checked by decoding them exactly as the
//! engine will, measured, and given a small JPEG thumbnail for the chat. The original bytes
//! are what gets stored, so the model later sees the file itself, not a re-encoding.

use std::io::Cursor;

use image::RgbImage;
use iris_models::preprocess::decode_image;

use crate::commands::chat::store_error;
use crate::error::{AppError, AppResult};
use crate::store::{ImageRef, Store};

/// The longest side of a thumbnail, in pixels.
pub const THUMB_SIZE: u32 = 256;
/// Files above this size are refused before decoding (a 100-megapixel PNG is ~300 MB).
pub const MAX_FILE_BYTES: usize = 256 << 20;

/// An added image, decoded and ready to store.
#[derive(Debug, Clone)]
pub struct CheckedImage {
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
    /// JPEG bytes, at most [`THUMB_SIZE`] on the longer side.
    pub thumb: Vec<u8>,
}

/// Decodes `bytes` (named `name` for messages) as the engine will; a clear `BAD_IMAGE`
/// error when it is not an image Iris can read.
pub fn check(name: &str, bytes: &[u8]) -> AppResult<CheckedImage> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(AppError::plain(
            "BAD_IMAGE",
            format!(
                "{name} is too large ({} MB; the limit is 256 MB).",
                bytes.len() >> 20
            ),
        ));
    }
    let rgb = decode(name, bytes)?;
    Ok(CheckedImage {
        mime: mime_of(bytes),
        width: rgb.width(),
        height: rgb.height(),
        thumb: thumbnail(&rgb)?,
    })
}

/// Stores a checked image, staged (attached to no message yet): how every added image, dropped,
/// picked, pasted or a built-in sample, enters the chat.
pub fn stage(
    store: &mut Store,
    name: &str,
    bytes: &[u8],
    image: &CheckedImage,
) -> AppResult<ImageRef> {
    store
        .insert_image(
            name,
            image.mime,
            bytes,
            image.width,
            image.height,
            &image.thumb,
        )
        .map_err(store_error)
}

/// Decodes stored image bytes for the model.
pub fn decode(name: &str, bytes: &[u8]) -> AppResult<RgbImage> {
    decode_image(bytes).map_err(|e| {
        AppError::new(
            "BAD_IMAGE",
            format!(
                "{name} could not be read as an image. Iris reads PNG, JPEG, WebP, GIF, BMP and TIFF files; this one may be damaged or in another format."
            ),
            Some(e.to_string()),
        )
    })
}

fn mime_of(bytes: &[u8]) -> &'static str {
    match image::guess_format(bytes) {
        Ok(image::ImageFormat::Png) => "image/png",
        Ok(image::ImageFormat::Jpeg) => "image/jpeg",
        Ok(image::ImageFormat::WebP) => "image/webp",
        Ok(image::ImageFormat::Gif) => "image/gif",
        Ok(image::ImageFormat::Bmp) => "image/bmp",
        Ok(image::ImageFormat::Tiff) => "image/tiff",
        _ => "application/octet-stream",
    }
}

fn thumbnail(rgb: &RgbImage) -> AppResult<Vec<u8>> {
    let scale = (THUMB_SIZE as f32 / rgb.width().max(rgb.height()) as f32).min(1.0);
    let width = ((rgb.width() as f32 * scale).round() as u32).max(1);
    let height = ((rgb.height() as f32 * scale).round() as u32).max(1);
    let small = image::imageops::thumbnail(rgb, width, height);
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&small)
        .map_err(|e| {
            AppError::new(
                "BAD_IMAGE",
                "Iris could not make a thumbnail.",
                Some(e.to_string()),
            )
        })?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 90]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_png_is_measured_and_thumbnailed_to_fit() {
        let checked = check("wide.png", &png(600, 300)).unwrap();
        assert_eq!(
            (checked.mime, checked.width, checked.height),
            ("image/png", 600, 300)
        );
        let thumb = image::load_from_memory(&checked.thumb).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (256, 128));
    }

    #[test]
    fn garbage_and_truncated_files_are_bad_images_named_in_the_message() {
        let error = check("notes.txt", b"hello, not an image").unwrap_err();
        assert_eq!(error.code, "BAD_IMAGE");
        assert!(error.message.contains("notes.txt"), "{}", error.message);
        let bytes = png(64, 64);
        let error = check("cut.png", &bytes[..bytes.len() / 2]).unwrap_err();
        assert_eq!(error.code, "BAD_IMAGE");
        assert!(error.details.is_some());
    }
}

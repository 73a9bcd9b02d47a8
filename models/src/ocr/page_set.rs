//! The OCR quality set: pages with known text, typeset here (no network, no font files) and
//! committed under `tests/fixtures/ocr/` as `NN-name.png` (the page, greyscale; a scan is a
//! `.jpg`, as scanners write them) beside `NN-name.txt` (its exact text in reading order).
//!
//! Each page is written as a one-page PDF in the standard 14 fonts (Helvetica, Times, Courier
//! in regular, bold and italic; hayro draws them with its built-in Foxit substitutes) and
//! rendered by [`PdfDocument`] at [`PAGE_DPI`], as `iris ocr` renders a PDF. The set has
//! sizes from 9 pt to 24 pt, a bulleted and a numbered list, a ruled table, two columns, a
//! monospaced listing, accented letters, and a letter made to look scanned (grey paper, noise,
//! dust, a slight blur, turned by 1.5°). `iris ocr-set -o DIR` writes it;
//! [`eval`](super::eval) reads it back.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::codecs::jpeg::JpegEncoder;
use image::{GrayImage, ImageFormat};

use crate::document::{PdfDocument, PdfError};

mod layout;
mod pages;
mod pdf;
mod scan;

/// The resolution the pages are rendered at (A4 becomes 1240 × 1755 pixels).
pub const PAGE_DPI: u32 = 150;

/// JPEG quality of scanned pages: visible artefacts around the glyphs, as in real scans.
const SCAN_JPEG_QUALITY: u8 = 80;

/// The page image files a set holds.
const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// One page of the set as the generator makes it.
#[derive(Debug, Clone)]
pub struct GeneratedPage {
    /// File stem, e.g. `03-list-and-table`.
    pub name: &'static str,
    pub image: GrayImage,
    /// The page's text, blocks in reading order separated by blank lines; table cells
    /// separated by tabs; list bullets left out (they are marks, not text).
    pub text: String,
    /// PNG, or JPEG for a scanned page.
    pub format: ImageFormat,
}

impl GeneratedPage {
    /// `NN-name.png` or `NN-name.jpg`.
    pub fn file_name(&self) -> String {
        let extension = self.format.extensions_str().first().unwrap_or(&"png");
        format!("{}.{extension}", self.name)
    }

    /// The image file's bytes.
    pub fn encode(&self) -> Result<Vec<u8>, image::ImageError> {
        let mut bytes = Cursor::new(Vec::new());
        match self.format {
            ImageFormat::Jpeg => JpegEncoder::new_with_quality(&mut bytes, SCAN_JPEG_QUALITY)
                .encode_image(&self.image)?,
            format => self.image.write_to(&mut bytes, format)?,
        }
        Ok(bytes.into_inner())
    }
}

/// Why the set could not be made, written or read.
#[derive(Debug, thiserror::Error)]
pub enum PageSetError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read or write the image {path}: {source}")]
    Image {
        path: PathBuf,
        source: image::ImageError,
    },
    #[error("{image} has no ground truth beside it ({truth} is missing)")]
    MissingTruth { image: PathBuf, truth: PathBuf },
    #[error("{dir} holds no page images (*.png, *.jpg); make one with `iris ocr-set -o {dir}`")]
    Empty { dir: PathBuf },
    #[error("drawing a page of the set: {0}")]
    Render(#[from] PdfError),
}

/// Every page of the set, rendered.
pub fn generate() -> Result<Vec<GeneratedPage>, PageSetError> {
    let metrics = pdf::Metrics::new();
    pages::PAGES
        .iter()
        .map(|spec| {
            let (sheet, text) = (spec.build)(&metrics);
            let document = PdfDocument::from_bytes(sheet.to_pdf())?;
            let rendered = document.render_page(0, PAGE_DPI)?;
            let grey = image::imageops::grayscale(&rendered);
            let (image, format) = match spec.scan_seed {
                Some(seed) => (scan::scanned(&grey, seed), ImageFormat::Jpeg),
                None => (grey, ImageFormat::Png),
            };
            Ok(GeneratedPage {
                name: spec.name,
                image,
                text,
                format,
            })
        })
        .collect()
}

/// Writes the set into `dir` (created if needed) and returns the pages written.
pub fn write(dir: &Path) -> Result<Vec<GeneratedPage>, PageSetError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PageSetError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let pages = generate()?;
    for page in &pages {
        let file = dir.join(page.file_name());
        let bytes = page.encode().map_err(|source| PageSetError::Image {
            path: file.clone(),
            source,
        })?;
        std::fs::write(&file, bytes).map_err(io(&file))?;
        let txt = dir.join(format!("{}.txt", page.name));
        std::fs::write(&txt, &page.text).map_err(io(&txt))?;
    }
    Ok(pages)
}

/// A page of a set on disk.
#[derive(Debug, Clone)]
pub struct SetPage {
    /// File stem, e.g. `03-list-and-table`.
    pub name: String,
    pub image: PathBuf,
    /// The text of `NN-name.txt`.
    pub truth: String,
}

/// The pages of the set in `dir`: every `*.png` and `*.jpg` with the `.txt` of the same name
/// beside it, in file-name order.
pub fn load(dir: &Path) -> Result<Vec<SetPage>, PageSetError> {
    let io = |source| PageSetError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut images = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let extension = path.extension().map(|e| e.to_string_lossy().to_lowercase());
        if extension.is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.as_str())) {
            images.push(path);
        }
    }
    if images.is_empty() {
        return Err(PageSetError::Empty {
            dir: dir.to_path_buf(),
        });
    }
    images.sort();
    images
        .into_iter()
        .map(|image| {
            let truth_path = image.with_extension("txt");
            let truth =
                std::fs::read_to_string(&truth_path).map_err(|source| match source.kind() {
                    std::io::ErrorKind::NotFound => PageSetError::MissingTruth {
                        image: image.clone(),
                        truth: truth_path.clone(),
                    },
                    _ => PageSetError::Io {
                        path: truth_path.clone(),
                        source,
                    },
                })?;
            let name = image
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok(SetPage { name, image, truth })
        })
        .collect()
}

#[cfg(test)]
mod tests;

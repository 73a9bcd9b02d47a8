//! Open documents (PDFs and images of pages) for the Documents view (docs/documents.md): kept
//! in memory by id while the view uses them; pages are rendered on demand.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;
use std::sync::{Arc, Mutex};

use image::RgbImage;
use iris_models::document::PdfDocument;

use crate::error::{AppError, AppResult};

/// What `open_document` returns.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentInfo {
    pub id: String,
    pub name: String,
    pub path: String,
    pub kind: &'static str,
    pub pages: Vec<PageDims>,
}

#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct PageDims {
    pub width: f32,
    pub height: f32,
}

enum Source {
    Pdf(PdfDocument),
    Image(RgbImage),
}

/// One open document: what the page sees, and its pages' source (locked while rendering).
type OpenDocument = (DocumentInfo, Arc<Mutex<Source>>);

/// The open documents.
#[derive(Default)]
pub struct Documents(Mutex<HashMap<String, OpenDocument>>);

/// The longest side, in pixels, a page is rendered at for reading (SmolDocling's processor
/// works at 2048 px; others resize further down themselves).
pub const READ_LONG_SIDE: f32 = 2048.0;

fn bad_document(name: &str, detail: impl std::fmt::Display) -> AppError {
    AppError::new(
        "BAD_DOCUMENT",
        format!("{name} could not be opened as a PDF or an image of a page."),
        Some(detail.to_string()),
    )
}

impl Documents {
    /// Opens a PDF or an image file.
    pub fn open(&self, path: &Path) -> AppResult<DocumentInfo> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let bytes = std::fs::read(path).map_err(|e| bad_document(&name, e))?;
        let (kind, source, pages) = if bytes.starts_with(b"%PDF-") {
            let pdf = PdfDocument::from_bytes(bytes).map_err(|e| {
                let message = e.to_string().replace("<memory>", &name);
                AppError::new("BAD_DOCUMENT", message.clone(), Some(message))
            })?;
            let pages = (0..pdf.page_count())
                .map(|i| {
                    pdf.page_size_pt(i)
                        .map(|s| PageDims {
                            width: s.width,
                            height: s.height,
                        })
                        .map_err(|e| bad_document(&name, e))
                })
                .collect::<AppResult<Vec<_>>>()?;
            ("pdf", Source::Pdf(pdf), pages)
        } else {
            let image = crate::images::decode(&name, &bytes).map_err(|e| {
                AppError::new(
                    "BAD_DOCUMENT",
                    format!(
                        "{name} is neither a PDF nor an image Iris can read (PNG, JPEG, WebP, GIF, BMP, TIFF)."
                    ),
                    e.details,
                )
            })?;
            let dims = PageDims {
                width: image.width() as f32,
                height: image.height() as f32,
            };
            ("image", Source::Image(image), vec![dims])
        };
        let info = DocumentInfo {
            id: format!("d{}", crate::store::now_ms()),
            name,
            path: path.display().to_string(),
            kind,
            pages,
        };
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(
            info.id.clone(),
            (info.clone(), Arc::new(Mutex::new(source))),
        );
        Ok(info)
    }

    pub fn info(&self, id: &str) -> AppResult<DocumentInfo> {
        self.get(id).map(|(info, _)| info)
    }

    fn get(&self, id: &str) -> AppResult<OpenDocument> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
            .ok_or_else(|| AppError::not_found("document"))
    }

    /// Page `page` with its longest side `long_side` pixels.
    pub fn render(&self, id: &str, page: usize, long_side: f32) -> AppResult<RgbImage> {
        let (info, source) = self.get(id)?;
        let dims = info.pages.get(page).copied().ok_or_else(|| {
            AppError::invalid_input(format!("{} has no page {}.", info.name, page + 1))
        })?;
        let source = source.lock().unwrap_or_else(|e| e.into_inner());
        match &*source {
            Source::Pdf(pdf) => {
                let long_pt = dims.width.max(dims.height).max(1.0);
                let dpi = (long_side / (long_pt / 72.0)).round().clamp(10.0, 600.0) as u32;
                pdf.render_page(page, dpi)
                    .map_err(|e| bad_document(&info.name, e))
            }
            Source::Image(image) => {
                let scale = (long_side / image.width().max(image.height()) as f32).min(1.0);
                let (w, h) = (
                    ((image.width() as f32 * scale).round() as u32).max(1),
                    ((image.height() as f32 * scale).round() as u32).max(1),
                );
                Ok(if scale < 1.0 {
                    image::imageops::resize(image, w, h, image::imageops::FilterType::Triangle)
                } else {
                    image.clone()
                })
            }
        }
    }

    /// Page `page` as a `data:` URL (PNG) with its longest side `long_side` pixels.
    pub fn page_data_url(&self, id: &str, page: usize, long_side: f32) -> AppResult<String> {
        use base64::Engine as _;
        let image = self.render(id, page, long_side)?;
        let mut png = Cursor::new(Vec::new());
        image
            .write_to(&mut png, image::ImageFormat::Png)
            .map_err(|e| {
                AppError::new(
                    "BAD_DOCUMENT",
                    "The page could not be drawn.",
                    Some(e.to_string()),
                )
            })?;
        let data = base64::engine::general_purpose::STANDARD.encode(png.into_inner());
        Ok(format!("data:image/png;base64,{data}"))
    }
}

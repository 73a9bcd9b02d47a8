//! PDF pages rendered to RGB with hayro, a pure-Rust rasteriser (no C library to build or ship).
//!
//! Pages are drawn on white, with their `/Rotate` applied and clipped to the crop box (the
//! part of the page viewers show, intersected with the media box). The pixel size is
//! `ceil(points × dpi / 72)` per side, as poppler's `pdftoppm -cropbox` computes it.
//!
//! What hayro 0.9 handles, as far as scanned and born-digital documents go: the standard 14
//! fonts (built-in substitutes; the glyph shapes differ slightly from Adobe's and poppler's),
//! embedded TrueType/CFF/Type 1/Type 3 fonts, DCT (JPEG), JPX, JBIG2, CCITT and Flate images,
//! shadings, annotation appearance streams (so filled form fields show), and the standard
//! security handler: encrypted files that open without a password (the usual "permissions
//! only" protection) render; files that need a user password fail with
//! [`PdfError::PasswordProtected`]. Blend modes on isolated or knockout groups and colour key
//! masking are not implemented upstream.
//!
//! Memory: the file's bytes stay in memory while the document is open, and each page's decoded
//! content stream is kept once the page has been drawn (text and vector operators, usually a
//! few kilobytes); images are decoded anew for every render, so a long scanned PDF rendered
//! page by page through [`PdfDocument::pages`] holds one page's pixels at a time.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use hayro::hayro_interpret::util::TransformExt;
use hayro::hayro_interpret::{InterpreterSettings, InterpreterWarning};
use hayro::hayro_syntax::page::Page;
use hayro::hayro_syntax::{DecryptionError, LoadPdfError, Pdf};
use hayro::kurbo::Affine;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::vello_cpu::peniko::ImageAlphaType;
use hayro::vello_cpu::{Pixmap, RasterizerSettings, RenderContext, Resources, TargetInit};
use hayro::{RenderCache, RenderSettings};
use image::RgbImage;

use super::PdfError;
use super::error::MAX_SIDE;

/// Largest page accepted by default, in pixels (50 megapixels: A4 at 600 DPI is 35 MP; a page
/// this size needs a 200 MB canvas while it is drawn, then 150 MB as RGB).
pub const DEFAULT_MAX_PIXELS: u64 = 50_000_000;

/// How far into the file the `%PDF-` header may start (readers accept leading junk; poppler
/// and Acrobat look at the first kilobyte).
const HEADER_SEARCH: usize = 1024;

/// How far from the end the `%%EOF` marker may be (poppler's limit as well).
const TRAILER_SEARCH: usize = 1024;

/// A page's size in PDF points (1/72 inch) as it is displayed: crop box, after `/Rotate`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageSize {
    /// Width in points.
    pub width: f32,
    /// Height in points.
    pub height: f32,
}

impl PageSize {
    /// The rendered size in pixels at `dpi`: `ceil(points × dpi / 72)` per side, at least 1.
    pub fn pixels(&self, dpi: u32) -> (u64, u64) {
        let side = |points: f32| {
            // The tolerance keeps exact products (612 pt at 50 DPI = 425 px) from rounding up.
            let px = (f64::from(points) * f64::from(dpi) / 72.0 - 1e-6).ceil();
            px.max(1.0) as u64
        };
        (side(self.width), side(self.height))
    }
}

/// One rendered page.
#[derive(Debug, Clone)]
pub struct RenderedPage {
    /// The page's 0-based index.
    pub index: usize,
    /// The pixels.
    pub image: RgbImage,
}

/// An open PDF document whose pages can be rendered one at a time.
pub struct PdfDocument {
    pdf: Pdf,
    origin: String,
    max_pixels: u64,
    truncated: bool,
}

impl std::fmt::Debug for PdfDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PdfDocument")
            .field("origin", &self.origin)
            .field("pages", &self.page_count())
            .field("max_pixels", &self.max_pixels)
            .field("truncated", &self.truncated)
            .finish()
    }
}

impl PdfDocument {
    /// Reads and opens a PDF file.
    pub fn open(path: &Path) -> Result<Self, PdfError> {
        let bytes = std::fs::read(path).map_err(|source| PdfError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::load(bytes, path.display().to_string())
    }

    /// Opens a PDF held in memory (errors name it `<memory>`).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, PdfError> {
        Self::load(bytes, "<memory>".to_string())
    }

    fn load(bytes: Vec<u8>, origin: String) -> Result<Self, PdfError> {
        let head = &bytes[..bytes.len().min(HEADER_SEARCH)];
        if !head.windows(5).any(|w| w == b"%PDF-") {
            return Err(PdfError::NotPdf { origin });
        }
        let tail = &bytes[bytes.len().saturating_sub(TRAILER_SEARCH)..];
        let truncated = !tail.windows(5).any(|w| w == b"%%EOF");
        let pdf = match Pdf::new(bytes) {
            Ok(pdf) => pdf,
            Err(LoadPdfError::Invalid) => return Err(PdfError::Malformed { origin }),
            Err(LoadPdfError::Decryption(e)) => return Err(decryption_error(e, origin)),
        };
        match (pdf.pages().is_empty(), truncated) {
            (true, true) => return Err(PdfError::Malformed { origin }),
            (true, false) => return Err(PdfError::NoPages { origin }),
            (false, true) => tracing::warn!(
                "{origin}: the file looks truncated (no %%EOF at its end); {} page(s) recovered, \
                 later pages may be missing",
                pdf.pages().len()
            ),
            (false, false) => {}
        }
        Ok(Self {
            pdf,
            origin,
            max_pixels: DEFAULT_MAX_PIXELS,
            truncated,
        })
    }

    /// Whether the file lacks its `%%EOF` end marker, as a cut-off download does. Such a file
    /// still opens when pages can be recovered (hayro rebuilds the cross-reference table from
    /// the objects it finds), but pages past the cut are missing: tell the user.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// Replaces the pixel limit ([`DEFAULT_MAX_PIXELS`]) above which pages are refused.
    pub fn with_max_pixels(mut self, max_pixels: u64) -> Self {
        self.max_pixels = max_pixels;
        self
    }

    /// The file path, or `<memory>`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Number of pages (at least 1: documents without pages do not open).
    pub fn page_count(&self) -> usize {
        self.pdf.pages().len()
    }

    /// The displayed size of page `index` (0-based) in points: crop box, after `/Rotate`.
    pub fn page_size_pt(&self, index: usize) -> Result<PageSize, PdfError> {
        let (width, height) = self.page(index)?.render_dimensions();
        Ok(PageSize { width, height })
    }

    /// Renders page `index` (0-based) at `dpi` to RGB on a white background.
    pub fn render_page(&self, index: usize, dpi: u32) -> Result<RgbImage, PdfError> {
        self.render_with_cache(index, dpi, &RenderCache::new())
    }

    /// Renders the given 0-based page indices lazily, one page per `next()`, sharing font and
    /// glyph caches between pages. Takes a range (`2..5`), the indices from
    /// [`parse_page_range`](super::parse_page_range) or any list; an index past the end yields
    /// [`PdfError::PageOutOfRange`] in its turn.
    pub fn pages<I: IntoIterator<Item = usize>>(
        &self,
        indices: I,
        dpi: u32,
    ) -> PageRenders<'_, I::IntoIter> {
        PageRenders {
            document: self,
            indices: indices.into_iter(),
            dpi,
            cache: RenderCache::new(),
        }
    }

    fn page(&self, index: usize) -> Result<&Page<'_>, PdfError> {
        self.pdf
            .pages()
            .get(index)
            .ok_or_else(|| PdfError::PageOutOfRange {
                origin: self.origin.clone(),
                page_number: index + 1,
                page_count: self.page_count(),
            })
    }

    /// The page's pixel size at `dpi`, or why it cannot be rendered at that resolution.
    fn checked_pixels(&self, index: usize, dpi: u32) -> Result<(u16, u16), PdfError> {
        if dpi == 0 {
            return Err(PdfError::InvalidDpi { dpi });
        }
        let size = self.page_size_pt(index)?;
        let fits =
            |(w, h): (u64, u64)| w.saturating_mul(h) <= self.max_pixels && w.max(h) <= MAX_SIDE;
        let (width, height) = size.pixels(dpi);
        if fits((width, height)) {
            // Both sides are at most MAX_SIDE = u16::MAX.
            return Ok((width as u16, height as u16));
        }
        // Pixels grow with dpi², the longer side with dpi: estimate, then step down past the
        // rounding of `pixels`.
        let area = (width as f64) * (height as f64);
        let estimate = f64::from(dpi)
            * (self.max_pixels as f64 / area)
                .sqrt()
                .min(MAX_SIDE as f64 / width.max(height) as f64);
        let start = (estimate as u32).saturating_add(1).min(dpi - 1);
        let suggested_dpi = (1..=start)
            .rev()
            .find(|&d| fits(size.pixels(d)))
            .unwrap_or(1);
        Err(PdfError::PageTooLarge {
            origin: self.origin.clone(),
            page_number: index + 1,
            dpi,
            width,
            height,
            limit: self.max_pixels,
            suggested_dpi,
        })
    }

    fn render_with_cache<'a>(
        &'a self,
        index: usize,
        dpi: u32,
        cache: &RenderCache<'a>,
    ) -> Result<RgbImage, PdfError> {
        let _span = tracing::debug_span!("pdf_page", page = index + 1, dpi).entered();
        let (width, height) = self.checked_pixels(index, dpi)?;
        let page = self.page(index)?;
        let drawn = catch_unwind(AssertUnwindSafe(|| {
            draw(page, cache, index, dpi, width, height)
        }));
        drawn.map_err(|panic| PdfError::RenderFailed {
            origin: self.origin.clone(),
            page_number: index + 1,
            message: panic_message(panic.as_ref()),
        })
    }
}

/// Rasterises one page into a `width`×`height` white canvas at `dpi`.
fn draw<'a>(
    page: &'a Page<'a>,
    cache: &RenderCache<'a>,
    index: usize,
    dpi: u32,
    width: u16,
    height: u16,
) -> RgbImage {
    let settings = InterpreterSettings {
        warning_sink: std::sync::Arc::new(move |warning: InterpreterWarning| {
            tracing::warn!(page = index + 1, "PDF page drawn incompletely: {warning:?}");
        }),
        ..Default::default()
    };
    let mut ctx = RenderContext::new(width, height);
    // Points to pixels, after the page's own transform (crop-box origin, /Rotate, y down).
    let transform = Affine::scale(f64::from(dpi) / 72.0) * page.initial_transform(true).to_kurbo();
    hayro::render_into(
        page,
        cache,
        &settings,
        &RenderSettings::default(),
        &mut ctx,
        transform,
    );
    ctx.flush();
    let mut pixmap = Pixmap::new(width, height);
    let target_init = TargetInit::Clear(WHITE);
    ctx.render_with(
        &mut pixmap,
        &mut Resources::default(),
        RasterizerSettings {
            target_init,
            ..Default::default()
        },
    );
    // Composited onto opaque white, every pixel has alpha 255, so premultiplied = straight.
    // RGBA → RGB in place: the page's pixels exist once, not twice.
    let mut data = pixmap.take_rgba8(ImageAlphaType::AlphaPremultiplied);
    let pixels = data.len() / 4;
    for i in 0..pixels {
        data.copy_within(4 * i..4 * i + 3, 3 * i);
    }
    data.truncate(3 * pixels);
    data.shrink_to_fit();
    RgbImage::from_raw(u32::from(width), u32::from(height), data).expect("3 bytes per pixel")
}

fn decryption_error(error: DecryptionError, origin: String) -> PdfError {
    let problem = match error {
        DecryptionError::PasswordProtected => return PdfError::PasswordProtected { origin },
        DecryptionError::UnsupportedAlgorithm => {
            "it uses an encryption method other than the standard RC4/AES security handler"
        }
        DecryptionError::InvalidEncryption => "its /Encrypt dictionary is invalid",
        DecryptionError::MissingIDEntry => "the /ID entry that decryption needs is missing",
    };
    PdfError::UnsupportedEncryption { origin, problem }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "the renderer stopped unexpectedly".to_string())
}

/// The iterator of [`PdfDocument::pages`]: renders one page per step.
pub struct PageRenders<'a, I> {
    document: &'a PdfDocument,
    indices: I,
    dpi: u32,
    cache: RenderCache<'a>,
}

impl<I: Iterator<Item = usize>> Iterator for PageRenders<'_, I> {
    type Item = Result<RenderedPage, PdfError>;

    fn next(&mut self) -> Option<Self::Item> {
        let index = self.indices.next()?;
        let rendered = self
            .document
            .render_with_cache(index, self.dpi, &self.cache);
        if matches!(rendered, Err(PdfError::RenderFailed { .. })) {
            // The caches may hold half-built entries from the page that failed.
            self.cache = RenderCache::new();
        }
        Some(rendered.map(|image| RenderedPage { index, image }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.indices.size_hint()
    }
}

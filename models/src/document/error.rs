//! Why a PDF or one of its pages could not be turned into pixels.

use std::path::PathBuf;

/// Errors opening a PDF, choosing its pages or rendering them. `origin` is the file path, or
/// `<memory>` for [`PdfDocument::from_bytes`](super::PdfDocument::from_bytes); page numbers in
/// errors count from 1, as people do.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The file could not be read.
    #[error("cannot read PDF file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes do not start like a PDF (no `%PDF-` header in the first kilobyte).
    #[error("{origin}: not a PDF file (it does not start with a %PDF- header)")]
    NotPdf {
        /// The file path, or `<memory>`.
        origin: String,
    },
    /// The file starts like a PDF, but no page could be read from it, not even by
    /// reconstructing its cross-reference table.
    #[error("{origin}: damaged PDF, no page can be read from it (truncated or corrupt file?)")]
    Malformed {
        /// The file path, or `<memory>`.
        origin: String,
    },
    /// The PDF is encrypted and does not open with an empty password.
    #[error(
        "{origin}: the PDF is locked with a password; password-protected PDFs are not supported"
    )]
    PasswordProtected {
        /// The file path, or `<memory>`.
        origin: String,
    },
    /// The PDF is encrypted in a way the decryptor cannot handle.
    #[error("{origin}: the PDF is encrypted and cannot be decrypted ({problem})")]
    UnsupportedEncryption {
        /// The file path, or `<memory>`.
        origin: String,
        /// What is wrong, in plain words.
        problem: &'static str,
    },
    /// The page tree is empty.
    #[error("{origin}: the PDF has no pages")]
    NoPages {
        /// The file path, or `<memory>`.
        origin: String,
    },
    /// A page index past the last page.
    #[error("{origin}: there is no page {page_number}, the document has {page_count} page(s)")]
    PageOutOfRange {
        /// The file path, or `<memory>`.
        origin: String,
        /// The requested page, counted from 1.
        page_number: usize,
        /// Pages in the document.
        page_count: usize,
    },
    /// The page would exceed the pixel limit at the requested resolution.
    #[error(
        "{origin}: page {page_number} at {dpi} DPI would be {width}×{height} pixels, above the \
         limit of {limit} pixels{}; render it at {suggested_dpi} DPI or lower",
        if *width > MAX_SIDE || *height > MAX_SIDE { " or 65535 pixels a side" } else { "" }
    )]
    PageTooLarge {
        /// The file path, or `<memory>`.
        origin: String,
        /// The page, counted from 1.
        page_number: usize,
        /// The requested resolution.
        dpi: u32,
        /// Width the page would have, in pixels.
        width: u64,
        /// Height the page would have, in pixels.
        height: u64,
        /// The pixel limit.
        limit: u64,
        /// The highest resolution within the limits (at least 1).
        suggested_dpi: u32,
    },
    /// A resolution of 0 DPI.
    #[error("a resolution of {dpi} DPI is not possible; use 72 to 300 DPI (150 suits most OCR)")]
    InvalidDpi {
        /// The requested resolution.
        dpi: u32,
    },
    /// A page range that does not parse or does not fit the document.
    #[error("bad page range \"{spec}\": {problem}")]
    BadPageRange {
        /// The range as given.
        spec: String,
        /// What is wrong, in plain words.
        problem: String,
    },
    /// The renderer failed (panicked) on this page: a PDF feature or damage it cannot handle.
    #[error("{origin}: page {page_number} could not be rendered: {message}")]
    RenderFailed {
        /// The file path, or `<memory>`.
        origin: String,
        /// The page, counted from 1.
        page_number: usize,
        /// The renderer's panic message.
        message: String,
    },
}

/// The largest side the rasteriser can draw (its canvas sizes are 16-bit).
pub(crate) const MAX_SIDE: u64 = u16::MAX as u64;

//! Documents for OCR: PDF pages — born-digital or scanned — rendered page by page to the RGB
//! images a vision-language model reads.
//!
//! ```no_run
//! use iris_models::document::{PdfDocument, parse_page_range};
//!
//! let doc = PdfDocument::open("report.pdf".as_ref())?;
//! let pages = parse_page_range("2,4-6", doc.page_count())?; // 0-based: [1, 3, 4, 5]
//! for page in doc.pages(pages, 150) {
//!     let page = page?;
//!     println!("page {}: {}x{}", page.index + 1, page.image.width(), page.image.height());
//! }
//! # Ok::<(), iris_models::document::PdfError>(())
//! ```

mod error;
mod page_range;
mod pdf;

pub use error::PdfError;
pub use page_range::parse_page_range;
pub use pdf::{DEFAULT_MAX_PIXELS, PageRenders, PageSize, PdfDocument, RenderedPage};

#[cfg(test)]
mod tests;

//! Renders compared with pdftoppm's (`tests/fixtures/pdf/reference/`, made by
//! `tests/fixtures/make_pdfs.py`), lazy page iteration, bad files and the pixel limit.

use std::path::PathBuf;

use image::{Rgb, RgbImage};

use super::*;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/pdf")
        .join(name)
}

fn open(name: &str) -> PdfDocument {
    PdfDocument::open(&fixture(name)).unwrap_or_else(|e| panic!("{e}"))
}

fn reference(stem: &str, page_number: usize) -> RgbImage {
    let path = fixture(&format!("reference/{stem}-{page_number}.png"));
    image::open(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8()
}

// Tolerances in 8-bit sRGB levels (of 255), against pdftoppm 22.12 at 50 DPI; the largest values
// measured over all fixture pages are in brackets.
//
// Full-resolution mean |Δ| per channel [2.70, the text page; other pages ≤ 2.2]. The standard
// 14 fonts are not embedded: hayro draws its built-in substitutes, hinted, poppler draws Nimbus
// Sans/Roman, so every glyph edge differs a little; fills, strokes and shadings agree closely.
const MEAN_BOUND: f64 = 5.0;
// The same on the 100-DPI scan drawn at half size [27.3]: poppler places downscaled images about
// one pixel off (our render matches the source pixels; poppler's best-aligned shift of (1, 1) px
// still leaves 14) and the text-like bars are 3 px tall, so every bar edge counts. The block
// checks below hold this page to the common bounds.
const SCAN_MEAN_BOUND: f64 = 30.0;
// Mean |Δ| between 8×8-pixel block averages, any channel [3.31 scan, ≤ 1.2 other pages].
const BLOCK_MEAN_BOUND: f64 = 4.0;
// Largest |Δ| of one 8×8-pixel block average [28.2: the edge of a 36 pt glyph]. A missing image,
// field or word, or another page's content, moves blocks by 100 or more (checked below).
const BLOCK_WORST_BOUND: f64 = 40.0;
// Dark pixels (channel sum below 384) within 6% of pdftoppm's count [3.8%, the text page]:
// the same ink, not just the same average.
const DARK_RATIO_BOUND: f64 = 0.06;

/// How a render differs from pdftoppm's over the area both cover.
#[derive(Debug)]
struct Difference {
    mean: [f64; 3],
    block_mean: f64,
    block_worst: f64,
    dark: (usize, usize),
}

impl Difference {
    fn new(ours: &RgbImage, theirs: &RgbImage) -> Self {
        let (w, h) = (
            ours.width().min(theirs.width()),
            ours.height().min(theirs.height()),
        );
        let mut sum = [0u64; 3];
        for y in 0..h {
            for x in 0..w {
                let (a, b) = (ours.get_pixel(x, y), theirs.get_pixel(x, y));
                for c in 0..3 {
                    sum[c] += u64::from(a[c].abs_diff(b[c]));
                }
            }
        }
        let pixels = f64::from(w * h);
        let (mut block_sum, mut block_worst, mut blocks) = (0.0, 0.0f64, 0.0);
        for by in (0..h / 8).map(|b| b * 8) {
            for bx in (0..w / 8).map(|b| b * 8) {
                for c in 0..3 {
                    let total = |img: &RgbImage| -> f64 {
                        let mut s = 0u32;
                        for y in by..by + 8 {
                            for x in bx..bx + 8 {
                                s += u32::from(img.get_pixel(x, y)[c]);
                            }
                        }
                        f64::from(s)
                    };
                    let d = (total(ours) - total(theirs)).abs() / 64.0;
                    block_sum += d;
                    block_worst = block_worst.max(d);
                    blocks += 1.0;
                }
            }
        }
        Self {
            mean: sum.map(|s| s as f64 / pixels),
            block_mean: block_sum / blocks,
            block_worst,
            dark: (dark_pixels(ours), dark_pixels(theirs)),
        }
    }

    /// Why the render is not close enough to pdftoppm's, if it is not.
    fn problem(&self, mean_bound: f64) -> Option<String> {
        let dark_ratio = self.dark.0.abs_diff(self.dark.1) as f64 / self.dark.1.max(1) as f64;
        if self.mean.iter().any(|&m| m > mean_bound) {
            Some(format!("mean |Δ| {:?} above {mean_bound}", self.mean))
        } else if self.block_mean > BLOCK_MEAN_BOUND {
            Some(format!("mean block |Δ| {:.2}", self.block_mean))
        } else if self.block_worst > BLOCK_WORST_BOUND {
            Some(format!("worst block |Δ| {:.1}", self.block_worst))
        } else if dark_ratio > DARK_RATIO_BOUND {
            Some(format!("dark pixels {:?}", self.dark))
        } else {
            None
        }
    }
}

fn dark_pixels(img: &RgbImage) -> usize {
    img.pixels()
        .filter(|p| p.0.iter().map(|&v| u32::from(v)).sum::<u32>() < 384)
        .count()
}

/// Asserts the render has pdftoppm's size (±1 px per side) and is close to it.
fn assert_matches(ours: &RgbImage, stem: &str, page_number: usize, mean_bound: f64) {
    let theirs = reference(stem, page_number);
    let name = format!("{stem} page {page_number}");
    assert!(
        ours.width().abs_diff(theirs.width()) <= 1 && ours.height().abs_diff(theirs.height()) <= 1,
        "{name}: {}x{} vs pdftoppm {}x{}",
        ours.width(),
        ours.height(),
        theirs.width(),
        theirs.height()
    );
    let difference = Difference::new(ours, &theirs);
    if let Some(problem) = difference.problem(mean_bound) {
        panic!("{name} differs from pdftoppm: {problem} ({difference:?})");
    }
}

#[test]
fn every_page_looks_like_pdftoppm() {
    let files = [
        ("text", 1),
        ("vector", 1),
        ("scan", 2),
        ("rotated", 3),
        ("multipage", 12),
        ("form", 1),
        // RC4 with an empty user password opens like an unencrypted file, in viewers and here.
        ("encrypted_empty_password", 1),
    ];
    for (stem, page_count) in files {
        let doc = open(&format!("{stem}.pdf"));
        assert_eq!(doc.page_count(), page_count, "{stem}");
        assert!(!doc.is_truncated());
        for index in 0..page_count {
            let image = doc.render_page(index, 50).unwrap();
            let bound = if (stem, index) == ("scan", 0) {
                SCAN_MEAN_BOUND
            } else {
                MEAN_BOUND
            };
            assert_matches(&image, stem, index + 1, bound);
        }
    }
}

#[test]
fn the_comparison_catches_wrong_and_missing_content() {
    let doc = open("multipage.pdf");
    let third = doc.render_page(2, 50).unwrap();
    let fourth = Difference::new(&third, &reference("multipage", 4));
    assert!(fourth.block_worst > 100.0, "{fourth:?}");
    let blank = RgbImage::from_pixel(425, 550, Rgb([255; 3]));
    for (stem, page_number) in [("text", 1), ("form", 1), ("scan", 1), ("vector", 1)] {
        let d = Difference::new(&blank, &reference(stem, page_number));
        assert!(d.problem(SCAN_MEAN_BOUND).is_some(), "{stem}: {d:?}");
    }
    // The form page without its field: everything but the widget annotation drawn.
    let mut without_field = open("form.pdf").render_page(0, 50).unwrap();
    for (x, y, pixel) in without_field.enumerate_pixels_mut() {
        if (89..300).contains(&x) && (56..80).contains(&y) {
            *pixel = Rgb([255; 3]);
        }
    }
    let d = Difference::new(&without_field, &reference("form", 1));
    assert!(d.block_worst > 100.0, "{d:?}");
}

#[test]
fn rotate_and_crop_box_are_honoured() {
    let doc = open("rotated.pdf");
    let size = |i| doc.page_size_pt(i).unwrap();
    // /Rotate 90 turns the portrait page into a landscape one.
    assert_eq!(
        size(0),
        PageSize {
            width: 792.0,
            height: 612.0
        }
    );
    assert_eq!(
        size(1),
        PageSize {
            width: 792.0,
            height: 612.0
        }
    );
    assert_eq!(
        size(2),
        PageSize {
            width: 360.0,
            height: 360.0
        }
    );

    let dark = |img: &RgbImage, x, y| img.get_pixel(x, y).0.iter().all(|&v| v < 60);
    let white = |img: &RgbImage, x, y| img.get_pixel(x, y).0 == [255; 3];
    // Page 1: the square drawn at the top left of the unrotated page is top right, turned
    // clockwise; the red one from the bottom right is bottom left.
    let page = doc.render_page(0, 50).unwrap();
    assert_eq!(page.dimensions(), (550, 425));
    assert!(dark(&page, 490, 60) && white(&page, 60, 60));
    assert_eq!(page.get_pixel(40, 380).0, [204, 0, 0]);
    // Page 3: only the crop box, turned by 270°: the square is bottom left, nothing of the
    // green outside the crop box shows.
    let page = doc.render_page(2, 50).unwrap();
    assert_eq!(page.dimensions(), (250, 250));
    assert!(dark(&page, 60, 190) && white(&page, 60, 60));
    assert!(!page.pixels().any(|p| p[1] > p[0].saturating_add(60)));
}

#[test]
fn pixel_size_rounds_up_like_pdftoppm() {
    let a4 = PageSize {
        width: 595.276,
        height: 841.89,
    };
    assert_eq!(a4.pixels(50), (414, 585));
    assert_eq!(a4.pixels(300), (2481, 3508));
    let letter = PageSize {
        width: 612.0,
        height: 792.0,
    };
    assert_eq!(letter.pixels(50), (425, 550));
    assert_eq!(letter.pixels(1), (9, 11));
}

#[test]
fn pages_render_lazily_in_the_chosen_order() {
    let doc = open("multipage.pdf");
    assert_eq!(doc.page_count(), 12);
    let selection = parse_page_range("3-5", doc.page_count()).unwrap();
    let mut renders = doc.pages(selection, 50);
    assert_eq!(renders.size_hint(), (3, Some(3)));
    let first = renders.next().unwrap().unwrap();
    assert_eq!(first.index, 2);
    assert_matches(&first.image, "multipage", 3, MEAN_BOUND);
    let rest: Vec<_> = renders.map(Result::unwrap).collect();
    assert_eq!(rest.iter().map(|p| p.index).collect::<Vec<_>>(), [3, 4]);
    for page in &rest {
        assert_matches(&page.image, "multipage", page.index + 1, MEAN_BOUND);
    }
    // A bad index fails in its turn; the pages around it still render.
    let results: Vec<_> = doc.pages([0, 12, 1], 20).collect();
    assert!(results[0].is_ok() && results[2].is_ok());
    assert!(matches!(
        results[1],
        Err(PdfError::PageOutOfRange {
            page_number: 13,
            page_count: 12,
            ..
        })
    ));
}

#[test]
fn bad_files_give_their_own_errors() {
    let error = |name: &str| PdfDocument::open(&fixture(name)).unwrap_err();
    let e = error("not_a_pdf.pdf");
    assert!(matches!(e, PdfError::NotPdf { .. }), "{e:?}");
    assert!(
        e.to_string()
            .ends_with("not_a_pdf.pdf: not a PDF file (it does not start with a %PDF- header)")
    );
    let e = error("truncated.pdf");
    assert!(matches!(e, PdfError::Malformed { .. }), "{e:?}");
    assert!(e.to_string().contains("damaged PDF"), "{e}");
    let e = error("password.pdf");
    assert!(matches!(e, PdfError::PasswordProtected { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("password-protected PDFs are not supported")
    );
    // Another security handler than /Standard (same length, so the xref offsets still hold).
    let mut bytes = std::fs::read(fixture("encrypted_empty_password.pdf")).unwrap();
    let at = bytes.windows(9).position(|w| w == b"/Standard").unwrap();
    bytes[at..at + 9].copy_from_slice(b"/Unknown1");
    let e = PdfDocument::from_bytes(bytes).unwrap_err();
    assert!(matches!(e, PdfError::UnsupportedEncryption { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("cannot be decrypted (it uses an encryption method"),
        "{e}"
    );
    let e = error("no_pages.pdf");
    assert!(matches!(e, PdfError::NoPages { .. }), "{e:?}");
    assert!(
        e.to_string()
            .ends_with("no_pages.pdf: the PDF has no pages")
    );
    let e = error("missing.pdf");
    assert!(matches!(e, PdfError::Read { .. }), "{e:?}");
    assert!(e.to_string().starts_with("cannot read PDF file "));
    let e = PdfDocument::from_bytes(Vec::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "<memory>: not a PDF file (it does not start with a %PDF- header)"
    );

    let doc = open("text.pdf");
    let e = doc.render_page(1, 50).unwrap_err();
    assert!(
        e.to_string()
            .ends_with("text.pdf: there is no page 2, the document has 1 page(s)")
    );
    assert!(matches!(
        doc.page_size_pt(7),
        Err(PdfError::PageOutOfRange { page_number: 8, .. })
    ));
    let e = doc.render_page(0, 0).unwrap_err();
    assert!(matches!(e, PdfError::InvalidDpi { dpi: 0 }), "{e:?}");
}

#[test]
fn a_cut_off_file_keeps_its_complete_pages() {
    let bytes = std::fs::read(fixture("multipage.pdf")).unwrap();
    let doc = PdfDocument::from_bytes(bytes[..bytes.len() * 2 / 5].to_vec()).unwrap();
    assert!(doc.is_truncated());
    // hayro rebuilds the cross-reference table from the objects before the cut (5 pages here).
    assert!((1..12).contains(&doc.page_count()), "{}", doc.page_count());
    assert_matches(&doc.render_page(0, 50).unwrap(), "multipage", 1, MEAN_BOUND);
}

#[test]
fn pages_above_the_pixel_limit_are_refused() {
    let doc = open("text.pdf");
    // Letter at 1000 DPI: 8500 × 11000 = 93.5 MP. 731 DPI (6214 × 8041) is the most that fits.
    let e = doc.render_page(0, 1000).unwrap_err();
    assert!(
        matches!(
            e,
            PdfError::PageTooLarge {
                page_number: 1,
                width: 8500,
                height: 11000,
                limit: DEFAULT_MAX_PIXELS,
                suggested_dpi: 731,
                ..
            }
        ),
        "{e:?}"
    );
    let message = e.to_string();
    assert!(
        message.contains("page 1 at 1000 DPI would be 8500×11000 pixels"),
        "{message}"
    );
    assert!(
        message.contains("render it at 731 DPI or lower"),
        "{message}"
    );
    let (w, h) = doc.page_size_pt(0).unwrap().pixels(731);
    assert!(w * h <= DEFAULT_MAX_PIXELS);

    // A lower limit: 425 × 550 at 50 DPI is above 100 000 pixels, 272 × 352 at 32 DPI is not.
    let doc = open("text.pdf").with_max_pixels(100_000);
    let e = doc.pages(0..1, 50).next().unwrap().unwrap_err();
    assert!(
        matches!(
            e,
            PdfError::PageTooLarge {
                suggested_dpi: 32,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(doc.render_page(0, 32).unwrap().dimensions(), (272, 352));

    // Sides are limited to 65535 pixels whatever the pixel limit (the rasteriser's canvas).
    let doc = open("text.pdf").with_max_pixels(u64::MAX);
    let e = doc.render_page(0, 6000).unwrap_err();
    assert!(
        matches!(
            e,
            PdfError::PageTooLarge {
                suggested_dpi: 5957,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("or 65535 pixels a side"), "{e}");
}

#[test]
fn documents_can_move_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<PdfDocument>();
    let doc = open("multipage.pdf");
    let count = std::thread::spawn(move || doc.page_count()).join().unwrap();
    assert_eq!(count, 12);
}

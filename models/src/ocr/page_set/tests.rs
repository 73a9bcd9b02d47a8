//! The committed set is what the generator makes now, and a set on disk reads back.

use std::path::PathBuf;
use std::sync::OnceLock;

use super::*;

/// The set as the generator makes it, made once for all tests.
fn generated() -> &'static [GeneratedPage] {
    static PAGES: OnceLock<Vec<GeneratedPage>> = OnceLock::new();
    PAGES.get_or_init(|| generate().unwrap())
}

fn committed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/ocr")
}

/// Largest difference allowed between a committed pixel and a fresh one, in 8-bit grey levels.
/// The rasteriser picks its SIMD path at run time, and another CPU may round a glyph's edge
/// pixels differently; a moved, resized or changed glyph differs by 100 levels or more.
const PIXEL_TOLERANCE: u8 = 8;

#[test]
fn the_committed_set_is_what_the_generator_makes() {
    let regenerate = "regenerate it with `iris ocr-set -o tests/fixtures/ocr`";
    let pages = generated();
    let on_disk = load(&committed()).unwrap();
    let names = |v: Vec<String>| v.join(", ");
    assert_eq!(
        names(on_disk.iter().map(|p| p.name.clone()).collect()),
        names(pages.iter().map(|p| p.name.to_owned()).collect()),
        "the pages in tests/fixtures/ocr differ from the generator's: {regenerate}"
    );
    for (page, file) in pages.iter().zip(&on_disk) {
        assert_eq!(page.text, file.truth, "{}.txt: {regenerate}", page.name);
        assert_eq!(
            file.image.file_name().unwrap().to_string_lossy(),
            page.file_name(),
            "{regenerate}"
        );
        let image = image::open(&file.image).unwrap().to_luma8();
        // The fresh page through its file format too: a JPEG's pixels are not the page's.
        let fresh = image::load_from_memory(&page.encode().unwrap())
            .unwrap()
            .to_luma8();
        assert_eq!(
            image.dimensions(),
            fresh.dimensions(),
            "{}: {regenerate}",
            page.file_name()
        );
        let worst = image
            .pixels()
            .zip(fresh.pixels())
            .map(|(a, b)| a[0].abs_diff(b[0]))
            .max()
            .unwrap_or(0);
        assert!(
            worst <= PIXEL_TOLERANCE,
            "{} differs by up to {worst} levels: {regenerate}",
            page.file_name()
        );
    }
}

#[test]
fn text_stays_inside_the_margins() {
    // Nothing ran off the sheet: clean pages are white within 0.4 inch of every edge.
    let margin = PAGE_DPI * 2 / 5;
    for page in generated().iter().filter(|p| p.format == ImageFormat::Png) {
        let (w, h) = page.image.dimensions();
        let near_edge =
            |x: u32, y: u32| x < margin || y < margin || x >= w - margin || y >= h - margin;
        let inked = page
            .image
            .enumerate_pixels()
            .find(|&(x, y, p)| p[0] < 255 && near_edge(x, y));
        assert_eq!(
            inked.map(|(x, y, _)| (x, y)),
            None,
            "{}: ink at the edge",
            page.name
        );
        assert!(page.text.ends_with('\n'), "{}", page.name);
    }
}

#[test]
fn a_set_on_disk_needs_a_truth_for_every_page() {
    let dir = std::env::temp_dir().join(format!("iris-ocr-set-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    assert!(matches!(load(&dir), Err(PageSetError::Empty { .. })));
    image::GrayImage::new(4, 4)
        .save(dir.join("01-a.png"))
        .unwrap();
    let err = load(&dir).unwrap_err();
    assert!(matches!(err, PageSetError::MissingTruth { .. }), "{err}");
    assert!(err.to_string().contains("01-a.txt"), "{err}");
    std::fs::write(dir.join("01-a.txt"), "A\n").unwrap();
    let pages = load(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(pages.len(), 1);
    assert_eq!(
        (pages[0].name.as_str(), pages[0].truth.as_str()),
        ("01-a", "A\n")
    );
}

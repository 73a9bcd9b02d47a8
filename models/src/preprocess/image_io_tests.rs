use super::*;
use crate::preprocess::test_support::read_fixture;

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("src/preprocess/testdata")
        .join(name)
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Small PNGs in every awkward layout (16-bit, 1/2-bit gray, LA, palette + tRNS, EXIF
/// orientation) decode to exactly what Pillow's `load_image` gives (testdata/gen_decode.py).
#[test]
fn decodes_like_pillow_load_image() {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(testdata("decode_expected.json")).expect("manifest"))
            .expect("json");
    for case in manifest["cases"].as_array().expect("cases") {
        let file = case["file"].as_str().expect("file");
        let got = load_image(&testdata(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let want_size = (
            case["width"].as_u64().unwrap() as u32,
            case["height"].as_u64().unwrap() as u32,
        );
        assert_eq!(
            got.dimensions(),
            want_size,
            "{file} ({}) size",
            case["pil_mode"]
        );
        assert_eq!(
            got.as_raw(),
            &hex(case["rgb_hex"].as_str().unwrap()),
            "{file} ({}) pixels",
            case["pil_mode"]
        );
    }
}

/// The shared fixture images (8-bit RGB, L, RGBA PNGs written by Pillow) decode to the right
/// sizes; gray replicates, RGBA drops alpha without compositing.
#[test]
fn decodes_fixture_images() {
    for (name, size) in [
        ("gray_33x47.png", (33, 47)),
        ("rgba_50x40.png", (50, 40)),
        ("tiny_5x7.png", (5, 7)),
    ] {
        let bytes = read_fixture(&format!("images/{name}"));
        let img = decode_image(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(img.dimensions(), size, "{name}");
        if name.starts_with("gray") {
            assert!(img.pixels().all(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2]));
        }
    }
    let rgba = image::load_from_memory(&read_fixture("images/rgba_50x40.png"))
        .unwrap()
        .to_rgba8();
    let rgb = decode_image(&read_fixture("images/rgba_50x40.png")).unwrap();
    for (a, b) in rgba.pixels().zip(rgb.pixels()) {
        assert_eq!(&a.0[..3], &b.0[..], "alpha must be dropped, not composited");
    }
}

#[test]
fn reports_unreadable_files_with_their_path() {
    let err = load_image(Path::new("/nonexistent/iris/cat.png")).unwrap_err();
    assert!(matches!(err, ImageError::Read { .. }));
    assert!(
        err.to_string().contains("/nonexistent/iris/cat.png"),
        "{err}"
    );
}

#[test]
fn rejects_unknown_and_corrupt_data() {
    let err = decode_image(b"definitely not an image").unwrap_err();
    assert!(matches!(err, ImageError::UnsupportedFormat { .. }), "{err}");
    let mut png = std::fs::read(testdata("rgb16.png")).unwrap();
    png.truncate(40);
    let err = decode_image(&png).unwrap_err();
    assert!(matches!(err, ImageError::Decode { .. }), "{err}");
    assert!(err.to_string().contains("PNG"), "{err}");
}

#[test]
fn enforces_the_pixel_limit() {
    let png = std::fs::read(testdata("rgb16.png")).unwrap(); // 5×3
    let err = decode_image_with_limit(&png, 14).unwrap_err();
    assert!(
        matches!(
            err,
            ImageError::TooLarge {
                pixels: 15,
                limit: 14,
                ..
            }
        ),
        "{err}"
    );
    assert!(decode_image_with_limit(&png, 15).is_ok());
}

#[test]
fn rejects_zero_sized_images() {
    // Decoders already refuse most 0×0 headers; the check still guards the others.
    let err = check_dimensions("<memory>", 0, 7, MAX_PIXELS).unwrap_err();
    assert!(
        matches!(
            err,
            ImageError::Empty {
                width: 0,
                height: 7,
                ..
            }
        ),
        "{err}"
    );
    // A BMP header claiming 0×0 pixels is an error either way, never a panic.
    let mut bmp = Vec::new();
    bmp.extend_from_slice(b"BM");
    bmp.extend_from_slice(&54u32.to_le_bytes());
    bmp.extend_from_slice(&[0; 4]);
    bmp.extend_from_slice(&54u32.to_le_bytes());
    bmp.extend_from_slice(&40u32.to_le_bytes());
    bmp.extend_from_slice(&0i32.to_le_bytes());
    bmp.extend_from_slice(&0i32.to_le_bytes());
    bmp.extend_from_slice(&1u16.to_le_bytes());
    bmp.extend_from_slice(&24u16.to_le_bytes());
    bmp.extend_from_slice(&[0; 24]);
    let err = decode_image(&bmp).unwrap_err();
    assert!(
        matches!(err, ImageError::Empty { .. } | ImageError::Decode { .. }),
        "{err}"
    );
}

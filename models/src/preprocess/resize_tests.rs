use super::*;
use crate::preprocess::test_support::{noise_image, read_fixture, read_json, rgb_tensor};
use proptest::prelude::*;
use safetensors::SafeTensors;

fn filter_by_name(name: &str) -> Filter {
    match name {
        "nearest" => Filter::Nearest,
        "bilinear" => Filter::Bilinear,
        "bicubic" => Filter::Bicubic,
        "lanczos" => Filter::Lanczos,
        "box" => Filter::Box,
        "hamming" => Filter::Hamming,
        other => panic!("unknown filter {other:?} in cases.json"),
    }
}

/// Every Pillow reference case (tests/fixtures/pil, Pillow 13.0.0) must match byte for byte.
/// `IRIS_PIL_CASES_DIR` points the test at another folder of the same format (for local
/// fuzzing against a Pillow install).
#[test]
fn matches_pillow_references_exactly() {
    let (cases, bytes) = match std::env::var_os("IRIS_PIL_CASES_DIR") {
        Some(dir) => {
            let dir = std::path::PathBuf::from(dir);
            let json = std::fs::read(dir.join("cases.json")).expect("cases.json");
            (
                serde_json::from_slice::<serde_json::Value>(&json).expect("cases.json parses"),
                std::fs::read(dir.join("resize.safetensors")).expect("resize.safetensors"),
            )
        }
        None => (
            read_json("pil/cases.json"),
            read_fixture("pil/resize.safetensors"),
        ),
    };
    let st = SafeTensors::deserialize(&bytes).expect("resize.safetensors parses");
    let cases = cases["cases"]
        .as_array()
        .expect("cases.json has a cases list");
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().expect("case name");
        let src = rgb_tensor(&st, case["src"].as_str().expect("src key"));
        let want = rgb_tensor(&st, case["out"].as_str().expect("out key"));
        let width = case["width"].as_u64().expect("width") as u32;
        let height = case["height"].as_u64().expect("height") as u32;
        let filter = filter_by_name(case["filter"].as_str().expect("filter"));
        let got = resize(&src, width, height, filter);
        assert_eq!(got.dimensions(), (width, height), "{name}: size");
        if got != want {
            let diffs = got
                .as_raw()
                .iter()
                .zip(want.as_raw())
                .filter(|(a, b)| a != b)
                .count();
            let max = got
                .as_raw()
                .iter()
                .zip(want.as_raw())
                .map(|(a, b)| a.abs_diff(*b))
                .max()
                .unwrap_or(0);
            failures.push(format!("{name}: {diffs} bytes differ (max |diff| {max})"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn pil_codes_round_trip() {
    for code in 0..6 {
        let filter = Filter::from_pil_code(code).expect("codes 0..=5 are filters");
        assert_eq!(filter.pil_code(), code);
    }
    assert_eq!(Filter::from_pil_code(6), None);
    assert_eq!(Filter::from_pil_code(3), Some(Filter::Bicubic));
    assert_eq!(Filter::from_pil_code(1), Some(Filter::Lanczos));
}

#[test]
fn same_size_is_a_copy() {
    let img = noise_image(13, 7, 1);
    assert_eq!(resize(&img, 13, 7, Filter::Bicubic), img);
}

#[test]
fn nearest_integer_upscale_repeats_pixels() {
    let img = noise_image(3, 2, 2);
    let out = resize(&img, 6, 4, Filter::Nearest);
    for y in 0..4 {
        for x in 0..6 {
            assert_eq!(out.get_pixel(x, y), img.get_pixel(x / 2, y / 2));
        }
    }
}

#[test]
fn fixed_point_coefficients_sum_to_about_one() {
    for (inp, out) in [(97, 32), (32, 97), (5, 1), (1, 5)] {
        for f in [
            Filter::Bilinear,
            Filter::Bicubic,
            Filter::Lanczos,
            Filter::Box,
            Filter::Hamming,
        ] {
            let c = precompute_coeffs(inp, out, f);
            for (i, &(_, count)) in c.bounds.iter().enumerate() {
                let sum: i64 = c.weights[i * c.ksize..i * c.ksize + count]
                    .iter()
                    .map(|&w| i64::from(w))
                    .sum();
                assert!(
                    (sum - (1 << PRECISION_BITS)).abs() <= c.ksize as i64,
                    "{f:?} {inp}->{out}"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A constant image stays constant under every filter and size (the fixed-point error of
    /// the coefficient sum is far below half a level).
    #[test]
    fn constant_images_stay_constant(
        w in 1u32..40, h in 1u32..40, ow in 1u32..40, oh in 1u32..40,
        level in any::<u8>(), code in 0u32..6,
    ) {
        let filter = Filter::from_pil_code(code).unwrap();
        let img = RgbImage::from_pixel(w, h, image::Rgb([level, level / 2, 255 - level]));
        let out = resize(&img, ow, oh, filter);
        prop_assert_eq!(out.dimensions(), (ow, oh));
        prop_assert!(out.pixels().all(|p| p.0 == [level, level / 2, 255 - level]));
    }
}

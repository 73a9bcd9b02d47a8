use super::*;
use crate::preprocess::PixelValues;
use crate::preprocess::anyres::Resolution;
use crate::preprocess::config::FeatureSelect;
use crate::preprocess::test_support::{
    fixtures_dir, idefics3_processor, noise_image, onevision_processor, read_json,
};
use crate::preprocess::tile_plan::{TokenSpec, plan_tiles};

/// Rectangles are built from integer pixels scaled by ratios: equal up to float rounding.
const EPS: f64 = 1e-9;

/// The tiny Idefics3 checkpoint's processor, patch size and pixel-shuffle factor.
fn idefics3_tiny() -> (Idefics3ImageProcessor, u32, u32) {
    let dir = fixtures_dir().join("models/idefics3-tiny");
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
    let patch = config["vision_config"]["patch_size"].as_u64().unwrap() as u32;
    let scale = config["scale_factor"].as_u64().unwrap() as u32;
    (idefics3_processor(&dir), patch, scale)
}

fn inside(r: &SourceRect, outer: &SourceRect) -> bool {
    r.x >= outer.x - EPS
        && r.y >= outer.y - EPS
        && r.x + r.width <= outer.x + outer.width + EPS
        && r.y + r.height <= outer.y + outer.height + EPS
        && r.width > 0.0
        && r.height > 0.0
}

fn overlap(a: &SourceRect, b: &SourceRect) -> f64 {
    let w = (a.x + a.width).min(b.x + b.width) - a.x.max(b.x);
    let h = (a.y + a.height).min(b.y + b.height) - a.y.max(b.y);
    w.max(0.0) * h.max(0.0)
}

fn image_rect(r: Resolution) -> SourceRect {
    SourceRect {
        x: 0.0,
        y: 0.0,
        width: f64::from(r.width),
        height: f64::from(r.height),
    }
}

/// The views' geometry: every rect inside the image and its extent, the global view the whole
/// image, the tiles covering the image exactly once.
fn check_idefics3_geometry(views: &ImageViews, what: &str) {
    let image = image_rect(views.source);
    assert_eq!(views.frame, image, "{what}: no padding");
    let (tiles, rest): (Vec<_>, Vec<_>) =
        views.views.iter().partition(|v| v.kind == ViewKind::Tile);
    assert_eq!(rest.len(), 1, "{what}: one global view");
    let global = rest[0];
    assert_eq!(global.kind, ViewKind::Global);
    assert_eq!(
        global.source_rect,
        Some(image),
        "{what}: global covers the image"
    );
    assert_eq!(views.views.last(), Some(global), "{what}: global view last");
    let rects: Vec<SourceRect> = tiles.iter().map(|t| t.source_rect.unwrap()).collect();
    for (t, r) in tiles.iter().zip(&rects) {
        assert!(inside(r, &image), "{what}: {} {r:?}", t.label);
        assert_eq!(t.extent, *r, "{what}: no padding in {}", t.label);
    }
    if !rects.is_empty() {
        let area: f64 = rects.iter().map(|r| r.width * r.height).sum();
        let whole = image.width * image.height;
        assert!(
            (area - whole).abs() < 1e-6 * whole,
            "{what}: {area} vs {whole}"
        );
        for (i, a) in rects.iter().enumerate() {
            for b in &rects[i + 1..] {
                assert!(overlap(a, b) < 1e-6 * whole, "{what}: {a:?} overlaps {b:?}");
            }
        }
    }
}

/// Every case of the HF processor fixtures (three configurations): the views' token total is
/// HF's `<image>` count, their markers are HF's prompt markers in order, one view per tile HF
/// made, and the geometry holds.
#[test]
fn idefics3_views_count_and_mark_as_hfs_processor() {
    let (_, patch, scale) = idefics3_tiny();
    let mut checked = 0;
    for config in ["split", "nosplit", "odd"] {
        let dir = fixtures_dir().join("idefics3").join(config);
        let p = idefics3_processor(&dir);
        let refs = read_json(&format!("idefics3/{config}/cases.json"));
        for case in refs["cases"].as_array().unwrap() {
            if case.get("hf_error").is_some() {
                continue; // HF 4.57 fails on 1-channel images (idefics3_tests covers them)
            }
            let what = format!("{config}/{}", case["name"].as_str().unwrap());
            let (w, h) = (
                case["width"].as_u64().unwrap(),
                case["height"].as_u64().unwrap(),
            );
            let plan = p.plan(w as u32, h as u32).unwrap();
            let views = ImageViews::from_idefics3(&p, &plan, patch, scale);
            assert_eq!(
                u64::from(views.total_tokens),
                case["image_tokens"].as_u64().unwrap(),
                "{what}"
            );
            let sum: i64 = views.token_terms.iter().map(|t| t.count).sum();
            assert_eq!(sum, i64::from(views.total_tokens), "{what}: terms");
            let per_view: u32 = views.views.iter().map(|v| v.tokens).sum();
            assert_eq!(per_view, views.total_tokens, "{what}: nothing trimmed");
            assert_eq!(
                views.views.len() as u64,
                case["num_tiles"].as_u64().unwrap(),
                "{what}"
            );
            let hf_markers: Vec<&str> = case["image_prompt_string"]
                .as_str()
                .unwrap()
                .split("<fake_token_around_image>")
                .filter_map(|part| part.split_once('>').map(|(m, _)| m))
                .filter(|m| !m.is_empty() && !m.starts_with("<image"))
                .collect();
            let ours: Vec<String> = views
                .views
                .iter()
                .map(|v| v.marker.clone().unwrap().trim_end_matches('>').to_owned())
                .collect();
            assert_eq!(ours, hf_markers, "{what}");
            assert_eq!(views.grid, [plan.rows, plan.cols], "{what}");
            check_idefics3_geometry(&views, &what);
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} cases");
}

/// On the tiny checkpoint: the patch grid folded by the pixel shuffle is the processor's
/// `image_seq_len`, and the encoder reads exactly the views listed — one image has no all-zero
/// (batch padding) views for the model to drop.
#[test]
fn idefics3_views_are_the_encoder_inputs() {
    let (p, patch, scale) = idefics3_tiny();
    let image = noise_image(1024, 768, 3);
    let processed = p.preprocess_rgb(&image).unwrap();
    let views = ImageViews::from_idefics3(&p, &processed.plan, patch, scale);
    assert_eq!(views.grid, [3, 4]);
    assert_eq!(views.views.len(), processed.tiles.len());
    assert!(
        processed
            .tiles
            .iter()
            .all(|t: &PixelValues| t.data.iter().any(|v| *v != 0.0))
    );
    for v in &views.views {
        assert_eq!(v.encoded_size, Resolution::new(24, 24));
        assert_eq!(v.patch_grid, [4, 4]);
        assert_eq!(v.merge, 2);
        assert_eq!(
            (v.patch_grid[0] / v.merge) * (v.patch_grid[1] / v.merge),
            v.tokens
        );
        assert_eq!(v.tokens, p.image_seq_len);
    }
    assert_eq!(views.total_tokens, 4 * 13);
    assert_eq!(views.resized, Some(Resolution::new(72, 96)));
    assert_eq!(views.views[1].label, "row 1, col 2");
    assert_eq!(views.views[1].marker.as_deref(), Some("<row_1_col_2>"));
    assert_eq!(views.views[1].cell, Some([0, 1]));
    assert_eq!(
        views.token_terms,
        [
            TokenTerm {
                label: "tiles".into(),
                count: 48
            },
            TokenTerm {
                label: "global".into(),
                count: 4
            }
        ]
    );
    check_idefics3_geometry(&views, "noise 1024×768");

    // Without splitting: one global view, nothing resized to cut from.
    let p = idefics3_processor(&fixtures_dir().join("idefics3/nosplit"));
    let one = ImageViews::from_idefics3(&p, &p.plan(300, 200).unwrap(), patch, scale);
    assert_eq!(one.views.len(), 1);
    assert_eq!(one.views[0].kind, ViewKind::Global);
    assert_eq!((one.grid, one.resized), ([0, 0], None));
    assert_eq!(one.total_tokens, p.image_seq_len);
    assert!(
        one.notes.iter().any(|n| n.contains("Splitting is off")),
        "{:?}",
        one.notes
    );
}

/// OneVision: base view first, then one view per tile of the padded pinpoint; the terms give
/// the processor's packed count; padding-only tiles show no source pixels.
#[test]
fn onevision_views_follow_the_tile_plan() {
    let p = onevision_processor("llava-onevision-tiny");
    for (w, h) in [(1024, 768), (300, 50), (50, 300), (32, 32)] {
        let plan = p.plan(w, h);
        let views = ImageViews::from_onevision(&plan);
        let what = format!("{w}×{h}");
        assert_eq!(views.total_tokens, plan.tokens.total, "{what}");
        assert_eq!(views.total_tokens, p.num_image_tokens(w, h), "{what}");
        let sum: i64 = views.token_terms.iter().map(|t| t.count).sum();
        assert_eq!(sum, i64::from(views.total_tokens), "{what}");
        assert_eq!(views.views.len(), plan.num_views(), "{what}");
        assert_eq!(views.views[0].kind, ViewKind::Base);
        let image = image_rect(plan.source);
        assert_eq!(views.views[0].source_rect, Some(image));
        assert!(
            inside(&image, &views.frame),
            "{what}: the frame holds the image"
        );
        for (v, tile) in views.views[1..].iter().zip(&plan.tiles) {
            assert_eq!(v.cell, Some([tile.row, tile.col]));
            assert_eq!(v.source_rect, tile.source_rect, "{what}: {}", v.label);
            assert!(inside(&v.extent, &views.frame), "{what}: {}", v.label);
            if let Some(r) = v.source_rect {
                assert!(
                    inside(&r, &image) && inside(&r, &v.extent),
                    "{what}: {}",
                    v.label
                );
            }
        }
    }

    // One pinpoint three tiles high for a wide, low image: the image sits in the middle tile,
    // the top and bottom tiles are padding only.
    let spec = TokenSpec {
        num_image_tokens: 16,
        anyres_max: None,
        feature_select: FeatureSelect::Full,
    };
    let tile = Resolution::new(32, 32);
    let plan = plan_tiles(
        Resolution::new(50, 300),
        tile,
        &[Resolution::new(96, 32)],
        &spec,
    )
    .unwrap();
    let views = ImageViews::from_onevision(&plan);
    let shows: Vec<bool> = views.views[1..]
        .iter()
        .map(|v| v.source_rect.is_some())
        .collect();
    assert_eq!(shows, [false, true, false]);
    assert!(
        views.frame.y < 0.0 && views.frame.height > 50.0,
        "{:?}",
        views.frame
    );
}

/// A Qwen2-VL-style plan: Qwen2-VL-2B's `smart_resize` takes 1000×750 to 1008×756 (multiples
/// of 28); 72 × 54 patches of 14 px, 2 × 2 merged: 36 × 27 = 972 tokens.
#[test]
fn a_whole_image_view_with_merged_patches() {
    let views = ImageViews::whole_image(
        Resolution::new(750, 1000),
        Resolution::new(756, 1008),
        14,
        2,
        Some("<|vision_start|>".into()),
    );
    assert_eq!(views.scheme, TilingScheme::DynamicResolution);
    assert_eq!(views.views.len(), 1);
    let v = &views.views[0];
    assert_eq!(
        (v.kind, v.patch_grid, v.merge, v.tokens),
        (ViewKind::Whole, [54, 72], 2, 972)
    );
    assert_eq!(v.source_rect, Some(image_rect(Resolution::new(750, 1000))));
    assert_eq!(views.total_tokens, 972);
    assert_eq!(views.token_terms.iter().map(|t| t.count).sum::<i64>(), 972);
    let json = serde_json::to_value(&views).unwrap();
    assert_eq!(json["scheme"], "dynamic_resolution");
    assert_eq!(json["views"][0]["kind"], "whole");
    assert_eq!(json["views"][0]["patch_grid"], serde_json::json!([54, 72]));
}

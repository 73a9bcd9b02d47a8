use super::*;
use crate::preprocess::test_support::{
    assert_same_values, f32_tensor, fixtures_dir, idefics3_processor, noise_image, read_fixture,
    read_json,
};
use safetensors::SafeTensors;

/// The three configurations of `tests/fixtures/idefics3` (part `idefics3` of generate.py).
const CONFIGS: [&str; 3] = ["split", "nosplit", "odd"];

fn fixture_processor(config: &str) -> Idefics3ImageProcessor {
    idefics3_processor(&fixtures_dir().join("idefics3").join(config))
}

/// Decodes a fixture image keeping its mode, as `Image.open` does (PNG: no EXIF here).
fn open_image(name: &str) -> DynamicImage {
    image::load_from_memory(&read_fixture(&format!("images/{name}"))).unwrap()
}

fn u32_at(v: &serde_json::Value, key: &str) -> u32 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} missing in {v}")) as u32
}

/// The output sizes of HF's `Idefics3ImageProcessor.resize` calls, in call order.
fn resize_calls(p: &Idefics3ImageProcessor, plan: &Idefics3TilePlan) -> Vec<[u32; 2]> {
    let hw = |r: Resolution| [r.height, r.width];
    let mut calls = Vec::new();
    if p.resize.is_some() {
        calls.push(hw(plan.resized));
    }
    if p.split {
        calls.push(hw(plan.canvas));
    }
    if !p.split || !plan.tiles.is_empty() {
        calls.push(hw(plan.tile));
    }
    calls
}

/// Every case of every fixture configuration: pixel values bit for bit (f32; the rescale and
/// normalisation tables reproduce numpy's f64→f32 rounding, so no tolerance is needed),
/// rows/cols, every intermediate size, and the prompt string HF hands the tokenizer.
#[test]
fn fixtures_match_hf() {
    let mut checked = 0;
    for config in CONFIGS {
        let p = fixture_processor(config);
        let refs = read_json(&format!("idefics3/{config}/cases.json"));
        assert_eq!(p.image_seq_len, u32_at(&refs, "image_seq_len"));
        let prompt = refs["prompt"].as_str().unwrap();
        for case in refs["cases"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let what = format!("{config}/{name}");
            let file = case["image"].as_str().unwrap();
            let out = match case["opened_with"].as_str().unwrap() {
                "open" => p.preprocess(&open_image(file)).unwrap(),
                "load_image" => p
                    .preprocess_rgb(&crate::preprocess::test_support::fixture_image(file))
                    .unwrap(),
                other => panic!("{what}: unknown opener {other}"),
            };
            if case.get("hf_error").is_some() {
                // HF 4.57 raises for 1-channel PIL images; we take the load_image route.
                let rgb = open_image(file).to_rgb8();
                assert_eq!(out, p.preprocess_rgb(&rgb).unwrap(), "{what}");
                continue;
            }
            assert_eq!(
                (out.rows, out.cols),
                (u32_at(case, "rows"), u32_at(case, "cols"))
            );
            assert_eq!(
                out.tiles.len(),
                u32_at(case, "num_tiles") as usize,
                "{what}"
            );
            assert_eq!(out.plan.num_views(), out.tiles.len(), "{what}");
            let want_calls: Vec<[u32; 2]> =
                serde_json::from_value(case["resize_calls_hw"].clone()).expect("resize_calls_hw");
            assert_eq!(resize_calls(&p, &out.plan), want_calls, "{what}: resizes");
            assert_eq!(
                out.plan.image_tokens,
                u32_at(case, "image_tokens"),
                "{what}: tokens"
            );
            assert_eq!(
                out.prompt_string(),
                case["image_prompt_string"].as_str().unwrap(),
                "{what}: image prompt"
            );
            assert_eq!(
                expand_image_tokens(prompt, &[(out.rows, out.cols)], p.image_seq_len).unwrap(),
                case["prompt_string"].as_str().unwrap(),
                "{what}: prompt"
            );
            let bytes = read_fixture(&format!("idefics3/{config}/{name}.safetensors"));
            let st = SafeTensors::deserialize(&bytes).unwrap();
            let (shape, values) = f32_tensor(&st, "pixel_values");
            let tile = p.tile_size as usize;
            assert_eq!(shape, [out.tiles.len(), 3, tile, tile], "{what}: shape");
            let view_len = 3 * tile * tile;
            for (i, view) in out.tiles.iter().enumerate() {
                assert_eq!(view.shape(), [3, tile, tile], "{what}: view {i}");
                let want = &values[i * view_len..(i + 1) * view_len];
                assert_same_values(&format!("{what}: view {i}"), &view.data, want);
            }
            checked += 1;
        }
    }
    // 3 configurations × (7 + 2 load_image cases, split without the latter), less the 3 gray
    // images HF rejects.
    assert_eq!(checked, 22);
}

/// RGBA matters: the same pixels opened with alpha (premultiplied resizes, white background)
/// and through `load_image` (alpha dropped) give different tiles, and both match HF.
#[test]
fn rgba_mode_changes_the_pixels() {
    let p = fixture_processor("nosplit");
    let rgba = p.preprocess(&open_image("rgba_50x40.png")).unwrap();
    let rgb = p
        .preprocess_rgb(&crate::preprocess::test_support::fixture_image(
            "rgba_50x40.png",
        ))
        .unwrap();
    assert_ne!(rgba.tiles[0].data, rgb.tiles[0].data);
}

/// HF 4.57 with SmolVLM-style settings (`size` 2048, tiles 512): (width, height) → rows, cols,
/// resize outputs (h, w). Measured with `Idefics3ImageProcessor` on blank images.
#[test]
fn plans_match_hf_for_smolvlm_sizes() {
    let cfg: HfIdefics3PreprocessorConfig = serde_json::from_str(
        r#"{"size": {"longest_edge": 2048}, "max_image_size": {"longest_edge": 512}}"#,
    )
    .unwrap();
    let p = Idefics3ImageProcessor::from_config(&cfg, 64).unwrap();
    // (width, height, rows, cols, [resized, canvas, global] as [h, w])
    type Calls = [[u32; 2]; 3];
    let cases: [(u32, u32, u32, u32, Calls); 6] = [
        (1024, 768, 3, 4, [[1536, 2048], [1536, 2048], [512, 512]]),
        (512, 512, 4, 4, [[2048, 2048], [2048, 2048], [512, 512]]),
        (300, 2000, 4, 1, [[2048, 308], [2048, 512], [512, 512]]),
        (4000, 100, 1, 4, [[52, 2048], [512, 2048], [512, 512]]),
        (5, 3000, 4, 1, [[2048, 4], [2048, 512], [512, 512]]),
        (2049, 1, 1, 4, [[1, 2048], [512, 2048], [512, 512]]),
    ];
    for (w, h, rows, cols, calls) in cases {
        let plan = p.plan(w, h).unwrap();
        assert_eq!((plan.rows, plan.cols), (rows, cols), "{w}×{h}");
        assert_eq!(resize_calls(&p, &plan), calls.to_vec(), "{w}×{h}");
        assert_eq!(plan.image_tokens, 64 * (rows * cols + 1));
    }
}

#[test]
fn longest_edge_rounds_the_short_side_up_to_even_and_caps_at_4096() {
    // 5×7 → 96 tall: int(96 · 5/7) = 68; 300×50 → int(96 / 6) = 16; 7 → odd, +1.
    assert_eq!(
        longest_edge_size(Resolution::new(7, 5), 96),
        Resolution::new(96, 68)
    );
    assert_eq!(
        longest_edge_size(Resolution::new(50, 300), 96),
        Resolution::new(16, 96)
    );
    assert_eq!(
        longest_edge_size(Resolution::new(7, 96), 96),
        Resolution::new(8, 96)
    );
    // Enlarges small images; never below 1.
    assert_eq!(
        longest_edge_size(Resolution::new(1, 5000), 96),
        Resolution::new(1, 96)
    );
    // A longest edge above 4096 is capped (no even rounding in that step).
    assert_eq!(
        longest_edge_size(Resolution::new(3000, 4000), 8000),
        Resolution::new(3072, 4096)
    );
}

#[test]
fn vision_encoder_size_recomputes_the_short_side_from_the_rounded_long_side() {
    // 40 × 28 (h × w) with 16 px tiles: 48 tall, int(48 · 28/40) = 33 → 48 wide (not 32).
    assert_eq!(
        vision_encoder_size(Resolution::new(40, 28), 16),
        Resolution::new(48, 48)
    );
    assert_eq!(
        vision_encoder_size(Resolution::new(16, 96), 24),
        Resolution::new(24, 96)
    );
}

#[test]
fn defaults_follow_the_hf_constructor() {
    let cfg: HfIdefics3PreprocessorConfig = serde_json::from_str("{}").unwrap();
    let p =
        Idefics3ImageProcessor::from_configs(&cfg, &HfIdefics3ProcessorConfig::default()).unwrap();
    assert_eq!(p.resize, Some(ResizeTarget::LongestEdge(1456)));
    assert_eq!(p.tile_size, 364);
    assert!(p.split);
    assert_eq!(p.filter, Filter::Lanczos);
    assert_eq!(p.image_seq_len, 169);
    assert_eq!(p.normalization.rescale_factor, Some(1.0 / 255.0));
    let ms = p.normalization.mean_std.unwrap();
    assert_eq!((ms.mean, ms.std), ([0.5; 3], [0.5; 3]));
}

#[test]
fn bad_configs_are_rejected() {
    for json in [
        r#"{"max_image_size": {"height": 32, "width": 32}}"#,
        r#"{"size": {"longest_edge": 0}}"#,
        r#"{"resample": 9}"#,
        r#"{"image_std": [0.5, 0.0, 0.5]}"#,
    ] {
        let cfg: HfIdefics3PreprocessorConfig = serde_json::from_str(json).unwrap();
        assert!(
            Idefics3ImageProcessor::from_config(&cfg, 4).is_err(),
            "{json}"
        );
    }
}

#[test]
fn prompt_strings_follow_hf() {
    let f = FAKE_TOKEN_AROUND_IMAGE;
    assert_eq!(
        image_prompt_string(0, 0, 2),
        format!("{f}<global-img><image><image>{f}")
    );
    assert_eq!(
        image_prompt_string(1, 2, 1),
        format!("{f}<row_1_col_1><image>{f}<row_1_col_2><image>\n\n{f}<global-img><image>{f}")
    );
    let text = expand_image_tokens("A<image>B<image>", &[(0, 0), (0, 0)], 1).unwrap();
    assert_eq!(
        text,
        format!("A{f}<global-img><image>{f}B{f}<global-img><image>{f}")
    );
    assert!(matches!(
        expand_image_tokens("no image", &[(0, 0)], 1),
        Err(Idefics3Error::ImageCount {
            in_text: 0,
            given: 1
        })
    ));
}

#[test]
fn plan_maps_tiles_back_onto_the_source() {
    let p = fixture_processor("split");
    let plan = p.plan(1024, 768).unwrap();
    assert_eq!((plan.rows, plan.cols), (3, 4));
    assert_eq!(plan.canvas, Resolution::new(72, 96));
    assert_eq!(plan.tiles.len(), 12);
    let last = plan.tiles.last().unwrap();
    assert_eq!((last.row, last.col), (2, 3));
    let r = last.source_rect;
    assert!((r.x + r.width - 1024.0).abs() < 1e-9 && (r.y + r.height - 768.0).abs() < 1e-9);
    assert!((plan.tiles[0].source_rect.width - 256.0).abs() < 1e-9);
    let json = serde_json::to_value(&plan).unwrap();
    assert_eq!(json["image_tokens"], 4 * 13);
    // One tile's worth of canvas: not split, one view, HF's rows = cols = 0.
    let small = Idefics3ImageProcessor {
        resize: None,
        ..p.clone()
    };
    let plan = small.plan(20, 10).unwrap();
    assert_eq!((plan.rows, plan.cols, plan.num_views()), (0, 0, 1));
    assert_eq!(plan.canvas, Resolution::new(24, 24));
    let out = small.preprocess_rgb(&noise_image(20, 10, 3)).unwrap();
    assert_eq!(out.tiles.len(), 1);
    assert_eq!(out.tiles[0].shape(), [3, 24, 24]);
    assert!(p.plan(0, 5).is_err());
}

/// Pillow's integer alpha arithmetic (Convert.c, AlphaComposite.c), spot-checked by hand.
#[test]
fn alpha_arithmetic_follows_pillow() {
    // MULDIV255 rounds: 200 · 128 / 255 = 100.39 → 100; 255 · 1 / 255 = 1.
    assert_eq!(premultiply(200, 128), 100);
    assert_eq!(premultiply(255, 1), 1);
    assert_eq!(premultiply(7, 0), 0);
    // Unpremultiply truncates and clips; alpha 0 and 255 pass through.
    assert_eq!(unpremultiply(100, 128), 199);
    assert_eq!(unpremultiply(200, 100), 255);
    assert_eq!(unpremultiply(9, 0), 9);
    // Opaque pixels are unchanged by the white composite; transparent ones become white.
    for c in 0..=255u8 {
        assert_eq!(over_white([c, c, 255 - c, 255]), [c, c, 255 - c]);
    }
    assert_eq!(over_white([0, 50, 100, 0]), [255; 3]);
    // Half alpha: about halfway to white.
    assert_eq!(over_white([0, 0, 0, 128]), [127; 3]);
}

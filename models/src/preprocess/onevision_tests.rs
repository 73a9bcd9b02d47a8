use super::*;
use crate::preprocess::test_support::{
    assert_same_values, f32_tensor, fixture_image, noise_image, onevision_processor, read_fixture,
    read_json,
};
use safetensors::SafeTensors;

/// The llava-onevision-tiny settings, written out (no fixture needed).
fn tiny_processor() -> LlavaOnevisionImageProcessor {
    let pins: Vec<[u32; 2]> = (1..=6)
        .flat_map(|i| (1..=6).map(move |j| [32 * i, 32 * j]))
        .collect();
    let cfg = PreprocessorConfig {
        size: Some(crate::preprocess::config::SizeParam::Dict {
            shortest_edge: None,
            height: Some(32),
            width: Some(32),
        }),
        image_grid_pinpoints: Some(pins),
        image_mean: Some(crate::preprocess::config::ChannelParam::PerChannel(vec![
            0.5;
            3
        ])),
        image_std: Some(crate::preprocess::config::ChannelParam::PerChannel(vec![
            0.5;
            3
        ])),
        ..Default::default()
    };
    let spec = TokenSpec {
        num_image_tokens: 16,
        anyres_max: Some(9),
        feature_select: FeatureSelect::Full,
    };
    LlavaOnevisionImageProcessor::from_config(&cfg, spec).unwrap()
}

/// Measured with HF 4.57: 1024×768 → 1 base + 5 rows × 6 columns, 156 image tokens.
#[test]
fn large_image_gives_31_views_and_156_tokens() {
    let p = tiny_processor();
    let plan = p.plan(1024, 768);
    assert_eq!(plan.best_resolution, Resolution::new(160, 192));
    assert_eq!((plan.rows, plan.cols), (5, 6));
    assert_eq!(plan.num_views(), 31);
    assert_eq!(plan.tokens.tokens_per_tile, 16);
    assert_eq!(plan.tokens.total, 156);
    assert_eq!(p.num_image_tokens(1024, 768), 156);
    let out = p.preprocess(&noise_image(1024, 768, 9));
    assert_eq!(out.tiles.len(), 31);
    assert!(out.tiles.iter().all(|t| t.shape() == [3, 32, 32]));
}

#[test]
fn plan_maps_tiles_back_onto_the_source() {
    let plan = tiny_processor().plan(1024, 768);
    // Resized to 192×144 inside 192×160: 8 rows of padding above, 8 below.
    assert_eq!(plan.resized, Resolution::new(144, 192));
    assert_eq!(
        (
            plan.padding.top,
            plan.padding.bottom,
            plan.padding.left,
            plan.padding.right
        ),
        (8, 8, 0, 0)
    );
    let first = plan.tiles[0].source_rect.unwrap();
    assert_eq!((first.x, first.y), (0.0, 0.0));
    assert!((first.width - 32.0 * 1024.0 / 192.0).abs() < 1e-9);
    assert!((first.height - 24.0 * 768.0 / 144.0).abs() < 1e-9);
    let last = plan.tiles.last().unwrap().source_rect.unwrap();
    assert!(
        (last.x + last.width - 1024.0).abs() < 1e-9 && (last.y + last.height - 768.0).abs() < 1e-9
    );
    let json = serde_json::to_value(&plan).unwrap();
    assert_eq!(json["tokens"]["total"], 156);
}

#[test]
fn multi_image_prompts_take_the_unpatched_path() {
    let p = tiny_processor();
    assert_eq!(p.num_image_tokens_unpatched(), 17);
    assert_eq!(
        p.preprocess_unpatched(&noise_image(5, 7, 1)).shape(),
        [3, 32, 32]
    );
}

/// Every size in token_counts.json (62 sizes, HF `LlavaOnevisionProcessor`) gives HF's
/// `<image>` count, best resolution and number of views.
#[test]
fn token_counts_match_hf() {
    let p = onevision_processor("llava-onevision-tiny");
    let counts = read_json("models/llava-onevision-tiny/reference/token_counts.json");
    let counts = counts["counts"].as_array().expect("counts");
    assert!(!counts.is_empty());
    for c in counts {
        let (w, h) = (
            c["width"].as_u64().unwrap() as u32,
            c["height"].as_u64().unwrap() as u32,
        );
        let plan = p.plan(w, h);
        let best = &c["best_resolution_hw"];
        let want_best = Resolution::new(
            best[0].as_u64().unwrap() as u32,
            best[1].as_u64().unwrap() as u32,
        );
        assert_eq!(plan.best_resolution, want_best, "{w}×{h}: best resolution");
        assert_eq!(
            plan.num_views() as u64,
            c["num_patches"].as_u64().unwrap(),
            "{w}×{h}: views"
        );
        assert_eq!(
            u64::from(plan.tokens.total),
            c["image_tokens"].as_u64().unwrap(),
            "{w}×{h}: tokens"
        );
    }
}

/// The processor's pixel values for every reference case of both OneVision fixtures,
/// bit for bit (f32), including the zero-padded tile slots of multi-image batches.
#[test]
fn pixel_values_match_hf() {
    for model in ["llava-onevision-tiny", "llava-onevision-tiny-b"] {
        let p = onevision_processor(model);
        let cases = read_json(&format!("models/{model}/reference/cases.json"));
        for case in cases["cases"].as_array().expect("cases") {
            let name = case["name"].as_str().unwrap();
            let images = case["images"].as_array().unwrap();
            if images.is_empty() {
                continue;
            }
            let bytes = read_fixture(&format!("models/{model}/reference/{name}.safetensors"));
            let st = SafeTensors::deserialize(&bytes).unwrap();
            let (shape, values) = f32_tensor(&st, "pixel_values");
            let (n_img, max_views, view_len) = (shape[0], shape[1], shape[2] * shape[3] * shape[4]);
            assert_eq!(n_img, images.len(), "{model}/{name}: images");
            let nested = case["images_nested"].as_bool().unwrap_or(false) && images.len() > 1;
            for (i, file) in images.iter().enumerate() {
                let img = fixture_image(file.as_str().unwrap());
                let views = if nested {
                    vec![p.preprocess_unpatched(&img)]
                } else {
                    let out = p.preprocess(&img);
                    assert_eq!(
                        u64::from(out.plan.tokens.total),
                        case["image_tokens_per_image"][i].as_u64().unwrap()
                    );
                    out.tiles
                };
                assert!(
                    views.len() <= max_views,
                    "{model}/{name}: image {i} has {} views",
                    views.len()
                );
                let image_values =
                    &values[i * max_views * view_len..(i + 1) * max_views * view_len];
                for (v, view) in views.iter().enumerate() {
                    let want = &image_values[v * view_len..(v + 1) * view_len];
                    assert_same_values(
                        &format!("{model}/{name}: image {i} view {v}"),
                        &view.data,
                        want,
                    );
                }
                assert!(
                    image_values[views.len() * view_len..]
                        .iter()
                        .all(|&x| x == 0.0),
                    "{model}/{name}: batch padding"
                );
            }
        }
    }
}

/// The released checkpoints' settings (384 px tiles, 729 tokens, 36 default pinpoints,
/// anyres_max_9): HF's counts for 203 awkward sizes (testdata/gen_token_counts.py).
#[test]
fn token_counts_match_hf_for_released_checkpoint_settings() {
    let p = LlavaOnevisionImageProcessor::from_config(
        &PreprocessorConfig::default(),
        TokenSpec {
            num_image_tokens: 729,
            anyres_max: Some(9),
            feature_select: FeatureSelect::Full,
        },
    )
    .unwrap();
    assert_eq!(p.size, Resolution::new(384, 384));
    assert_eq!(p.pinpoints.len(), 36);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/preprocess/testdata/onevision_token_counts.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    for c in json["counts"].as_array().unwrap() {
        let (w, h) = (
            c["width"].as_u64().unwrap() as u32,
            c["height"].as_u64().unwrap() as u32,
        );
        let plan = p.plan(w, h);
        let best = &c["best_resolution_hw"];
        assert_eq!(
            (plan.best_resolution.height, plan.best_resolution.width),
            (
                best[0].as_u64().unwrap() as u32,
                best[1].as_u64().unwrap() as u32
            ),
            "{w}×{h}: best resolution"
        );
        assert_eq!(
            u64::from(plan.tokens.total),
            c["image_tokens"].as_u64().unwrap(),
            "{w}×{h}: tokens"
        );
    }
}

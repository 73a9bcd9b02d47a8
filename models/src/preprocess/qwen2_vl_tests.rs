//! `Qwen2VLImageProcessor` parity: sizes, grids and token counts over many image sizes and
//! pixel budgets, and the exact `pixel_values` of real images (tests/fixtures/qwen2_vl, part
//! `qwen2_vl` of generate.py, transformers 4.57.6).

use super::*;
use crate::preprocess::test_support::{
    assert_same_values, f32_tensor, fixture_image, read_fixture, read_json,
};
use safetensors::SafeTensors;

fn fixture_processor(cases: &serde_json::Value, name: &str) -> Qwen2VlImageProcessor {
    let c = &cases["configs"][name];
    let json = serde_json::json!({
        "min_pixels": c["min_pixels"], "max_pixels": c["max_pixels"],
        "patch_size": c["patch_size"], "merge_size": c["merge_size"],
        "temporal_patch_size": c["temporal_patch_size"],
    });
    let config: HfQwen2VlPreprocessorConfig = serde_json::from_value(json).unwrap();
    Qwen2VlImageProcessor::from_config(&config).unwrap()
}

fn u32s(v: &serde_json::Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

#[test]
fn sizes_grids_and_token_counts_match_hf() {
    let cases = read_json("qwen2_vl/cases.json");
    let rows = cases["size_cases"].as_array().unwrap();
    assert!(rows.len() > 400, "{} size cases", rows.len());
    let (mut refused, mut checked) = (0, 0);
    for row in rows {
        let p = fixture_processor(&cases, row["config"].as_str().unwrap());
        let (w, h) = (
            row["width"].as_u64().unwrap() as u32,
            row["height"].as_u64().unwrap() as u32,
        );
        let what = format!("{} {w}x{h}", row["config"]);
        if row.get("hf_error").is_some() {
            assert!(p.grid(w, h).is_err(), "{what}: HF refuses this size");
            refused += 1;
            continue;
        }
        let (rw, rh) = p.resized_size(w, h).unwrap();
        assert_eq!(vec![rh, rw], u32s(&row["resized_hw"]), "{what}: resized");
        let grid = p.grid(w, h).unwrap();
        assert_eq!(
            vec![grid.t, grid.h, grid.w],
            u32s(&row["grid_thw"]),
            "{what}: grid"
        );
        assert_eq!(
            p.num_image_tokens(grid) as u64,
            row["image_tokens"].as_u64().unwrap(),
            "{what}: tokens"
        );
        checked += 1;
    }
    assert!(
        refused > 0 && checked > 300,
        "{refused} refused, {checked} checked"
    );
}

#[test]
fn pixel_values_of_real_images_match_hf_bit_for_bit() {
    let cases = read_json("qwen2_vl/cases.json");
    for case in cases["pixel_cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let p = fixture_processor(&cases, case["config"].as_str().unwrap());
        let image = fixture_image(case["image"].as_str().unwrap());
        let processed = p.preprocess(&image).unwrap();
        let g = processed.grid;
        assert_eq!(vec![g.t, g.h, g.w], u32s(&case["grid_thw"]), "{name}: grid");
        let bytes = read_fixture(&format!("qwen2_vl/{name}.safetensors"));
        let st = SafeTensors::deserialize(&bytes).unwrap();
        let (shape, want) = f32_tensor(&st, "pixel_values");
        let got = p.patches(&processed.pixels, g);
        assert_eq!(
            shape,
            vec![g.patches(), got.len() / g.patches()],
            "{name}: shape"
        );
        assert_same_values(name, &got, &want);
    }
}

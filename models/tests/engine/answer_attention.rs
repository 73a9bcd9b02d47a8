//! The teaching view's answer-token attention against HF's `generate(output_attentions=True)`
//! (eager attention) on fixtures, and where each visual token lands on the source image.

use iris_models::device::DeviceChoice;
use iris_models::explain::TokenPlace;
use iris_models::generate::{CancelToken, Sampling};
use iris_models::preprocess::load_image;
use iris_models::processor::MultiImage;
use iris_models::session::{Request, Session};
use serde_json::Value;

use crate::fixtures;

fn reference(model: &str) -> Value {
    let path = fixtures::model_dir(model).join("reference/answer_attention.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn explain(model: &str, choice: DeviceChoice) -> (Session, iris_models::session::Explained, Value) {
    let r = reference(model);
    let session = Session::load(&fixtures::model_dir(model), choice, Default::default()).unwrap();
    let image = load_image(&fixtures::image_path(r["image"].as_str().unwrap())).unwrap();
    let request = Request {
        history: Vec::new(),
        images: vec![image],
        prompt: r["prompt"].as_str().unwrap().into(),
        max_new_tokens: r["max_new_tokens"].as_u64().unwrap() as usize,
        sampling: Sampling::Greedy,
        multi_image: MultiImage::Batched,
    };
    let explained = session
        .explain(&request, &CancelToken::new(), |_| {})
        .unwrap();
    (session, explained, r)
}

/// f32 attention probabilities. LLaVA's: the project-wide f32 bound. BLIP-2's rows sit behind
/// the EVA tower and the Q-Former (their outputs match HF to ~1e-5 of scale) and a softmax,
/// which multiplies relative input differences by the logit spread: observed 1.45e-4 on
/// blip2-opt-tiny (token 0, layer 1), so 3e-4 there.
fn bound(model: &str) -> f32 {
    if model.starts_with("blip2") {
        3e-4
    } else {
        fixtures::F32_REL_TOL
    }
}

fn check_against_hf(model: &str, choice: DeviceChoice) {
    let (_, explained, r) = explain(model, choice);
    let ids: Vec<u64> = explained
        .answer
        .token_ids
        .iter()
        .map(|&i| u64::from(i))
        .collect();
    let want_ids: Vec<u64> = r["generated_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(ids, want_ids, "{model}: greedy tokens");
    let attention = explained
        .answer_attention
        .expect("decoder-only models capture attention");
    let want_positions: Vec<usize> = r["image_positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(attention.image_positions, want_positions, "{model}");
    let steps = r["steps"].as_array().unwrap();
    assert_eq!(attention.rows.len(), steps.len());
    for (t, step) in steps.iter().enumerate() {
        for (l, layer) in step.as_array().unwrap().iter().enumerate() {
            for (h, row) in layer.as_array().unwrap().iter().enumerate() {
                let want: Vec<f32> = row
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap() as f32)
                    .collect();
                let what = format!("{model} token {t} layer {l} head {h}");
                let err = fixtures::relative_error(attention.row(t, l, h), &want);
                assert!(err < bound(model), "{what}: relative error {err:e}");
            }
        }
    }
    // The mean map is the mean of the rows' visual-token entries; the share their sum.
    let map = attention.map(0, None, None).unwrap();
    assert_eq!(map.values.len(), want_positions.len());
    assert!((map.image_share - map.values.iter().sum::<f32>()).abs() < 1e-6);
    assert!(map.image_share > 0.0 && map.image_share <= 1.0 + 1e-5);
    assert!(attention.map(99, None, None).is_err());
    // Attention rollout, against the same formula in float64 numpy over HF's attentions.
    for (t, want) in r["rollout"].as_array().unwrap().iter().enumerate() {
        let want: Vec<f32> = want
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let got = attention.rollout(t).unwrap();
        let err = fixtures::relative_error(&got.values, &want);
        assert!(
            err < bound(model),
            "{model} rollout token {t}: relative error {err:e}"
        );
    }
}

#[test]
fn answer_attention_equals_hf_on_cpu() {
    for model in ["llava-tiny", "llava-onevision-tiny", "blip2-opt-tiny"] {
        check_against_hf(model, DeviceChoice::Cpu);
    }
}

#[test]
fn answer_attention_equals_hf_on_gpu() {
    for model in ["llava-tiny", "llava-onevision-tiny"] {
        check_against_hf(model, DeviceChoice::Gpu);
    }
}

fn inside(place: &TokenPlace, width: f64, height: f64) -> bool {
    place.rect.is_some_and(|r| {
        r.x >= -1e-6
            && r.y >= -1e-6
            && r.x + r.width <= width + 1e-6
            && r.y + r.height <= height + 1e-6
    })
}

#[test]
fn visual_tokens_land_on_the_pixels_they_encode() {
    // LLaVA-1.5 on a square 64x64 image (resized to 32, centre-cropped to 32): the patch grid
    // covers the whole image in equal cells.
    let (session, explained, _) = explain("llava-tiny", DeviceChoice::Cpu);
    let places = session.visual_token_places(&explained.prepared);
    assert_eq!(places.len(), explained.prepared.image_tokens);
    let side = (places.len() as f64).sqrt() as usize;
    assert_eq!(side * side, places.len());
    let first = places[0].rect.unwrap();
    assert_eq!((first.x, first.y), (0.0, 0.0));
    assert!((first.width - 64.0 / side as f64).abs() < 1e-9);
    let last = places.last().unwrap().rect.unwrap();
    assert!(
        (last.x + last.width - 64.0).abs() < 1e-9 && (last.y + last.height - 64.0).abs() < 1e-9
    );

    // A wide image through LLaVA-1.5's shortest-edge resize and centre crop: the grid covers
    // the middle square of the source.
    let processor = session.processor();
    let wide = load_image(&fixtures::image_path("wide_300x50.png")).unwrap();
    let prepared = processor.prepare(&[wide], "hi").unwrap();
    let places = session.visual_token_places(&prepared);
    let first = places[0].rect.unwrap();
    let last = places.last().unwrap().rect.unwrap();
    assert!((first.x - 125.0).abs() < 1.0, "{first:?}");
    assert!((last.x + last.width - 175.0).abs() < 1.0, "{last:?}");

    // LLaVA-OneVision AnyRes: base view over the whole image, then the unpadded grid with a
    // newline closing each row; every tile token inside the image.
    let (session, explained, _) = explain("llava-onevision-tiny", DeviceChoice::Cpu);
    let image = &explained.prepared.images[0];
    let plan = image.plan.as_ref().expect("a tiled image");
    let places = session.visual_token_places(&explained.prepared);
    assert_eq!(places.len(), image.tokens);
    let newlines = places.iter().filter(|p| p.view == "newline").count();
    assert_eq!(newlines as u32, plan.tokens.newline_tokens);
    let (w, h) = (f64::from(image.width), f64::from(image.height));
    assert!(
        places
            .iter()
            .filter(|p| p.view != "newline")
            .all(|p| inside(p, w, h))
    );
    let tiles: Vec<_> = places
        .iter()
        .filter(|p| p.view == "tile")
        .filter_map(|p| p.rect)
        .collect();
    let right = tiles.iter().map(|r| r.x + r.width).fold(0.0, f64::max);
    let bottom = tiles.iter().map(|r| r.y + r.height).fold(0.0, f64::max);
    assert!(
        (right - w).abs() < w * 0.05 && (bottom - h).abs() < h * 0.2,
        "{right} x {bottom} of {w} x {h}"
    );

    // BLIP-2's visual tokens are learned queries: no one place each.
    let (session, explained, _) = explain("blip2-opt-tiny", DeviceChoice::Cpu);
    let places = session.visual_token_places(&explained.prepared);
    assert!(places.iter().all(|p| p.view == "query" && p.rect.is_none()));
}

//! Parity with HF transformers on the tiny fixture checkpoints: every stage of every case, on
//! the CPU (flex) and on wgpu (lavapipe on CI).

use burn::prelude::*;
use image::RgbImage;
use iris_models::device::Precision;
use iris_models::generate::{CancelToken, Sampling};
use iris_models::preprocess::load_image;
use iris_models::processor::{ImageProcessor, MultiImage, Prepared};
use iris_models::session::{Request, Session};

use crate::fixtures::{self, Case, RefTensor, assert_close};

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    iris_models::nn::read_f32(t).expect("device read-back")
}

fn images(case: &Case) -> Vec<RgbImage> {
    case.images
        .iter()
        .map(|name| load_image(&fixtures::image_path(name)).unwrap())
        .collect()
}

fn mode(case: &Case) -> MultiImage {
    if case.images_nested {
        MultiImage::Batched
    } else {
        MultiImage::Independent
    }
}

/// The reference pixel values of the tiles each image actually uses (HF pads the tile axis).
fn reference_tiles(r: &RefTensor, prepared: &Prepared) -> Vec<f32> {
    let per_tile: usize = r.shape[r.shape.len() - 3..].iter().product();
    let stride = if r.shape.len() == 5 {
        r.shape[1] * per_tile
    } else {
        per_tile
    };
    let mut out = Vec::new();
    for (i, img) in prepared.images.iter().enumerate() {
        let used = img.tiles.len() * per_tile;
        out.extend_from_slice(&r.values[i * stride..i * stride + used]);
    }
    out
}

fn check_case(session: &Session, model: &str, case: &Case) {
    let what = |stage: &str| {
        format!(
            "{model}/{}: {stage} on {}",
            case.name,
            session.device_label()
        )
    };
    let reference = fixtures::reference(model, &case.name);
    let (history, imgs) = case.conversation(images(case));
    let prepared = session
        .processor()
        .prepare_chat(&history, &imgs, &case.prompt, mode(case))
        .unwrap();
    assert_eq!(
        prepared.rendered_prompt,
        case.rendered_prompt,
        "{}",
        what("rendered prompt")
    );
    assert_eq!(prepared.input_ids, case.input_ids, "{}", what("input ids"));
    assert_eq!(
        prepared.image_tokens,
        case.image_tokens,
        "{}",
        what("image tokens")
    );

    if let (Some(pixels), ImageProcessor::Qwen2Vl(p)) = (
        reference.get("pixel_values"),
        session.processor().image_processor(),
    ) {
        let got: Vec<f32> = prepared
            .images
            .iter()
            .flat_map(|i| p.patches(&i.tiles[0], i.grid.expect("a patch grid")))
            .collect();
        // Same 8-bit values through the same float ops: bit for bit.
        assert_eq!(got, pixels.values, "{}", what("pixel values"));
    } else if let Some(pixels) = reference.get("pixel_values") {
        let got: Vec<f32> = prepared
            .images
            .iter()
            .flat_map(|i| i.tiles.iter().flat_map(|t| t.data.iter().copied()))
            .collect();
        let want = reference_tiles(pixels, &prepared);
        let max_diff = got
            .iter()
            .zip(&want)
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        assert_eq!(got.len(), want.len(), "{}", what("pixel count"));
        // Pixels come from identical 8-bit values; only the final float ops may round apart.
        assert!(
            max_diff < 1e-5,
            "{}: max diff {max_diff}",
            what("pixel values")
        );
    }
    let stage = |name: &str, f: &dyn Fn(&iris_models::processor::PreparedImage) -> Vec<f32>| {
        if let Some(want) = reference.get(name) {
            let got: Vec<f32> = prepared.images.iter().flat_map(f).collect();
            assert_close(&what(name), &got, &want.values);
        }
    };
    stage("vision_features", &|i| to_vec(session.vision_features(i)));
    stage("projector_output", &|i| to_vec(session.projector_output(i)));
    stage("image_features", &|i| to_vec(session.image_features(i)));
    stage("language_projection", &|i| {
        to_vec(session.projector_output(i))
    });
    stage("qformer_output", &|i| {
        to_vec(session.qformer(i).expect("a Q-Former").0)
    });
    check_qformer_attention(session, &prepared, &reference, &what);
    if let Some(want) = reference.get("position_ids") {
        let positions = session.rope_positions(&prepared).expect("M-RoPE positions");
        let got: Vec<f32> = (0..3)
            .flat_map(|axis| positions.prompt.iter().map(move |p| p[axis] as f32))
            .collect();
        assert_eq!(got, want.values, "{}", what("position ids"));
        let delta = reference["rope_deltas"].values[0];
        assert_eq!(positions.delta as f32, delta, "{}", what("rope delta"));
    }
    let logits = match &case.decoder_input_ids {
        Some(decoder_ids) => session.decoder_logits(&prepared, decoder_ids).unwrap(),
        None => session.prompt_logits(&prepared).unwrap(),
    };
    assert_close(
        &what("logits"),
        &to_vec(logits),
        &reference["logits"].values,
    );

    let request = Request {
        history,
        images: imgs,
        prompt: case.prompt.clone(),
        max_new_tokens: case.max_new_tokens,
        sampling: Sampling::Greedy,
        multi_image: mode(case),
    };
    let mut streamed = String::new();
    let answer = session
        .generate(&request, &CancelToken::new(), |piece| {
            streamed.push_str(piece)
        })
        .unwrap();
    assert_eq!(answer.token_ids, case.greedy_ids, "{}", what("greedy ids"));
    assert_eq!(answer.text, case.greedy_text, "{}", what("greedy text"));
    assert_eq!(streamed, case.greedy_text, "{}", what("streamed text"));
}

/// BLIP-2: every layer's Q-Former cross- and self-attention probabilities against HF's
/// (`qformer_outputs.cross_attentions` / `.attentions`, eager attention).
fn check_qformer_attention(
    session: &Session,
    prepared: &Prepared,
    reference: &std::collections::HashMap<String, RefTensor>,
    what: &dyn Fn(&str) -> String,
) {
    let Some((_, attn)) = prepared.images.first().and_then(|i| session.qformer(i)) else {
        return;
    };
    assert!(
        !attn.cross.is_empty(),
        "{}",
        what("no cross-attention captured")
    );
    for (layer, probs) in attn.cross_layers.iter().zip(attn.cross) {
        let name = format!("cross_attention_{layer}");
        assert_close(&what(&name), &to_vec(probs), &reference[&name].values);
    }
    for (layer, probs) in attn.self_attention.into_iter().enumerate() {
        let name = format!("self_attention_{layer}");
        assert_close(&what(&name), &to_vec(probs), &reference[&name].values);
    }
}

fn check_model(model: &str, device: Device, label: &str) {
    let session = Session::load_on(&fixtures::model_dir(model), device, label.into()).unwrap();
    for case in fixtures::cases(model) {
        check_case(&session, model, &case);
    }
}

/// f16 weights and activations against HF's f32 references: prompt logits within the f16
/// bound. f16's unit roundoff is 2^-11 ≈ 4.9e-4, and the fixtures' random weights (std 0.5)
/// give large activations through which it compounds: measured 1.2e-2 to 4.9e-2 of the logits'
/// scale (2026-11-27), so the bound is 1e-1 — a missing cast or a wrong op gives errors of
/// order 1. Greedy tokens are not required to match: the fixtures' smallest top-2 logit gaps
/// (~0.02) are below f16's error. A tight f16 check needs HF f16 references (the speed work).
fn check_model_f16(model: &str) {
    let dir = fixtures::model_dir(model);
    let session = Session::load_with(&dir, Device::flex(), "cpu".into(), Precision::F16).unwrap();
    for case in fixtures::cases(model) {
        let imgs = images(&case);
        let prepared = session
            .processor()
            .prepare_with(&imgs, &case.prompt, mode(&case))
            .unwrap();
        let logits = match &case.decoder_input_ids {
            Some(decoder_ids) => session.decoder_logits(&prepared, decoder_ids).unwrap(),
            None => session.prompt_logits(&prepared).unwrap(),
        };
        assert_eq!(
            logits.dtype(),
            burn::tensor::DType::F16,
            "{model}: not computing in f16"
        );
        let err = fixtures::relative_error(
            &to_vec(logits),
            &fixtures::reference(model, &case.name)["logits"].values,
        );
        eprintln!("{model}/{}: f16 logits relative error {err:e}", case.name);
        assert!(
            err < F16_REL_TOL,
            "{model}/{}: f16 logits relative error {err:e}",
            case.name
        );
    }
}

const F16_REL_TOL: f32 = 1e-1;

#[test]
fn f16_llava_tiny() {
    check_model_f16("llava-tiny");
}

#[test]
fn f16_onevision_tiny() {
    check_model_f16("llava-onevision-tiny");
}

fn gpu() -> Device {
    Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)
}

macro_rules! parity_tests {
    ($($name:ident: $model:literal,)*) => {
        mod cpu {
            $(#[test] fn $name() { super::check_model($model, burn::prelude::Device::flex(), "cpu"); })*
        }
        mod gpu {
            $(#[test] fn $name() { super::check_model($model, super::gpu(), "gpu"); })*
        }
    };
}

parity_tests! {
    llava_tiny: "llava-tiny",
    llava_tiny_b_sharded_bf16: "llava-tiny-b",
    onevision_tiny: "llava-onevision-tiny",
    onevision_tiny_b_f16: "llava-onevision-tiny-b",
    blip2_opt_tiny: "blip2-opt-tiny",
    instructblip_vicuna_tiny: "instructblip-vicuna-tiny",
    blip2_flan_t5_tiny: "blip2-flan-t5-tiny",
    instructblip_flan_t5_tiny: "instructblip-flan-t5-tiny",
    idefics3_tiny: "idefics3-tiny",
}

/// SmolVLM2's `smolvlm` model type: Idefics3's maths under another name (tests/fixtures/README.md
/// lists what differs: ids, tokenizer, template). The CPU checks every case; the maths on wgpu is
/// idefics3-tiny's. `tiny_nosplit` was made with splitting off: a copy of the checkpoint with
/// `do_image_splitting: false` answers it.
#[test]
fn smolvlm_tiny_cpu() {
    let model = "smolvlm-tiny";
    let dir = fixtures::model_dir(model);
    let split = Session::load_on(&dir, Device::flex(), "cpu".into()).unwrap();
    assert_eq!(split.config().model_type(), "idefics3");
    let nosplit_dir =
        std::env::temp_dir().join(format!("iris-smolvlm-nosplit-{}", std::process::id()));
    std::fs::create_dir_all(&nosplit_dir).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, nosplit_dir.join(path.file_name().unwrap())).unwrap();
        }
    }
    let pre_path = nosplit_dir.join("preprocessor_config.json");
    let mut pre: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&pre_path).unwrap()).unwrap();
    pre["do_image_splitting"] = false.into();
    std::fs::write(&pre_path, pre.to_string()).unwrap();
    let nosplit = Session::load_on(&nosplit_dir, Device::flex(), "cpu".into()).unwrap();
    let cases = fixtures::cases(model);
    assert!(cases.iter().any(|c| c.do_image_splitting == Some(false)));
    for case in &cases {
        let session = if case.do_image_splitting == Some(false) {
            &nosplit
        } else {
            &split
        };
        check_case(session, model, case);
    }
    std::fs::remove_dir_all(&nosplit_dir).unwrap();
}

#[test]
fn qwen2_vl_tiny_cpu() {
    check_model("qwen2-vl-tiny", Device::flex(), "cpu");
}

/// One of the seven cases on wgpu: every case's image has its own patch count and every
/// decode step its own length, and lavapipe compiles kernels per shape (all seven took 440 s,
/// two 179 s on the 2-core VM). Two images of different grids in one prompt exercise the
/// tower, the merger and the M-RoPE positions on the device.
#[test]
fn qwen2_vl_tiny_gpu() {
    let model = "qwen2-vl-tiny";
    let session = Session::load_on(&fixtures::model_dir(model), gpu(), "gpu".into()).unwrap();
    let cases = fixtures::cases(model);
    let case = cases
        .iter()
        .find(|c| c.name == "two_images")
        .expect("the two_images case");
    check_case(&session, model, case);
}

/// Qwen/Qwen2-VL-2B-Instruct's config.json is flat (the language model's fields at the top
/// level); transformers 4.57 saves them nested. Both give HF's outputs.
#[test]
fn qwen2_vl_flat_hub_config_matches_hf() {
    let dir = fixtures::model_dir("qwen2-vl-tiny-flat");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    assert!(config.get("text_config").is_none() && config.get("hidden_size").is_some());
    let session = Session::load_on(&dir, Device::flex(), "cpu".into()).unwrap();
    for case in fixtures::cases("qwen2-vl-tiny") {
        check_case(&session, "qwen2-vl-tiny", &case);
    }
}

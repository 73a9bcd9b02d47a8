//! Iris's own demo checkpoint (models/demo/iris-shapes, written by `iris train-demo`) against HF
//! transformers: the answers `tests/fixtures/demo_reference.py` got from `Blip2Processor` and
//! `Blip2ForConditionalGeneration` for every question of models/demo/samples, on the CPU: input
//! ids, the 8-bit resized image, greedy ids and text of every question; first-step logits of one
//! question per scene; the Q-Former's mean cross-attention and `language_projection` of scene 1.
//!
//! `IRIS_DEMO_REFERENCE=<reference.json>` checks another checkpoint (the script's `--model`/`--out`).

use std::path::PathBuf;
use std::time::Instant;

use burn::prelude::*;
use iris_models::demo::eval::mean_patch_map;
use iris_models::generate::{CancelToken, Sampling};
use iris_models::preprocess::load_image;
use iris_models::processor::Prepared;
use iris_models::session::{Request, Session};
use serde::Deserialize;

use crate::fixtures::{self, F32_REL_TOL, relative_error};

const REGENERATE: &str = "tests/fixtures/.venv/bin/python tests/fixtures/demo_reference.py";

#[derive(Deserialize)]
struct Reference {
    model_dir: String,
    samples_dir: String,
    model_safetensors_sha256: String,
    hf_processor_as_shipped: String,
    max_new_tokens: usize,
    image_mean: [f64; 3],
    image_std: [f64; 3],
    samples: Vec<Sample>,
}

#[derive(Deserialize)]
struct Sample {
    file: String,
    pixel_values: Pixels,
    cases: Vec<Case>,
    qformer: Option<QFormer>,
}

#[derive(Deserialize)]
struct Pixels {
    shape: [usize; 3],
    resized_u8_chw_sha256: String,
}

#[derive(Deserialize)]
struct Case {
    question: String,
    input_ids: Vec<u32>,
    greedy_ids: Vec<u32>,
    answer: String,
    first_step_logits: Vec<f32>,
    step_margins: Vec<f32>,
}

#[derive(Deserialize)]
struct QFormer {
    cross_attention_layers: Vec<usize>,
    cross_attention_mean_per_layer: Vec<Vec<f32>>,
    mean_patch_map: Vec<f32>,
    language_projection: Vec<f32>,
}

fn repo_path(path: &str) -> PathBuf {
    fixtures::root().join("../..").join(path)
}

/// The reference, refused when it was made from other weights than the folder holds now.
fn reference() -> (Reference, PathBuf) {
    let path = std::env::var_os("IRIS_DEMO_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| fixtures::root().join("demo/reference.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let r: Reference = serde_json::from_str(&text).unwrap();
    let dir = repo_path(&r.model_dir);
    let weights = dir.join("model.safetensors");
    let bytes = std::fs::read(&weights).unwrap_or_else(|e| panic!("{}: {e}", weights.display()));
    assert_eq!(
        sha256_hex(&bytes),
        r.model_safetensors_sha256,
        "{} is not the file {} was made from; regenerate with: {REGENERATE}",
        weights.display(),
        path.display()
    );
    (r, dir)
}

/// What differs, stage by stage; the largest errors of the stages that match.
#[derive(Default)]
struct Findings {
    failures: Vec<String>,
    logits: f32,
    qformer_map: f32,
    projection: f32,
}

impl Findings {
    /// f32 on both sides, summed in different orders (plus the reference's 8 significant
    /// digits): `fixtures::F32_REL_TOL` (1e-4 of the tensor's largest value).
    fn close(&mut self, what: String, got: &[f32], want: &[f32]) -> f32 {
        let err = relative_error(got, want);
        if err >= F32_REL_TOL {
            self.failures.push(format!(
                "{what}: relative error {err:e} (bound {F32_REL_TOL:e})"
            ));
        }
        err
    }
}

#[test]
fn demo_checkpoint_matches_hf() {
    let start = Instant::now();
    let (r, dir) = reference();
    let session = Session::load_on(&dir, Device::flex(), "cpu".into()).unwrap();
    let loaded = start.elapsed().as_secs_f64();
    let (mut t_logits, mut t_generate) = (0.0, 0.0);
    let mut f = Findings::default();
    let (mut cases, mut tokens) = (0, 0);
    for (n, sample) in r.samples.iter().enumerate() {
        let image = load_image(&repo_path(&r.samples_dir).join(&sample.file)).unwrap();
        for (i, case) in sample.cases.iter().enumerate() {
            let what = format!("{} / {:?}", sample.file, case.question);
            let prepared = session
                .processor()
                .prepare(std::slice::from_ref(&image), &case.question)
                .unwrap();
            if prepared.input_ids != case.input_ids {
                f.failures.push(format!(
                    "{what}: input ids: HF {:?}, Iris {:?}",
                    case.input_ids, prepared.input_ids
                ));
                continue;
            }
            if i == 0 {
                check_pixels(&mut f, &r, sample, &prepared);
            }
            // One question per scene, a different kind each time: a prompt forward costs ~0.3 s
            // in the `ci` profile, and the greedy ids of every question are compared anyway.
            if i == n % sample.cases.len() {
                let t = Instant::now();
                let logits = to_vec(session.prompt_logits(&prepared).unwrap());
                t_logits += t.elapsed().as_secs_f64();
                let last = &logits[logits.len() - case.first_step_logits.len()..];
                let what = format!("{what}: first-step logits");
                let err = f.close(what, last, &case.first_step_logits);
                f.logits = f.logits.max(err);
            }

            let request = Request {
                history: Vec::new(),
                images: vec![image.clone()],
                prompt: case.question.clone(),
                max_new_tokens: r.max_new_tokens,
                sampling: Sampling::Greedy,
                multi_image: Default::default(),
            };
            let t = Instant::now();
            let answer = session
                .generate(&request, &CancelToken::new(), |_| {})
                .unwrap();
            t_generate += t.elapsed().as_secs_f64();
            check_tokens(&mut f, &what, case, &answer.token_ids, &answer.text);
            cases += 1;
            tokens += answer.token_ids.len();
        }
        if let Some(q) = &sample.qformer {
            check_qformer(&mut f, &session, &image, &sample.cases[0].question, q);
        }
    }
    eprintln!(
        "demo vs HF {}: {cases} questions, {tokens} generated tokens in {:.1} s (load {loaded:.1}, \
         prompt logits {t_logits:.1}, generate {t_generate:.1}); largest relative errors: first-step \
         logits {:e}, Q-Former mean map {:e}, language_projection {:e}",
        r.model_dir,
        start.elapsed().as_secs_f64(),
        f.logits,
        f.qformer_map,
        f.projection
    );
    assert!(
        f.failures.is_empty(),
        "Iris differs from HF:\n{}",
        f.failures.join("\n")
    );
}

/// transformers 4.57.6's `Blip2Processor` must run on the files as `iris train-demo` writes
/// them (demo_reference.py patches the processor in memory when it does not, and says so here).
#[test]
fn demo_checkpoint_runs_in_hf_processor_as_shipped() {
    let (r, _) = reference();
    assert_eq!(
        r.hf_processor_as_shipped, "ok",
        "HF's Blip2Processor fails on {}: tokenizer_config.json's `extra_special_tokens.image_token` \
         makes it read `.content` of a str (without that key it adds `<image>` itself: same id)",
        r.model_dir
    );
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    iris_models::nn::read_f32(t).expect("device read-back")
}

/// Greedy ids must equal HF's exactly: the reference's smallest top-1/top-2 margin is far
/// above f32 noise. A difference is reported at its first token, with HF's margin there.
fn check_tokens(f: &mut Findings, what: &str, case: &Case, ids: &[u32], text: &str) {
    if ids != case.greedy_ids {
        let i = ids
            .iter()
            .zip(&case.greedy_ids)
            .take_while(|(a, b)| a == b)
            .count();
        f.failures.push(format!(
            "{what}: greedy ids differ first at new token {i}: HF {:?} (top-2 margin {:?}), Iris {:?}; \
             HF {:?}, Iris {:?}",
            case.greedy_ids.get(i),
            case.step_margins.get(i),
            ids.get(i),
            case.greedy_ids,
            ids
        ));
    } else if text != case.answer {
        f.failures.push(format!(
            "{what}: text: HF {:?}, Iris {:?}",
            case.answer, text
        ));
    }
}

/// The 8-bit image behind the normalised pixels (resize is where processors differ) must be
/// byte-identical to HF's.
fn check_pixels(f: &mut Findings, r: &Reference, sample: &Sample, prepared: &Prepared) {
    let tile = &prepared.images[0].tiles[0];
    let plane = tile.height * tile.width;
    let mut levels = Vec::with_capacity(tile.data.len());
    for (i, &v) in tile.data.iter().enumerate() {
        let c = i / plane;
        let level = (f64::from(v) * r.image_std[c] + r.image_mean[c]) * 255.0;
        if (level - level.round()).abs() > 1e-3 {
            f.failures.push(format!(
                "{}: pixel {i} is not an 8-bit level ({level})",
                sample.file
            ));
            return;
        }
        levels.push(level.round() as u8);
    }
    let ok = tile.shape() == sample.pixel_values.shape
        && sha256_hex(&levels) == sample.pixel_values.resized_u8_chw_sha256;
    if !ok {
        f.failures.push(format!(
            "{}: resized image differs from HF's (shape {:?} vs {:?})",
            sample.file,
            tile.shape(),
            sample.pixel_values.shape
        ));
    }
}

fn check_qformer(
    f: &mut Findings,
    session: &Session,
    image: &image::RgbImage,
    prompt: &str,
    q: &QFormer,
) {
    let map = session.qformer_attention(image, prompt).unwrap();
    let layers: Vec<usize> = map.layers.iter().map(|l| l.layer).collect();
    assert_eq!(
        layers, q.cross_attention_layers,
        "Q-Former cross-attention layers"
    );
    for (l, want) in map.layers.iter().zip(&q.cross_attention_mean_per_layer) {
        // Mean over heads and queries, class token first.
        let rows: Vec<&Vec<f32>> = l.probs.iter().flatten().collect();
        let got: Vec<f32> = (0..want.len())
            .map(|k| rows.iter().map(|row| row[k]).sum::<f32>() / rows.len() as f32)
            .collect();
        let err = f.close(
            format!("Q-Former layer {} mean cross-attention", l.layer),
            &got,
            want,
        );
        f.qformer_map = f.qformer_map.max(err);
    }
    let got: Vec<f32> = mean_patch_map(&map).iter().map(|&v| v as f32).collect();
    let err = f.close("Q-Former mean patch map".into(), &got, &q.mean_patch_map);
    f.qformer_map = f.qformer_map.max(err);
    let prepared = session
        .processor()
        .prepare(std::slice::from_ref(image), prompt)
        .unwrap();
    let got = to_vec(session.projector_output(&prepared.images[0]));
    f.projection = f.close("language_projection".into(), &got, &q.language_projection);
}

/// SHA-256 as hex, to tie the reference to the weights it was made from.
fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A conversation longer than the demo model's 128 positions goes on: the oldest exchanges are
/// left out (and counted) until the prompt leaves room for an answer, their images kept; a
/// short one keeps all.
#[test]
fn a_long_conversation_forgets_its_oldest_exchanges() {
    use iris_models::processor::Exchange;
    let dir = repo_path("models/demo/iris-shapes");
    let session = Session::load_on(&dir, Device::flex(), "cpu".into()).unwrap();
    let image = load_image(&repo_path("models/demo/samples/scene-1.png")).unwrap();
    let exchange = |n: usize| Exchange {
        images: if n == 0 {
            vec![image.clone()]
        } else {
            Vec::new()
        },
        user: "Describe the image".into(),
        assistant: "a large orange cross, a small green square, a small green circle, a small \
                    blue cross and a small white star with the word wolf"
            .into(),
    };
    let ask = |history: Vec<Exchange>| {
        let request = Request {
            history,
            images: Vec::new(),
            prompt: "How many shapes are there?".into(),
            max_new_tokens: 8,
            sampling: Sampling::Greedy,
            multi_image: Default::default(),
        };
        session
            .generate(&request, &CancelToken::new(), |_| {})
            .unwrap()
    };
    let short = ask((0..1).map(exchange).collect());
    assert_eq!(short.forgotten_exchanges, 0);
    let long = ask((0..6).map(exchange).collect());
    assert!(
        long.forgotten_exchanges >= 3,
        "{}",
        long.forgotten_exchanges
    );
    assert!(long.prompt_tokens + 8 <= 128, "{}", long.prompt_tokens);
    // The first exchange's image stays, though its words went.
    assert_eq!(long.image_tokens, 8);
}

//! Reading the committed HF reference fixtures (tests/fixtures, made by generate.py).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};
use serde::Deserialize;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

pub fn model_dir(name: &str) -> PathBuf {
    root().join("models").join(name)
}

pub fn image_path(name: &str) -> PathBuf {
    root().join("images").join(name)
}

#[derive(Debug, Deserialize)]
pub struct Cases {
    pub cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
pub struct Case {
    pub name: String,
    pub prompt: String,
    pub images: Vec<String>,
    pub rendered_prompt: String,
    pub input_ids: Vec<u32>,
    pub image_tokens: usize,
    pub max_new_tokens: usize,
    pub greedy_ids: Vec<u32>,
    pub greedy_text: String,
    #[serde(default)]
    pub images_nested: bool,
    /// Encoder-decoder models: the teacher-forced decoder inputs the `logits` belong to.
    #[serde(default)]
    pub decoder_input_ids: Option<Vec<u32>>,
    /// The whole conversation when it has earlier turns (Qwen2-VL's `two_turns`): HF chat
    /// messages whose `{"type": "image"}` parts take `images` in order.
    #[serde(default)]
    pub messages: Option<Vec<serde_json::Value>>,
    /// Idefics3 / SmolVLM: the case was made with image splitting set to this.
    #[serde(default)]
    pub do_image_splitting: Option<bool>,
}

impl Case {
    /// The earlier exchanges of the conversation and this turn's images.
    pub fn conversation(
        &self,
        mut images: Vec<image::RgbImage>,
    ) -> (Vec<iris_models::processor::Exchange>, Vec<image::RgbImage>) {
        let Some(messages) = &self.messages else {
            return (Vec::new(), images);
        };
        let text = |m: &serde_json::Value| match &m["content"] {
            serde_json::Value::String(s) => s.clone(),
            parts => parts
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["text"].as_str())
                .collect(),
        };
        let image_count = |m: &serde_json::Value| {
            m["content"].as_array().map_or(0, |parts| {
                parts.iter().filter(|p| p["type"] == "image").count()
            })
        };
        let mut history = Vec::new();
        let turns = &messages[..messages.len() - 1];
        for pair in turns.chunks(2) {
            let n = image_count(&pair[0]);
            history.push(iris_models::processor::Exchange {
                images: images.drain(..n).collect(),
                user: text(&pair[0]),
                assistant: text(&pair[1]),
            });
        }
        (history, images)
    }
}

pub fn cases(model: &str) -> Vec<Case> {
    let path = model_dir(model).join("reference/cases.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str::<Cases>(&text).unwrap().cases
}

/// One reference tensor as f32 (or i64 converted) with its shape.
#[derive(Debug, Clone)]
pub struct RefTensor {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// The reference tensors of one case.
pub fn reference(model: &str, case: &str) -> HashMap<String, RefTensor> {
    let path = model_dir(model).join(format!("reference/{case}.safetensors"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let st = SafeTensors::deserialize(&bytes).unwrap();
    st.tensors()
        .into_iter()
        .map(|(name, view)| {
            let data = view.data();
            let values: Vec<f32> = match view.dtype() {
                Dtype::F32 => data
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                    .collect(),
                Dtype::I64 => data
                    .chunks_exact(8)
                    .map(|b| i64::from_le_bytes(b.try_into().unwrap()) as f32)
                    .collect(),
                other => panic!("unexpected dtype {other:?} in {name}"),
            };
            (
                name,
                RefTensor {
                    shape: view.shape().to_vec(),
                    values,
                },
            )
        })
        .collect()
}

/// Tensor-level relative error: max |got - want| / max |want|.
pub fn relative_error(got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len(), "length mismatch");
    let scale = want
        .iter()
        .fold(0f32, |m, v| m.max(v.abs()))
        .max(f32::MIN_POSITIVE);
    let diff = got
        .iter()
        .zip(want)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    if got.iter().any(|v| !v.is_finite()) {
        return f32::INFINITY;
    }
    diff / scale
}

/// f32 activations: HF and burn sum in different orders; 1e-4 of the tensor's scale is the
/// project-wide bound for float32 parity (observed errors are ~1e-6).
pub const F32_REL_TOL: f32 = 1e-4;

#[track_caller]
pub fn assert_close(what: &str, got: &[f32], want: &[f32]) {
    let err = relative_error(got, want);
    assert!(
        err < F32_REL_TOL,
        "{what}: relative error {err:e} (bound {F32_REL_TOL:e})"
    );
}

//! Synthetic checkpoints (`iris bench --synthetic`): the tensor names of each preset are the
//! HF fixture checkpoints' of the same family, and a shrunk copy (one layer per tower, a small
//! vocabulary, the real widths) loads through `Session::load` — which fails on any missing,
//! unexpected or mis-shaped tensor — and generates from a text prompt. Images are left out:
//! one real-size view through even a one-layer tower takes about a minute in the unoptimised
//! `ci` profile (`iris bench --synthetic` runs them; BENCHMARKS.md).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use iris_models::device::{DeviceChoice, Precision};
use iris_models::generate::{CancelToken, Sampling};
use iris_models::session::{Request, Session};
use iris_models::synthetic::{DiskDtype, Preset, SyntheticOptions, tensors, write_synthetic};

use crate::fixtures;

/// The fixture checkpoint of each preset's family (same layout, tiny widths).
fn fixture_of(preset: Preset) -> &'static str {
    match preset {
        Preset::Llava15_7b => "llava-tiny",
        Preset::Qwen2_0_5b => "llava-onevision-tiny",
        Preset::Smolvlm256m => "idefics3-tiny",
    }
}

/// Tensor names with layer indices replaced by `N`.
fn collapsed<'a>(names: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    names
        .map(|name| {
            name.split('.')
                .map(|part| match part.parse::<usize>() {
                    Ok(_) => "N",
                    Err(_) => part,
                })
                .collect::<Vec<_>>()
                .join(".")
        })
        .collect()
}

fn fixture_names(model: &str) -> BTreeSet<String> {
    let bytes = std::fs::read(fixtures::model_dir(model).join("model.safetensors")).unwrap();
    let (_, metadata) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    collapsed(metadata.tensors().keys().map(String::as_str))
}

#[test]
fn synthetic_tensor_names_are_the_fixture_checkpoints_names() {
    for preset in Preset::ALL {
        let ours = tensors(preset, &SyntheticOptions::default());
        let ours = collapsed(ours.iter().map(|t| t.name.as_str()));
        let fixture = fixture_of(preset);
        let theirs = fixture_names(fixture);
        let missing: Vec<_> = theirs.difference(&ours).collect();
        let extra: Vec<_> = ours.difference(&theirs).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{preset} vs {fixture}: missing {missing:?}, extra {extra:?}"
        );
    }
}

/// A scratch folder for one shrunk synthetic checkpoint, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(preset: Preset) -> Self {
        let name = format!("iris-synthetic-{preset}-{}", std::process::id());
        let dir = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One layer per tower and 1024 ids; f16 on disk to keep the folder small.
fn shrunk() -> SyntheticOptions {
    SyntheticOptions {
        dtype: DiskDtype::F16,
        vision_layers: Some(1),
        text_layers: Some(1),
        vocab_size: Some(1024),
        seed: 0,
    }
}

/// Writes the shrunk preset, loads it on the CPU and generates `new_tokens` greedily.
fn load_and_generate(preset: Preset, new_tokens: usize) {
    let scratch = Scratch::new(preset);
    let written = write_synthetic(preset, scratch.path(), &shrunk(), &mut |_, _| {}).unwrap();
    let session = Session::load(scratch.path(), DeviceChoice::Cpu, Precision::F32)
        .unwrap_or_else(|e| panic!("{preset}: {e}"));
    let expected = tensors(preset, &shrunk());
    let params: u64 = expected.iter().map(|t| t.elements()).sum();
    assert_eq!(written.parameters, params);
    let request = Request {
        history: Vec::new(),
        images: Vec::new(),
        prompt: "w5 w6 w7".into(),
        max_new_tokens: new_tokens,
        sampling: Sampling::Greedy,
        multi_image: Default::default(),
    };
    let answer = session
        .generate(&request, &CancelToken::new(), |_| {})
        .unwrap();
    assert!(!answer.token_ids.is_empty(), "{preset}");
    assert!(answer.token_ids.iter().all(|&id| id < 1024), "{preset}");
    // Text-only prompts: the template's tokens and the three words.
    assert!(
        answer.prompt_tokens >= 3,
        "{preset}: {}",
        answer.prompt_tokens
    );
}

#[test]
fn shrunk_synthetic_smolvlm_loads_and_generates() {
    load_and_generate(Preset::Smolvlm256m, 3);
}

#[test]
fn shrunk_synthetic_onevision_loads_and_generates() {
    load_and_generate(Preset::Qwen2_0_5b, 3);
}

/// One Llama-2-7B layer is 200 M parameters: the prefill alone, in the `ci` profile.
#[test]
fn shrunk_synthetic_llava_7b_loads_and_generates() {
    load_and_generate(Preset::Llava15_7b, 1);
}

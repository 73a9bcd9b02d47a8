//! Helpers shared by the preprocessing tests: fixture paths and safetensors reading.

use std::path::{Path, PathBuf};

use image::RgbImage;
use safetensors::{Dtype, SafeTensors};

/// `tests/fixtures` at the workspace root.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// The Idefics3 image processor of a fixture folder (its `preprocessor_config.json` and
/// `processor_config.json`).
pub fn idefics3_processor(dir: &Path) -> super::Idefics3ImageProcessor {
    use super::idefics3::{HfIdefics3PreprocessorConfig, HfIdefics3ProcessorConfig};
    let pre = HfIdefics3PreprocessorConfig::from_file(&dir.join("preprocessor_config.json"));
    let proc = HfIdefics3ProcessorConfig::from_file(&dir.join("processor_config.json"));
    super::Idefics3ImageProcessor::from_configs(&pre.unwrap(), &proc.unwrap()).unwrap()
}

/// LLaVA-OneVision's image processor of the fixture checkpoint `models/<model>`.
pub fn onevision_processor(model: &str) -> super::LlavaOnevisionImageProcessor {
    let dir = fixtures_dir().join("models").join(model);
    let pre = super::PreprocessorConfig::from_file(&dir.join("preprocessor_config.json")).unwrap();
    let proc = super::ProcessorConfig::from_file(&dir.join("processor_config.json")).unwrap();
    super::LlavaOnevisionImageProcessor::from_configs(&pre, &proc).unwrap()
}

/// Reads a whole fixture file, panicking with the path when it is missing.
pub fn read_fixture(relative: &str) -> Vec<u8> {
    let path = fixtures_dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {} unreadable: {e}", path.display()))
}

/// Parses a JSON fixture.
pub fn read_json(relative: &str) -> serde_json::Value {
    let bytes = read_fixture(relative);
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("fixture {relative}: bad JSON: {e}"))
}

/// A uint8 `[H, W, 3]` tensor as an RGB image.
pub fn rgb_tensor(st: &SafeTensors<'_>, name: &str) -> RgbImage {
    let view = st
        .tensor(name)
        .unwrap_or_else(|e| panic!("tensor {name}: {e}"));
    assert_eq!(view.dtype(), Dtype::U8, "tensor {name} dtype");
    let shape = view.shape();
    assert!(
        shape.len() == 3 && shape[2] == 3,
        "tensor {name}: shape {shape:?}, want [H, W, 3]"
    );
    RgbImage::from_raw(shape[1] as u32, shape[0] as u32, view.data().to_vec())
        .unwrap_or_else(|| panic!("tensor {name}: data does not match shape {shape:?}"))
}

/// An f32 tensor: its shape and its values.
pub fn f32_tensor(st: &SafeTensors<'_>, name: &str) -> (Vec<usize>, Vec<f32>) {
    let view = st
        .tensor(name)
        .unwrap_or_else(|e| panic!("tensor {name}: {e}"));
    assert_eq!(view.dtype(), Dtype::F32, "tensor {name} dtype");
    let values = view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    (view.shape().to_vec(), values)
}

/// A deterministic pseudo-random RGB image (xorshift), for tests without fixtures.
pub fn noise_image(width: u32, height: u32, seed: u64) -> RgbImage {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    RgbImage::from_fn(width, height, |_, _| {
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        };
        image::Rgb([next(), next(), next()])
    })
}

/// Decodes `tests/fixtures/images/<name>` with our decoder.
pub fn fixture_image(name: &str) -> RgbImage {
    let bytes = read_fixture(&format!("images/{name}"));
    crate::preprocess::image_io::decode_image(&bytes)
        .unwrap_or_else(|e| panic!("images/{name}: {e}"))
}

/// Compares pixel values bit for bit; on mismatch reports the count and the largest difference.
pub fn assert_same_values(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let mut diffs = 0usize;
    let mut max = 0f32;
    for (a, b) in got.iter().zip(want) {
        if a.to_bits() != b.to_bits() {
            diffs += 1;
            max = max.max((a - b).abs());
        }
    }
    assert!(
        diffs == 0,
        "{what}: {diffs} of {} values differ, max |diff| {max:e}",
        got.len()
    );
}

//! `WeightFiles::summary`: what the app's model list shows, and how it spots a cut download.

use iris_models::weights::{WeightFiles, WeightsError};

use crate::fixtures;

#[test]
fn summary_counts_bytes_parameters_and_dtypes() {
    let f32_model = WeightFiles::open(&fixtures::model_dir("llava-tiny")).unwrap();
    let summary = f32_model.summary().unwrap();
    let file = fixtures::model_dir("llava-tiny").join("model.safetensors");
    assert_eq!(summary.bytes, std::fs::metadata(file).unwrap().len());
    assert_eq!(summary.dtypes.iter().collect::<Vec<_>>(), ["f32"]);
    // Header-less bytes are 4 per f32 parameter.
    assert!(
        summary.parameters * 4 < summary.bytes && summary.parameters * 4 > summary.bytes - 65536
    );
    let sharded = WeightFiles::open(&fixtures::model_dir("llava-tiny-b")).unwrap();
    assert!(sharded.summary().unwrap().dtypes.contains("bf16"));
}

#[test]
fn summary_reports_a_truncated_file() {
    let dir = std::env::temp_dir().join(format!("iris-weights-cut-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = std::fs::read(fixtures::model_dir("llava-tiny").join("model.safetensors")).unwrap();
    std::fs::write(dir.join("model.safetensors"), &bytes[..bytes.len() - 100]).unwrap();
    let result = WeightFiles::open(&dir).and_then(|w| w.summary());
    std::fs::remove_dir_all(&dir).unwrap();
    match result {
        // Caught when the header is read, or by `summary` when the header alone is intact.
        Err(WeightsError::Corrupt { path, .. }) => assert!(path.ends_with("model.safetensors")),
        other => panic!("expected a Corrupt error, got {other:?}"),
    }
}

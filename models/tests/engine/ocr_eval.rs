//! `iris ocr-eval` on the committed OCR quality set (tests/fixtures/ocr): the tiny Idefics3
//! fixture through the real engine; Tesseract and a real checkpoint in ignored tests.
//!
//! ```sh
//! # Tesseract (Debian: apt-get install tesseract-ocr):
//! cargo test --profile ci --workspace ocr_eval_with_tesseract -- --ignored
//! # A real checkpoint, e.g. SmolDocling:
//! IRIS_OCR_MODEL=~/models/SmolDocling-256M-preview \
//!   cargo test --profile ci --workspace ocr_eval_with_a_real_model -- --ignored
//! ```
//! The slow tier (`IRIS_SLOW=1 bash scripts/test.sh`) runs them where their reader is there.

use std::process::Command;

use iris_models::ocr::cer::normalize;
use iris_models::ocr::page_set;

use crate::cli::{assert_fails_with, iris, stderr};
use crate::fixtures;

fn set_dir() -> String {
    fixtures::root().join("ocr").to_string_lossy().into_owned()
}

fn every_page() -> Vec<usize> {
    (0..page_set::load(&fixtures::root().join("ocr")).unwrap().len()).collect()
}

/// Runs `iris ocr-eval --set <committed set> <args> --json` and checks the report's shape
/// against the set: the chosen pages in order, each scored against its own truth, and a total
/// that is the sum of the pages.
fn eval_json(args: &[&str], pages: &[usize]) -> serde_json::Value {
    let set = set_dir();
    let mut all = vec!["ocr-eval", "--set", &set, "--json"];
    all.extend_from_slice(args);
    let out = iris(&all);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let truths = page_set::load(&fixtures::root().join("ocr")).unwrap();
    let scored = report["pages"].as_array().unwrap();
    assert_eq!(scored.len(), pages.len(), "{report:#}");
    let (mut edits, mut characters) = (0, 0);
    for (score, &index) in scored.iter().zip(pages) {
        let truth = &truths[index];
        assert_eq!(score["page"], truth.name.as_str());
        let chars = normalize(&truth.truth).chars().count() as u64;
        assert_eq!(score["characters"], chars, "{}", truth.name);
        let cer = score["cer"].as_f64().unwrap();
        assert!(cer.is_finite() && cer >= 0.0, "{}: {cer}", truth.name);
        assert!(score["seconds"].as_f64().unwrap() >= 0.0);
        edits += score["edits"].as_u64().unwrap();
        characters += chars;
    }
    assert_eq!(report["edits"], edits);
    assert_eq!(report["characters"], characters);
    let total = report["cer"].as_f64().unwrap();
    assert!((total - edits as f64 / characters as f64).abs() < 1e-12);
    let err = stderr(&out);
    assert!(err.contains(&format!("page {0}/{0}", pages.len())), "{err}");
    report
}

#[test]
fn ocr_eval_reads_set_pages_with_the_tiny_model() {
    // The tiny random model writes nonsense: this checks the command end to end through the
    // engine on the CPU (reading, scoring, the report), not the reading.
    let model = fixtures::model_dir("idefics3-tiny");
    let report = eval_json(
        &[
            "--model",
            model.to_str().unwrap(),
            "--device",
            "cpu",
            "--pages",
            "1,7",
            "--max-new-tokens",
            "6",
        ],
        &[0, 6],
    );
    let reader = report["reader"].as_str().unwrap();
    assert!(
        reader.contains("idefics3") && reader.contains("cpu"),
        "{reader}"
    );
}

#[test]
fn ocr_eval_errors_are_clear() {
    let set = set_dir();
    // No reader chosen: clap refuses.
    let out = iris(&["ocr-eval", "--set", &set]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--model"), "{}", stderr(&out));
    // Tesseract not on PATH: say how to install it.
    let empty = std::env::temp_dir().join(format!("iris-no-tesseract-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_iris"))
        .args(["ocr-eval", "--set", &set, "--tesseract"])
        .env("PATH", &empty)
        .output()
        .unwrap();
    std::fs::remove_dir(&empty).unwrap();
    assert_fails_with(&out, &["sudo apt-get install tesseract-ocr"]);
    // A set folder without pages.
    let out = iris(&["ocr-eval", "--set", "/nonexistent/set", "--tesseract"]);
    assert_fails_with(&out, &["/nonexistent/set"]);
}

#[test]
#[ignore = "needs tesseract (apt-get install tesseract-ocr); run with --ignored"]
fn ocr_eval_with_tesseract_reads_the_set() {
    let report = eval_json(&["--tesseract"], &every_page());
    let reader = report["reader"].as_str().unwrap();
    assert!(reader.starts_with("tesseract"), "{reader}");
    // Tesseract 5.3.0 reads the set with 0.92% CER (README): a much higher rate means the
    // pages became unreadable or the scoring broke.
    let cer = report["cer"].as_f64().unwrap();
    assert!(cer < 0.05, "CER {cer}");
}

#[test]
#[ignore = "needs a real checkpoint: set IRIS_OCR_MODEL to its folder; run with --ignored"]
fn ocr_eval_with_a_real_model() {
    let model = std::env::var("IRIS_OCR_MODEL").expect("set IRIS_OCR_MODEL to a checkpoint folder");
    let report = eval_json(&["--model", &model], &every_page());
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
    // A model that reads at all stays far below this; one that reads nothing scores 1.
    let cer = report["cer"].as_f64().unwrap();
    assert!(cer < 0.5, "CER {cer}");
}

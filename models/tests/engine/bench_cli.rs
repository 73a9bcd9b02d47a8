//! `iris bench`: the JSON report on a shrunk synthetic SmolVLM (one layer per tower, 1024 ids,
//! real widths) on the CPU, the synthetic folder reused, and clear argument errors.

use std::path::PathBuf;

use crate::cli::{assert_fails_with, iris, stderr};

/// A scratch folder for synthetic checkpoints, removed on drop.
struct ScratchDir(PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn bench_json(dir: &str, runs: &str) -> serde_json::Value {
    let out = iris(&[
        "bench",
        "--synthetic",
        "smolvlm-256m",
        "--synthetic-layers",
        "1",
        "--synthetic-vocab",
        "1024",
        "--synthetic-dir",
        dir,
        "--device",
        "cpu",
        "--prompt-tokens",
        "24",
        "--new-tokens",
        "3",
        "--runs",
        runs,
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn bench_synthetic_json_reports_load_speed_and_memory() {
    let dir = std::env::temp_dir().join(format!("iris-bench-cli-{}", std::process::id()));
    let _scratch = ScratchDir(dir.clone());
    let json = bench_json(dir.to_str().unwrap(), "1");
    let synthetic = &json["synthetic"];
    assert_eq!(synthetic["preset"], "smolvlm-256m");
    assert_eq!(synthetic["reused"], false);
    assert!(
        synthetic["parameters"].as_u64().unwrap() > 10_000_000,
        "{synthetic}"
    );
    assert!(json["load_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(json["device"], "cpu (flex)");
    assert!(json["machine"]["logical_cores"].as_u64().unwrap() >= 1);
    // `<|im_start|>User: ` + 24 words + `<end_of_utterance>\nAssistant:`.
    let prompt_tokens = json["prompt_tokens"].as_u64().unwrap();
    assert!((24..40).contains(&prompt_tokens), "{prompt_tokens}");
    assert_eq!(json["prompt_text_tokens"], 24);
    assert_eq!(json["image_tokens"], 0);
    let runs = json["runs"].as_array().unwrap();
    let labels: Vec<&str> = runs.iter().map(|r| r["run"].as_str().unwrap()).collect();
    assert_eq!(labels, ["warm-up", "1", "median"]);
    for run in runs {
        let ms = |key: &str| run[key].as_f64().unwrap();
        assert!(ms("prefill_ms") > 0.0 && ms("prefill_tok_s") > 0.0, "{run}");
        assert!(ms("ttft_ms") >= ms("prefill_ms"), "{run}");
        assert!(ms("decode_tok_s") > 0.0, "{run}");
        let tokens = run["new_tokens"].as_u64().unwrap();
        assert!((1..=3).contains(&tokens), "{run}");
        // No image: nothing to divide the vision time by.
        assert!(run["vision_ms_per_view"].is_null(), "{run}");
    }
    if cfg!(target_os = "linux") {
        assert!(json["peak_host_bytes"].as_u64().unwrap() > 50 << 20);
    }
    // The CPU backend reports no allocator statistics: n/a, with the reason.
    assert!(json["peak_device_bytes"].is_null());
    let why = json["device_memory"].as_str().unwrap();
    assert!(why.contains("no allocator statistics"), "{why}");

    let again = bench_json(dir.to_str().unwrap(), "0");
    assert_eq!(again["synthetic"]["reused"], true);
    assert_eq!(again["runs"].as_array().unwrap().len(), 1);
}

#[test]
fn bench_needs_exactly_one_of_model_and_synthetic() {
    let both = iris(&["bench", "--model", "/tmp", "--synthetic", "smolvlm-256m"]);
    assert_fails_with(&both, &["--synthetic"]);
    let neither = iris(&["bench", "--device", "cpu"]);
    assert_fails_with(&neither, &["--model", "--synthetic"]);
    let unknown = iris(&["bench", "--synthetic", "gpt-4"]);
    assert_fails_with(
        &unknown,
        &["gpt-4", "smolvlm-256m", "qwen2-0.5b", "llava-1.5-7b"],
    );
}

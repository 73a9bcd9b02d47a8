//! The `iris` command-line contract: JSON output, token counts and clear one-line errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::fixtures;

pub(crate) fn iris(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iris"))
        .args(args)
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .expect("run iris")
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A scratch folder holding a copy of a fixture checkpoint, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn copy_of(model: &str, tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("iris-cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(fixtures::model_dir(model)).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
            }
        }
        Self(dir)
    }
    fn path(&self) -> &Path {
        &self.0
    }
    fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn generate_json_gives_hf_greedy_tokens() {
    let case = fixtures::cases("llava-tiny")
        .into_iter()
        .find(|c| c.name == "wide")
        .unwrap();
    let model = fixtures::model_dir("llava-tiny");
    let image = fixtures::image_path(&case.images[0]);
    let max = case.max_new_tokens.to_string();
    let out = iris(&[
        "generate",
        "--model",
        model.to_str().unwrap(),
        "--image",
        image.to_str().unwrap(),
        "--prompt",
        &case.prompt,
        "--max-new-tokens",
        &max,
        "--device",
        "cpu",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<u32> = serde_json::from_value(json["token_ids"].clone()).unwrap();
    assert_eq!(ids, case.greedy_ids);
    assert_eq!(json["text"], case.greedy_text.as_str());
    assert_eq!(json["prompt_tokens"], case.input_ids.len());
    assert_eq!(json["image_tokens"], case.image_tokens);
    for stage in ["load", "preprocess", "vision", "prefill", "decode"] {
        assert!(
            json["timings_ms"][stage].as_f64().is_some(),
            "timings_ms.{stage} missing"
        );
    }
}

#[test]
fn inspect_reports_the_anyres_plan_and_token_count() {
    let model = fixtures::model_dir("llava-onevision-tiny");
    let image = fixtures::image_path("large_1024x768.png");
    let out = iris(&[
        "inspect",
        "--model",
        model.to_str().unwrap(),
        "--image",
        image.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // HF: 1 base view + a 5 x 6 grid, 156 image tokens (notes/hf-fixtures.md).
    assert_eq!(json["image_tokens"], 156);
    let image = &json["images"][0];
    assert_eq!(image["tiles"], 31);
    assert_eq!(
        image["plan"]["rows"].as_u64().unwrap() * image["plan"]["cols"].as_u64().unwrap(),
        30
    );
}

#[test]
fn inspect_reports_qwen2_vl_patch_grid_and_hf_token_count() {
    let model = fixtures::model_dir("qwen2-vl-tiny");
    let image = fixtures::image_path("large_1024x768.png");
    let out = iris(&[
        "inspect",
        "--model",
        model.to_str().unwrap(),
        "--image",
        image.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // HF (reference/cases.json, case `large`): resized to 72 x 108, grid 12 x 18, 54 tokens.
    assert_eq!(json["image_tokens"], 54);
    let patches = &json["images"][0]["patches"];
    assert_eq!(patches["resized_height"], 72);
    assert_eq!(patches["resized_width"], 108);
    assert_eq!(patches["grid"]["h"], 12);
    assert_eq!(patches["grid"]["w"], 18);
}

#[track_caller]
pub(crate) fn assert_fails_with(out: &Output, needles: &[&str]) {
    assert!(!out.status.success(), "expected failure, got success");
    let err = stderr(out);
    assert!(err.starts_with("error: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` not in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn missing_model_folder_is_a_clear_error() {
    let out = iris(&[
        "generate",
        "--model",
        "/nonexistent/model",
        "--prompt",
        "hi",
        "--device",
        "cpu",
    ]);
    assert_fails_with(&out, &["/nonexistent/model", "no such folder"]);
}

#[test]
fn corrupt_image_is_a_clear_error() {
    let bad = std::env::temp_dir().join(format!("iris-corrupt-{}.png", std::process::id()));
    std::fs::write(&bad, b"\x89PNG\r\n\x1a\nthis is not really a png").unwrap();
    let model = fixtures::model_dir("llava-tiny");
    let out = iris(&[
        "generate",
        "--model",
        model.to_str().unwrap(),
        "--image",
        bad.to_str().unwrap(),
        "--prompt",
        "hi",
        "--device",
        "cpu",
    ]);
    std::fs::remove_file(&bad).unwrap();
    assert_fails_with(&out, &[bad.to_str().unwrap()]);
}

#[test]
fn truncated_weights_are_a_clear_error() {
    let scratch = Scratch::copy_of("llava-tiny", "truncated");
    let weights = scratch.path().join("model.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    let out = iris(&[
        "generate",
        "--model",
        scratch.arg(),
        "--prompt",
        "hi",
        "--device",
        "cpu",
    ]);
    assert_fails_with(&out, &["model.safetensors"]);
}

#[test]
fn missing_and_unexpected_tensors_are_all_named() {
    let scratch = Scratch::copy_of("llava-tiny", "renamed");
    let weights = scratch.path().join("model.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let gone = "language_model.model.norm.weight";
    let renamed_from = "multi_modal_projector.linear_1.bias";
    let tensors: Vec<(String, safetensors::tensor::TensorView)> = st
        .tensors()
        .into_iter()
        .filter(|(n, _)| n != gone)
        .map(|(n, v)| {
            if n == renamed_from {
                ("projector.bias".to_owned(), v)
            } else {
                (n, v)
            }
        })
        .collect();
    safetensors::serialize_to_file(tensors, None, &weights).unwrap();
    let out = iris(&[
        "generate",
        "--model",
        scratch.arg(),
        "--prompt",
        "hi",
        "--device",
        "cpu",
    ]);
    assert_fails_with(
        &out,
        &[
            gone,
            renamed_from,
            "projector.bias",
            "missing",
            "unexpected",
        ],
    );
}

#[test]
fn unsupported_model_type_lists_the_supported_ones() {
    let scratch = Scratch::copy_of("llava-tiny", "mamba");
    std::fs::write(
        scratch.path().join("config.json"),
        r#"{"model_type": "mamba"}"#,
    )
    .unwrap();
    let out = iris(&[
        "generate",
        "--model",
        scratch.arg(),
        "--prompt",
        "hi",
        "--device",
        "cpu",
    ]);
    assert_fails_with(&out, &["mamba", "llava", "llava_onevision"]);
}

#[test]
fn attention_json_equals_hf_cross_attentions_and_pngs_are_written() {
    let case = fixtures::cases("blip2-opt-tiny")
        .into_iter()
        .find(|c| c.name == "wide")
        .unwrap();
    let reference = fixtures::reference("blip2-opt-tiny", &case.name);
    let model = fixtures::model_dir("blip2-opt-tiny");
    let image = fixtures::image_path(&case.images[0]);
    let out_dir = std::env::temp_dir().join(format!("iris-attention-{}", std::process::id()));
    let out = iris(&[
        "attention",
        "--model",
        model.to_str().unwrap(),
        "--image",
        image.to_str().unwrap(),
        "--device",
        "cpu",
        "--json",
        "--png",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["kind"], "qformer");
    assert_eq!(json["grid"], serde_json::json!([4, 4]));
    assert_eq!(json["cls_token"], true);
    let layers = json["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    for layer in layers {
        let l = layer["layer"].as_u64().unwrap();
        let got: Vec<f32> = serde_json::from_value::<Vec<Vec<Vec<f32>>>>(layer["probs"].clone())
            .unwrap()
            .into_iter()
            .flatten()
            .flatten()
            .collect();
        fixtures::assert_close(
            &format!("cross_attention_{l}"),
            &got,
            &reference[&format!("cross_attention_{l}")].values,
        );
    }
    let pngs = std::fs::read_dir(&out_dir).unwrap().count();
    std::fs::remove_dir_all(&out_dir).unwrap();
    assert_eq!(pngs, 8, "one heat-map per query");
}

fn pdf(name: &str) -> String {
    fixtures::root()
        .join("pdf")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn ocr_reads_chosen_pdf_pages_into_markdown_with_progress() {
    let model = fixtures::model_dir("idefics3-tiny");
    let out_file = std::env::temp_dir().join(format!("iris-ocr-{}.md", std::process::id()));
    let out = iris(&[
        "ocr",
        &pdf("multipage.pdf"),
        "--model",
        model.to_str().unwrap(),
        "--device",
        "cpu",
        "--pages",
        "2-3",
        "--dpi",
        "20",
        "--max-new-tokens",
        "4",
        "-o",
        out_file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let markdown = std::fs::read_to_string(&out_file).unwrap();
    std::fs::remove_file(&out_file).unwrap();
    assert!(markdown.starts_with("<!-- page 2 -->"), "{markdown}");
    assert!(markdown.contains("<!-- page 3 -->") && !markdown.contains("<!-- page 4 -->"));
    let err = stderr(&out);
    assert!(
        err.contains("2 of 12 pages") && err.contains("page 2/2"),
        "{err}"
    );
}

#[test]
fn ocr_errors_are_clear() {
    let model = fixtures::model_dir("idefics3-tiny");
    let model = model.to_str().unwrap();
    let run = |file: &str, extra: &[&str]| {
        let mut args = vec!["ocr", file, "--model", model, "--device", "cpu"];
        args.extend_from_slice(extra);
        iris(&args)
    };
    assert_fails_with(&run(&pdf("truncated.pdf"), &[]), &["truncated.pdf"]);
    assert_fails_with(&run(&pdf("password.pdf"), &[]), &["password"]);
    assert_fails_with(&run(&pdf("multipage.pdf"), &["--pages", "13"]), &["13"]);
    let image = fixtures::image_path("tiny_5x7.png");
    assert_fails_with(
        &run(image.to_str().unwrap(), &["--pages", "1"]),
        &["--pages applies to PDFs"],
    );
}

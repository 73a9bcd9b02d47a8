use serde_json::json;

use crate::harness::{Scratch, TestApp, fixture_model};

#[test]
fn import_lists_deletes_and_describes_a_checkpoint() {
    let dir = Scratch::new("models");
    let app = TestApp::open(&dir.0);
    // A fresh data folder holds only the built-in demo model.
    assert_eq!(model_ids(&app), vec![iris_app::demo::MODEL_ID]);

    let entry = app.ok("import_model", json!({"path": fixture_model("llava-tiny")}));
    assert_eq!(entry["family"], "LLaVA-1.5");
    assert_eq!(entry["modelType"], "llava");
    assert_eq!(entry["dtype"], "f32");
    assert_eq!(entry["runnable"], true);
    assert_eq!(entry["problem"], json!(null));
    assert_eq!(entry["source"], "imported");
    assert!(entry["parameters"].as_u64().unwrap() > 1000);
    let sharded = app.ok(
        "import_model",
        json!({"path": fixture_model("llava-tiny-b")}),
    );
    assert_eq!(sharded["dtype"], "bf16");
    let blip = app.ok(
        "import_model",
        json!({"path": fixture_model("blip2-opt-tiny")}),
    );
    assert_eq!(blip["family"], "BLIP-2");

    // The same folder twice gets a second id, not an overwrite.
    let again = app.ok("import_model", json!({"path": fixture_model("llava-tiny")}));
    assert_ne!(again["id"], entry["id"]);
    assert_eq!(
        app.ok("list_models", json!({})).as_array().unwrap().len(),
        5
    );

    app.ok("delete_model", json!({"id": again["id"]}));
    let ids: Vec<_> = app
        .ok("list_models", json!({}))
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].clone())
        .collect();
    assert!(!ids.contains(&again["id"]));
    assert_eq!(
        app.err("delete_model", json!({"id": "../etc"}))["code"],
        "MODEL_NOT_FOUND"
    );
}

#[test]
fn folders_that_are_not_usable_checkpoints_are_refused_with_the_reason() {
    let dir = Scratch::new("bad-models");
    let app = TestApp::open(&dir.0);
    let empty = dir.0.join("empty-folder");
    std::fs::create_dir_all(&empty).unwrap();
    let error = app.err("import_model", json!({"path": empty}));
    assert_eq!(error["code"], "INVALID_MODEL");
    assert!(
        error["message"].as_str().unwrap().contains("config.json"),
        "{error}"
    );

    let unsupported = dir.0.join("whisper");
    std::fs::create_dir_all(&unsupported).unwrap();
    std::fs::write(
        unsupported.join("config.json"),
        r#"{"model_type": "whisper"}"#,
    )
    .unwrap();
    let error = app.err("import_model", json!({"path": unsupported}));
    assert!(
        error["message"].as_str().unwrap().contains("`whisper`"),
        "{error}"
    );

    // A cut download: the weights end early.
    let cut = dir.0.join("cut");
    std::fs::create_dir_all(&cut).unwrap();
    for f in std::fs::read_dir(fixture_model("llava-tiny")).unwrap() {
        let f = f.unwrap();
        if f.file_type().unwrap().is_file() {
            std::fs::copy(f.path(), cut.join(f.file_name())).unwrap();
        }
    }
    let weights = cut.join("model.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() - 1000]).unwrap();
    let error = app.err("import_model", json!({"path": cut}));
    assert_eq!(error["code"], "INVALID_MODEL");
    assert!(
        error["message"].as_str().unwrap().contains("weight"),
        "{error}"
    );
    // Nothing half-imported is left behind.
    assert_eq!(model_ids(&app), vec![iris_app::demo::MODEL_ID]);
}

fn model_ids(app: &TestApp) -> Vec<String> {
    app.ok("list_models", json!({}))
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

use std::sync::{Arc, Mutex};

use iris_app::commands::explain::explain;
use serde_json::{Value, json};
use tauri::ipc::{Channel, InvokeResponseBody};

use crate::harness::{Scratch, TestApp, fixture_image, fixture_model};

fn reference(model: &str) -> Value {
    let path = fixture_model(model).join("reference/answer_attention.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Explains the fixture's reference question about its reference image, through the command.
fn run_explain(app: &TestApp, model: &str) -> (Value, Vec<Value>) {
    let r = reference(model);
    explain_image(
        app,
        model,
        r["image"].as_str().unwrap(),
        r["prompt"].as_str().unwrap(),
        r["max_new_tokens"].as_u64().unwrap() as usize,
    )
}

/// Explains `prompt` about fixture image `image` with fixture `model` on the CPU.
fn explain_image(
    app: &TestApp,
    model: &str,
    image: &str,
    prompt: &str,
    max_new_tokens: usize,
) -> (Value, Vec<Value>) {
    let model_id = app.import_fixture(model);
    app.use_cpu(max_new_tokens);
    let image = app.ok("add_image_files", json!({"paths": [fixture_image(image)]}));
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let channel = Channel::new(move |body: InvokeResponseBody| {
        sink.lock()
            .unwrap()
            .push(body.deserialize::<Value>().unwrap());
        Ok(())
    });
    let explanation = tauri::async_runtime::block_on(explain(
        app.handle(),
        model_id,
        image[0]["id"].as_str().unwrap().into(),
        prompt.into(),
        channel,
    ))
    .unwrap();
    let events = events.lock().unwrap().clone();
    (serde_json::to_value(explanation).unwrap(), events)
}

/// HF's share of token 0's attention on visual tokens, averaged over layers and heads.
fn hf_image_share(r: &Value) -> f64 {
    let positions: Vec<usize> = r["image_positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap() as usize)
        .collect();
    let layers = r["steps"][0].as_array().unwrap();
    let mut total = 0.0;
    let mut n = 0.0;
    for layer in layers {
        for head in layer.as_array().unwrap() {
            total += positions
                .iter()
                .map(|&p| head[p].as_f64().unwrap())
                .sum::<f64>();
            n += 1.0;
        }
    }
    total / n
}

#[test]
fn explaining_a_onevision_answer_gives_tiles_pipeline_and_hfs_attention() {
    let dir = Scratch::new("explain-ov");
    let app = TestApp::open(&dir.0);
    let (x, events) = run_explain(&app, "llava-onevision-tiny");
    let r = reference("llava-onevision-tiny");
    assert!(events.iter().any(|e| e["kind"] == "token"));
    assert_eq!(x["family"], "LLaVA-OneVision");
    assert_eq!(x["answer"]["tokens"].as_array().unwrap().len(), 5);
    assert!(
        x["tilePlan"]["tiles"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(x["qformer"], Value::Null);
    let names: Vec<&str> = x["pipeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Image",
            "Encoder views",
            "Patches per view",
            "Vision tokens",
            "Connector output",
            "Prompt tokens",
            "Answer tokens"
        ]
    );
    assert_eq!(x["pipeline"][0]["count"], 300 * 50);
    let visual = x["pipeline"][4]["count"].as_u64().unwrap() as usize;
    assert_eq!(visual, r["image_positions"].as_array().unwrap().len());
    // The family-neutral views: the base view, then one per AnyRes tile; the packed count.
    let views = &x["imageViews"];
    assert_eq!(views["scheme"], "any_res");
    assert_eq!(views["total_tokens"], visual as u64);
    assert_eq!(views["views"][0]["kind"], "base");
    assert_eq!(
        views["views"].as_array().unwrap().len(),
        1 + x["tilePlan"]["tiles"].as_array().unwrap().len()
    );
    assert_eq!(x["pipeline"][5]["count"], r["prompt_tokens"]);
    let info = &x["answerAttention"];
    assert_eq!(
        (info["layers"].as_u64(), info["heads"].as_u64()),
        (Some(2), Some(4))
    );
    assert_eq!(info["imageTokens"].as_array().unwrap().len(), visual);
    assert_eq!(info["tokenCount"], 5);

    // Maps on demand, through IPC: the share equals HF's.
    let id = x["explanationId"].clone();
    let map = app.ok(
        "answer_attention",
        json!({"explanationId": id, "token": 0, "layer": null, "head": null}),
    );
    assert_eq!(map["values"].as_array().unwrap().len(), visual);
    let share = map["imageShare"].as_f64().unwrap();
    assert!(
        (share - hf_image_share(&r)).abs() < 1e-4,
        "{share} vs HF {}",
        hf_image_share(&r)
    );
    let one = app.ok(
        "answer_attention",
        json!({"explanationId": id, "token": 4, "layer": 1, "head": 3}),
    );
    assert_eq!(
        (one["layer"].as_u64(), one["head"].as_u64()),
        (Some(1), Some(3))
    );
    // Attention rollout (all layers, residual-mixed) through IPC equals the numpy reference.
    assert_eq!(info["rollout"], true);
    let rolled = app.ok(
        "answer_attention",
        json!({"explanationId": id, "token": 2, "layer": null, "head": null, "rollout": true}),
    );
    assert_eq!(rolled["rollout"], true);
    let want: Vec<f64> = r["rollout"][2]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let got: Vec<f64> = rolled["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let scale = want.iter().fold(0f64, |m, v| m.max(v.abs()));
    let diff = got
        .iter()
        .zip(&want)
        .fold(0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        diff < 1e-4 * scale,
        "rollout differs by {diff} (scale {scale})"
    );
    let error = app.err(
        "answer_attention",
        json!({"explanationId": id, "token": 5, "layer": null, "head": null}),
    );
    assert_eq!(error["code"], "INVALID_INPUT");
    let error = app.err(
        "answer_attention",
        json!({"explanationId": "nope", "token": 0, "layer": null, "head": null}),
    );
    assert_eq!(error["code"], "NOT_FOUND");
}

#[test]
fn explaining_a_blip2_answer_gives_every_query_map() {
    let dir = Scratch::new("explain-blip");
    let app = TestApp::open(&dir.0);
    let (x, _) = run_explain(&app, "blip2-opt-tiny");
    assert_eq!(x["family"], "BLIP-2");
    let q = &x["qformer"];
    assert!(q["layers"].as_array().is_some_and(|l| !l.is_empty()));
    let grid = q["grid"].as_array().unwrap();
    let keys = q["layers"][0]["probs"][0][0].as_array().unwrap().len() as u64;
    let cells = grid[0].as_u64().unwrap() * grid[1].as_u64().unwrap();
    assert_eq!(keys, cells + u64::from(q["cls_token"].as_bool().unwrap()));
    assert_eq!(x["tilePlan"], Value::Null);
    assert_eq!(
        x["imageViews"],
        Value::Null,
        "BLIP-2 reads one fixed-size view"
    );
    // Answer attention on the queries is drawn through the Q-Former onto the patch grid.
    let info = &x["answerAttention"];
    assert_eq!(info["throughQformer"], true);
    let places = info["imageTokens"].as_array().unwrap();
    assert_eq!(places.len() as u64, cells);
    assert!(
        places
            .iter()
            .all(|p| p["view"] == "patch" && p["rect"]["width"].is_number())
    );
    let map = app.ok(
        "answer_attention",
        json!({"explanationId": x["explanationId"], "token": 0, "layer": null, "head": null}),
    );
    let values: Vec<f64> = map["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(values.len() as u64, cells);
    // Spreading keeps the mass that reached the queries, less what their class token took.
    let spread: f64 = values.iter().sum();
    let share = map["imageShare"].as_f64().unwrap();
    assert!(
        spread > 0.0 && spread <= share + 1e-5,
        "{spread} of {share}"
    );
}

fn rect(v: &Value) -> [f64; 4] {
    ["x", "y", "width", "height"].map(|k| v[k].as_f64().unwrap())
}

/// SmolVLM-style tiling in the payload: HF's processor cuts the 1024×768 reference image of the
/// tiny Idefics3 checkpoint into 3 × 4 tiles plus the global view, 4 tokens each (52 in all).
#[test]
fn explaining_an_idefics3_answer_gives_its_tiles_and_global_view() {
    let dir = Scratch::new("explain-idefics3");
    let app = TestApp::open(&dir.0);
    let cases: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture_model("idefics3-tiny").join("reference/cases.json"))
            .unwrap(),
    )
    .unwrap();
    let case = cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "large")
        .unwrap();
    let (x, events) = explain_image(
        &app,
        "idefics3-tiny",
        case["images"][0].as_str().unwrap(),
        case["prompt"].as_str().unwrap(),
        4,
    );
    assert!(events.iter().any(|e| e["kind"] == "token"));
    assert_eq!(x["family"], "Idefics3 / SmolVLM");
    assert_eq!(x["tilePlan"], Value::Null, "no AnyRes pinpoints");
    let v = &x["imageViews"];
    assert_eq!(v["scheme"], "image_splitting");
    assert_eq!(v["source"], json!({"height": 768, "width": 1024}));
    assert_eq!(v["resized"], json!({"height": 72, "width": 96}));
    assert_eq!(v["grid"], json!([3, 4]));
    let views = v["views"].as_array().unwrap();
    assert_eq!(views.len() as u64, case["tiles"].as_u64().unwrap());
    // HF's image-token count, the pipeline's connector output and the answer view's places agree.
    assert_eq!(v["total_tokens"], case["image_tokens"]);
    assert_eq!(x["pipeline"][4]["count"], case["image_tokens"]);
    assert_eq!(
        x["answerAttention"]["imageTokens"]
            .as_array()
            .unwrap()
            .len() as u64,
        case["image_tokens"].as_u64().unwrap()
    );
    let terms: Vec<(&str, i64)> = v["token_terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["label"].as_str().unwrap(), t["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(terms, [("tiles", 48), ("global", 4)]);
    for (i, view) in views[..12].iter().enumerate() {
        let (row, col) = (i / 4, i % 4);
        assert_eq!(view["kind"], "tile");
        assert_eq!(view["cell"], json!([row, col]));
        assert_eq!(view["label"], format!("row {}, col {}", row + 1, col + 1));
        assert_eq!(view["marker"], format!("<row_{}_col_{}>", row + 1, col + 1));
        assert_eq!(view["tokens"], 4);
        assert_eq!(view["patch_grid"], json!([4, 4]));
        assert_eq!(view["merge"], 2);
        // 96×72 canvas cut in 24-px tiles: each tile is 256×256 source pixels.
        assert_eq!(
            rect(&view["source_rect"]),
            [col as f64 * 256.0, row as f64 * 256.0, 256.0, 256.0]
        );
    }
    let global = &views[12];
    assert_eq!(
        (&global["kind"], &global["marker"]),
        (&json!("global"), &json!("<global-img>"))
    );
    assert_eq!(rect(&global["source_rect"]), [0.0, 0.0, 1024.0, 768.0]);
    assert_eq!(global["encoded_size"], json!({"height": 24, "width": 24}));
}

#[test]
fn exports_are_written_where_asked_and_bad_data_is_refused() {
    let dir = Scratch::new("export");
    let app = TestApp::open(&dir.0);
    let target = dir.0.join("map.json");
    let saved = app.ok(
        "save_export",
        json!({"suggestedName": "map.json", "dataBase64": "eyJhIjogMX0=", "path": target}),
    );
    assert_eq!(saved, json!(target.display().to_string()));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "{\"a\": 1}");
    let error = app.err(
        "save_export",
        json!({"suggestedName": "x.png", "dataBase64": "***", "path": dir.0.join("x.png")}),
    );
    assert_eq!(error["code"], "INVALID_INPUT");
    let error = app.err(
        "save_export",
        json!({"suggestedName": "x.png", "dataBase64": "eA==", "path": dir.0.join("missing/x.png")}),
    );
    assert_eq!(error["code"], "STORAGE");
}

/// Qwen2-VL in the payload: one view, the image resized to whole 12-px blocks (HF: the
/// 1024×768 reference image becomes 108×72, a 12×18 grid of 6-px patches, 54 tokens), and
/// every visual token placed on its 2×2 patch block of the photo.
#[test]
fn explaining_a_qwen2_vl_answer_gives_its_resized_patch_grid() {
    let dir = Scratch::new("explain-qwen2-vl");
    let app = TestApp::open(&dir.0);
    let cases: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture_model("qwen2-vl-tiny").join("reference/cases.json"))
            .unwrap(),
    )
    .unwrap();
    let case = cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "large")
        .unwrap();
    let (x, events) = explain_image(
        &app,
        "qwen2-vl-tiny",
        case["images"][0].as_str().unwrap(),
        case["prompt"].as_str().unwrap(),
        4,
    );
    assert!(events.iter().any(|e| e["kind"] == "token"));
    assert_eq!(x["family"], "Qwen2-VL");
    let v = &x["imageViews"];
    assert_eq!(v["scheme"], "dynamic_resolution");
    assert_eq!(v["source"], json!({"height": 768, "width": 1024}));
    assert_eq!(v["resized"], json!({"height": 72, "width": 108}));
    let views = v["views"].as_array().unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0]["patch_grid"], json!([12, 18]));
    assert_eq!(views[0]["merge"], 2);
    assert_eq!(v["total_tokens"], case["image_tokens"]);
    assert_eq!(x["pipeline"][2]["count"], 12 * 18);
    assert_eq!(x["pipeline"][4]["count"], case["image_tokens"]);
    let places = x["answerAttention"]["imageTokens"].as_array().unwrap();
    assert_eq!(places.len() as u64, case["image_tokens"].as_u64().unwrap());
    // Token 10 is block row 1, column 1 of the 6 × 9 merged grid.
    let [w, h] = [1024.0 / 9.0, 768.0 / 6.0];
    assert_eq!(rect(&places[10]["rect"]), [w, h, w, h]);
}

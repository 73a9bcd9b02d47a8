//! The built-in demo model: installed at start-up, reinstalled when it differs, a user's folder
//! of the same name left alone; its sample scenes; a chat turn on it.

use std::path::Path;

use iris_app::ChatStore;
use iris_app::commands::chat::send_message;
use iris_app::demo::{
    CHECKPOINT_FILES, FALLBACK_ID, MODEL_ID, MODEL_NAME, SAMPLES_JSON, content_hash,
};
use serde_json::{Value, json};
use tauri::Manager;
use tauri::ipc::Channel;

use crate::harness::{Scratch, TestApp};

/// The one built-in entry of `list_models`.
fn demo_entry(app: &TestApp) -> Value {
    let listed = app.ok("list_models", json!({}));
    let builtin: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["source"] == "builtin")
        .collect();
    assert_eq!(builtin.len(), 1, "{listed}");
    builtin[0].clone()
}

/// Whether `dir` holds the embedded checkpoint files, byte for byte.
fn holds_the_checkpoint(dir: &Path) -> bool {
    CHECKPOINT_FILES
        .iter()
        .all(|(name, bytes)| std::fs::read(dir.join(name)).is_ok_and(|b| b == *bytes))
}

/// Hidden folders the installer may leave in `models/` (none, when it is done).
fn install_leftovers(models: &Path) -> Vec<String> {
    std::fs::read_dir(models)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n.contains(MODEL_ID))
        .collect()
}

/// A folder's files and their bytes, sorted by name.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_fresh_data_folder_gets_the_demo_model_runnable_and_undeletable() {
    let dir = Scratch::new("demo-fresh");
    let app = TestApp::open(&dir.0);
    let entry = demo_entry(&app);
    assert_eq!(entry["id"], MODEL_ID);
    assert_eq!(entry["name"], MODEL_NAME);
    assert_eq!(entry["family"], "BLIP-2");
    assert_eq!(entry["runnable"], true, "{entry}");
    let models = dir.0.join("models");
    let folder = models.join(MODEL_ID);
    assert!(holds_the_checkpoint(&folder));
    assert_eq!(install_leftovers(&models), Vec::<String>::new());

    // It cannot be deleted; a chat created with no model uses it.
    let error = app.err("delete_model", json!({"id": MODEL_ID}));
    assert_eq!(error["code"], "INVALID_INPUT");
    assert!(holds_the_checkpoint(&folder));
    let chat = app.ok("create_chat", json!({"modelId": null}));
    assert_eq!(chat["modelId"], MODEL_ID);
    drop(app);

    // Removed by hand, it is back at the next start.
    std::fs::remove_dir_all(&folder).unwrap();
    let app = TestApp::open(&dir.0);
    assert_eq!(demo_entry(&app)["id"], MODEL_ID);
    assert!(holds_the_checkpoint(&folder));
}

#[test]
fn a_copy_that_differs_is_reinstalled_and_a_cut_install_leaves_nothing() {
    let dir = Scratch::new("demo-reinstall");
    let models = dir.0.join("models");
    let folder = models.join(MODEL_ID);
    drop(TestApp::open(&dir.0));

    // A copy from another version of Iris: other weights, another hash in its marker.
    let marker = folder.join("iris-source.json");
    let mut note: Value = serde_json::from_slice(&std::fs::read(&marker).unwrap()).unwrap();
    assert_eq!(note["source"], "builtin");
    assert_eq!(note["contentHash"], content_hash());
    note["contentHash"] = json!("sha256:from-an-older-iris");
    std::fs::write(&marker, note.to_string()).unwrap();
    std::fs::write(folder.join("model.safetensors"), b"older weights").unwrap();
    // And an install that was cut short: a hidden, half-written staging folder.
    let half = models.join(format!(".{MODEL_ID}.install-99999"));
    std::fs::create_dir_all(&half).unwrap();
    std::fs::write(half.join("config.json"), "{").unwrap();

    let app = TestApp::open(&dir.0);
    assert!(holds_the_checkpoint(&folder));
    let note: Value = serde_json::from_slice(&std::fs::read(&marker).unwrap()).unwrap();
    assert_eq!(note["contentHash"], content_hash());
    assert_eq!(install_leftovers(&models), Vec::<String>::new());
    assert_eq!(demo_entry(&app)["runnable"], true);
    drop(app);

    // Damaged under an intact marker (a file cut short): reinstalled too.
    let weights = folder.join("model.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    drop(TestApp::open(&dir.0));
    assert!(holds_the_checkpoint(&folder));
    assert_eq!(install_leftovers(&models), Vec::<String>::new());
}

#[test]
fn a_users_own_folder_of_that_name_is_left_alone() {
    let dir = Scratch::new("demo-user-folder");
    let models = dir.0.join("models");
    let theirs = models.join(MODEL_ID);
    std::fs::create_dir_all(&theirs).unwrap();
    std::fs::write(theirs.join("config.json"), r#"{"model_type": "blip-2"}"#).unwrap();
    std::fs::write(theirs.join("notes.txt"), "my own experiments").unwrap();
    let before = snapshot(&theirs);

    let app = TestApp::open(&dir.0);
    assert_eq!(snapshot(&theirs), before, "the user's folder is untouched");
    let entry = demo_entry(&app);
    assert_eq!(entry["id"], FALLBACK_ID);
    assert_eq!(entry["runnable"], true, "{entry}");
    assert!(holds_the_checkpoint(&models.join(FALLBACK_ID)));
    drop(app);

    // The next start keeps the one copy it made, and still leaves the user's folder alone.
    let app = TestApp::open(&dir.0);
    assert_eq!(demo_entry(&app)["id"], FALLBACK_ID);
    assert_eq!(snapshot(&theirs), before);
}

#[test]
fn an_install_that_fails_leaves_the_app_working_without_the_demo_model() {
    let dir = Scratch::new("demo-install-fails");
    let models = dir.0.join("models");
    std::fs::create_dir_all(&models).unwrap();
    // A file where this process's staging folder goes: the install cannot be written.
    let blocker = models.join(format!(".{MODEL_ID}.install-{}", std::process::id()));
    std::fs::write(&blocker, "in the way").unwrap();

    let app = TestApp::open(&dir.0);
    assert_eq!(app.ok("list_models", json!({})), json!([]));
    assert!(!models.join(MODEL_ID).exists());
    let chat = app.ok("create_chat", json!({"modelId": null}));
    assert_eq!(chat["modelId"], json!(null));
    assert_eq!(
        app.ok("demo_samples", json!({})).as_array().unwrap().len(),
        6
    );
}

#[test]
fn demo_samples_gives_the_six_scenes_staged_with_their_questions() {
    let dir = Scratch::new("demo-samples");
    let app = TestApp::open(&dir.0);
    let samples = app.ok("demo_samples", json!({}));
    let samples = samples.as_array().unwrap();
    let index: Value = serde_json::from_str(SAMPLES_JSON).unwrap();
    assert_eq!(samples.len(), 6);
    for (i, (sample, expected)) in samples.iter().zip(index.as_array().unwrap()).enumerate() {
        assert_eq!(sample["name"], format!("Scene {}", i + 1));
        let image = &sample["image"];
        assert_eq!(image["name"], expected["file"]);
        assert_eq!(
            (image["width"].as_u64(), image["height"].as_u64()),
            (Some(256), Some(256))
        );
        assert!(image["thumb"].as_str().unwrap().starts_with("data:image/"));
        assert_eq!(sample["questions"], expected["questions"]);
        assert!(!sample["questions"].as_array().unwrap().is_empty());
    }
    // Staged as a dropped image is: the full image is stored; asked again, the same images.
    let first = &samples[0]["image"]["id"];
    let full = app.ok("get_image", json!({"id": first}));
    assert!(full.as_str().unwrap().starts_with("data:image/png;base64,"));
    assert_eq!(
        app.ok("demo_samples", json!({})),
        Value::Array(samples.clone())
    );
}

/// With the untrained placeholder weights only the last assertion fails (the answer).
#[test]
fn the_demo_model_answers_sample_one_as_hf_transformers_does() {
    let dir = Scratch::new("demo-chat");
    let app = TestApp::open(&dir.0);
    app.use_cpu(32);
    let samples = app.ok("demo_samples", json!({}));
    let scene = &samples[0];
    let question = scene["questions"][0]["question"].as_str().unwrap();
    assert_eq!(question, "What colour is the circle?");
    // What HF transformers answers with the same checkpoint (tests/fixtures/demo_reference.py).
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/demo/reference.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let case = &reference["samples"][0]["cases"][0];
    assert_eq!(case["question"], question);
    let expected = case["answer"].as_str().unwrap();
    // A chat from before there was a default model (none chosen): the demo model answers it.
    let chat = app
        .app
        .state::<ChatStore>()
        .lock()
        .create_chat(None)
        .unwrap();
    let image_id = scene["image"]["id"].as_str().unwrap().to_owned();
    let answer = tauri::async_runtime::block_on(send_message(
        app.handle(),
        chat.summary.id.clone(),
        question.into(),
        vec![image_id],
        Channel::new(|_| Ok(())),
    ))
    .map(|m| serde_json::to_value(m).unwrap())
    .unwrap_or_else(|e| panic!("the turn failed: {e}"));
    assert_eq!(answer["status"], "done");
    let stored = app.ok("get_chat", json!({"id": chat.summary.id}));
    assert_eq!(stored["modelId"], MODEL_ID);
    assert_eq!(stored["messages"][0]["images"][0]["name"], "scene-1.png");
    assert_eq!(
        answer["text"].as_str().unwrap().trim(),
        expected.trim(),
        "the demo model's answer to {question:?} about scene 1"
    );
}

/// The demo model reads 128 positions: a long chat outgrows them. Each answer still comes, the
/// oldest exchanges' words are left out of its prompt (their images kept), the answer's stats
/// say how many, and every message stays in the chat.
#[test]
fn a_chat_longer_than_the_context_goes_on_and_says_what_it_left_out() {
    let dir = Scratch::new("demo-long-chat");
    let app = TestApp::open(&dir.0);
    app.use_cpu(8);
    let samples = app.ok("demo_samples", json!({}));
    let image_id = samples[0]["image"]["id"].as_str().unwrap().to_owned();
    let chat = app
        .app
        .state::<ChatStore>()
        .lock()
        .create_chat(Some(MODEL_ID))
        .unwrap();
    let question = "how many shapes are there in the picture ".repeat(4);
    let mut forgotten = Vec::new();
    for turn in 0..4 {
        let images = if turn == 0 {
            vec![image_id.clone()]
        } else {
            Vec::new()
        };
        let answer = tauri::async_runtime::block_on(send_message(
            app.handle(),
            chat.summary.id.clone(),
            question.clone(),
            images,
            Channel::new(|_| Ok(())),
        ))
        .map(|m| serde_json::to_value(m).unwrap())
        .unwrap_or_else(|e| panic!("turn {turn} failed: {e}"));
        assert_eq!(answer["status"], "done", "turn {turn}: {answer}");
        forgotten.push(answer["stats"]["forgottenExchanges"].as_u64().unwrap());
    }
    assert_eq!(forgotten[0], 0, "{forgotten:?}");
    assert!(forgotten[3] >= 1, "{forgotten:?}");
    let stored = app.ok("get_chat", json!({"id": chat.summary.id}));
    let messages = stored["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 8);
    assert_eq!(messages[0]["images"][0]["name"], "scene-1.png");
    assert_eq!(messages[0]["text"], question.as_str());
}

use std::sync::{Arc, Mutex};

use iris_app::commands::chat::{GenEvent, edit_message, regenerate, send_message};
use serde_json::{Value, json};
use tauri::Manager;
use tauri::ipc::{Channel, InvokeResponseBody};

use crate::harness::{Scratch, TestApp, fixture_image, fixture_model};

/// A channel that records every event as JSON (what the page would receive).
fn recorder() -> (Channel<GenEvent>, Arc<Mutex<Vec<Value>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let channel = Channel::new(move |body: InvokeResponseBody| {
        sink.lock()
            .unwrap()
            .push(body.deserialize::<Value>().unwrap());
        Ok(())
    });
    (channel, events)
}

fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// HF's greedy answer for the fixture case `name` of `model`.
fn hf_case(model: &str, name: &str) -> Value {
    let path = fixture_model(model).join("reference/cases.json");
    let cases: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
        .clone()
}

fn send(
    app: &TestApp,
    chat: &str,
    text: &str,
    images: Vec<String>,
) -> (Result<Value, Value>, Vec<Value>) {
    let (channel, events) = recorder();
    let result = tauri::async_runtime::block_on(send_message(
        app.handle(),
        chat.into(),
        text.into(),
        images,
        channel,
    ));
    let events = events.lock().unwrap().clone();
    (
        result
            .map(|m| serde_json::to_value(m).unwrap())
            .map_err(|e| serde_json::to_value(e).unwrap()),
        events,
    )
}

#[test]
fn a_turn_streams_hfs_greedy_answer_and_the_chat_keeps_it() {
    let dir = Scratch::new("chat");
    let app = TestApp::open(&dir.0);
    let case = hf_case("llava-tiny", "tiny");
    let model = app.import_fixture("llava-tiny");
    app.use_cpu(case["max_new_tokens"].as_u64().unwrap() as usize);
    let chat = app.ok("create_chat", json!({"modelId": model}));
    let chat_id = chat["id"].as_str().unwrap().to_owned();
    let image = app.ok(
        "add_image_files",
        json!({"paths": [fixture_image("tiny_5x7.png")]}),
    );
    assert_eq!(
        (image[0]["width"].as_u64(), image[0]["height"].as_u64()),
        (Some(5), Some(7))
    );
    assert!(
        image[0]["thumb"]
            .as_str()
            .unwrap()
            .starts_with("data:image/")
    );
    let image_id = image[0]["id"].as_str().unwrap().to_owned();

    let (answer, events) = send(
        &app,
        &chat_id,
        case["prompt"].as_str().unwrap(),
        vec![image_id.clone()],
    );
    let answer = answer.unwrap();
    assert_eq!(
        answer["text"], case["greedy_text"],
        "the app's answer is HF's greedy answer"
    );
    assert_eq!(answer["status"], "done");
    assert_eq!(answer["stats"]["tokens"], 8);
    let kinds = kinds(&events);
    assert_eq!(kinds.first().map(String::as_str), Some("started"));
    assert!(kinds.contains(&"loading".to_owned()), "{kinds:?}");
    assert_eq!(kinds.last().map(String::as_str), Some("finished"));
    let streamed: String = events
        .iter()
        .filter(|e| e["kind"] == "token")
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(streamed, case["greedy_text"].as_str().unwrap());
    assert_eq!(
        events[0]["userMessage"]["images"][0]["id"],
        image_id.as_str()
    );

    // Stored, titled from the question, and the image kept with the message.
    let stored = app.ok("get_chat", json!({"id": chat_id}));
    assert_eq!(stored["messages"].as_array().unwrap().len(), 2);
    assert_eq!(stored["messages"][1]["text"], case["greedy_text"]);
    assert_eq!(stored["title"], "What is shown in this image?");
    assert!(
        app.ok("get_image", json!({"id": image_id}))
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );

    // A second turn, with no new image, still sees the first one (no error, one more exchange).
    let (second, _) = send(&app, &chat_id, "And the colours?", vec![]);
    assert_eq!(second.unwrap()["status"], "done");
    assert_eq!(
        app.ok("get_chat", json!({"id": chat_id}))["messages"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // Regenerate replaces the last answer; greedy gives the same text again.
    let (channel, _) = recorder();
    let again =
        tauri::async_runtime::block_on(regenerate(app.handle(), chat_id.clone(), channel)).unwrap();
    let messages = app.ok("get_chat", json!({"id": chat_id}))["messages"].clone();
    assert_eq!(messages.as_array().unwrap().len(), 4);
    assert_eq!(messages[3]["id"], again.id.as_str());

    // Editing the first question drops everything after it and answers anew.
    let first_user = messages[0]["id"].as_str().unwrap().to_owned();
    let (channel, _) = recorder();
    let edited = tauri::async_runtime::block_on(edit_message(
        app.handle(),
        chat_id.clone(),
        first_user,
        case["prompt"].as_str().unwrap().into(),
        vec![image_id],
        channel,
    ))
    .unwrap();
    assert_eq!(edited.text, case["greedy_text"].as_str().unwrap());
    assert_eq!(
        app.ok("get_chat", json!({"id": chat_id}))["messages"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn stop_ends_the_answer_within_one_token_and_keeps_what_was_shown() {
    let dir = Scratch::new("stop");
    let app = TestApp::open(&dir.0);
    let model = app.import_fixture("llava-tiny");
    app.use_cpu(4096);
    let chat = app.ok("create_chat", json!({"modelId": model}));
    let chat_id = chat["id"].as_str().unwrap().to_owned();

    let events = Arc::new(Mutex::new(Vec::<Value>::new()));
    let sink = events.clone();
    let handle = app.handle();
    let stop_chat = chat_id.clone();
    let channel = Channel::new(move |body: InvokeResponseBody| {
        let event: Value = body.deserialize().unwrap();
        let mut events = sink.lock().unwrap();
        let first_token = event["kind"] == "token" && !events.iter().any(|e| e["kind"] == "token");
        events.push(event);
        if first_token {
            // What Esc does: the page calls stop_generation.
            iris_app::commands::chat::stop_generation(handle.clone(), stop_chat.clone());
        }
        Ok(())
    });
    let answer = tauri::async_runtime::block_on(send_message(
        app.handle(),
        chat_id.clone(),
        "Tell me a long story.".into(),
        vec![],
        channel,
    ))
    .unwrap();
    let events = events.lock().unwrap().clone();
    let tokens = events.iter().filter(|e| e["kind"] == "token").count();
    assert!(
        tokens <= 2,
        "{tokens} pieces arrived; stop must act within one token"
    );
    assert_eq!(serde_json::to_value(answer.status).unwrap(), "stopped");
    let shown: String = events
        .iter()
        .filter(|e| e["kind"] == "token")
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    let stored = app.ok("get_chat", json!({"id": chat_id}));
    assert_eq!(stored["messages"][1]["status"], "stopped");
    assert_eq!(stored["messages"][1]["text"], shown.as_str());
    // Stopping an idle chat is harmless.
    app.ok("stop_generation", json!({"chatId": chat_id}));
}

#[test]
fn failures_are_reported_in_words_and_the_app_keeps_working() {
    let dir = Scratch::new("errors");
    let app = TestApp::open(&dir.0);
    app.use_cpu(4);

    // No model at all (the built-in one removed by hand; it comes back at the next start):
    // refused before anything is stored.
    std::fs::remove_dir_all(dir.0.join("models").join(iris_app::demo::MODEL_ID)).unwrap();
    let chat = app.ok("create_chat", json!({"modelId": null}));
    assert_eq!(chat["modelId"], json!(null));
    let chat_id = chat["id"].as_str().unwrap().to_owned();
    let (result, events) = send(&app, &chat_id, "hello", vec![]);
    assert_eq!(result.unwrap_err()["code"], "NO_MODEL");
    assert_eq!(events.last().unwrap()["kind"], "error");
    assert_eq!(
        app.ok("get_chat", json!({"id": chat_id}))["messages"],
        json!([])
    );

    // A file that is not an image.
    let text_file = dir.0.join("notes.txt");
    std::fs::write(&text_file, "not an image").unwrap();
    let error = app.err("add_image_files", json!({"paths": [text_file]}));
    assert_eq!(error["code"], "BAD_IMAGE");
    assert!(error["message"].as_str().unwrap().contains("notes.txt"));
    let error = app.err(
        "add_image_bytes",
        json!({"name": "pasted.png", "dataBase64": "aGVsbG8="}),
    );
    assert_eq!(error["code"], "BAD_IMAGE");

    // Weights damaged after import: the answer fails with a load error, kept on the message.
    let broken = app.import_fixture("llava-tiny");
    let weights = dir.0.join("models").join(&broken).join("model.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::remove_file(&weights).unwrap(); // the import may have hard-linked the fixture
    std::fs::write(&weights, &bytes[..bytes.len() / 3]).unwrap();
    app.ok("set_chat_model", json!({"id": chat_id, "modelId": broken}));
    let (result, events) = send(&app, &chat_id, "hello", vec![]);
    let error = result.unwrap_err();
    assert_eq!(error["code"], "MODEL_LOAD_FAILED", "{error}");
    let last = events.last().unwrap();
    assert_eq!(last["kind"], "error");
    assert!(last["messageId"].is_string());
    let stored = app.ok("get_chat", json!({"id": chat_id}));
    assert_eq!(stored["messages"][1]["status"], "error");
    assert_eq!(stored["messages"][1]["error"]["code"], "MODEL_LOAD_FAILED");

    // A model that was deleted.
    app.ok("delete_model", json!({"id": broken}));
    assert_eq!(
        send(&app, &chat_id, "hello", vec![]).0.unwrap_err()["code"],
        "MODEL_NOT_FOUND"
    );

    // And the app still answers with a good model.
    let good = app.import_fixture("llava-tiny");
    app.ok("set_chat_model", json!({"id": chat_id, "modelId": good}));
    assert_eq!(
        send(&app, &chat_id, "hello", vec![]).0.unwrap()["status"],
        "done"
    );
    assert!(
        app.handle()
            .try_state::<iris_app::engine::Engine>()
            .is_some()
    );
}

#[test]
fn an_unreadable_database_is_moved_aside_not_overwritten() {
    let dir = Scratch::new("corrupt-db");
    let garbage = b"this is not a database, but it is the user's file".repeat(100);
    std::fs::write(dir.0.join("iris.sqlite3"), &garbage).unwrap();
    let app = TestApp::open(&dir.0);
    assert_eq!(app.ok("list_chats", json!({})), json!([]));
    let kept: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("iris.sqlite3.unreadable-"))
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(std::fs::read(&kept[0]).unwrap(), garbage);
}

#[test]
fn chats_are_listed_newest_first_renamed_and_deleted() {
    let dir = Scratch::new("chats");
    let app = TestApp::open(&dir.0);
    let model = app.import_fixture("blip2-opt-tiny");
    let a = app.ok("create_chat", json!({"modelId": model}));
    std::thread::sleep(std::time::Duration::from_millis(5));
    let b = app.ok("create_chat", json!({"modelId": null}));
    let list = app.ok("list_chats", json!({}));
    assert_eq!(list[0]["id"], b["id"]);
    assert_eq!(list[1]["modelId"], model.as_str());
    let renamed = app.ok("rename_chat", json!({"id": a["id"], "title": "Shapes"}));
    assert_eq!(renamed["title"], "Shapes");
    app.ok("delete_chat", json!({"id": a["id"]}));
    assert_eq!(app.ok("list_chats", json!({})).as_array().unwrap().len(), 1);
    assert_eq!(
        app.err("get_chat", json!({"id": a["id"]}))["code"],
        "NOT_FOUND"
    );
}

use std::sync::{Arc, Mutex};

use iris_app::commands::documents::read_document;
use serde_json::{Value, json};
use tauri::ipc::{Channel, InvokeResponseBody};

use crate::harness::{Scratch, TestApp, fixtures};

fn pdf(name: &str) -> std::path::PathBuf {
    fixtures().join("pdf").join(name)
}

fn read(
    app: &TestApp,
    document: &str,
    model: &str,
    pages: Option<&str>,
    stop_after_first_token: bool,
) -> (Result<Value, Value>, Vec<Value>) {
    let events = Arc::new(Mutex::new(Vec::<Value>::new()));
    let sink = events.clone();
    let handle = app.handle();
    let doc = document.to_owned();
    let channel = Channel::new(move |body: InvokeResponseBody| {
        let event: Value = body.deserialize().unwrap();
        let first_token =
            event["kind"] == "token" && !sink.lock().unwrap().iter().any(|e| e["kind"] == "token");
        sink.lock().unwrap().push(event);
        if stop_after_first_token && first_token {
            iris_app::commands::documents::cancel_reading(handle.clone(), doc.clone());
        }
        Ok(())
    });
    let result = tauri::async_runtime::block_on(read_document(
        app.handle(),
        document.into(),
        model.into(),
        pages.map(str::to_owned),
        channel,
    ));
    let events = events.lock().unwrap().clone();
    (
        result
            .map(|r| serde_json::to_value(r).unwrap())
            .map_err(|e| serde_json::to_value(e).unwrap()),
        events,
    )
}

#[test]
fn a_pdf_is_read_page_by_page_with_events_and_exports() {
    let dir = Scratch::new("documents");
    let app = TestApp::open(&dir.0);
    let model = app.import_fixture("idefics3-tiny");
    app.use_cpu(4);
    let doc = app.ok("open_document", json!({"path": pdf("multipage.pdf")}));
    assert_eq!(doc["kind"], "pdf");
    assert_eq!(doc["pages"].as_array().unwrap().len(), 12);
    let id = doc["id"].as_str().unwrap().to_owned();

    let thumb = app.ok(
        "document_page",
        json!({"documentId": id, "page": 0, "maxSide": 64}),
    );
    assert!(
        thumb
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );

    let (result, events) = read(&app, &id, &model, Some("2,4"), false);
    let result = result.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    let started: Vec<u64> = events
        .iter()
        .filter(|e| e["kind"] == "pageStarted")
        .map(|e| e["page"].as_u64().unwrap())
        .collect();
    assert_eq!(started, [1, 3]);
    assert_eq!(kinds.iter().filter(|k| **k == "pageDone").count(), 2);
    assert!(kinds.contains(&"token"));
    assert_eq!(result["cancelled"], false);
    let markdown = result["markdown"].as_str().unwrap();
    assert!(
        markdown.starts_with("<!-- page 2 -->") && markdown.contains("<!-- page 4 -->"),
        "{markdown}"
    );
    assert!(!result["text"].as_str().unwrap().contains("<!--"));

    // An image of a page is a one-page document.
    let image = app.ok(
        "open_document",
        json!({"path": fixtures().join("images/large_1024x768.png")}),
    );
    assert_eq!(
        (
            image["kind"].as_str(),
            image["pages"].as_array().unwrap().len()
        ),
        (Some("image"), 1)
    );
}

#[test]
fn reading_stops_within_a_token_and_keeps_finished_pages() {
    let dir = Scratch::new("documents-stop");
    let app = TestApp::open(&dir.0);
    let model = app.import_fixture("idefics3-tiny");
    app.use_cpu(4096);
    let doc = app.ok("open_document", json!({"path": pdf("multipage.pdf")}));
    let (result, events) = read(&app, doc["id"].as_str().unwrap(), &model, Some("1-3"), true);
    let result = result.unwrap();
    assert_eq!(result["cancelled"], true);
    // The first page stopped at its first tokens; no later page started.
    assert_eq!(
        events.iter().filter(|e| e["kind"] == "pageStarted").count(),
        1
    );
    assert!(events.iter().filter(|e| e["kind"] == "token").count() <= 2);
    assert_eq!(result["pages"].as_array().unwrap().len(), 1);
}

#[test]
fn bad_documents_and_ranges_are_clear_errors() {
    let dir = Scratch::new("documents-bad");
    let app = TestApp::open(&dir.0);
    for (file, needle) in [
        ("password.pdf", "password"),
        ("truncated.pdf", "truncated"),
        ("not_a_pdf.pdf", "not_a_pdf.pdf"),
    ] {
        let error = app.err("open_document", json!({"path": pdf(file)}));
        assert_eq!(error["code"], "BAD_DOCUMENT", "{file}: {error}");
        let text = format!("{} {}", error["message"], error["details"]).to_lowercase();
        assert!(text.contains(needle), "{file}: {error}");
    }
    let model = app.import_fixture("idefics3-tiny");
    let doc = app.ok("open_document", json!({"path": pdf("multipage.pdf")}));
    let (result, _) = read(&app, doc["id"].as_str().unwrap(), &model, Some("13"), false);
    assert_eq!(result.unwrap_err()["code"], "INVALID_INPUT");
    assert_eq!(
        app.err(
            "document_page",
            json!({"documentId": "nope", "page": 0, "maxSide": 64})
        )["code"],
        "NOT_FOUND"
    );
}

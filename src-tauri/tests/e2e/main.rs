//! End to end: the real app (this package's `iris-app` binary, with the real page embedded) in
//! a real window under Xvfb, driven through tauri-driver + WebKitWebDriver. A real file is
//! dragged onto the window from a GTK drag source with xdotool; a question is typed and sent
//! with Enter; the answer must stream in and equal HF's greedy answer for the fixture.
//!
//! Needs Xvfb, xdotool, python3-gi, webkit2gtk-driver and tauri-driver (scripts/test.sh
//! installs them and sets `IRIS_E2E=1`, which makes missing tools a failure). Without
//! `IRIS_E2E`, a plain `cargo test` skips it. `IRIS_SCREENSHOTS=DIR` saves screenshots there.

mod display;
mod driver;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use display::{Background, Xvfb};
use driver::Session;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// A data folder with the tiny LLaVA checkpoint installed and CPU, 8-token settings.
fn prepare_data_dir(dir: &Path) {
    let model = dir.join("models/llava-tiny");
    std::fs::create_dir_all(&model).unwrap();
    for f in std::fs::read_dir(fixtures().join("models/llava-tiny")).unwrap() {
        let f = f.unwrap();
        if f.file_type().unwrap().is_file() {
            std::fs::copy(f.path(), model.join(f.file_name())).unwrap();
        }
    }
    let settings = json!({"device": "cpu", "maxNewTokens": 8, "theme": "light"});
    std::fs::write(dir.join("settings.json"), settings.to_string()).unwrap();
}

fn hf_greedy_text() -> String {
    let path = fixtures().join("models/llava-tiny/reference/cases.json");
    let cases: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let case = cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "tiny")
        .unwrap();
    assert_eq!(case["prompt"], "What is shown in this image?");
    case["greedy_text"].as_str().unwrap().to_owned()
}

fn screenshot(display: &Xvfb, name: &str) {
    if let Some(dir) = std::env::var_os("IRIS_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        display.screenshot(&Path::new(&dir).join(format!("{name}.png")), "1200x800+0+0");
    }
}

#[test]
fn drop_an_image_ask_and_see_the_streamed_answer_in_the_real_window() {
    if std::env::var_os("IRIS_E2E").is_none() {
        eprintln!("skipped: set IRIS_E2E=1 (scripts/test.sh does) to run the real-window test");
        return;
    }
    let data = std::env::temp_dir().join(format!("iris-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    prepare_data_dir(&data);
    let display = Xvfb::start();
    let driver_bin = std::env::var("IRIS_TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
    let _driver = Background::spawn(
        std::process::Command::new(&driver_bin)
            .args(["--port", "4444", "--native-port", "4445"])
            .env("DISPLAY", display.name())
            .env("IRIS_DATA_DIR", &data)
            .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1"),
        "tauri-driver",
    );
    driver::wait_for_port(4444);
    driver::wait_for_port(4445);
    let app = PathBuf::from(env!("CARGO_BIN_EXE_iris-app"));
    let session = Session::start("http://127.0.0.1:4444", &app);

    // The model from the data folder is offered; a new chat uses it.
    session.wait_for("textarea[aria-label='Message']", Duration::from_secs(60));
    session.click_text("button", "New chat");
    session.wait_for(
        "#chat-model option[value='llava-tiny']",
        Duration::from_secs(20),
    );
    session.select("#chat-model", "llava-tiny");
    screenshot(&display, "chat-empty");

    // A real drag from a GTK window onto Iris's window.
    let image = fixtures().join("images/tiny_5x7.png");
    display.drag_file(&image, (1300, 100), (600, 420));
    session.wait_for("[data-testid='staged-image']", Duration::from_secs(20));

    let question = "What is shown in this image?";
    session.type_into(
        "textarea[aria-label='Message']",
        &format!("{question}\u{E007}"),
    );
    let expected = hf_greedy_text();
    let answer = session.wait_until(Duration::from_secs(300), |s| {
        let stats = s.find_all("article[data-role='assistant'] [data-testid='message-stats']");
        (!stats.is_empty())
            .then(|| s.text_of("article[data-role='assistant'] [data-testid='message-text']"))
    });
    assert_eq!(
        answer.trim(),
        expected.trim(),
        "the window shows HF's greedy answer"
    );
    let user_text = session.text_of("article[data-role='user'] [data-testid='message-text']");
    assert_eq!(user_text.trim(), question);
    assert_eq!(
        session.find_all("article[data-role='user'] img").len(),
        1,
        "the thumbnail"
    );
    screenshot(&display, "chat-answer");

    // The chat is in the database: the sidebar lists it by its question.
    let chats = session.find_all("[data-testid='chat-item']");
    assert_eq!(chats.len(), 1);

    // The model manager lists the installed checkpoint as runnable.
    session.click_text("nav button", "Models");
    session.wait_for(
        "table[aria-label='Installed models'] tbody tr",
        Duration::from_secs(20),
    );
    let table = session.text_of("table[aria-label='Installed models']");
    assert!(
        table.contains("llava-tiny") && table.contains("LLaVA-1.5"),
        "{table}"
    );
    screenshot(&display, "models");
    session.click_text("nav button", "Settings");
    session.wait_for("select", Duration::from_secs(10));
    screenshot(&display, "settings");
    session.close();
    let _ = std::fs::remove_dir_all(&data);
}

//! A mock-runtime Iris app over a scratch data folder, and IPC helpers.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tauri::test::{
    INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets,
};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

/// The repository's tests/fixtures folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

pub fn fixture_model(name: &str) -> PathBuf {
    fixtures().join("models").join(name)
}

pub fn fixture_image(name: &str) -> PathBuf {
    fixtures().join("images").join(name)
}

/// A scratch folder, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "iris-app-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The app with its main window, over a data folder.
pub struct TestApp {
    pub app: App<MockRuntime>,
    pub window: WebviewWindow<MockRuntime>,
}

impl TestApp {
    pub fn open(data_dir: &Path) -> Self {
        let app = iris_app::builder(mock_builder(), Some(data_dir.to_owned()))
            .build(mock_context(noop_assets()))
            .expect("the app builds");
        iris_app::manage_state(app.handle(), data_dir).expect("the data folder opens");
        let window = WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        Self { app, window }
    }

    /// Calls a command through IPC, as the page does.
    pub fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: tauri::ipc::InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(&self.window, request).map(|b| b.deserialize::<Value>().unwrap())
    }

    pub fn ok(&self, cmd: &str, args: Value) -> Value {
        self.invoke(cmd, args)
            .unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    /// The error of a command that must fail, checked to be the `{code, message, details}` shape.
    pub fn err(&self, cmd: &str, args: Value) -> Value {
        let error = match self.invoke(cmd, args) {
            Ok(v) => panic!("{cmd} should fail, returned {v}"),
            Err(e) => e,
        };
        assert!(
            error["code"].is_string() && error["message"].is_string(),
            "{error}"
        );
        assert!(error.get("details").is_some(), "{error}");
        error
    }

    pub fn handle(&self) -> tauri::AppHandle<MockRuntime> {
        self.app.handle().clone()
    }

    /// Imports a fixture checkpoint, returning its model id.
    pub fn import_fixture(&self, name: &str) -> String {
        let entry = self.ok("import_model", json!({"path": fixture_model(name)}));
        entry["id"].as_str().unwrap().to_owned()
    }

    /// Runs on the CPU with greedy decoding and `max_new_tokens`.
    pub fn use_cpu(&self, max_new_tokens: usize) {
        let mut settings = self.ok("get_settings", json!({}));
        settings["device"] = json!("cpu");
        settings["maxNewTokens"] = json!(max_new_tokens);
        self.ok("set_settings", json!({"settings": settings}));
    }
}

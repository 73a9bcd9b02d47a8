//! A small W3C WebDriver client (tauri-driver speaks it) over ureq.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub struct Session {
    agent: ureq::Agent,
    base: String,
}

impl Session {
    /// Starts the app through the driver.
    pub fn start(driver: &str, app: &Path) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": app}
        }}});
        let mut last = Value::Null;
        // The driver sometimes refuses the very first session while it starts up.
        for _ in 0..5 {
            last = request(&agent, "POST", &format!("{driver}/session"), Some(&caps));
            if let Some(id) = last["value"]["sessionId"].as_str() {
                return Self {
                    agent,
                    base: format!("{driver}/session/{id}"),
                };
            }
            std::thread::sleep(Duration::from_secs(2));
        }
        panic!("no WebDriver session: {last}");
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let reply = request(
            &self.agent,
            method,
            &format!("{}{path}", self.base),
            body.as_ref(),
        );
        if reply["value"]["error"].is_string() {
            panic!("WebDriver {method} {path}: {}", reply["value"]);
        }
        reply["value"].clone()
    }

    pub fn find_all(&self, css: &str) -> Vec<String> {
        let found = self.call(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        );
        found
            .as_array()
            .unwrap_or_else(|| panic!("find {css}: {found}"))
            .iter()
            .map(|e| {
                e[ELEMENT]
                    .as_str()
                    .unwrap_or_else(|| panic!("element {e}"))
                    .to_owned()
            })
            .collect()
    }

    pub fn find(&self, css: &str) -> String {
        self.find_all(css)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no element matches {css}"))
    }

    pub fn wait_for(&self, css: &str, timeout: Duration) {
        self.wait_until(timeout, |s| (!s.find_all(css).is_empty()).then_some(()));
    }

    pub fn wait_until<T>(&self, timeout: Duration, mut check: impl FnMut(&Self) -> Option<T>) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(found) = check(self) {
                return found;
            }
            assert!(Instant::now() < deadline, "timed out after {timeout:?}");
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Scrolls the first match to the top of the page (for screenshots).
    pub fn scroll_to(&self, css: &str) {
        let script = "document.querySelector(arguments[0]).scrollIntoView({block: 'start'});";
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": [css]})),
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    pub fn click(&self, css: &str) {
        let id = self.find(css);
        self.call("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    pub fn text_of(&self, css: &str) -> String {
        let id = self.find(css);
        self.call("GET", &format!("/element/{id}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The `textContent` of every match, in document order. (WebDriver's visible text is
    /// empty for one-line labels that clip with `overflow: hidden`.)
    pub fn texts_of(&self, css: &str) -> Vec<String> {
        let script =
            "return Array.from(document.querySelectorAll(arguments[0]), (e) => e.textContent);";
        let found = self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": [css]})),
        );
        found
            .as_array()
            .unwrap_or_else(|| panic!("texts of {css}: {found}"))
            .iter()
            .map(|t| t.as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The `textContent` of the first match.
    pub fn text_content(&self, css: &str) -> String {
        self.texts_of(css)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no element matches {css}"))
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.call("POST", &format!("/element/{id}/click"), Some(json!({})));
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        );
    }

    /// Clicks the first `tag` whose text is `text`.
    pub fn click_text(&self, tag: &str, text: &str) {
        let ids = self.find_all(tag);
        let id = ids
            .iter()
            .find(|id| {
                let t = self.call("GET", &format!("/element/{id}/text"), None);
                t.as_str().is_some_and(|t| t.trim() == text)
            })
            .unwrap_or_else(|| panic!("no {tag} reads {text:?}"));
        self.call("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    /// Chooses `value` in a `<select>`, as a user's pick does (a change event).
    pub fn select(&self, css: &str, value: &str) {
        let script = "const s = document.querySelector(arguments[0]); s.value = arguments[1]; \
                      s.dispatchEvent(new Event('change', {bubbles: true}));";
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": [css, value]})),
        );
    }

    pub fn close(&self) {
        let _ = request(&self.agent, "DELETE", &self.base, None);
    }
}

fn request(agent: &ureq::Agent, method: &str, url: &str, body: Option<&Value>) -> Value {
    let response = match (method, body) {
        ("POST", body) => agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(body.unwrap_or(&json!({})).to_string()),
        ("DELETE", _) => agent.delete(url).call(),
        _ => agent.get(url).call(),
    };
    let mut response = response.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let text = response.body_mut().read_to_string().unwrap_or_default();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("{method} {url}: not JSON: {text}"))
}

use serde_json::json;

use crate::harness::{Scratch, TestApp};

#[test]
fn settings_are_validated_saved_and_read_back_after_a_restart() {
    let dir = Scratch::new("settings");
    let app = TestApp::open(&dir.0);
    let defaults = app.ok("get_settings", json!({}));
    assert_eq!(defaults["device"], "auto");
    assert_eq!(defaults["theme"], "system");
    assert_eq!(defaults["temperature"], 0.0);

    let mut bad = defaults.clone();
    bad["topP"] = json!(0.0);
    let error = app.err("set_settings", json!({"settings": bad}));
    assert_eq!(error["code"], "INVALID_INPUT");
    assert!(error["message"].as_str().unwrap().contains("Top-p"));

    let mut good = defaults.clone();
    good["theme"] = json!("dark");
    good["device"] = json!("cpu");
    good["maxNewTokens"] = json!(64);
    assert_eq!(app.ok("set_settings", json!({"settings": good})), good);
    drop(app);

    let reopened = TestApp::open(&dir.0);
    assert_eq!(reopened.ok("get_settings", json!({})), good);
}

#[test]
fn devices_end_with_the_cpu() {
    let dir = Scratch::new("devices");
    let app = TestApp::open(&dir.0);
    let devices = app.ok("list_devices", json!({}));
    let last = devices.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["id"], "cpu");
    for device in &devices.as_array().unwrap()[..devices.as_array().unwrap().len() - 1] {
        assert!(
            device["id"].as_str().unwrap().starts_with("gpu:"),
            "{device}"
        );
    }
}

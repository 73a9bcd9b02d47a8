//! Interrupted, cancelled and restarted transfers, and resuming them.

use std::fs;
use std::time::Duration;

use super::*;

#[test]
fn resume_after_interruption_requests_only_the_rest() {
    let fx = Fixture::new();
    fx.server.drop_after(WEIGHTS, 100_000);
    let (result, _) = fx.run(REPO);
    let err = result.expect_err("the connection drops");
    assert_eq!(err.code(), "NETWORK", "{err}");
    let part = fx.partial_dir().join(format!("{WEIGHTS}.part"));
    let have = fs::metadata(&part).expect("part kept").len();
    assert_eq!(have, 100_000);
    assert!(!fx.models_dir().join(MODEL_ID).exists());

    fx.server.clear_requests();
    let (result, events) = fx.run(REPO);
    let model = result.expect("resumed download succeeds");
    assert_eq!(
        fs::read(model.path.join(WEIGHTS)).expect("weights"),
        weights()
    );
    let (_, total, resumed) = started(&events);
    assert_eq!(resumed, total_len(&BEFORE_WEIGHTS) + have);
    assert_eq!(progress_values(&events).last().map(|p| p.0), Some(total));

    let weights_requests = fx.requests_for(WEIGHTS);
    assert_eq!(weights_requests.len(), 1);
    let range = format!("bytes={have}-");
    assert_eq!(weights_requests[0].range.as_deref(), Some(range.as_str()));
    assert_eq!(
        fx.requests_for("/cdn/")[0].range.as_deref(),
        Some(range.as_str())
    );
    for done in BEFORE_WEIGHTS {
        assert!(fx.requests_for(done).is_empty(), "{done} downloaded twice");
    }
}

#[test]
fn server_ignoring_range_restarts_the_file_and_still_succeeds() {
    let fx = Fixture::new();
    fx.server.drop_after(WEIGHTS, 100_000);
    fx.run(REPO).0.expect_err("the connection drops");
    fx.server.ignore_range(true);
    let (result, events) = fx.run(REPO);
    let model = result.expect("restarted download succeeds");
    assert_eq!(
        fs::read(model.path.join(WEIGHTS)).expect("weights"),
        weights()
    );
    assert!(fx.requests_for(WEIGHTS).iter().any(|r| r.range.is_some()));
    let progress = progress_values(&events);
    assert!(
        progress.windows(2).all(|w| w[0].0 <= w[1].0),
        "{progress:?}"
    );
}

#[test]
fn cancel_mid_file_keeps_the_part_and_a_later_download_resumes_it() {
    let fx = Fixture::new();
    fx.server
        .stall_after(WEIGHTS, 50_000, Duration::from_millis(300));
    let cancel = CancelFlag::new();
    let trigger = cancel.clone();
    let mut on_event = |e: DownloadProgress| {
        if matches!(&e, DownloadProgress::Progress { file, .. } if file == WEIGHTS) {
            trigger.cancel();
        }
    };
    let result = download(&fx.client, &fx.request(REPO), &cancel, &mut on_event);
    let err = result.expect_err("cancelled");
    assert!(matches!(err, HubError::Cancelled { .. }), "{err:?}");
    assert_eq!(err.code(), "CANCELLED");
    let part = fx.partial_dir().join(format!("{WEIGHTS}.part"));
    let have = fs::metadata(&part).expect("part kept").len();
    assert!(have > 0 && have < WEIGHTS_LEN as u64, "{have}");
    assert!(!fx.models_dir().join(MODEL_ID).exists());

    fx.server.clear_requests();
    let model = fx.run(REPO).0.expect("resumed download succeeds");
    assert_eq!(
        fs::read(model.path.join(WEIGHTS)).expect("weights"),
        weights()
    );
    let range = format!("bytes={have}-");
    assert_eq!(
        fx.requests_for(WEIGHTS)[0].range.as_deref(),
        Some(range.as_str())
    );
}

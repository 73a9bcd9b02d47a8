//! Download flows against the loopback test server (`test_server.rs`).

mod failures;
mod resume;
mod unit;

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::test_server::{FakeRepo, RecordedRequest, TempDir, TestServer};
use super::*;

const REPO: &str = "acme/tiny-vlm";
const MODEL_ID: &str = "acme--tiny-vlm";
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
const WEIGHTS: &str = "model.safetensors";
const WEIGHTS_LEN: usize = 300_000;
/// What Iris keeps from the fake repo, in listing order.
const NEEDED: [&str; 5] = [
    "chat_template.jinja",
    "config.json",
    "merges.txt",
    WEIGHTS,
    "tokenizer.json",
];
/// Files before the weights in listing order, which an interrupted download has finished.
const BEFORE_WEIGHTS: [&str; 3] = ["chat_template.jinja", "config.json", "merges.txt"];

fn weights() -> Vec<u8> {
    (0..WEIGHTS_LEN).map(|i| (i * 31 % 251) as u8).collect()
}

fn repo_files() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("config.json", br#"{"model_type":"llava"}"#.to_vec()),
        (
            "tokenizer.json",
            br#"{"version":"1.0","model":{}}"#.to_vec(),
        ),
        (
            "chat_template.jinja",
            b"{% for m in messages %}{{ m }}{% endfor %}".to_vec(),
        ),
        ("merges.txt", b"#version: 0.2\nh e\n".to_vec()),
        (WEIGHTS, weights()),
        ("pytorch_model.bin", vec![7; 1000]),
        ("README.md", b"# tiny vlm\n".to_vec()),
        (".gitattributes", b"*.safetensors filter=lfs\n".to_vec()),
        ("images/demo.png", vec![0x89, b'P', b'N', b'G']),
        ("onnx/config.json", b"{}".to_vec()),
    ]
}

struct Fixture {
    server: TestServer,
    client: HubClient,
    app: TempDir,
    _hub: TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self::with_repo(REPO, &repo_files())
    }

    fn with_repo(id: &str, files: &[(&str, Vec<u8>)]) -> Self {
        let hub = TempDir::new("hub");
        let server = TestServer::start(vec![FakeRepo::create(hub.path(), id, COMMIT, files)]);
        let client = HubClient::new(&server.base_url()).expect("client");
        Fixture {
            server,
            client,
            app: TempDir::new("app"),
            _hub: hub,
        }
    }

    fn models_dir(&self) -> PathBuf {
        self.app.path().join("models")
    }

    fn partial_dir(&self) -> PathBuf {
        self.models_dir()
            .join(".downloads")
            .join(MODEL_ID)
            .join(COMMIT)
    }

    fn request(&self, repo_id: &str) -> DownloadRequest {
        DownloadRequest {
            repo_id: repo_id.to_owned(),
            revision: None,
            models_dir: self.models_dir(),
            downloads_dir: self.models_dir().join(".downloads"),
        }
    }

    fn run(&self, repo_id: &str) -> (Result<DownloadedModel, HubError>, Vec<DownloadProgress>) {
        let mut events = Vec::new();
        let result = download(
            &self.client,
            &self.request(repo_id),
            &CancelFlag::new(),
            &mut |e| events.push(e),
        );
        (result, events)
    }

    fn requests_for(&self, needle: &str) -> Vec<RecordedRequest> {
        let all = self.server.requests();
        all.into_iter()
            .filter(|r| r.target.contains(needle))
            .collect()
    }
}

fn progress_values(events: &[DownloadProgress]) -> Vec<(u64, u64)> {
    events
        .iter()
        .filter_map(|e| match e {
            DownloadProgress::Progress {
                done_bytes,
                total_bytes,
                ..
            } => Some((*done_bytes, *total_bytes)),
            _ => None,
        })
        .collect()
}

fn started(events: &[DownloadProgress]) -> (usize, u64, u64) {
    events
        .iter()
        .find_map(|e| match e {
            DownloadProgress::Started {
                files,
                total_bytes,
                resumed_bytes,
                ..
            } => Some((*files, *total_bytes, *resumed_bytes)),
            _ => None,
        })
        .expect("a Started event")
}

fn total_len(names: &[&str]) -> u64 {
    let files = repo_files();
    names
        .iter()
        .map(|n| {
            files
                .iter()
                .find(|(f, _)| f == n)
                .expect("known file")
                .1
                .len() as u64
        })
        .sum()
}

#[test]
fn full_download_installs_verified_files_and_source_record() {
    let fx = Fixture::new();
    let (result, _) = fx.run(REPO);
    let model = result.expect("download succeeds");
    assert_eq!(model.id, MODEL_ID);
    assert_eq!(model.path, fx.models_dir().join(MODEL_ID));
    assert!(!model.already_present);

    let on_disk: BTreeSet<String> = fs::read_dir(&model.path)
        .expect("model dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    let mut expected: BTreeSet<String> = NEEDED.iter().map(|s| s.to_string()).collect();
    expected.insert(SOURCE_FILE_NAME.to_owned());
    assert_eq!(on_disk, expected);
    for (name, bytes) in repo_files().iter().filter(|(n, _)| NEEDED.contains(n)) {
        assert_eq!(
            &fs::read(model.path.join(name)).expect("file"),
            bytes,
            "{name}"
        );
    }

    let source = read_source(&model.path)
        .expect("readable")
        .expect("present");
    assert_eq!(source, model.source);
    assert_eq!(
        (source.repo_id.as_str(), source.revision.as_str()),
        (REPO, "main")
    );
    assert_eq!(source.commit, COMMIT);
    assert_eq!(source.hub_url, fx.server.base_url());
    let weights_record = source
        .files
        .iter()
        .find(|f| f.name == WEIGHTS)
        .expect("weights");
    let sha = Sha256::digest(weights());
    let sha_hex: String = sha.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(weights_record.sha256.as_deref(), Some(sha_hex.as_str()));
    assert_eq!(weights_record.size, WEIGHTS_LEN as u64);
    let config_record = source
        .files
        .iter()
        .find(|f| f.name == "config.json")
        .expect("config");
    assert_eq!(
        config_record.git_blob_sha1.as_deref(),
        Some(git_blob_sha1(br#"{"model_type":"llava"}"#).as_str())
    );

    assert!(!fx.models_dir().join(".downloads").join(MODEL_ID).exists());
    assert!(
        !fx.models_dir()
            .join(format!(".{MODEL_ID}.installing"))
            .exists()
    );
}

#[test]
fn skipped_files_are_never_requested_and_requests_look_like_huggingface_hub() {
    let fx = Fixture::new();
    fx.run(REPO).0.expect("download succeeds");
    let requests = fx.server.requests();
    for skipped in [
        "pytorch_model.bin",
        "README.md",
        ".gitattributes",
        "images/",
        "onnx/",
    ] {
        assert!(
            requests.iter().all(|r| !r.target.contains(skipped)),
            "{skipped} was requested"
        );
    }
    assert_eq!(
        requests[0].target,
        format!("/api/models/{REPO}/revision/main?blobs=true")
    );
    for name in NEEDED {
        let path = format!("/{REPO}/resolve/{COMMIT}/{name}");
        assert_eq!(fx.requests_for(&path).len(), 1, "{name} requested once");
    }
    // LFS files come through the CDN redirect, which ureq follows.
    assert_eq!(fx.requests_for("/cdn/").len(), 1);
    assert!(requests.iter().all(|r| r.authorization.is_none()));
    let agent = requests[0].user_agent.as_deref().unwrap_or("");
    assert_eq!(agent, format!("iris/{}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn progress_events_are_ordered_monotonic_throttled_and_end_at_total() {
    let fx = Fixture::new();
    let mut timed = Vec::new();
    let result = download(
        &fx.client,
        &fx.request(REPO),
        &CancelFlag::new(),
        &mut |e| timed.push((Instant::now(), e)),
    );
    result.expect("download succeeds");
    let events: Vec<DownloadProgress> = timed.iter().map(|(_, e)| e.clone()).collect();
    assert_eq!(
        events[0],
        DownloadProgress::Listing {
            repo_id: REPO.to_owned()
        }
    );
    assert!(matches!(events[1], DownloadProgress::Started { .. }));
    let total = total_len(&NEEDED);
    assert_eq!(started(&events), (NEEDED.len(), total, 0));

    let progress = progress_values(&events);
    assert!(!progress.is_empty());
    assert!(
        progress.windows(2).all(|w| w[0].0 <= w[1].0),
        "{progress:?}"
    );
    assert!(
        progress
            .iter()
            .all(|&(done, t)| t == total && done <= total)
    );
    assert_eq!(progress.last().map(|p| p.0), Some(total));
    // At most 20 a second: all but the final event are at least 50 ms apart (1 ms of slack for
    // the time between the reporter's clock reading and ours).
    let times: Vec<Instant> = timed
        .iter()
        .filter(|(_, e)| matches!(e, DownloadProgress::Progress { .. }))
        .map(|(at, _)| *at)
        .collect();
    let throttled = &times[..times.len() - 1];
    for pair in throttled.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(49), "events {gap:?} apart");
    }

    let verifying: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            DownloadProgress::Verifying { file } => Some(file.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(verifying, NEEDED);
}

#[test]
fn downloading_the_same_commit_again_returns_the_existing_folder() {
    let fx = Fixture::new();
    let first = fx.run(REPO).0.expect("download succeeds");
    fx.server.clear_requests();
    let second = fx.run(REPO).0.expect("already there");
    assert!(second.already_present);
    assert_eq!((second.path, second.source), (first.path, first.source));
    assert!(fx.requests_for("/resolve/").is_empty());
}

#[test]
fn token_goes_to_the_hub_but_not_through_the_cdn_redirect() {
    let mut fx = Fixture::new();
    fx.client = fx.client.clone().with_token(Some("hf_secret".to_owned()));
    fx.run(REPO).0.expect("download succeeds");
    let bearer = Some("Bearer hf_secret");
    let listing = &fx.requests_for("/api/models/")[0];
    assert_eq!(listing.authorization.as_deref(), bearer);
    assert_eq!(
        fx.requests_for("/config.json")[0].authorization.as_deref(),
        bearer
    );
    assert!(
        fx.requests_for("/cdn/")
            .iter()
            .all(|r| r.authorization.is_none())
    );
    assert!(!format!("{:?}", fx.client).contains("hf_secret"));
}

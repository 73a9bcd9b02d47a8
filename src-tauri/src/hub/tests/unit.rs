//! Unit tests: repo ids, file selection, listing parsing, hashes, errors, event JSON.

use std::fs;

use super::super::install::install;
use super::super::listing::parse_listing;
use super::super::test_server::TempDir;
use super::super::verify::verify_file;
use super::super::*;

#[test]
fn valid_repo_ids_map_to_hf_cache_style_model_ids() {
    for (id, model_id) in [
        ("llava-hf/llava-1.5-7b-hf", "llava-hf--llava-1.5-7b-hf"),
        ("Salesforce/blip2-opt-2.7b", "Salesforce--blip2-opt-2.7b"),
        ("a/b", "a--b"),
        ("_x_/y_z", "_x_--y_z"),
        ("  acme/tiny  ", "acme--tiny"),
    ] {
        let repo = RepoId::parse(id).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(repo.model_id(), model_id);
        assert_eq!(repo.as_str(), id.trim());
    }
    let long = format!("a/{}", "x".repeat(96));
    assert!(RepoId::parse(&long).is_ok());
    assert!(RepoId::parse(&format!("{long}x")).is_err());
}

#[test]
fn invalid_repo_ids_name_the_rule_they_break() {
    let err = RepoId::parse("a/b--c").expect_err("-- forbidden");
    assert!(err.to_string().contains("'--'"), "{err}");
    let err = RepoId::parse("justaname").expect_err("owner needed");
    assert!(err.to_string().contains("owner/name"), "{err}");
    assert!(err.user_message().contains("justaname"));
}

#[test]
fn selection_keeps_what_iris_loads_at_top_level_only() {
    for name in [
        "config.json",
        "model.safetensors",
        "model-00001-of-00002.safetensors",
        "model.safetensors.index.json",
        "tokenizer.model",
        "chat_template.jinja",
        "merges.txt",
        "vocab.txt",
        "qwen.tiktoken",
    ] {
        assert!(is_needed(name), "{name} should be downloaded");
    }
    for name in [
        "pytorch_model.bin",
        "model.pt",
        "model.pth",
        "model.ckpt",
        "flax_model.msgpack",
        "tf_model.h5",
        "model.onnx",
        "model.gguf",
        "rust_model.ot",
        "README.md",
        "demo.png",
        ".gitattributes",
        "onnx/config.json",
        "sub/model.safetensors",
        "a\\b.json",
        SOURCE_FILE_NAME,
    ] {
        assert!(!is_needed(name), "{name} should be skipped");
    }
}

/// Shape of a real `GET /api/models/{id}/revision/main?blobs=true` answer (fields trimmed).
const LISTING: &str = r#"{
  "_id": "621ffdc136468d709f17e7e2", "id": "acme/tiny", "private": false,
  "sha": "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678", "lastModified": "2024-03-01T00:00:00.000Z",
  "siblings": [
    {"rfilename": ".gitattributes", "size": 1519, "blobId": "a6344aac8c09253b3b630fb776ae94478aa0275b"},
    {"rfilename": "config.json", "size": 665, "blobId": "10C66461E4C7BE3D7FA1EA4AE4BB1C6F2A8A3A9B"},
    {"rfilename": "model.safetensors", "size": 548105171,
     "blobId": "a1e1ab06a1d0e4ba0dd5b4d2ee2ec64d1d0af2e3",
     "lfs": {"size": 548105171, "sha256": "248DFC3911869EC493C76E65BF2FCF7F615828B0254C12B473182F0F81D3A707", "pointerSize": 135}},
    {"rfilename": "pytorch_model.bin", "size": 548118077, "blobId": "b1e1ab06a1d0e4ba0dd5b4d2ee2ec64d1d0af2e3",
     "lfs": {"size": 548118077, "sha256": "7c5d3f4b8b76583b422fcb9189ad6c89d5d97a094541ce8932dce3ecabde1f2d", "pointerSize": 135}}
  ],
  "spaces": [], "createdAt": "2022-03-02T23:29:04.000Z"
}"#;

#[test]
fn listing_is_parsed_into_commit_and_needed_files_with_hashes() {
    let listing = parse_listing("u", LISTING).expect("parses");
    assert_eq!(listing.commit, "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678");
    assert_eq!(
        listing.files,
        vec![
            RemoteFile {
                name: "config.json".into(),
                size: 665,
                hash: ExpectedHash::GitBlobSha1("10c66461e4c7be3d7fa1ea4ae4bb1c6f2a8a3a9b".into()),
            },
            RemoteFile {
                name: "model.safetensors".into(),
                size: 548105171,
                hash: ExpectedHash::Sha256(
                    "248dfc3911869ec493c76e65bf2fcf7f615828b0254c12b473182f0f81d3a707".into()
                ),
            },
        ]
    );
}

#[test]
fn malformed_listings_are_bad_responses() {
    for body in [
        "not json",
        r#"{"siblings": []}"#,
        r#"{"sha": "../../etc", "siblings": []}"#,
        r#"{"sha": "0123456789abcdef0123456789abcdef01234567"}"#,
        r#"{"sha": "0123456789abcdef0123456789abcdef01234567", "siblings": [{"rfilename": "config.json"}]}"#,
        r#"{"sha": "0123456789abcdef0123456789abcdef01234567", "siblings": [{"rfilename": "a.json", "size": 1, "blobId": "xyz"}]}"#,
    ] {
        let err = parse_listing("http://hub/api", body).expect_err(body);
        assert!(
            matches!(err, HubError::BadResponse { .. }),
            "{body}: {err:?}"
        );
        assert_eq!(err.code(), "DOWNLOAD_FAILED");
    }
}

#[test]
fn git_blob_sha1_matches_git_hash_object() {
    // Values printed by `git hash-object --stdin`.
    assert_eq!(
        git_blob_sha1(b""),
        "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    );
    assert_eq!(
        git_blob_sha1(b"hello\n"),
        "ce013625030ba8dba906f756967f9e9ca394464a"
    );
    assert_eq!(
        git_blob_sha1(br#"{"model_type":"llava"}"#),
        "665addbf86f1be3347fae58f736406941f662881"
    );
}

#[test]
fn verify_checks_size_then_hash() {
    let dir = TempDir::new("verify");
    let path = dir.path().join("abc");
    fs::write(&path, b"abc").expect("write");
    let sha_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    let file = |size, hash| RemoteFile {
        name: "abc".into(),
        size,
        hash,
    };
    let cancel = CancelFlag::new();
    let ok = file(3, ExpectedHash::Sha256(sha_abc.into()));
    verify_file(&path, &ok, &cancel, "r/r").expect("sha256 of abc");
    let git = file(3, ExpectedHash::GitBlobSha1(git_blob_sha1(b"abc")));
    verify_file(&path, &git, &cancel, "r/r").expect("git sha1 of abc");

    let short = file(4, ExpectedHash::Sha256(sha_abc.into()));
    let err = verify_file(&path, &short, &cancel, "r/r").expect_err("size");
    assert!(
        matches!(
            err,
            HubError::Checksum {
                check: Check::Size,
                ..
            }
        ),
        "{err:?}"
    );
    let wrong = file(3, ExpectedHash::Sha256("0".repeat(64)));
    let err = verify_file(&path, &wrong, &cancel, "r/r").expect_err("hash");
    assert_eq!(
        err.to_string(),
        format!(
            "sha256 mismatch for abc: expected {}, got {sha_abc}",
            "0".repeat(64)
        )
    );
    cancel.cancel();
    let err = verify_file(&path, &ok, &cancel, "r/r").expect_err("cancelled");
    assert!(matches!(err, HubError::Cancelled { .. }));
}

#[test]
fn errors_map_to_app_codes_and_keep_details_out_of_user_messages() {
    let url = "https://hub.example/api/models/a/b".to_owned();
    let cases = [
        (
            HubError::Network {
                url: url.clone(),
                detail: "dns failed".into(),
            },
            "NETWORK",
        ),
        (
            HubError::Http {
                url: url.clone(),
                status: 502,
            },
            "DOWNLOAD_FAILED",
        ),
        (
            HubError::NotFound {
                repo_id: "a/b".into(),
                revision: "main".into(),
                url: url.clone(),
                status: 401,
            },
            "NOT_FOUND",
        ),
        (
            HubError::Cancelled {
                repo_id: "a/b".into(),
            },
            "CANCELLED",
        ),
        (
            HubError::io("write", "/x/y", std::io::Error::other("disk full")),
            "DOWNLOAD_FAILED",
        ),
    ];
    for (err, code) in cases {
        assert_eq!(err.code(), code, "{err}");
        let message = err.user_message();
        assert!(!message.contains(&url) && !message.is_empty(), "{message}");
    }
    let network = HubError::Network {
        url: url.clone(),
        detail: "dns failed".into(),
    };
    assert!(network.to_string().contains(&url) && network.to_string().contains("dns failed"));
}

#[test]
fn bad_hub_urls_are_rejected() {
    for url in [
        "",
        "huggingface.co",
        "ftp://x",
        "https://",
        "https://a b",
        "http://h/?q",
    ] {
        let err = HubClient::new(url).expect_err(url);
        assert_eq!(err.code(), "INVALID_INPUT", "{url}");
    }
    let client = HubClient::new("https://huggingface.co/").expect("valid");
    assert_eq!(client.base_url(), DEFAULT_HUB_URL);
}

#[test]
fn events_serialise_like_the_ipc_download_event() {
    let json = |e: DownloadProgress| serde_json::to_value(e).expect("serialise");
    assert_eq!(
        json(DownloadProgress::Progress {
            file: "a".into(),
            done_bytes: 1,
            total_bytes: 2
        }),
        serde_json::json!({"kind": "progress", "file": "a", "doneBytes": 1, "totalBytes": 2})
    );
    assert_eq!(
        json(DownloadProgress::Started {
            repo_id: "a/b".into(),
            files: 3,
            total_bytes: 9,
            resumed_bytes: 4
        }),
        serde_json::json!({"kind": "started", "repoId": "a/b", "files": 3, "totalBytes": 9, "resumedBytes": 4})
    );
    assert_eq!(
        json(DownloadProgress::Listing {
            repo_id: "a/b".into()
        }),
        serde_json::json!({"kind": "listing", "repoId": "a/b"})
    );
    assert_eq!(
        json(DownloadProgress::Verifying { file: "f".into() }),
        serde_json::json!({"kind": "verifying", "file": "f"})
    );
}

#[test]
fn failed_install_puts_the_files_back_for_the_next_attempt() {
    let dir = TempDir::new("install");
    let partial = dir.path().join("partial");
    let final_dir = dir.path().join("models").join("a--b");
    fs::create_dir_all(&partial).expect("mkdir");
    fs::create_dir_all(&final_dir).expect("mkdir");
    fs::write(partial.join("config.json"), b"{}").expect("write");
    let files = [RemoteFile {
        name: "config.json".into(),
        size: 2,
        hash: ExpectedHash::GitBlobSha1(git_blob_sha1(b"{}")),
    }];
    let source = IrisSource {
        repo_id: "a/b".into(),
        revision: "main".into(),
        commit: "0".repeat(40),
        hub_url: DEFAULT_HUB_URL.into(),
        downloaded_at: 0,
        files: Vec::new(),
    };
    let err = install(&partial, &final_dir, &files, &source).expect_err("final dir exists");
    assert!(matches!(err, HubError::AlreadyExists { .. }), "{err:?}");
    assert_eq!(
        fs::read(partial.join("config.json")).expect("moved back"),
        b"{}"
    );
    assert!(!dir.path().join("models").join(".a--b.installing").exists());
    assert!(
        fs::read_dir(&final_dir)
            .expect("still there")
            .next()
            .is_none()
    );
}

//! Failures that must leave no model folder: bad checksums, unknown or invalid repositories,
//! repositories without safetensors, and folders that are not ours.

use std::fs;

use super::*;

#[test]
fn corrupted_lfs_file_fails_checksum_and_leaves_no_model() {
    let fx = Fixture::new();
    fx.server.corrupt(WEIGHTS);
    let err = fx.run(REPO).0.expect_err("checksum must fail");
    assert_eq!(err.code(), "CHECKSUM_MISMATCH");
    match &err {
        HubError::Checksum {
            file,
            check,
            expected,
            got,
        } => {
            assert_eq!((file.as_str(), *check), (WEIGHTS, Check::Sha256));
            assert_ne!(expected, got);
        }
        other => panic!("expected a checksum error, got {other:?}"),
    }
    assert!(err.to_string().contains(WEIGHTS));
    assert!(err.user_message().contains(WEIGHTS));
    assert!(!fx.partial_dir().join(format!("{WEIGHTS}.part")).exists());
    assert!(!fx.models_dir().join(MODEL_ID).exists());

    // The corruption was a one-off: downloading again works.
    fx.run(REPO).0.expect("second download succeeds");
}

#[test]
fn corrupted_git_file_fails_the_git_blob_check() {
    let fx = Fixture::new();
    fx.server.corrupt("config.json");
    let err = fx.run(REPO).0.expect_err("checksum must fail");
    assert!(
        matches!(&err, HubError::Checksum { file, check: Check::GitBlobSha1, .. } if file == "config.json"),
        "{err:?}"
    );
    assert!(!fx.partial_dir().join("config.json.part").exists());
    assert!(!fx.models_dir().join(MODEL_ID).exists());
}

#[test]
fn unknown_repository_is_not_found() {
    let fx = Fixture::new();
    let err = fx.run("acme/missing").0.expect_err("404");
    assert!(
        matches!(&err, HubError::NotFound { status: 404, .. }),
        "{err:?}"
    );
    assert_eq!(err.code(), "NOT_FOUND");
    assert_eq!(fx.server.requests().len(), 1);
    assert!(!fx.models_dir().join(".downloads").exists());
}

#[test]
fn invalid_repo_ids_fail_before_any_request() {
    let fx = Fixture::new();
    for id in [
        "", "tiny-vlm", "a/b/c", "/b", "a/", "-a/b", "a/b.", "a--x/b", "a/b..c",
    ] {
        let err = fx.run(id).0.expect_err("invalid id");
        assert!(
            matches!(err, HubError::InvalidRepoId { .. }),
            "{id}: {err:?}"
        );
        assert_eq!(err.code(), "INVALID_INPUT");
    }
    for id in ["a/b.git", "a b/c", "ä/b", "../etc", "a/b?x=1", "a/%2e%2e"] {
        assert!(fx.run(id).0.is_err(), "{id} accepted");
    }
    assert!(fx.server.requests().is_empty());
}

#[test]
fn repository_without_safetensors_fails_before_downloading() {
    let files = vec![
        ("config.json", b"{}".to_vec()),
        ("pytorch_model.bin", vec![1; 100]),
        ("subdir/model.safetensors", vec![2; 100]),
    ];
    let fx = Fixture::with_repo("acme/bin-only", &files);
    let err = fx.run("acme/bin-only").0.expect_err("no safetensors");
    assert!(matches!(err, HubError::NoSafetensors { .. }), "{err:?}");
    assert_eq!(err.code(), "INVALID_MODEL");
    assert!(err.user_message().contains("safetensors"));
    assert!(fx.requests_for("/resolve/").is_empty());
    assert!(!fx.models_dir().join(".downloads").exists());
}

#[test]
fn a_folder_from_elsewhere_is_not_overwritten() {
    let fx = Fixture::new();
    let dir = fx.models_dir().join(MODEL_ID);
    fs::create_dir_all(&dir).expect("mkdir");
    fs::write(dir.join("config.json"), b"{}").expect("write");
    let err = fx.run(REPO).0.expect_err("folder exists");
    assert!(matches!(err, HubError::AlreadyExists { .. }), "{err:?}");
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(fx.server.requests().is_empty());
    assert_eq!(fs::read(dir.join("config.json")).expect("untouched"), b"{}");
}

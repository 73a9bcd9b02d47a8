//! Moving verified files into the model folder, and the `iris-source.json` written there.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::HubError;
use super::listing::{ExpectedHash, RemoteFile, SOURCE_FILE_NAME};

/// Where a downloaded model came from; `iris-source.json` in its folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IrisSource {
    /// `owner/name` on the Hub.
    pub repo_id: String,
    /// The revision asked for (`main` when none was given).
    pub revision: String,
    /// The commit that revision resolved to; the files are exactly that commit's.
    pub commit: String,
    /// The Hub the files came from.
    pub hub_url: String,
    /// Milliseconds since the Unix epoch.
    pub downloaded_at: u64,
    pub files: Vec<SourceFile>,
}

/// One downloaded file and the hash it was verified against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceFile {
    pub name: String,
    pub size: u64,
    /// Git LFS files: SHA-256 of the content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Plain git files: the git blob id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_blob_sha1: Option<String>,
}

impl SourceFile {
    pub(crate) fn from_remote(file: &RemoteFile) -> Self {
        let (sha256, git_blob_sha1) = match &file.hash {
            ExpectedHash::Sha256(h) => (Some(h.clone()), None),
            ExpectedHash::GitBlobSha1(h) => (None, Some(h.clone())),
        };
        SourceFile {
            name: file.name.clone(),
            size: file.size,
            sha256,
            git_blob_sha1,
        }
    }
}

/// Reads `iris-source.json` from a model folder: `Ok(None)` when the folder has none.
pub fn read_source(model_dir: &Path) -> Result<Option<IrisSource>, HubError> {
    let path = model_dir.join(SOURCE_FILE_NAME);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(HubError::io("read", path, e)),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| HubError::io("parse", path, io::Error::new(io::ErrorKind::InvalidData, e)))
}

/// Moves the verified `files` from `partial_dir` into `final_dir` with `source` beside them.
///
/// The files go into a hidden staging folder next to `final_dir` first, which is then renamed,
/// so `final_dir` never exists half-filled. On failure the files go back to `partial_dir`
/// (as far as they can), so a retry need not download them again.
pub(crate) fn install(
    partial_dir: &Path,
    final_dir: &Path,
    files: &[RemoteFile],
    source: &IrisSource,
) -> Result<(), HubError> {
    let staging = staging_dir(final_dir);
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(|e| HubError::io("clear", &staging, e))?;
    }
    fs::create_dir_all(&staging).map_err(|e| HubError::io("create", &staging, e))?;
    let result = fill_and_rename(partial_dir, &staging, final_dir, files, source);
    if result.is_err() {
        for file in files {
            let _ = move_file(&staging.join(&file.name), &partial_dir.join(&file.name));
        }
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

fn fill_and_rename(
    partial_dir: &Path,
    staging: &Path,
    final_dir: &Path,
    files: &[RemoteFile],
    source: &IrisSource,
) -> Result<(), HubError> {
    for file in files {
        move_file(&partial_dir.join(&file.name), &staging.join(&file.name))?;
    }
    let json = serde_json::to_string_pretty(source)
        .map_err(|e| HubError::io("serialise", SOURCE_FILE_NAME, io::Error::other(e)))?;
    let source_path = staging.join(SOURCE_FILE_NAME);
    fs::write(&source_path, json).map_err(|e| HubError::io("write", source_path, e))?;
    if final_dir.exists() {
        return Err(HubError::AlreadyExists {
            path: final_dir.to_owned(),
            reason: "it appeared while the download ran".to_owned(),
        });
    }
    fs::rename(staging, final_dir).map_err(|e| HubError::io("rename into place", final_dir, e))
}

/// `<models_dir>/.<id>.installing`: hidden, beside the final folder, on the same file system.
fn staging_dir(final_dir: &Path) -> PathBuf {
    let name = final_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    final_dir.with_file_name(format!(".{name}.installing"))
}

/// Renames `from` to `to`, copying when they are on different file systems.
fn move_file(from: &Path, to: &Path) -> Result<(), HubError> {
    if fs::rename(from, to).is_ok() {
        return Ok(());
    }
    fs::copy(from, to).map_err(|e| HubError::io("copy into the model folder", to, e))?;
    fs::remove_file(from).map_err(|e| HubError::io("delete", from, e))
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

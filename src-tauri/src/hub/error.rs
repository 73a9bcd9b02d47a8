//! The one error type of the Hub downloader, with the app's stable error codes.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Which check a downloaded file failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The byte count differs from the listing.
    Size,
    /// SHA-256 of the content (Git LFS files).
    Sha256,
    /// Git blob SHA-1, `sha1("blob {len}\0" + bytes)` (files stored in plain git).
    GitBlobSha1,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Check::Size => "size",
            Check::Sha256 => "sha256",
            Check::GitBlobSha1 => "git blob sha1",
        })
    }
}

/// Everything that can go wrong while listing or downloading a Hub repository.
///
/// `Display` carries the technical detail (URLs, paths, hashes); [`HubError::user_message`] says
/// in plain words what happened and what to do; [`HubError::code`] is the app's error code.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("invalid repository id {repo_id:?}: {reason}")]
    InvalidRepoId {
        repo_id: String,
        reason: &'static str,
    },

    #[error("invalid Hub address {url:?}: {reason}")]
    InvalidHubUrl { url: String, reason: &'static str },

    #[error(
        "repository {repo_id} (revision {revision}) not found, gated or private: HTTP {status} from {url}"
    )]
    NotFound {
        repo_id: String,
        revision: String,
        url: String,
        status: u16,
    },

    #[error("network error on {url}: {detail}")]
    Network { url: String, detail: String },

    #[error("HTTP {status} from {url}")]
    Http { url: String, status: u16 },

    #[error("unexpected response from {url}: {reason}")]
    BadResponse { url: String, reason: String },

    #[error("could not {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("{check} mismatch for {file}: expected {expected}, got {got}")]
    Checksum {
        file: String,
        check: Check,
        expected: String,
        got: String,
    },

    #[error("download of {repo_id} cancelled")]
    Cancelled { repo_id: String },

    #[error("{repo_id} at commit {commit} has no .safetensors file in its root folder")]
    NoSafetensors { repo_id: String, commit: String },

    #[error("model folder {} already exists: {reason}", path.display())]
    AlreadyExists { path: PathBuf, reason: String },
}

impl HubError {
    /// The app's stable error code (docs/app.md) for this error.
    pub fn code(&self) -> &'static str {
        match self {
            HubError::InvalidRepoId { .. }
            | HubError::InvalidHubUrl { .. }
            | HubError::AlreadyExists { .. } => "INVALID_INPUT",
            HubError::NotFound { .. } => "NOT_FOUND",
            HubError::Network { .. } => "NETWORK",
            HubError::Http { .. } | HubError::BadResponse { .. } | HubError::Io { .. } => {
                "DOWNLOAD_FAILED"
            }
            HubError::Checksum { .. } => "CHECKSUM_MISMATCH",
            HubError::Cancelled { .. } => "CANCELLED",
            HubError::NoSafetensors { .. } => "INVALID_MODEL",
        }
    }

    /// What happened and what to do, in plain words for the person using the app.
    pub fn user_message(&self) -> String {
        match self {
            HubError::InvalidRepoId { repo_id, .. } => format!(
                "\"{repo_id}\" is not a Hugging Face model id. Use the form owner/name, \
                 for example llava-hf/llava-1.5-7b-hf."
            ),
            HubError::InvalidHubUrl { url, .. } => format!(
                "The Hub address \"{url}\" is not usable. In Settings, set it to an http:// or \
                 https:// address such as https://huggingface.co."
            ),
            HubError::NotFound {
                repo_id, revision, ..
            } => format!(
                "Hugging Face has no model {repo_id} (revision {revision}) that Iris may download: \
                 it does not exist, or it is private or gated. Check the name; for a gated or \
                 private model, accept its terms on huggingface.co and start Iris with HF_TOKEN \
                 set to an access token."
            ),
            HubError::Network { .. } => "Could not reach the Hugging Face Hub. Check your \
                 internet connection and try again; the download goes on where it stopped."
                .to_owned(),
            HubError::Http { status, .. } => format!(
                "The Hugging Face Hub answered with an error (HTTP {status}). Try again later; \
                 the download goes on where it stopped."
            ),
            HubError::BadResponse { .. } => "The Hub sent an answer Iris does not understand. \
                 Try again later, or check the Hub address in Settings."
                .to_owned(),
            HubError::Io { path, .. } => format!(
                "Could not write the download to {}. Check that the disk has free space and \
                 that Iris may write there, then try again.",
                path.display()
            ),
            HubError::Checksum { file, .. } => format!(
                "The file {file} arrived damaged (it does not match the Hub's checksum), so it \
                 was deleted. Start the download again."
            ),
            HubError::Cancelled { .. } => "The download was cancelled. Start it again to go on \
                 where it stopped."
                .to_owned(),
            HubError::NoSafetensors { repo_id, .. } => format!(
                "{repo_id} has no .safetensors weights, and Iris needs safetensors weights. Look \
                 for a version of this model converted to safetensors."
            ),
            HubError::AlreadyExists { path, .. } => format!(
                "A model folder {} already exists. Delete that model first if you want to \
                 download this one.",
                path.display()
            ),
        }
    }

    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        HubError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

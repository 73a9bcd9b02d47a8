//! Downloading models from the Hugging Face Hub (blocking, no Tauri types).
//!
//! [`download`] lists a repository at a revision, keeps the files Iris loads (top-level
//! `*.json`, `*.safetensors`, `tokenizer.model`, `*.jinja`, `*.txt`, `*.tiktoken`), streams
//! them into `<downloads_dir>/<id>/<commit>/` with resume, verifies each one against the Hub's
//! hashes and moves them into `<models_dir>/<id>/` with an `iris-source.json` record. The shell
//! runs it on a worker thread, adapts [`DownloadProgress`] to its `DownloadEvent` channel, keeps
//! a [`CancelFlag`] per repository for `cancel_download`, and maps [`HubError::code`] and
//! [`HubError::user_message`] to its `AppError`.
//!
//! Endpoints (as huggingface_hub uses them, `hf_api.py` and `file_download.py`):
//! - `GET {base}/api/models/{repo_id}/revision/{revision}?blobs=true`: commit and file list.
//! - `GET {base}/{repo_id}/resolve/{commit}/{file}`: the file, possibly via a CDN redirect.

mod client;
mod download;
mod error;
mod install;
mod listing;
mod progress;
mod repo_id;
mod transfer;
mod verify;

#[cfg(test)]
pub(crate) mod test_server;
#[cfg(test)]
mod tests;

pub use client::{DEFAULT_HUB_URL, HubClient, TOKEN_ENV_VAR};
pub use download::{DEFAULT_REVISION, DownloadRequest, DownloadedModel, download};
pub use error::{Check, HubError};
pub use install::{IrisSource, SourceFile, read_source};
pub use listing::{ExpectedHash, RemoteFile, RepoListing, is_needed, list_repo};
pub use progress::{CancelFlag, DownloadProgress};
pub use repo_id::RepoId;
pub use verify::git_blob_sha1;

/// The file in each downloaded model folder that records where it came from.
pub const SOURCE_FILE_NAME: &str = listing::SOURCE_FILE_NAME;

//! Listing a repository's files and choosing the ones Iris needs.
//!
//! `GET {base}/api/models/{repo_id}/revision/{revision}?blobs=true` is what huggingface_hub's
//! `HfApi.model_info(files_metadata=True)` sends (`hf_api.py`); with `blobs=true` each entry of
//! `siblings` carries `size`, `blobId` (git object id) and, for Git LFS files,
//! `lfs: {size, sha256, pointerSize}` (`ModelInfo.__init__` builds `RepoSibling`/`BlobLfsInfo`
//! from exactly these keys). `sha` is the commit the revision resolved to.

use serde::Deserialize;

use super::client::HubClient;
use super::error::HubError;
use super::repo_id::{RepoId, encode_segment, is_commit_id};

/// The listing response can be large for repositories with many files; this is far above any.
const MAX_LISTING_BYTES: u64 = 64 * 1024 * 1024;

/// Extensions of the files Iris loads: config and tokenizer JSON, weights, chat templates, BPE
/// merges / vocab lists, tiktoken ranks.
const NEEDED_EXTENSIONS: [&str; 5] = [".json", ".safetensors", ".jinja", ".txt", ".tiktoken"];
const NEEDED_NAMES: [&str; 1] = ["tokenizer.model"];

/// Written by Iris into the model folder; a repository file of that name would clash with it.
pub(crate) const SOURCE_FILE_NAME: &str = "iris-source.json";

#[derive(Debug, Deserialize)]
struct ModelInfoResponse {
    sha: Option<String>,
    siblings: Option<Vec<Sibling>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sibling {
    rfilename: String,
    size: Option<u64>,
    blob_id: Option<String>,
    lfs: Option<BlobLfsInfo>,
}

#[derive(Debug, Deserialize)]
struct BlobLfsInfo {
    size: u64,
    sha256: String,
}

/// The hash a downloaded file must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedHash {
    /// Git LFS file: SHA-256 of the content, lowercase hex.
    Sha256(String),
    /// Plain git file: the git blob id, lowercase hex.
    GitBlobSha1(String),
}

/// One file to download, with what it must be once downloaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    /// Path in the repository (always a top-level name here).
    pub name: String,
    pub size: u64,
    pub hash: ExpectedHash,
}

/// A revision resolved to its commit, and the files Iris will download from it.
#[derive(Debug, Clone)]
pub struct RepoListing {
    pub commit: String,
    pub files: Vec<RemoteFile>,
}

/// Lists `repo` at `revision` and keeps the files Iris needs ([`is_needed`]).
///
/// Fails with [`HubError::NoSafetensors`] when none of them is a `.safetensors` file.
pub fn list_repo(
    client: &HubClient,
    repo: &RepoId,
    revision: &str,
) -> Result<RepoListing, HubError> {
    let url = format!(
        "{}/api/models/{}/revision/{}?blobs=true",
        client.base_url(),
        repo.as_str(),
        encode_segment(revision)
    );
    let mut response = client.get(&url, None)?;
    let status = response.status().as_u16();
    match status {
        200 => {}
        401 | 403 | 404 => {
            return Err(HubError::NotFound {
                repo_id: repo.to_string(),
                revision: revision.to_owned(),
                url,
                status,
            });
        }
        _ => return Err(HubError::Http { url, status }),
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_LISTING_BYTES)
        .read_to_string()
        .map_err(|err| HubError::Network {
            url: url.clone(),
            detail: err.to_string(),
        })?;
    let listing = parse_listing(&url, &body)?;
    if !listing
        .files
        .iter()
        .any(|f| f.name.ends_with(".safetensors"))
    {
        return Err(HubError::NoSafetensors {
            repo_id: repo.to_string(),
            commit: listing.commit,
        });
    }
    Ok(listing)
}

/// True for the top-level files Iris needs; files in subfolders are never needed.
pub fn is_needed(name: &str) -> bool {
    if name.contains(['/', '\\']) || name == SOURCE_FILE_NAME {
        return false;
    }
    NEEDED_NAMES.contains(&name) || NEEDED_EXTENSIONS.iter().any(|ext| name.ends_with(ext))
}

pub(super) fn parse_listing(url: &str, body: &str) -> Result<RepoListing, HubError> {
    let bad = |reason: String| HubError::BadResponse {
        url: url.to_owned(),
        reason,
    };
    let info: ModelInfoResponse =
        serde_json::from_str(body).map_err(|err| bad(format!("listing is not valid: {err}")))?;
    let commit = info
        .sha
        .ok_or_else(|| bad("listing has no commit (sha)".to_owned()))?
        .to_ascii_lowercase();
    if !is_commit_id(&commit) {
        return Err(bad(format!(
            "listing's commit {commit:?} is not a commit id"
        )));
    }
    let siblings = info
        .siblings
        .ok_or_else(|| bad("listing has no siblings".to_owned()))?;
    let files = siblings
        .into_iter()
        .filter(|s| is_needed(&s.rfilename))
        .map(|s| remote_file(s).map_err(&bad))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RepoListing { commit, files })
}

fn remote_file(sibling: Sibling) -> Result<RemoteFile, String> {
    let name = sibling.rfilename;
    let (size, hash) = match sibling.lfs {
        Some(lfs) => (
            lfs.size,
            ExpectedHash::Sha256(hex_digest(&name, &lfs.sha256, 64)?),
        ),
        None => {
            let blob_id = sibling
                .blob_id
                .ok_or_else(|| format!("{name} has no blobId (was blobs=true ignored?)"))?;
            let size = sibling
                .size
                .ok_or_else(|| format!("{name} has no size (was blobs=true ignored?)"))?;
            (
                size,
                ExpectedHash::GitBlobSha1(hex_digest(&name, &blob_id, 40)?),
            )
        }
    };
    Ok(RemoteFile { name, size, hash })
}

fn hex_digest(name: &str, digest: &str, len: usize) -> Result<String, String> {
    let digest = digest.to_ascii_lowercase();
    if digest.len() == len && digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(digest)
    } else {
        Err(format!("{name} has a malformed hash {digest:?}"))
    }
}

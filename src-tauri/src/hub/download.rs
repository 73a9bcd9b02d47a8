//! The whole download: list, fetch with resume, verify, install.

use std::fs;
use std::path::{Path, PathBuf};

use super::client::HubClient;
use super::error::HubError;
use super::install::{IrisSource, SourceFile, install, now_millis, read_source};
use super::listing::{RepoListing, list_repo};
use super::progress::{CancelFlag, DownloadProgress, ProgressReporter};
use super::repo_id::{RepoId, encode_segment};
use super::transfer::{TransferContext, fetch_part, file_len, remove_part};
use super::verify::verify_file;

/// The revision downloaded when none is given.
pub const DEFAULT_REVISION: &str = "main";

/// What to download, and where to.
#[derive(Debug, Clone)]
pub struct DownloadRequest {
    /// `owner/name` on the Hub.
    pub repo_id: String,
    /// Branch, tag or commit; `None` (or empty) means [`DEFAULT_REVISION`].
    pub revision: Option<String>,
    /// The folder holding one folder per model; the model lands in `<models_dir>/<id>/`.
    pub models_dir: PathBuf,
    /// Partial downloads: `<downloads_dir>/<id>/<commit>/<file>.part`, kept for resuming.
    pub downloads_dir: PathBuf,
}

/// A model folder ready to load.
#[derive(Debug, Clone)]
pub struct DownloadedModel {
    /// The folder name under `models_dir`: the repo id with `/` replaced by `--`.
    pub id: String,
    pub path: PathBuf,
    pub source: IrisSource,
    /// True when the folder was already there from the same repository and commit, so nothing
    /// was downloaded.
    pub already_present: bool,
}

/// Downloads the files Iris needs from a Hub model repository into `<models_dir>/<id>/`.
///
/// Events go to `on_event` (see [`DownloadProgress`]). `cancel` is checked between chunks; a
/// cancelled or interrupted download keeps its `.part` files, and the next call for the same
/// commit resumes them. Files are verified (size, then SHA-256 for LFS files or the git blob
/// SHA-1 for the others) before anything is moved into the model folder.
pub fn download(
    client: &HubClient,
    request: &DownloadRequest,
    cancel: &CancelFlag,
    on_event: &mut dyn FnMut(DownloadProgress),
) -> Result<DownloadedModel, HubError> {
    let repo = RepoId::parse(&request.repo_id)?;
    let revision = request
        .revision
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or(DEFAULT_REVISION);
    let id = repo.model_id();
    let final_dir = request.models_dir.join(&id);
    let existing = existing_source(&final_dir, &repo)?;

    let mut reporter = ProgressReporter::new(on_event);
    reporter.event(DownloadProgress::Listing {
        repo_id: repo.to_string(),
    });
    let listing = list_repo(client, &repo, revision)?;
    if let Some(source) = existing {
        return already_downloaded(id, final_dir, source, &listing, revision);
    }
    let ctx = TransferContext {
        client,
        repo: &repo,
        revision,
        cancel,
    };
    if cancel.is_cancelled() {
        return Err(ctx.cancelled());
    }
    let repo_downloads = request.downloads_dir.join(&id);
    let partial_dir = repo_downloads.join(&listing.commit);
    fs::create_dir_all(&partial_dir).map_err(|e| HubError::io("create", &partial_dir, e))?;
    fetch_all(&ctx, &listing, &partial_dir, &mut reporter)?;

    let source = IrisSource {
        repo_id: repo.to_string(),
        revision: revision.to_owned(),
        commit: listing.commit.clone(),
        hub_url: client.base_url().to_owned(),
        downloaded_at: now_millis(),
        files: listing.files.iter().map(SourceFile::from_remote).collect(),
    };
    install(&partial_dir, &final_dir, &listing.files, &source)?;
    if let Err(err) = fs::remove_dir_all(&repo_downloads) {
        tracing::warn!(path = %repo_downloads.display(), %err, "could not remove partial downloads");
    }
    tracing::info!(repo = %repo, commit = %listing.commit, path = %final_dir.display(), "downloaded");
    Ok(DownloadedModel {
        id,
        path: final_dir,
        source,
        already_present: false,
    })
}

/// The `iris-source.json` of an existing model folder from this repository, `None` when there
/// is no folder; any other folder of that name is an [`HubError::AlreadyExists`].
fn existing_source(final_dir: &Path, repo: &RepoId) -> Result<Option<IrisSource>, HubError> {
    if !final_dir.exists() {
        return Ok(None);
    }
    let reason = match read_source(final_dir) {
        Ok(Some(source)) if source.repo_id.eq_ignore_ascii_case(repo.as_str()) => {
            return Ok(Some(source));
        }
        Ok(Some(source)) => format!("it holds {}", source.repo_id),
        Ok(None) => format!("it was not downloaded from {repo}"),
        Err(err) => format!("it was not downloaded from {repo} ({err})"),
    };
    Err(HubError::AlreadyExists {
        path: final_dir.to_owned(),
        reason,
    })
}

fn already_downloaded(
    id: String,
    final_dir: PathBuf,
    source: IrisSource,
    listing: &RepoListing,
    revision: &str,
) -> Result<DownloadedModel, HubError> {
    if source.commit != listing.commit {
        return Err(HubError::AlreadyExists {
            path: final_dir,
            reason: format!(
                "it holds commit {} of {}, while {revision} is now commit {}",
                source.commit, source.repo_id, listing.commit
            ),
        });
    }
    Ok(DownloadedModel {
        id,
        path: final_dir,
        source,
        already_present: true,
    })
}

/// Downloads and verifies every listed file into `partial_dir`. A verified file is renamed from
/// `<name>.part` to `<name>`, so a later attempt skips it.
fn fetch_all(
    ctx: &TransferContext<'_>,
    listing: &RepoListing,
    partial_dir: &Path,
    reporter: &mut ProgressReporter<'_>,
) -> Result<(), HubError> {
    let total_bytes: u64 = listing.files.iter().map(|f| f.size).sum();
    reporter.event(DownloadProgress::Started {
        repo_id: ctx.repo.to_string(),
        files: listing.files.len(),
        total_bytes,
        resumed_bytes: resumed_bytes(listing, partial_dir)?,
    });
    let mut done_before = 0;
    for file in &listing.files {
        let verified = partial_dir.join(&file.name);
        if file_len(&verified)? == Some(file.size) {
            done_before += file.size;
            continue;
        }
        let part = part_path(partial_dir, &file.name);
        let url = format!(
            "{}/{}/resolve/{}/{}",
            ctx.client.base_url(),
            ctx.repo.as_str(),
            listing.commit,
            encode_segment(&file.name)
        );
        fetch_part(ctx, file, &url, &part, done_before, reporter)?;
        done_before += file.size;
        if done_before == total_bytes {
            reporter.progress_now(&file.name, total_bytes);
        }
        reporter.event(DownloadProgress::Verifying {
            file: file.name.clone(),
        });
        if let Err(err) = verify_file(&part, file, ctx.cancel, ctx.repo.as_str()) {
            if matches!(err, HubError::Checksum { .. }) {
                remove_part(&part)?;
            }
            return Err(err);
        }
        fs::rename(&part, &verified).map_err(|e| HubError::io("rename", &part, e))?;
    }
    if let Some(last) = listing.files.last() {
        reporter.progress_now(&last.name, total_bytes);
    }
    Ok(())
}

fn part_path(partial_dir: &Path, name: &str) -> PathBuf {
    partial_dir.join(format!("{name}.part"))
}

/// Bytes already on disk from earlier attempts: verified files and `.part` files.
fn resumed_bytes(listing: &RepoListing, partial_dir: &Path) -> Result<u64, HubError> {
    let mut resumed = 0;
    for file in &listing.files {
        let have = match file_len(&partial_dir.join(&file.name))? {
            Some(verified) if verified == file.size => verified,
            _ => file_len(&part_path(partial_dir, &file.name))?.unwrap_or(0),
        };
        resumed += have.min(file.size);
    }
    Ok(resumed)
}

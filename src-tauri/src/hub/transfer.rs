//! Streaming one file into its `.part` file, resuming with a Range request when part of it is
//! already there.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

use ureq::Body;
use ureq::http::Response;

use super::client::HubClient;
use super::error::HubError;
use super::listing::RemoteFile;
use super::progress::{CancelFlag, ProgressReporter};
use super::repo_id::RepoId;

const CHUNK: usize = 64 * 1024;

/// What every file transfer of one download shares.
pub(crate) struct TransferContext<'a> {
    pub client: &'a HubClient,
    pub repo: &'a RepoId,
    pub revision: &'a str,
    pub cancel: &'a CancelFlag,
}

impl TransferContext<'_> {
    pub(crate) fn cancelled(&self) -> HubError {
        HubError::Cancelled {
            repo_id: self.repo.to_string(),
        }
    }
}

/// Downloads `file` (at `url`) into `part` until it holds `file.size` bytes.
///
/// `done_before` is the byte count of the files before this one, for overall progress. On
/// cancel or a broken connection the `.part` file keeps what arrived, for the next attempt.
pub(crate) fn fetch_part(
    ctx: &TransferContext<'_>,
    file: &RemoteFile,
    url: &str,
    part: &Path,
    done_before: u64,
    reporter: &mut ProgressReporter<'_>,
) -> Result<(), HubError> {
    let have = match file_len(part)? {
        Some(have) if have == file.size => return Ok(()),
        Some(have) if have < file.size => have,
        Some(_) => {
            remove_part(part)?;
            0
        }
        None => 0,
    };
    let mut response = ctx.client.get(url, (have > 0).then_some(have))?;
    let status = response.status().as_u16();
    let append = match status {
        206 => {
            check_range_start(&response, url, have)?;
            true
        }
        // A 200 answers a Range request when the server ignores it: start the file over.
        200 => false,
        // Nothing left to send: verification decides whether the part is right.
        416 => return Ok(()),
        401 | 403 | 404 => {
            return Err(HubError::NotFound {
                repo_id: ctx.repo.to_string(),
                revision: ctx.revision.to_owned(),
                url: url.to_owned(),
                status,
            });
        }
        _ => {
            return Err(HubError::Http {
                url: url.to_owned(),
                status,
            });
        }
    };
    if !append && have > 0 {
        tracing::info!(file = %file.name, have, "server ignored the Range request; restarting");
    }
    let out = open_part(part, append)?;
    let start = if append { have } else { 0 };
    let job = Stream {
        file,
        url,
        part,
        done_before,
    };
    job.copy(ctx, &mut response, out, start, reporter)
}

struct Stream<'a> {
    file: &'a RemoteFile,
    url: &'a str,
    part: &'a Path,
    done_before: u64,
}

impl Stream<'_> {
    fn copy(
        &self,
        ctx: &TransferContext<'_>,
        response: &mut Response<Body>,
        mut out: File,
        mut len: u64,
        reporter: &mut ProgressReporter<'_>,
    ) -> Result<(), HubError> {
        let mut reader = response.body_mut().as_reader();
        let mut buf = vec![0u8; CHUNK];
        loop {
            if ctx.cancel.is_cancelled() {
                return Err(ctx.cancelled());
            }
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.network(format!("{e} after {len} bytes"))),
            };
            out.write_all(&buf[..n])
                .map_err(|e| HubError::io("write", self.part, e))?;
            len += n as u64;
            reporter.progress(&self.file.name, self.done_before + len.min(self.file.size));
        }
        if len < self.file.size {
            return Err(self.network(format!(
                "connection closed after {len} of {} bytes",
                self.file.size
            )));
        }
        Ok(())
    }

    fn network(&self, detail: String) -> HubError {
        HubError::Network {
            url: self.url.to_owned(),
            detail: format!("{}: {detail}", self.file.name),
        }
    }
}

/// The size of what an earlier attempt left in `path`, `None` when there is nothing.
pub(crate) fn file_len(path: &Path) -> Result<Option<u64>, HubError> {
    match fs::metadata(path) {
        Ok(meta) => Ok(Some(meta.len())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(HubError::io("read the size of", path, e)),
    }
}

pub(crate) fn remove_part(path: &Path) -> Result<(), HubError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(HubError::io("delete", path, e)),
    }
}

fn open_part(path: &Path, append: bool) -> Result<File, HubError> {
    let mut options = OpenOptions::new();
    options.create(true);
    if append {
        options.append(true);
    } else {
        options.write(true).truncate(true);
    }
    options
        .open(path)
        .map_err(|e| HubError::io("open for writing", path, e))
}

/// A 206 must continue exactly where the part file ends: `Content-Range: bytes <have>-<end>/<n>`.
fn check_range_start(response: &Response<Body>, url: &str, have: u64) -> Result<(), HubError> {
    let header = response
        .headers()
        .get("content-range")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let start = header
        .strip_prefix("bytes ")
        .and_then(|rest| rest.split_once('-'))
        .and_then(|(start, _)| start.trim().parse::<u64>().ok());
    if start == Some(have) {
        Ok(())
    } else {
        Err(HubError::BadResponse {
            url: url.to_owned(),
            reason: format!("asked for bytes from {have}, got Content-Range {header:?}"),
        })
    }
}

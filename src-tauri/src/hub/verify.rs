//! Checking a downloaded file against the listing: size, then SHA-256 or git blob SHA-1.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::error::{Check, HubError};
use super::listing::{ExpectedHash, RemoteFile};
use super::progress::CancelFlag;

const HASH_CHUNK: usize = 1024 * 1024;

/// Checks the file at `path` against `file`'s size and hash.
///
/// Cancel is checked between 1 MiB chunks; a cancelled check leaves the file as it is.
pub(crate) fn verify_file(
    path: &Path,
    file: &RemoteFile,
    cancel: &CancelFlag,
    repo_id: &str,
) -> Result<(), HubError> {
    let len = std::fs::metadata(path)
        .map_err(|e| HubError::io("read the size of", path, e))?
        .len();
    if len != file.size {
        return Err(HubError::Checksum {
            file: file.name.clone(),
            check: Check::Size,
            expected: file.size.to_string(),
            got: len.to_string(),
        });
    }
    let (check, expected, got) = match &file.hash {
        ExpectedHash::Sha256(expected) => {
            let got = hash_file(path, Sha256::new(), cancel, repo_id)?;
            (Check::Sha256, expected, got)
        }
        ExpectedHash::GitBlobSha1(expected) => {
            let mut hasher = Sha1::new();
            hasher.update(git_blob_header(len));
            let got = hash_file(path, hasher, cancel, repo_id)?;
            (Check::GitBlobSha1, expected, got)
        }
    };
    if &got != expected {
        return Err(HubError::Checksum {
            file: file.name.clone(),
            check,
            expected: expected.clone(),
            got,
        });
    }
    Ok(())
}

/// The header git hashes before a blob's bytes: `blob <len>\0`.
pub(crate) fn git_blob_header(len: u64) -> Vec<u8> {
    format!("blob {len}\0").into_bytes()
}

/// The git object id of `bytes` stored as a blob (what `git hash-object` prints).
pub fn git_blob_sha1(bytes: &[u8]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(git_blob_header(bytes.len() as u64));
    hasher.update(bytes);
    to_hex(&hasher.finalize())
}

fn hash_file<D: Digest>(
    path: &Path,
    mut hasher: D,
    cancel: &CancelFlag,
    repo_id: &str,
) -> Result<String, HubError> {
    let mut reader = File::open(path).map_err(|e| HubError::io("open", path, e))?;
    let mut buf = vec![0u8; HASH_CHUNK];
    loop {
        if cancel.is_cancelled() {
            return Err(HubError::Cancelled {
                repo_id: repo_id.to_owned(),
            });
        }
        let n = reader
            .read(&mut buf)
            .map_err(|e| HubError::io("read", path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(to_hex(&hasher.finalize()))
}

pub(crate) fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

//! Hub repository ids (`owner/name`), checked before any request is made.

use std::fmt;

use super::error::HubError;

/// The longest owner or name the Hub accepts (huggingface_hub `validate_repo_id`: 96).
const MAX_PART_LEN: usize = 96;

/// A validated `owner/name` model repository id.
///
/// The rules follow huggingface_hub's `utils/_validators.py` (`REPO_ID_REGEX` and
/// `validate_repo_id`), restricted to the `namespace/repo_name` form and to ASCII as the Hub
/// itself is: each part is 1..=96 of `[A-Za-z0-9_.-]`, starts and ends with a letter, digit or
/// `_`, has no `--` or `..`, and the id does not end with `.git`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoId {
    id: String,
}

impl RepoId {
    /// Checks `text` (surrounding whitespace ignored) and returns the id.
    pub fn parse(text: &str) -> Result<Self, HubError> {
        let id = text.trim();
        let invalid = |reason| HubError::InvalidRepoId {
            repo_id: text.to_owned(),
            reason,
        };
        let (owner, name) = id
            .split_once('/')
            .ok_or_else(|| invalid("expected the form owner/name"))?;
        if name.contains('/') {
            return Err(invalid("expected the form owner/name, with one '/'"));
        }
        check_part(owner).map_err(invalid)?;
        check_part(name).map_err(invalid)?;
        if id.ends_with(".git") {
            return Err(invalid("must not end with .git"));
        }
        Ok(RepoId { id: id.to_owned() })
    }

    /// The id as written on the Hub, `owner/name`.
    pub fn as_str(&self) -> &str {
        &self.id
    }

    /// The local model id and folder name: `owner--name`, as in the HF cache. The Hub forbids
    /// `--` inside ids, so this maps back to exactly one repository.
    pub fn model_id(&self) -> String {
        self.id.replacen('/', "--", 1)
    }
}

impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

fn check_part(part: &str) -> Result<(), &'static str> {
    if part.is_empty() {
        return Err("owner and name must not be empty");
    }
    if part.len() > MAX_PART_LEN {
        return Err("owner and name are at most 96 characters each");
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if !part.chars().all(allowed) {
        return Err("only letters, digits, '-', '_' and '.' are allowed");
    }
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let starts_and_ends_with_word = part.starts_with(word) && part.ends_with(word);
    if !starts_and_ends_with_word {
        return Err("owner and name must not start or end with '-' or '.'");
    }
    if part.contains("--") || part.contains("..") {
        return Err("'--' and '..' are not allowed");
    }
    Ok(())
}

/// Percent-encodes one URL path segment (everything but RFC 3986 unreserved characters), as
/// huggingface_hub does with `quote(revision, safe="")`.
pub(crate) fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// True for a git commit id as the Hub reports it: 40 (SHA-1) or 64 (SHA-256) lowercase hex.
pub(crate) fn is_commit_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

//! The error type of the prompt module.

use std::path::PathBuf;

/// Everything that can go wrong between a conversation and token ids (and back).
///
/// File errors carry the path; template errors carry the template's name (usually the file it
/// came from) and the line Jinja points at.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    /// A file the checkpoint needs is not there.
    #[error("{path}: missing ({what})")]
    MissingFile {
        /// The file that was looked for.
        path: PathBuf,
        /// What the file is for, and what to do about it.
        what: &'static str,
    },

    /// A file exists but could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A JSON file is not valid JSON or does not have the expected shape.
    #[error("{path}: malformed JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What serde_json found wrong.
        #[source]
        source: serde_json::Error,
    },

    /// `tokenizer.json` could not be loaded by the `tokenizers` crate.
    #[error("{path}: cannot load the tokenizer: {reason}")]
    TokenizerLoad {
        /// The `tokenizer.json` file.
        path: PathBuf,
        /// The reason given by `tokenizers`.
        reason: String,
    },

    /// The tokenizer configuration is inconsistent (e.g. `add_bos_token` without a BOS token).
    #[error("{path}: {reason}")]
    TokenizerConfig {
        /// The `tokenizer_config.json` file (or the folder when no file is involved).
        path: PathBuf,
        /// What is inconsistent.
        reason: String,
    },

    /// Encoding text into ids failed.
    #[error("cannot tokenise the text: {reason}")]
    Encode {
        /// The reason given by `tokenizers`.
        reason: String,
    },

    /// Decoding ids into text failed.
    #[error("cannot decode token ids: {reason}")]
    Decode {
        /// The reason given by `tokenizers`.
        reason: String,
    },

    /// The checkpoint carries no chat template at all.
    #[error(
        "{dir}: no chat template (looked for chat_template.json, chat_template.jinja, \
         processor_config.json and tokenizer_config.json)"
    )]
    NoChatTemplate {
        /// The checkpoint folder.
        dir: PathBuf,
    },

    /// The checkpoint carries several named templates but none named `default`.
    #[error("{path}: no chat template named \"default\" (available: {available:?})")]
    NoDefaultTemplate {
        /// The file holding the named templates.
        path: PathBuf,
        /// The names that exist.
        available: Vec<String>,
    },

    /// The template does not parse.
    #[error("chat template {name}, line {line}: syntax error: {message}")]
    TemplateSyntax {
        /// The template's name (the file it came from).
        name: String,
        /// The line minijinja points at (1-based; 0 when unknown).
        line: usize,
        /// minijinja's message.
        message: String,
    },

    /// The template failed while rendering.
    #[error("chat template {name}, line {line}: {message}")]
    TemplateRender {
        /// The template's name (the file it came from).
        name: String,
        /// The line minijinja points at (1-based; 0 when unknown).
        line: usize,
        /// minijinja's message.
        message: String,
    },

    /// The template called `raise_exception(message)`: the conversation is one the checkpoint
    /// refuses (e.g. a system message where none is allowed).
    #[error("chat template {name}, line {line} rejected the conversation: {message}")]
    TemplateRaised {
        /// The template's name (the file it came from).
        name: String,
        /// The line of the `raise_exception` call (1-based; 0 when unknown).
        line: usize,
        /// The message the template passed to `raise_exception`.
        message: String,
    },

    /// The rendered text holds a different number of image placeholders than there are images.
    #[error(
        "the prompt has {found} image placeholder(s) {placeholder:?} but {expected} image(s) \
         were given"
    )]
    PlaceholderCount {
        /// The placeholder string (e.g. `<image>`).
        placeholder: String,
        /// Placeholders found in the text.
        found: usize,
        /// Images given by the caller.
        expected: usize,
    },

    /// The ids hold a different number of image tokens than the per-image counts add up to.
    #[error("the ids hold {found} image token(s) {token_id} but the images need {expected}")]
    ImageTokenCount {
        /// The image token id.
        token_id: u32,
        /// Image tokens found in the ids.
        found: usize,
        /// The sum of the per-image counts.
        expected: usize,
    },
}

impl PromptError {
    /// Wraps an I/O error with the file it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// Wraps a JSON error with the file it concerns.
    pub(crate) fn json(path: impl Into<PathBuf>, source: serde_json::Error) -> Self {
        Self::Json {
            path: path.into(),
            source,
        }
    }
}

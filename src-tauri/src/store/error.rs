//! The store's error type: `Display` carries the detail (for logs and `AppError.details`),
//! [`StoreError::code`] the stable IPC code and [`StoreError::user_message`] plain words.

use std::path::PathBuf;

use rusqlite::ErrorCode;

/// Everything that can go wrong in the chat store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A chat, message or image id that is not (or no longer) in the database.
    #[error("{what} {id:?} not found")]
    NotFound { what: &'static str, id: String },

    /// The caller passed something the store refuses to keep (empty title, not an image, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// The file is not readable as SQLite at all (random bytes, truncated, damaged header).
    #[error("{path} is damaged or not an SQLite database: {source}")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    /// A valid SQLite database that belongs to something else; it is left untouched.
    #[error("{path} is not an Iris database: {reason}")]
    NotIris { path: PathBuf, reason: String },

    /// An Iris database whose schema is newer than this build understands.
    #[error("{path} has schema version {found}; this build of Iris knows up to {supported}")]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    /// A stored value that does not parse (unknown status, malformed JSON column).
    #[error("stored {what} of {id:?} is unreadable: {detail}")]
    BadRow {
        what: &'static str,
        id: String,
        detail: String,
    },

    /// Any other SQLite failure, with what the store was doing at the time.
    #[error("SQLite failed while {context}: {source}")]
    Sqlite {
        context: &'static str,
        #[source]
        source: rusqlite::Error,
    },

    /// Creating the database's folder failed.
    #[error("cannot create the folder {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    /// The stable IPC error code (`AppError.code` in docs/app.md).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "NOT_FOUND",
            Self::InvalidInput(_) => "INVALID_INPUT",
            Self::Corrupt { .. }
            | Self::NotIris { .. }
            | Self::TooNew { .. }
            | Self::BadRow { .. }
            | Self::Sqlite { .. }
            | Self::Io { .. } => "STORAGE",
        }
    }

    /// What to tell the user, in plain words; the detail stays in `Display`.
    pub fn user_message(&self) -> String {
        match self {
            Self::NotFound { what, .. } => format!("That {what} no longer exists."),
            Self::InvalidInput(why) => why.clone(),
            Self::Corrupt { path, .. } => format!(
                "The chat database at {} is damaged or is not a database. Iris left it untouched; \
                 move it away to start with an empty chat history.",
                path.display()
            ),
            Self::NotIris { path, .. } => format!(
                "The file {} belongs to another program, so Iris left it untouched. Move it away \
                 to let Iris create its chat database there.",
                path.display()
            ),
            Self::TooNew { .. } => {
                "The chat database was written by a newer version of Iris. Update Iris to open it."
                    .to_owned()
            }
            Self::BadRow { .. } => "Part of the chat history could not be read.".to_owned(),
            Self::Sqlite { source, .. } => sqlite_user_message(source).to_owned(),
            Self::Io { path, .. } => format!(
                "Iris cannot create its data folder {}. Check the permissions.",
                path.display()
            ),
        }
    }
}

fn sqlite_user_message(source: &rusqlite::Error) -> &'static str {
    match source.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => "The disk is full, so Iris cannot save the chat.",
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            "The chat database is in use by another program. Close it and try again."
        }
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => {
            "Iris is not allowed to write its chat database. Check the data folder's permissions."
        }
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            "The chat database is damaged. Move it away to start with an empty chat history."
        }
        _ => "Iris could not read or write its chat database.",
    }
}

/// Attaches what the store was doing to a rusqlite error.
pub(crate) trait SqlContext<T> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError>;
}

impl<T> SqlContext<T> for rusqlite::Result<T> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Sqlite { context, source })
    }
}

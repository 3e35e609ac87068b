//! The store's errors: each names the path it is about and, where there is
//! one, what to do.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// The OS error is in the message, not a `source`: printing the chain
    /// would say it twice.
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: io::Error },
    #[error("{} is not a tokenaudit store (no _commits/ folder); create one with `tokenaudit ingest LOGS --store {}`", path.display(), path.display())]
    NotAStore { path: PathBuf },
    #[error("{}: unreadable commit file: {message}", path.display())]
    BadCommit { path: PathBuf, message: String },
    #[error("{}: store schema version {found}, this tokenaudit reads up to {supported}: upgrade tokenaudit", path.display())]
    NewerSchema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("{}: {message}", path.display())]
    Parquet { path: PathBuf, message: String },
    #[error("could not commit after {attempts} attempts: other ingests kept committing first")]
    Contended { attempts: u32 },
    #[error("another ingest committed Claude Code session logs meanwhile, and calls repeat across their files: nothing was committed; run this ingest again")]
    AgentLogsRaced,
    #[error("{0}")]
    Invalid(String),
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> StoreError {
        let path = path.into();
        move |error| StoreError::Io { path, error }
    }

    /// Any error about a Parquet file, by its message (Arrow's errors while
    /// reading batches, for one).
    pub(crate) fn message<E: std::fmt::Display>(
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(E) -> StoreError {
        let path = path.into();
        move |e| StoreError::Parquet {
            path,
            message: e.to_string(),
        }
    }

    pub(crate) fn parquet(
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(parquet::errors::ParquetError) -> StoreError {
        let path = path.into();
        move |e| StoreError::Parquet {
            path,
            message: e.to_string(),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

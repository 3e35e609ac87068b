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
    #[error("{} is not a tokenaudit store ({}){}", path.display(), not_a_store_why(path), not_a_store_hint(path))]
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
    #[error("another ingest committed Claude Code or Codex session logs meanwhile, and calls repeat across their files: nothing was committed; run this ingest again")]
    AgentLogsRaced,
    /// Another ingest (or a prune, a compaction) committed files this one
    /// had planned to move or replace: planned again on top of it.
    #[error("another process committed, meanwhile, files this ingest had planned to move or replace: nothing was committed; run this ingest again")]
    Replan,
    /// A claimed commit whose parts could not all be put in place: it is
    /// the store's now, and the next command that opens it finishes it.
    #[error("commit {number} is made (its data is in the store), but putting its parts in place failed ({cause}): the next command that opens the store finishes it; free the space or fix the folder, then run `tokenaudit store check --store STORE`")]
    Unfinished { number: u64, cause: Box<StoreError> },
    /// Another process committed a change to what a compaction or a
    /// prune had read before it could commit its own.
    #[error("another process changed the store during the {kind}: run it again")]
    Changed { kind: &'static str },
    #[error("{0}")]
    Invalid(String),
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> StoreError {
        let path = path.into();
        move |error| StoreError::Io { path, error }
    }

    /// A part this process planned to read was removed meanwhile: another
    /// ingest or a compaction committed a rewrite of it. Planning again on
    /// top of their commit is the answer, not a failed run (hunt71: the
    /// loser of two overlapping ingests, or of an ingest and a compaction,
    /// failed with `No such file or directory`).
    pub(crate) fn part_vanished(&self) -> bool {
        match self {
            StoreError::Io { error, .. } => error.kind() == io::ErrorKind::NotFound,
            StoreError::Parquet { message, .. } => {
                message.contains("No such file or directory") || message.contains("not found")
            }
            _ => false,
        }
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

/// What `path` is instead of a store.
fn not_a_store_why(path: &std::path::Path) -> &'static str {
    if path.is_file() {
        "it is a file"
    } else if !path.exists() {
        "it does not exist"
    } else {
        "no _commits/ folder"
    }
}

/// What to do: a folder of logs is audited as logs or ingested into a
/// store of its own; anything else can become a store by an ingest.
fn not_a_store_hint(path: &std::path::Path) -> String {
    if path.to_str().is_some_and(|s| s.contains("://")) {
        // No ingest writes to a URL; a build without the `cluster` feature
        // reads none.
        "; a store URL is read with `--engine` in a build with the `cluster` feature (docs/cluster.md); a store is made by `tokenaudit ingest LOGS --store DIR` in a folder, then copied to the object store".to_string()
    } else if crate::layout::holds_logs(path) {
        format!(
            "; it holds logs: audit them with `tokenaudit audit {0}`, or keep them in a store of their own with `tokenaudit ingest {0} --store STORE`",
            path.display()
        )
    } else if path.is_file() {
        "; give the store's folder".to_string()
    } else {
        format!(
            "; create one with `tokenaudit ingest LOGS --store {}`",
            path.display()
        )
    }
}

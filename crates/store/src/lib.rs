//! The nightly store: every call record ingested once into a day-partitioned
//! Parquet dataset, with a commit log that says exactly which rows are live.
//!
//! ```text
//! DIR/
//!   calls/day=2026-10-01/part-<ingest>-<n>.parquet   one row per call (Hive layout)
//!   calls/day=__HIVE_DEFAULT_PARTITION__/…            calls without a timestamp
//!   _commits/00000000000000000001.json                 the commit log, created only if absent
//!   _findings/00000000000000000001.json                the findings ledger, one entry a night
//!   _inflight/<ingest>.json                            ingests under way (for recovery)
//!   _cache/day=2026-10-01/<data>-<options>.acc         a whole day's accumulator, for audits
//! ```
//!
//! The path of a call: [`ingest`] plans which sources are new, grown or
//! changed ([`plan`]), runs the ordinary ingest pipeline with a
//! [`write::PartSink`] per worker that prices each record and buffers it in
//! Arrow builders per day, writes parts under temporary names, and claims the
//! next commit number ([`commit`]); then the temporary parts are renamed into
//! place. [`scan`] reads the live parts of the days a command asks for back
//! into [`tokenaudit_core::CallRecord`]s, so every command runs the same
//! analysis on the store as on raw logs; [`cache`] keeps each whole day's
//! accumulator, so the next audit merges it instead.
//!
//! Invariants: `calls/**/*.parquet` holds exactly the rows of the committed
//! parts once [`Store::open`] has run (it completes or rolls back an
//! interrupted commit); a source's rows are in the store once (a changed
//! source's old rows are removed in the commit that adds its new ones); a
//! commit file is complete when it appears (written aside, then hard-linked
//! into place, which fails if the number is taken).

pub mod cache;
pub mod commit;
pub mod error;
pub mod fault;
pub mod layout;
pub mod ledger;
pub mod maintain;
pub mod plan;
pub mod scan;
pub mod schema;
pub mod store;
pub mod write;

pub use commit::{Commit, PartEntry, SourceEntry};
pub use error::StoreError;
pub use store::{IngestReport, Store, StoreIngest};

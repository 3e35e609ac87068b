//! Reading call logs into canonical call records.
//!
//! The path of a log line: [`source`] finds inputs and opens them with
//! transparent decompression; [`container`] turns JSON arrays, multi-line
//! documents and CSV into JSON lines; [`pipeline`] splits each stream into chunks on
//! line boundaries and parses the chunks in parallel on rayon's pool; a
//! [`format::Format`] chosen per file (the gateway reader, or a user mapping)
//! turns each line into a [`tokenaudit_core::CallRecord`], or into a counted
//! [`rejects::Reject`]; the records go to a caller-supplied [`pipeline::RecordSink`].
//! Memory is bounded by the chunk size times the number of chunks in flight,
//! whatever the size of the input.

pub mod claude_code;
pub mod codex;
pub(crate) mod columns;
pub mod container;
pub mod dedup;
pub mod fields;
pub mod format;
pub mod gateway;
pub mod helicone;
pub mod langfuse;
pub mod lines;
pub mod mapping;
mod mapping_scan;
pub mod otel;
pub mod parquet;
pub mod pipeline;
pub mod provider;
pub mod rejects;
pub mod scan;
pub(crate) mod scan_value;
pub mod source;

pub use format::Format;
pub use pipeline::{ingest, IngestOptions, IngestSummary, Location, RecordSink};
pub use rejects::{Reject, RejectReason, RejectSample, Rejects};
pub use source::Source;

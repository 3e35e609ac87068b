//! What every reader fills and how it becomes a call record: the lenient
//! field readers and the shared last step ([`fields`]), the staging type the
//! JSON readers fill with a line's raw fields and its record builder
//! ([`staging`]), tags from metadata objects and tag lists ([`tags`]), and
//! the key Claude Code copies are deduplicated by ([`dedup_key`]), and the
//! calls a Claude usage's iterations bill beside the line's ([`iterations`]).

pub mod dedup_key;
pub mod fields;
pub mod iterations;
pub mod staging;
pub mod tags;

//! The heart of tokenaudit: the canonical call record, exact money and the
//! pricing catalog.
//!
//! This crate does no I/O and reads no clock, so everything in it is
//! deterministic and testable with plain values. Readers (in `tokenaudit-ingest`)
//! produce [`CallRecord`]s; the pricing engine turns a record into exact
//! [`Money`].

pub mod money;
pub mod record;

pub use money::Money;
pub use record::{
    is_response_id, minhash_similarity, CallRecord, CallStatus, Field, MinHash, ServiceTier, Usage,
    MINHASH_LEN,
};
pub mod pricing;

//! The audit over the store on DataFusion and Ballista (the binary's
//! `cluster` feature; docs/cluster.md).
//!
//! The store's live parts are a table; the audit's accumulation is an
//! aggregate function over it ([`partial`]) whose state is an encoded
//! `tokenaudit_analyze::Accumulator` and whose merge is the accumulator's
//! own; the plan runs in this process, on a standalone Ballista or on a
//! Ballista cluster ([`session::Engine`]), and the client finishes the
//! audit from the merged state ([`audit`]). [`serve`] runs the cluster's
//! processes; [`sql`] answers ad-hoc SQL over the same tables.
#![cfg(feature = "engine")]

pub mod audit;
pub mod location;
pub mod partial;
pub mod serve;
pub mod session;
pub mod sql;

pub use location::StoreUrl;
pub use session::Engine;

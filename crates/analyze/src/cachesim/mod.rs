//! Offline prompt-cache simulation: what a provider's prompt cache would
//! have given this traffic, replayed in time order under the provider's own
//! rules, against what the logs say it had.
//!
//! - [`policy`]: each provider's caching rules as data (minimum cacheable
//!   length, granularity, lifetimes, what a write costs), each fact cited.
//! - [`replay`]: the replay engines. [`replay::Runs`] keeps one prefix's
//!   call times as runs of calls no further apart than the shortest
//!   lifetime, which merge exactly across workers and replay any longer
//!   lifetime; [`replay::ChainCache`] replays requests described by chains
//!   of block hashes (the Mooncake trace's `hash_ids`), hit up to the first
//!   block not in the cache.
//! - [`response`]: the exact-match *response* cache of duplicate requests,
//!   over a sweep of TTLs.

pub mod policy;
pub mod replay;
pub mod response;

#[cfg(test)]
mod mooncake_tests;

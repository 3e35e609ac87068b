//! What the audit works out when a log does not say it outright.
//!
//! Real exports rarely carry a turn number or the size of the system prompt.
//! The rules still need them, so they are inferred here from what the logs
//! do carry, each inference with the confidence it costs:
//!
//! - [`sessions`]: turns from time order (a retry is not a new turn) or from
//!   the number of user messages, and sessions cut by an inactivity gap when
//!   no session id is logged.
//! - [`prefix`]: the size of a system-prompt prefix from a logged count, its
//!   text, a prefix hash chain, or, as an upper bound, the smallest input of
//!   the calls that share it.
//! - [`timeline`]: the bounded, mergeable sample of time-ordered calls that
//!   turn inference needs (calls arrive in any order on several threads).
//!
//! Everything here is a pure function of its input, so each inference is
//! pinned down by small hand-computed cases.

pub mod prefix;
pub mod sessions;
pub mod timeline;

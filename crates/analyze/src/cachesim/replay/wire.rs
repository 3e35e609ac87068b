//! The binary form of a prefix's runs (see `crate::wire`): the gap, every
//! run and whether a cap joined any, so a decoded sample replays and merges
//! as the original.

use crate::wire::wire_struct;

use super::{Run, Runs};

wire_struct!(Run { start, end, calls });

wire_struct!(Runs {
    gap_ms,
    runs,
    exact,
});

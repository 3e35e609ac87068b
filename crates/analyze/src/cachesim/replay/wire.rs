//! The binary form of a prefix's runs (see `crate::wire`): the gap, every
//! run and whether a cap joined any, so a decoded sample replays and merges
//! as the original.

use crate::wire::{wire_struct, Reader, Result, Wire};

use super::{Run, Runs};

wire_struct!(Run { start, end, calls });

impl Wire for Runs {
    fn put(&self, w: &mut Vec<u8>) {
        self.gap_ms.put(w);
        // As a `Vec` of them.
        self.runs.len().put(w);
        for run in &self.runs {
            run.put(w);
        }
        self.exact.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Runs {
            gap_ms: Wire::get(r)?,
            runs: Vec::<Run>::get(r)?.into(),
            exact: Wire::get(r)?,
            hint: 0,
        })
    }
}

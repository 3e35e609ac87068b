//! The binary form of the timeline sample (see `crate::wire`): its level,
//! weight and every kept timeline with its calls as they stand (sorted or
//! not: the sample sorts them itself when it trims or finishes).

use crate::wire::{wire_struct, Reader, Result, Wire, WireError};

use super::{Grouping, Timeline, Timelines, TurnCall};

impl Wire for Grouping {
    fn put(&self, w: &mut Vec<u8>) {
        w.push(match self {
            Grouping::Session => 0,
            Grouping::UserDay => 1,
        });
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        match u8::get(r)? {
            0 => Ok(Grouping::Session),
            1 => Ok(Grouping::UserDay),
            t => Err(WireError(format!("timeline grouping of kind {t}"))),
        }
    }
}

wire_struct!(TurnCall {
    millis,
    prompt_fp,
    input,
    input_cost,
    cost,
    user_messages,
    flags,
});

wire_struct!(Timeline {
    cell,
    grouping,
    calls,
    seen,
});

wire_struct!(Timelines { map, level, weight });

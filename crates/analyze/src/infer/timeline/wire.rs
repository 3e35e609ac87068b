//! The binary form of the timeline sample (see `crate::wire`): its level,
//! weight, every kept timeline (cell, grouping, calls seen) and the kept
//! calls with their keys, as they stand (grouped or not: the sample groups
//! them itself when it trims or finishes).

use crate::wire::{wire_struct, Reader, Result, Wire, WireError};

use super::{Grouping, Meta, Timelines, TurnCall};

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
    user_messages,
    flags,
});

/// Without where its calls are: counted again from the keys when read.
impl Wire for Meta {
    fn put(&self, w: &mut Vec<u8>) {
        self.cell.put(w);
        self.grouping.put(w);
        self.seen.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Meta {
            cell: Wire::get(r)?,
            grouping: Wire::get(r)?,
            seen: Wire::get(r)?,
            held: 0,
            start: 0,
        })
    }
}

impl Wire for Timelines {
    fn put(&self, w: &mut Vec<u8>) {
        self.map.put(w);
        self.keys.put(w);
        self.calls.put(w);
        self.level.put(w);
        self.weight.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        let mut t = Timelines {
            map: Wire::get(r)?,
            keys: Wire::get(r)?,
            calls: Wire::get(r)?,
            grouped: false,
            level: Wire::get(r)?,
            weight: Wire::get(r)?,
        };
        if t.keys.len() != t.calls.len() {
            return Err(WireError(format!(
                "{} timeline keys for {} calls",
                t.keys.len(),
                t.calls.len()
            )));
        }
        for k in &t.keys {
            let m = t
                .map
                .get_mut(k)
                .ok_or_else(|| WireError(format!("a call of timeline {k}, which is not kept")))?;
            m.held += 1;
        }
        Ok(t)
    }
}

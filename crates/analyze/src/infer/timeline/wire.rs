//! The binary form of the timeline sample (see `crate::wire`): grouped,
//! each kept timeline with its calls (see the `impl` below).

use crate::wire::{wire_struct, Reader, Result, Wire, WireError};

use super::{Grouping, Meta, Timelines, TurnCall, MAX_CALLS};

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

/// A grouped sample: its level and weight, then each kept timeline in key
/// order (its key, cell, grouping, calls seen and calls kept) followed by
/// its calls, sorted. Read back grouped: no timeline is found call by call,
/// and a merge of two read states joins them timeline by timeline.
impl Wire for Timelines {
    fn put(&self, w: &mut Vec<u8>) {
        if !self.grouped {
            let mut grouped = self.clone();
            grouped.group();
            return grouped.put(w);
        }
        self.level.put(w);
        self.weight.put(w);
        self.map.len().put(w);
        // The calls the timelines hold (not those a merge left dead).
        self.map
            .values()
            .map(|m| m.held as usize)
            .sum::<usize>()
            .put(w);
        let mut entries: Vec<(&u64, &Meta)> = self.map.iter().collect();
        entries.sort_unstable_by_key(|(k, _)| **k);
        for (k, m) in entries {
            k.put(w);
            m.cell.put(w);
            m.grouping.put(w);
            m.seen.put(w);
            m.held.put(w);
            for c in &self.calls[m.start as usize..(m.start + m.held) as usize] {
                c.put(w);
            }
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        let level = Wire::get(r)?;
        let weight = Wire::get(r)?;
        let timelines = r.len()?;
        let total = r.len()?;
        let mut map =
            rustc_hash::FxHashMap::with_capacity_and_hasher(timelines, Default::default());
        let mut keys = Vec::with_capacity(total);
        let mut calls = Vec::with_capacity(total);
        for _ in 0..timelines {
            let key: u64 = Wire::get(r)?;
            let cell = Wire::get(r)?;
            let grouping = Wire::get(r)?;
            let seen: u64 = Wire::get(r)?;
            let held: u32 = Wire::get(r)?;
            if u64::from(held) > seen || held as usize > MAX_CALLS {
                return Err(WireError(format!(
                    "a timeline of {seen} calls holding {held}"
                )));
            }
            let start = calls.len() as u32;
            for _ in 0..held {
                calls.push(TurnCall::get(r)?);
            }
            keys.extend(std::iter::repeat_n(key, held as usize));
            let meta = Meta {
                cell,
                grouping,
                seen,
                held,
                start,
            };
            if map.insert(key, meta).is_some() {
                return Err(WireError(format!("timeline {key} twice")));
            }
        }
        if calls.len() != total {
            return Err(WireError(format!(
                "{} timeline calls where {total} were said",
                calls.len()
            )));
        }
        Ok(Timelines {
            map,
            keys,
            calls,
            grouped: true,
            dead: 0,
            level,
            weight,
        })
    }
}

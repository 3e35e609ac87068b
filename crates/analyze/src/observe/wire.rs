//! The binary form of the observations (see `crate::wire`): each type's
//! fields in order, private ones included.

use crate::wire::{wire_struct, Reader, Result, Wire, WireError};

use super::{
    Attempt, Buckets, CallId, CellObs, ChainObs, Keyed, PrefixObs, PromptObs, PromptRest, Samples,
    SessionObs, Tally, TextCall, TextSample,
};

impl Wire for Samples {
    fn put(&self, w: &mut Vec<u8>) {
        self.0.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        Wire::get(r).map(Samples)
    }
}

wire_struct!(Tally {
    calls,
    input,
    output,
    cost,
});

wire_struct!(PrefixObs {
    calls,
    cached_calls,
    prefix_tokens,
    with_tokens,
    cached_read,
    first_ms,
    last_ms,
    buckets,
    excerpt,
});

impl Wire for Buckets {
    fn put(&self, w: &mut Vec<u8>) {
        match self {
            Buckets::None => w.push(0),
            Buckets::One(k) => {
                w.push(1);
                k.put(w);
            }
            Buckets::Many(m) => {
                w.push(2);
                m.put(w);
            }
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        match u8::get(r)? {
            0 => Ok(Buckets::None),
            1 => Wire::get(r).map(Buckets::One),
            2 => Wire::get(r).map(Buckets::Many),
            t => Err(WireError(format!("bucket set of kind {t}"))),
        }
    }
}

wire_struct!(CellObs {
    cost,
    input,
    output,
    weekly_input,
    hours,
    length_capped,
    length_capped_ids,
    no_max_tokens,
    no_max_output,
    user_facing,
    not_user_facing,
    batch_calls,
    top,
    prefixes,
    prefixed_calls,
    prefix_buckets,
    over_call_budget,
    over_call_budget_excess,
    over_call_budget_ids,
});

impl Wire for CallId {
    fn put(&self, w: &mut Vec<u8>) {
        match self {
            CallId::Logged(id) => {
                w.push(0);
                id.put(w);
            }
            CallId::At(at) => {
                w.push(1);
                at.put(w);
            }
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        match u8::get(r)? {
            0 => Wire::get(r).map(CallId::Logged),
            1 => Wire::get(r).map(CallId::At),
            t => Err(WireError(format!("call id of kind {t}"))),
        }
    }
}

wire_struct!(SessionObs {
    cell,
    calls,
    s_t,
    s_tt,
    s_x,
    s_tx,
    max_turn,
    first_turn,
    first_input,
    input,
    input_cost,
    cost,
    request_id,
});

wire_struct!(PromptObs {
    cell,
    first,
    request_id,
    rest,
});

wire_struct!(PromptRest { more, excerpt });

wire_struct!(Attempt {
    millis,
    ok,
    cell,
    cost,
    attempt,
    request_id,
});

wire_struct!(ChainObs { attempts });

wire_struct!(TextCall {
    millis,
    sig,
    prompt_fp,
    cost,
    request_id,
    excerpt,
});

wire_struct!(TextSample {
    groups,
    level,
    entries,
});

wire_struct!(Keyed {
    sessions,
    prompts,
    chains,
    texts,
});

//! The binary form of the observations (see `crate::wire`): each type's
//! fields in order, private ones included.

use crate::infer::prefix::{PrefixSize, PrefixSource};
use crate::infer::sessions::TurnSource;
use crate::infer::timeline::Timelines;
use crate::wire::{wire_struct, Reader, Result, Wire, WireError};

use super::{
    Attempt, CacheHits, CallId, CellObs, ChainHead, ChainObs, Keyed, PrefixObs, PromptObs,
    PromptRest, Samples, SessionObs, Tally, TextCall, TextSample,
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
    cache_write,
    runs,
    text_chars,
    text_calls,
    min_input,
    size,
    excerpt,
});

wire_struct!(PrefixSize { tokens, source });

impl Wire for PrefixSource {
    fn put(&self, w: &mut Vec<u8>) {
        w.push(match self {
            PrefixSource::Logged => 0,
            PrefixSource::Text => 1,
            PrefixSource::Blocks => 2,
            PrefixSource::MinInput => 3,
        });
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        match u8::get(r)? {
            0 => Ok(PrefixSource::Logged),
            1 => Ok(PrefixSource::Text),
            2 => Ok(PrefixSource::Blocks),
            3 => Ok(PrefixSource::MinInput),
            t => Err(WireError(format!("prefix size source of kind {t}"))),
        }
    }
}

impl Wire for TurnSource {
    fn put(&self, w: &mut Vec<u8>) {
        w.push(match self {
            TurnSource::Logged => 0,
            TurnSource::Messages => 1,
            TurnSource::Order => 2,
        });
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        match u8::get(r)? {
            0 => Ok(TurnSource::Logged),
            1 => Ok(TurnSource::Messages),
            2 => Ok(TurnSource::Order),
            t => Err(WireError(format!("turn source of kind {t}"))),
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
    background,
    conversation_calls,
    batch_calls,
    cached_read_logged,
    top,
    prefixes,
    prefixed_calls,
    prefixed_min_input,
    prefix_runs,
    over_call_budget,
    over_call_budget_excess,
    over_call_budget_ids,
    litellm_cache_hits,
});

wire_struct!(CacheHits {
    calls,
    with_prompt,
    prompts,
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
    inferred,
    grew,
    steps,
    tail,
    head,
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
    latency_ms,
});

wire_struct!(ChainObs { attempts });

wire_struct!(ChainHead { key, millis, cell });

wire_struct!(TextCall {
    millis,
    sig,
    prompt_fp,
    context,
    cost,
    request_id,
    excerpt,
});

wire_struct!(TextSample {
    groups,
    level,
    entries,
});

/// Without its timelines: the accumulator writes them apart, first, so
/// that they can be decoded beside the rest (`accumulate::wire`).
impl Wire for Keyed {
    fn put(&self, w: &mut Vec<u8>) {
        // Every field named: one added and not written here does not build.
        let Keyed {
            sessions,
            timelines: _,
            prompts,
            chains,
            heads,
            texts,
        } = self;
        sessions.put(w);
        prompts.put(w);
        chains.put(w);
        heads.put(w);
        texts.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Keyed {
            sessions: Wire::get(r)?,
            timelines: Timelines::default(),
            prompts: Wire::get(r)?,
            chains: Wire::get(r)?,
            heads: Wire::get(r)?,
            texts: Wire::get(r)?,
        })
    }
}

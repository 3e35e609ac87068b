//! Additive statistics of a group of calls.

use schemars::JsonSchema;
use serde::Serialize;

use tokenaudit_core::pricing::CostBreakdown;
use tokenaudit_core::{CallStatus, Money, Usage};

/// Calls, tokens and exact cost of a group of calls. Merging two `Stats` is
/// plain addition, so parallel partial results merge in any order to the same
/// total.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Stats {
    /// Calls in the group.
    pub calls: u64,
    /// Calls that succeeded.
    pub ok_calls: u64,
    /// Calls that ended in an error or were cancelled.
    pub failed_calls: u64,
    /// All prompt tokens, including cached reads and cache writes.
    pub input_tokens: u64,
    /// Input tokens read from the provider's cache (part of `input_tokens`).
    pub cached_read_tokens: u64,
    /// Input tokens written to the provider's cache (part of `input_tokens`).
    pub cache_write_tokens: u64,
    /// All generated tokens, including `reasoning_tokens`.
    pub output_tokens: u64,
    /// Reasoning tokens (part of `output_tokens`).
    pub reasoning_tokens: u64,
    /// Exact cost of the priced calls.
    pub cost: Money,
    /// The part of `cost` spent on failed calls.
    pub failed_cost: Money,
    /// Calls whose model is not in the catalog (not in `cost`).
    pub unpriced_calls: u64,
}

impl Stats {
    #[inline]
    pub fn add(&mut self, status: CallStatus, usage: &Usage, cost: Option<Money>) {
        self.calls += 1;
        if status == CallStatus::Ok {
            self.ok_calls += 1;
        } else {
            self.failed_calls += 1;
        }
        self.input_tokens += usage.input;
        self.cached_read_tokens += usage.cached_read;
        self.cache_write_tokens += usage.cache_write;
        self.output_tokens += usage.output;
        self.reasoning_tokens += usage.reasoning;
        match cost {
            Some(c) => {
                self.cost += c;
                if status != CallStatus::Ok {
                    self.failed_cost += c;
                }
            }
            None => self.unpriced_calls += 1,
        }
    }

    pub fn merge(&mut self, o: &Stats) {
        self.calls += o.calls;
        self.ok_calls += o.ok_calls;
        self.failed_calls += o.failed_calls;
        self.input_tokens += o.input_tokens;
        self.cached_read_tokens += o.cached_read_tokens;
        self.cache_write_tokens += o.cache_write_tokens;
        self.output_tokens += o.output_tokens;
        self.reasoning_tokens += o.reasoning_tokens;
        self.cost += o.cost;
        self.failed_cost += o.failed_cost;
        self.unpriced_calls += o.unpriced_calls;
    }

    /// Average cost of a priced call.
    pub fn cost_per_call(&self) -> Money {
        let priced = self.calls - self.unpriced_calls;
        if priced == 0 {
            Money::ZERO
        } else {
            Money::from_picos(self.cost.picos() / priced as i128)
        }
    }

    /// All spend (failures included) divided by the successful calls: what one
    /// successful result really costs.
    pub fn cost_per_success(&self) -> Option<Money> {
        let ok_priced = self.ok_calls.saturating_sub(self.unpriced_calls);
        if ok_priced == 0 {
            None
        } else {
            Some(Money::from_picos(self.cost.picos() / ok_priced as i128))
        }
    }

    /// Share of input tokens read from the provider's cache.
    pub fn cache_hit_rate(&self) -> f64 {
        if self.input_tokens == 0 {
            0.0
        } else {
            self.cached_read_tokens as f64 / self.input_tokens as f64
        }
    }
}

/// Cost split by token kind, merged additively.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct CostParts {
    /// Uncached input.
    pub input: Money,
    /// Input read from the provider's cache.
    pub cached_read: Money,
    /// Input written to the provider's cache.
    pub cache_write: Money,
    /// Of `cache_write`, the 1-hour writes (FOCUS gives them rows of their
    /// own); not in [`CostParts::total`], nor in the JSON report.
    #[serde(skip)]
    #[schemars(skip)]
    pub cache_write_1h: Money,
    /// Visible output (reasoning excluded).
    pub output: Money,
    /// Reasoning output.
    pub reasoning: Money,
    /// Of `input`, `cached_read` and `output`, the audio tokens' part (FOCUS
    /// gives them rows of their own); not in [`CostParts::total`], nor in
    /// the JSON report.
    #[serde(skip)]
    #[schemars(skip)]
    pub audio: [Money; 3],
    /// Web searches the provider ran, billed per search (absent when
    /// none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub web_search: Money,
}

fn is_zero(m: &Money) -> bool {
    *m == Money::ZERO
}

impl CostParts {
    pub fn add(&mut self, c: &CostBreakdown) {
        self.input += c.input;
        self.cached_read += c.cached_read;
        self.cache_write += c.cache_write;
        self.cache_write_1h += c.cache_write_1h;
        self.output += c.output;
        self.reasoning += c.reasoning;
        // Few calls have any (skipped on the hot path).
        if c.input_audio != Money::ZERO
            || c.cached_audio != Money::ZERO
            || c.output_audio != Money::ZERO
            || c.web_search != Money::ZERO
        {
            self.audio[0] += c.input_audio;
            self.audio[1] += c.cached_audio;
            self.audio[2] += c.output_audio;
            self.web_search += c.web_search;
        }
    }

    pub fn merge(&mut self, o: &CostParts) {
        self.input += o.input;
        self.cached_read += o.cached_read;
        self.cache_write += o.cache_write;
        self.cache_write_1h += o.cache_write_1h;
        self.output += o.output;
        self.reasoning += o.reasoning;
        for (a, b) in self.audio.iter_mut().zip(o.audio) {
            *a += b;
        }
        self.web_search += o.web_search;
    }

    pub fn total(&self) -> Money {
        self.input
            + self.cached_read
            + self.cache_write
            + self.output
            + self.reasoning
            + self.web_search
    }
}

crate::wire::wire_struct!(Stats {
    calls,
    ok_calls,
    failed_calls,
    input_tokens,
    cached_read_tokens,
    cache_write_tokens,
    output_tokens,
    reasoning_tokens,
    cost,
    failed_cost,
    unpriced_calls,
});

crate::wire::wire_struct!(CostParts {
    input,
    cached_read,
    cache_write,
    cache_write_1h,
    output,
    reasoning,
    audio,
    web_search,
});

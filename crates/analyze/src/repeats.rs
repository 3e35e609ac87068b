//! Calls logged twice: the same request id, time, model and tokens in two
//! places (overlapping exports, a log copied under another name), or the
//! same provider's response id, model and tokens at any two times (one
//! response logged by a webhook and again by a poll, or when it was sent
//! and when it was read). Both copies are counted in the totals, so the
//! report says how many there are.
//!
//! Each call with a request id is hashed (id, time unless the id is a
//! response's, model, tokens); the
//! hashes below a threshold are counted, in at most [`CAP`] entries. When
//! more distinct hashes than that come, the threshold halves and the hashes
//! above it are dropped, so memory stays small on any input. The repeats
//! among the kept hashes, scaled by the share of hashes the threshold keeps,
//! estimate all repeats: exact while the threshold has not moved (up to
//! [`CAP`] distinct calls). Both copies of a call hash alike, so they are
//! kept or dropped together, and the final state does not depend on how
//! the calls were split among workers.

use rustc_hash::FxHashMap;
use serde::Serialize;
use tokenaudit_core::CallRecord;

/// Distinct hashes kept at most: few enough to stay in a core's cache
/// (the sketch sees every call).
pub const CAP: usize = 1 << 13;

/// The sketch (see the module documentation).
#[derive(Clone, Debug, PartialEq)]
pub struct Repeats {
    /// Hashes below this are kept.
    threshold: u64,
    /// Kept hashes and how many calls had each.
    seen: FxHashMap<u64, u32>,
}

impl Default for Repeats {
    fn default() -> Repeats {
        Repeats {
            threshold: u64::MAX,
            seen: FxHashMap::default(),
        }
    }
}

crate::wire::wire_struct!(Repeats { threshold, seen });

/// MurmurHash3's 64-bit finaliser.
#[inline]
fn fmix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// What the report says of the repeats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RepeatedCalls {
    /// Calls that repeat an earlier one (same request id, time, model and
    /// tokens, or same response id, model and tokens at any time): each is
    /// in the totals a second time.
    pub calls: u64,
    /// Whether `calls` is estimated from a sample of the calls (more than
    /// 8,192 distinct calls with a request id) rather than counted.
    pub estimated: bool,
    /// The repeats seen in the sample, of which `calls` is the estimate
    /// (equal to it when counted): the fewer, the rougher the estimate.
    pub seen: u64,
    /// The sample's rate: about one call in this many is compared (1 when
    /// every call is).
    pub one_in: u64,
}

pub use tokenaudit_core::is_response_id;

impl RepeatedCalls {
    /// What the warning and the report say after the count: "calls
    /// (estimated: …) repeat another: the same request id, …".
    pub fn said(&self) -> String {
        let (calls, repeat) = if self.calls == 1 {
            ("call", "repeats")
        } else {
            ("calls", "repeat")
        };
        let estimate = if self.estimated {
            format!(
                " (estimated: {} seen in a sample of about 1 call in {})",
                self.seen, self.one_in
            )
        } else {
            String::new()
        };
        format!(
            "{calls}{estimate} {repeat} another: the same request id, time, model and tokens, or the same response id, model and tokens at another time"
        )
    }
}

impl Repeats {
    /// Notes a call; calls without a request id are not compared.
    #[inline]
    pub fn add(&mut self, r: &CallRecord<'_>) {
        let Some(id) = r.request_id.as_deref() else {
            return;
        };
        // The texts hashed whole, the numbers folded in, each step mixed
        // (MurmurHash3's finaliser), so that every part moves every bit.
        // A provider's response id names one response wherever and
        // whenever it is logged; another id (a log's row, a gateway's
        // request) may be reused, so its time is compared too.
        let ts = if is_response_id(id) {
            i64::MAX
        } else {
            r.timestamp
                .and_then(|t| t.timestamp_nanos_opt())
                .unwrap_or(i64::MIN)
        };
        let u = &r.usage;
        let mut h = xxhash_rust::xxh3::xxh3_64_with_seed(id.as_bytes(), 0x7265_7065_6174)
            ^ xxhash_rust::xxh3::xxh3_64(r.model.as_bytes()).rotate_left(17);
        for n in [
            ts as u64,
            u.input,
            u.cached_read,
            u.cache_write,
            u.output,
            u.reasoning,
        ] {
            h = fmix(h ^ n);
        }
        self.offer(h, 1);
    }

    #[inline]
    fn offer(&mut self, hash: u64, n: u32) {
        if hash >= self.threshold {
            return;
        }
        *self.seen.entry(hash).or_insert(0) += n;
        self.shrink();
    }

    /// Halves the threshold until at most [`CAP`] hashes are kept.
    fn shrink(&mut self) {
        while self.seen.len() > CAP {
            self.threshold /= 2;
            let t = self.threshold;
            self.seen.retain(|&h, _| h < t);
        }
    }

    pub fn merge(&mut self, other: Repeats) {
        if other.threshold < self.threshold {
            self.threshold = other.threshold;
            let t = self.threshold;
            self.seen.retain(|&h, _| h < t);
        }
        for (h, n) in other.seen {
            if h < self.threshold {
                *self.seen.entry(h).or_insert(0) += n;
            }
        }
        self.shrink();
    }

    /// The repeats, counted or estimated.
    pub fn report(&self) -> RepeatedCalls {
        let extra: u64 = self.seen.values().map(|&n| u64::from(n) - 1).sum();
        if self.threshold == u64::MAX {
            return RepeatedCalls {
                calls: extra,
                estimated: false,
                seen: extra,
                one_in: 1,
            };
        }
        let scale = u64::MAX as f64 / self.threshold as f64;
        RepeatedCalls {
            calls: (extra as f64 * scale).round() as u64,
            estimated: true,
            seen: extra,
            one_in: scale.round() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenaudit_core::Usage;

    fn call(i: u64) -> CallRecord<'static> {
        CallRecord {
            request_id: Some(format!("req_{i}").into()),
            model: "gpt-4o".into(),
            usage: Usage {
                input: 1000 + i,
                output: 10,
                ..Usage::default()
            },
            ..CallRecord::default()
        }
    }

    #[test]
    fn repeats_are_counted_exactly_while_few() {
        let mut r = Repeats::default();
        for i in 0..1000 {
            r.add(&call(i));
        }
        for i in 0..30 {
            r.add(&call(i));
        }
        r.add(&call(5));
        // No request id: not compared.
        let mut anonymous = call(1);
        anonymous.request_id = None;
        r.add(&anonymous);
        r.add(&anonymous);
        // Another time or token count is another call.
        let mut later = call(2);
        later.usage.output += 1;
        r.add(&later);
        assert_eq!(
            r.report(),
            RepeatedCalls {
                calls: 31,
                estimated: false,
                seen: 31,
                one_in: 1,
            }
        );
    }

    /// A provider's response id logged at two times is one response twice;
    /// another id at two times is two calls.
    #[test]
    fn a_response_id_repeats_at_any_time() {
        let at = |id: &str, minute: u32| CallRecord {
            timestamp: Some(
                chrono::DateTime::parse_from_rfc3339(&format!("2026-10-01T10:{minute:02}:00Z"))
                    .unwrap()
                    .to_utc(),
            ),
            ..CallRecord {
                request_id: Some(id.to_string().into()),
                ..call(0)
            }
        };
        let mut r = Repeats::default();
        for id in [
            "resp_68a4b2c1d0",
            "msg_01XyZabcdefg",
            "chatcmpl-Bx1234567",
            "gen-1761234567-abc",
        ] {
            r.add(&at(id, 0));
            r.add(&at(id, 7));
        }
        // A gateway's own ids, and ids too short to be a response's.
        for id in ["req_1", "row-42", "resp_1", "msg_2"] {
            r.add(&at(id, 0));
            r.add(&at(id, 7));
        }
        // The same time: a repeat whatever the id.
        r.add(&at("row-42", 7));
        assert_eq!(r.report().calls, 5);
        assert!(is_response_id("chatcmpl-AbC123456789"));
        assert!(!is_response_id("chatcmpl-1"));
        assert!(!is_response_id("r1"));
    }

    /// The sentence after the count: the estimate's aside before the verb,
    /// one call as one.
    #[test]
    fn what_is_said_of_the_repeats() {
        let estimated = RepeatedCalls {
            calls: 896,
            estimated: true,
            seen: 448,
            one_in: 2,
        };
        assert_eq!(
            estimated.said(),
            "calls (estimated: 448 seen in a sample of about 1 call in 2) repeat another: the same request id, time, model and tokens, or the same response id, model and tokens at another time"
        );
        let one = RepeatedCalls {
            calls: 1,
            estimated: false,
            seen: 1,
            one_in: 1,
        };
        assert!(one.said().starts_with("call repeats another: "));
    }

    /// Past the cap the count is an estimate, the same however the calls
    /// were split among workers.
    #[test]
    fn many_calls_give_an_estimate_independent_of_the_split() {
        let mut whole = Repeats::default();
        let mut parts = [Repeats::default(), Repeats::default(), Repeats::default()];
        let n = 300_000u64;
        for i in 0..n {
            whole.add(&call(i));
            parts[(i % 3) as usize].add(&call(i));
            if i % 10 == 0 {
                // 30,000 repeats, each in another worker than its first.
                whole.add(&call(i));
                parts[((i + 1) % 3) as usize].add(&call(i));
            }
        }
        let [a, b, c] = parts;
        let mut merged = a;
        merged.merge(b);
        merged.merge(c);
        assert_eq!(merged, whole);
        let got = whole.report();
        assert!(got.estimated && got.one_in > 1);
        assert_eq!(
            got.calls,
            (got.seen as f64 * (u64::MAX as f64 / whole.threshold as f64)).round() as u64
        );
        assert!(
            (27_000..=33_000).contains(&got.calls),
            "{got:?} (30,000 repeats)"
        );
        assert!(whole.seen.len() <= CAP);
    }
}

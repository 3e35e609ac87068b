//! The replay engines.
//!
//! **Runs.** A prompt cache entry whose lifetime is refreshed by every hit
//! survives exactly as long as no two consecutive calls of its prefix are
//! further apart than the lifetime: each call after a longer pause misses
//! and writes the entry again. So one prefix's calls need not be kept one
//! by one: [`Runs`] keeps maximal runs of calls no further apart than the
//! shortest lifetime on offer (`gap`), which is all any lifetime at least as
//! long needs to know (pauses longer than `gap` are kept exactly, shorter
//! ones are hits at every lifetime). Runs merge exactly, whatever order the
//! calls came in or how the workers split them, and a month of one prefix
//! is at most one run per 5-minute pause (capped at [`MAX_RUNS`]; past it
//! the closest runs are joined and the replay marked inexact).
//!
//! **Chains.** A request described by the hashes of its prompt's
//! fixed-size blocks (each hash covering the prompt up to that block, as in
//! the Mooncake trace) hits the cache up to its first block that is not in
//! it; [`ChainCache`] replays a time-ordered stream of them.

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use super::policy::Policy;

mod wire;

/// Runs kept per prefix (a month of calls every 5 minutes and a bit).
pub const MAX_RUNS: usize = 9_000;

/// Calls no further apart than the gap, from `start` to `end` (millis).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub start: i64,
    pub end: i64,
    pub calls: u64,
}

/// One prefix's calls as runs; see the module docs.
#[derive(Clone, Debug)]
pub struct Runs {
    gap_ms: i64,
    /// Sorted, each more than `gap_ms` after the one before. Most
    /// prefixes have one run, kept inline: a prefix sample of volatile
    /// prompts (one call each) allocates nothing per prefix.
    runs: SmallVec<[Run; 1]>,
    /// False once [`MAX_RUNS`] forced runs together.
    exact: bool,
    /// The run the last call joined: a log ordered by session sends a
    /// session's calls one after another, into the same run, which is
    /// then found without a search. Not part of the value (equality and
    /// the wire form ignore it).
    hint: u32,
}

impl PartialEq for Runs {
    fn eq(&self, o: &Runs) -> bool {
        (self.gap_ms, &self.runs, self.exact) == (o.gap_ms, &o.runs, o.exact)
    }
}

impl Eq for Runs {}

/// What a replay of one lifetime found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    pub calls: u64,
    /// Calls that missed and wrote the entry.
    pub writes: u64,
}

impl Replayed {
    pub fn hits(&self) -> u64 {
        self.calls - self.writes
    }
}

impl Default for Runs {
    /// Runs five minutes apart: the shortest lifetime any provider offers.
    fn default() -> Runs {
        Runs::new(5 * 60 * 1000)
    }
}

impl Runs {
    pub fn new(gap_ms: i64) -> Runs {
        Runs {
            gap_ms,
            runs: SmallVec::new(),
            exact: true,
            hint: 0,
        }
    }

    pub fn runs(&self) -> &[Run] {
        &self.runs
    }

    pub fn is_exact(&self) -> bool {
        self.exact
    }

    pub fn calls(&self) -> u64 {
        self.runs.iter().map(|r| r.calls).sum()
    }

    /// Adds a call at `ms`.
    #[inline]
    pub fn add(&mut self, ms: i64) {
        // Calls mostly come in time order: extend or append at the end.
        let Some(last) = self.runs.last_mut() else {
            self.runs.push(Run {
                start: ms,
                end: ms,
                calls: 1,
            });
            return;
        };
        if ms >= last.start {
            if ms - last.end <= self.gap_ms {
                last.end = last.end.max(ms);
                last.calls += 1;
                return;
            }
            if ms > last.end {
                self.runs.push(Run {
                    start: ms,
                    end: ms,
                    calls: 1,
                });
                self.cap();
                return;
            }
        }
        // Out of order: most often within or just after the run the
        // previous call joined (the same session, a little later), and
        // short of the next run, so that nothing else moves.
        let h = self.hint as usize;
        if h < self.runs.len() {
            let next = self.runs.get(h + 1).map_or(i64::MAX, |n| n.start);
            let run = &mut self.runs[h];
            if run.start <= ms
                && ms - run.end <= self.gap_ms
                && next.saturating_sub(ms) > self.gap_ms
            {
                run.end = run.end.max(ms);
                run.calls += 1;
                return;
            }
        }
        self.insert(Run {
            start: ms,
            end: ms,
            calls: 1,
        });
    }

    /// Inserts a run, joining it with the runs within the gap of it.
    fn insert(&mut self, r: Run) {
        let at = self.runs.partition_point(|x| x.start <= r.start);
        let gap = self.gap_ms;
        let i = if at > 0 && r.start - self.runs[at - 1].end <= gap {
            let prev = &mut self.runs[at - 1];
            prev.end = prev.end.max(r.end);
            prev.calls += r.calls;
            at - 1
        } else {
            self.runs.insert(at, r);
            at
        };
        // Absorb the runs that now start within the gap of this one.
        let mut j = i + 1;
        while j < self.runs.len() && self.runs[j].start - self.runs[i].end <= gap {
            j += 1;
        }
        if j > i + 1 {
            let (end, calls) = self.runs[i + 1..j]
                .iter()
                .fold((self.runs[i].end, 0), |(e, c), x| {
                    (e.max(x.end), c + x.calls)
                });
            self.runs[i].end = end;
            self.runs[i].calls += calls;
            self.runs.drain(i + 1..j);
        }
        self.hint = i as u32;
        self.cap();
    }

    /// Past [`MAX_RUNS`], joins the two runs with the shortest pause.
    fn cap(&mut self) {
        while self.runs.len() > MAX_RUNS {
            let i = (0..self.runs.len() - 1)
                .min_by_key(|&i| (self.runs[i + 1].start - self.runs[i].end, i))
                .unwrap_or(0);
            let next = self.runs.remove(i + 1);
            self.runs[i].end = self.runs[i].end.max(next.end);
            self.runs[i].calls += next.calls;
            self.exact = false;
        }
    }

    pub fn merge(&mut self, o: Runs) {
        self.exact &= o.exact;
        if self.runs.is_empty() {
            self.runs = o.runs;
            return;
        }
        if o.runs.is_empty() {
            return;
        }
        // Both sorted: one pass over the two, joining runs within the gap
        // (run by run insertion moved the tail of a long list each time).
        let mine = std::mem::take(&mut self.runs);
        let mut out: SmallVec<[Run; 1]> = SmallVec::with_capacity(mine.len() + o.runs.len());
        let (mut a, mut b) = (mine.into_iter().peekable(), o.runs.into_iter().peekable());
        loop {
            let r = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if y.start < x.start => b.next(),
                (Some(_), _) => a.next(),
                (None, _) => b.next(),
            };
            let Some(r) = r else { break };
            match out.last_mut() {
                Some(last) if r.start - last.end <= self.gap_ms => {
                    last.end = last.end.max(r.end);
                    last.calls += r.calls;
                }
                _ => out.push(r),
            }
        }
        self.runs = out;
        self.hint = 0;
        self.cap();
    }

    /// Replays an entry that lives `idle_ms` after its last use (at least
    /// the gap) and at most `max_ms` after it was written. The hard limit
    /// is taken as one more write per whole `max_ms` of a run of activity.
    pub fn replay(&self, idle_ms: i64, max_ms: Option<i64>) -> Replayed {
        let mut out = Replayed::default();
        let mut segment: Option<(i64, i64)> = None;
        let close = |out: &mut Replayed, (start, end): (i64, i64)| {
            out.writes += 1;
            if let Some(max) = max_ms.filter(|m| *m > 0) {
                out.writes += ((end - start) / max) as u64;
            }
        };
        for r in &self.runs {
            out.calls += r.calls;
            segment = match segment {
                Some((s, e)) if r.start - e <= idle_ms => Some((s, e.max(r.end))),
                Some(done) => {
                    close(&mut out, done);
                    Some((r.start, r.end))
                }
                None => Some((r.start, r.end)),
            };
        }
        if let Some(done) = segment {
            close(&mut out, done);
        }
        out.writes = out.writes.min(out.calls);
        out
    }
}

/// A block cache replaying requests described by block-hash chains.
#[derive(Clone, Debug, Default)]
pub struct ChainCache {
    /// `None`: entries never expire (the bound any lifetime stays under).
    idle_ms: Option<i64>,
    last_use: FxHashMap<u64, i64>,
}

impl ChainCache {
    pub fn new(idle_ms: Option<i64>) -> ChainCache {
        ChainCache {
            idle_ms,
            last_use: FxHashMap::default(),
        }
    }

    /// Replays one request at `ms`: returns how many of its leading blocks
    /// were in the cache, then leaves all of them there (written or
    /// refreshed).
    pub fn request(&mut self, ms: i64, chain: &[u64]) -> usize {
        let live = |last: i64| self.idle_ms.is_none_or(|idle| ms - last <= idle);
        let hit = chain
            .iter()
            .take_while(|b| self.last_use.get(b).is_some_and(|&l| live(l)))
            .count();
        for b in chain {
            self.last_use.insert(*b, ms);
        }
        hit
    }
}

/// Totals of a chain replay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChainReplay {
    pub requests: u64,
    pub blocks: u64,
    /// Leading blocks found in the cache.
    pub hit_blocks: u64,
    pub input_tokens: u64,
    /// Tokens the provider would bill as cached reads (the hit blocks'
    /// tokens, at most the input, as the policy counts them).
    pub cached_tokens: u64,
    /// Tokens written to the cache (the rest of each cacheable prompt).
    pub written_tokens: u64,
}

/// One request of a chain replay: when, its input tokens, its block chain.
#[derive(Clone, Copy, Debug)]
pub struct ChainRequest<'a> {
    pub millis: i64,
    pub input: u64,
    pub chain: &'a [u64],
}

/// Replays time-ordered `requests` whose chains hash `block`-token blocks,
/// with entries living `idle_ms` after last use (`None`: forever), under
/// `policy`'s minimum and granularity (`None`: every hit block counts).
pub fn replay_chains<'a>(
    requests: impl IntoIterator<Item = ChainRequest<'a>>,
    block: u64,
    idle_ms: Option<i64>,
    policy: Option<&Policy>,
) -> ChainReplay {
    let mut cache = ChainCache::new(idle_ms);
    let mut out = ChainReplay::default();
    for r in requests {
        let hit = cache.request(r.millis, r.chain) as u64;
        let hit_tokens = (hit * block).min(r.input);
        let cached = policy.map_or(hit_tokens, |p| p.cacheable(hit_tokens));
        out.requests += 1;
        out.blocks += r.chain.len() as u64;
        out.hit_blocks += hit;
        out.input_tokens += r.input;
        out.cached_tokens += cached;
        if policy.is_none_or(|p| r.input >= p.min_tokens) {
            out.written_tokens += r.input - cached;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn runs(times_min: &[i64]) -> Runs {
        let mut r = Runs::new(5 * MIN);
        for t in times_min {
            r.add(t * MIN);
        }
        r
    }

    #[test]
    fn runs_break_at_pauses_longer_than_the_gap() {
        // 0, 3, 8 (5 after 3: still a run), 14 (6 after 8: a new run), 15.
        let r = runs(&[0, 3, 8, 14, 15]);
        assert_eq!(
            r.runs(),
            [
                Run {
                    start: 0,
                    end: 8 * MIN,
                    calls: 3
                },
                Run {
                    start: 14 * MIN,
                    end: 15 * MIN,
                    calls: 2
                },
            ]
        );
        // Out of order, the same runs; a call between them joins them.
        let mut back = runs(&[15, 14, 8, 3, 0]);
        assert_eq!(back.runs(), r.runs());
        back.add(11 * MIN);
        assert_eq!(
            back.runs(),
            [Run {
                start: 0,
                end: 15 * MIN,
                calls: 6
            }]
        );
    }

    #[test]
    fn runs_merge_exactly_across_workers() {
        let all = [0, 4, 9, 30, 33, 61, 62, 64, 200];
        let whole = runs(&all);
        let mut a = runs(&[0, 9, 33, 62, 200]);
        a.merge(runs(&[4, 30, 61, 64]));
        assert_eq!(a, whole);
        assert_eq!(a.calls(), 9);
    }

    #[test]
    fn sessions_interleaved_out_of_order_give_the_runs_of_the_sorted_calls() {
        // 40 sessions of 6 calls 1-4 minutes apart, starting at scattered
        // times over a day, sent session by session in no time order (as
        // a gateway log ordered by session is): the hint path and the
        // search must give what the calls in time order give, and so
        // must any split between two workers, merged.
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) % n
        };
        let mut calls = Vec::new();
        for _ in 0..40 {
            let mut t = next(24 * 60) as i64 * MIN;
            for _ in 0..6 {
                calls.push(t);
                t += (1 + next(4) as i64) * MIN;
            }
        }
        let mut sorted = calls.clone();
        sorted.sort();
        let mut want = Runs::new(5 * MIN);
        for &t in &sorted {
            want.add(t);
        }
        let mut got = Runs::new(5 * MIN);
        let (mut a, mut b) = (Runs::new(5 * MIN), Runs::new(5 * MIN));
        for (i, &t) in calls.iter().enumerate() {
            got.add(t);
            if (i / 6 + i) % 3 == 0 { &mut a } else { &mut b }.add(t);
        }
        assert_eq!(got, want);
        assert_eq!(got.calls(), 240);
        a.merge(b);
        assert_eq!(a, want);
        assert!(want.runs().len() > 10, "{}", want.runs().len());
    }

    #[test]
    fn replay_counts_a_write_after_each_long_pause() {
        // Runs (gap 5): [0..9] 3 calls, [30..33] 2, [61..64] 3, [200] 1.
        let r = runs(&[0, 4, 9, 30, 33, 61, 62, 64, 200]);
        // 5 minutes after last use: a write at 0, 30, 61, 200.
        assert_eq!(
            r.replay(5 * MIN, None),
            Replayed {
                calls: 9,
                writes: 4
            }
        );
        assert_eq!(r.replay(5 * MIN, None).hits(), 5);
        // 1 hour: pauses of 21, 28 and 136 minutes; only the last misses.
        assert_eq!(
            r.replay(60 * MIN, None),
            Replayed {
                calls: 9,
                writes: 2
            }
        );
        // Forever: one write.
        assert_eq!(r.replay(i64::MAX / 2, None).writes, 1);
        // A 1-hour hard limit on a run of activity from 0 to 130 minutes
        // (a call every 2 minutes): written at 0, then about every hour.
        let busy = runs(&(0..=65).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(
            busy.replay(5 * MIN, Some(60 * MIN)),
            Replayed {
                calls: 66,
                writes: 3
            }
        );
    }

    #[test]
    fn a_chain_hits_up_to_its_first_missing_block() {
        let mut c = ChainCache::new(Some(5 * MIN));
        assert_eq!(c.request(0, &[1, 2, 3]), 0);
        // Shares blocks 1 and 2, then differs.
        assert_eq!(c.request(MIN, &[1, 2, 4, 5]), 2);
        // Block 3 was last used at 0; 6 minutes later it has expired, but
        // 1 and 2 were refreshed at 1 minute.
        assert_eq!(c.request(6 * MIN, &[1, 2, 3]), 2);
        // 20 minutes of silence: nothing is left.
        assert_eq!(c.request(26 * MIN, &[1, 2, 4]), 0);
        let mut forever = ChainCache::new(None);
        forever.request(0, &[1, 2, 3]);
        assert_eq!(forever.request(1_000 * MIN, &[1, 2, 3, 9]), 3);
    }

    #[test]
    fn chain_replay_applies_the_policy() {
        let p = crate::cachesim::policy::policy("openai", "gpt-4o").unwrap();
        let a = [1u64, 2, 3, 4, 5];
        let b = [1u64, 2, 3, 7];
        let c = [1u64, 9];
        let reqs = [
            ChainRequest {
                millis: 0,
                input: 2_400,
                chain: &a,
            },
            // 3 blocks hit = 1,536 tokens: 1,536 cacheable (1,024 + 4 × 128).
            ChainRequest {
                millis: MIN,
                input: 1_900,
                chain: &b,
            },
            // 1 block = 512 tokens: under the 1,024 minimum.
            ChainRequest {
                millis: 2 * MIN,
                input: 1_000,
                chain: &c,
            },
        ];
        let r = replay_chains(reqs, 512, Some(5 * MIN), Some(&p));
        assert_eq!(r.requests, 3);
        assert_eq!(r.blocks, 11);
        assert_eq!(r.hit_blocks, 4);
        assert_eq!(r.input_tokens, 5_300);
        assert_eq!(r.cached_tokens, 1_536);
        // Written: 2,400 and 1,900 − 1,536 = 364; the third is too short.
        assert_eq!(r.written_tokens, 2_764);
        // Without a policy every hit block counts: 3 × 512 + 512.
        assert_eq!(replay_chains(reqs, 512, None, None).cached_tokens, 2_048);
    }
}

//! Counting a call once when its log records it several times.
//!
//! Claude Code writes one assistant message on several lines (one per
//! content block while it streams, each with the usage seen so far), copies
//! earlier lines into a new file when a session is resumed, and replays
//! parent messages in sidechains with a new `requestId`. Its own usage tools
//! (ccusage) count one record per (`message.id`, `requestId`), keeping the
//! most complete copy, and drop sidechain replays of a message the main
//! chain already has. This module does the same, across every file of a run:
//!
//! - Records with a [`DedupKey`] are held back in a [`Dedup`] map keyed by
//!   a 128-bit hash of (`message.id`, `requestId`), one per worker; the map
//!   keeps the best copy: a main-chain copy over a sidechain one, then the
//!   most tokens (input + cache + output), then the most output, then the
//!   first in input order (file, line). The order is total, so the winner
//!   does not depend on how files and chunks were split between threads.
//! - At the end the workers' maps merge by the same order, sidechain copies
//!   of a message whose main-chain copy survived are dropped, and the
//!   survivors go to a sink. Everything else is counted as `duplicate`.
//!
//! Memory grows with the number of distinct messages in the session logs
//! (one owned record each, a few hundred bytes), not with the number of
//! lines, and not at all for other formats.

use std::collections::{HashMap, HashSet};

use tokenaudit_core::CallRecord;

use crate::pipeline::Location;
use crate::record::dedup_key::DedupKey;

impl DedupKey {
    /// The order copies are kept by: greater is better.
    fn rank(&self, at: Location) -> (bool, u64, u64, std::cmp::Reverse<Location>) {
        (
            !self.sidechain,
            self.tokens,
            self.output,
            std::cmp::Reverse(at),
        )
    }
}

/// The surviving records, in input order, and the copies dropped per
/// source.
pub type Finished = (Vec<(CallRecord<'static>, Location)>, Vec<(usize, u64)>);

struct Kept {
    key: DedupKey,
    at: Location,
    record: CallRecord<'static>,
}

/// One worker's best copy per key (see the module docs).
#[derive(Default)]
pub struct Dedup {
    kept: HashMap<u128, Kept>,
    /// Copies offered, to count the duplicates at the end.
    offered: u64,
    /// Per source, copies that lost (filled in at [`Dedup::finish`]).
    lost: Vec<(usize, u64)>,
}

impl Dedup {
    pub fn is_empty(&self) -> bool {
        self.offered == 0
    }

    /// Offers a copy; it is kept if it beats the copy held for its key.
    pub fn offer(&mut self, key: DedupKey, record: CallRecord<'_>, at: Location) {
        self.offered += 1;
        self.insert(Kept {
            key,
            at,
            record: into_owned(record),
        });
    }

    fn insert(&mut self, new: Kept) {
        match self.kept.get_mut(&new.key.key) {
            Some(old) => {
                let loser = if new.key.rank(new.at) > old.key.rank(old.at) {
                    std::mem::replace(old, new).at
                } else {
                    new.at
                };
                self.lose(loser);
            }
            None => {
                self.kept.insert(new.key.key, new);
            }
        }
    }

    fn lose(&mut self, at: Location) {
        self.lose_n(at.source, 1);
    }

    fn lose_n(&mut self, source: usize, n: u64) {
        match self.lost.iter_mut().find(|(s, _)| *s == source) {
            Some((_, count)) => *count += n,
            None => self.lost.push((source, n)),
        }
    }

    pub fn merge(&mut self, other: Dedup) {
        self.offered += other.offered;
        for (source, n) in other.lost {
            self.lose_n(source, n);
        }
        for (_, kept) in other.kept {
            self.insert(kept);
        }
    }

    /// The surviving records in input order, and the number of copies that
    /// were dropped per source.
    pub fn finish(mut self) -> Finished {
        // Messages whose main-chain copy survived: their sidechain copies
        // (with another requestId) are replays.
        let main: HashSet<u128> = self
            .kept
            .values()
            .filter(|k| !k.key.sidechain)
            .map(|k| k.key.message)
            .collect();
        let mut out = Vec::with_capacity(self.kept.len());
        let mut replays = Vec::new();
        for (_, k) in self.kept.drain() {
            if k.key.sidechain && main.contains(&k.key.message) {
                replays.push(k.at);
            } else {
                out.push((k.record, k.at));
            }
        }
        for at in replays {
            self.lose(at);
        }
        out.sort_by_key(|(_, at)| *at);
        self.lost.sort_unstable();
        (out, self.lost)
    }
}

fn own(s: std::borrow::Cow<'_, str>) -> std::borrow::Cow<'static, str> {
    std::borrow::Cow::Owned(s.into_owned())
}

fn own_opt(s: Option<std::borrow::Cow<'_, str>>) -> Option<std::borrow::Cow<'static, str>> {
    s.map(own)
}

/// A record that no longer borrows from its line.
pub fn into_owned(r: CallRecord<'_>) -> CallRecord<'static> {
    CallRecord {
        timestamp: r.timestamp,
        request_id: own_opt(r.request_id),
        provider: own_opt(r.provider),
        model: own(r.model),
        feature: own_opt(r.feature),
        route: own_opt(r.route),
        team: own_opt(r.team),
        user: own_opt(r.user),
        session: own_opt(r.session),
        turn: r.turn,
        status: r.status,
        error_kind: own_opt(r.error_kind),
        http_status: r.http_status,
        attempt: r.attempt,
        retry_of: own_opt(r.retry_of),
        usage: r.usage,
        latency_ms: r.latency_ms,
        ttft_ms: r.ttft_ms,
        batch: r.batch,
        finish_reason: own_opt(r.finish_reason),
        max_tokens: r.max_tokens,
        prompt_fp: r.prompt_fp,
        prefix_fp: r.prefix_fp,
        prefix_tokens: r.prefix_tokens,
        logged_cost: r.logged_cost,
        prompt_text: own_opt(r.prompt_text),
        // Agent logs carry no prompt text the record could borrow past the line.
        prompt_raw: None,
        system_raw: None,
        user_messages: r.user_messages,
        prefix_chars: r.prefix_chars,
        minhash: r.minhash,
        tags: r.tags.into_iter().map(|(k, v)| (own(k), own(v))).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenaudit_core::Usage;

    fn rec(output: u64) -> CallRecord<'static> {
        CallRecord {
            model: "m".into(),
            usage: Usage {
                input: 10,
                output,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn at(source: usize, line: u64) -> Location {
        Location { source, line }
    }

    /// Whatever the split between workers and the order of offers, the same
    /// copy survives and the same number is dropped.
    #[test]
    fn keeps_the_most_complete_copy_whatever_the_split() {
        let offers = [
            ("m1", "r1", false, 1, at(0, 1)),
            ("m1", "r1", false, 7, at(0, 2)),
            ("m1", "r1", false, 7, at(1, 5)),
            ("m1", "r2", true, 9, at(2, 1)), // sidechain replay of m1
            ("m2", "r3", true, 3, at(2, 2)), // sidechain-only message
        ];
        let run = |split: &[usize]| {
            let mut workers: Vec<Dedup> = (0..2).map(|_| Dedup::default()).collect();
            for (i, (m, r, side, out, loc)) in offers.iter().enumerate() {
                let record = rec(*out);
                let key = DedupKey::new(m, r, *side, &record);
                workers[split[i]].offer(key, record, *loc);
            }
            let mut merged = Dedup::default();
            for w in workers {
                merged.merge(w);
            }
            let (kept, lost) = merged.finish();
            let kept: Vec<(u64, Location)> =
                kept.iter().map(|(r, l)| (r.usage.output, *l)).collect();
            (kept, lost.iter().map(|(_, n)| n).sum::<u64>())
        };
        let want = (vec![(7, at(0, 2)), (3, at(2, 2))], 3);
        assert_eq!(run(&[0, 0, 0, 0, 0]), want);
        assert_eq!(run(&[1, 0, 1, 0, 1]), want);
        assert_eq!(run(&[0, 1, 0, 1, 0]), want);
    }
}

//! A bounded, mergeable sample of timelines: the calls of one session (or
//! of one user on one feature and day, to be cut into sessions), kept whole
//! so they can be sorted by time at the end.
//!
//! Calls reach the accumulators in any order, on several threads, so turn
//! inference cannot run as they stream past. Each worker keeps its calls
//! per timeline key here; workers merge by union; the lists are sorted once,
//! at the end. Memory is bounded twice:
//!
//! - a timeline keeps at most [`MAX_CALLS`] calls, the earliest (by the
//!   calls' total order, so the same ones whatever the arrival order); the
//!   calls beyond are counted in [`Timeline::dropped`];
//! - past [`CAPACITY`] calls in all, whole timelines are dropped by a hash
//!   of their key (a coordinated sample, as in `sketch::HashSample`), so a
//!   kept timeline has all its calls and stands for [`Timelines::scale`].
//!
//! Both are deterministic: the kept timelines are those whose key passes
//! the lowest level at which the kept calls fit, whatever the split.

use rustc_hash::FxHashMap;

use super::sessions::TurnCall;
use crate::sketch::mix;

/// Calls kept per timeline (the earliest).
pub const MAX_CALLS: usize = 512;

/// Calls kept in all before timelines are sampled (about 48 bytes each).
pub const CAPACITY: usize = 200_000;

/// How a timeline's calls are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grouping {
    /// One logged session.
    Session,
    /// One user's (or API key's) calls on one day, to be cut into sessions
    /// by an inactivity gap.
    UserDay,
}

/// The calls of one timeline key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline {
    /// The (feature, model) cell the calls belong to.
    pub cell: u64,
    pub grouping: Grouping,
    /// At most [`MAX_CALLS`] between calls to [`Timelines::finish`]-style
    /// reads (up to twice that while being filled).
    pub calls: Vec<TurnCall>,
    /// Calls seen in all (kept or dropped by the cap).
    pub seen: u64,
}

impl Timeline {
    /// Calls seen but not kept (past [`MAX_CALLS`]).
    pub fn dropped(&self) -> u64 {
        self.seen - self.calls.len().min(MAX_CALLS) as u64
    }

    /// Keeps the earliest [`MAX_CALLS`] calls, sorted.
    fn trim(&mut self) {
        self.calls.sort_unstable();
        self.calls.truncate(MAX_CALLS);
    }

    /// Calls this timeline counts against [`CAPACITY`]: a function of the
    /// calls seen only, so that the sample's level does not depend on when
    /// lists were trimmed.
    fn weight(&self) -> usize {
        (self.seen as usize).min(MAX_CALLS)
    }
}

/// The sample; see the module docs.
#[derive(Clone, Debug, Default)]
pub struct Timelines {
    map: FxHashMap<u64, Timeline>,
    level: u32,
    weight: usize,
}

impl Timelines {
    fn keeps(level: u32, key: u64) -> bool {
        level == 0 || mix(key).leading_zeros() >= level
    }

    /// Whether a call of `key` would be kept (check before building it).
    #[inline]
    pub fn admits(&self, key: u64) -> bool {
        Self::keeps(self.level, key)
    }

    /// Adds a call to the timeline `key` (of `cell`, grouped by `grouping`).
    pub fn add(&mut self, key: u64, cell: u64, grouping: Grouping, call: TurnCall) {
        if !self.admits(key) {
            return;
        }
        let t = self.map.entry(key).or_insert_with(|| Timeline {
            cell,
            grouping,
            calls: Vec::new(),
            seen: 0,
        });
        let before = t.weight();
        t.seen += 1;
        t.calls.push(call);
        if t.calls.len() >= 2 * MAX_CALLS {
            t.trim();
        }
        self.weight += t.weight() - before;
        self.shrink();
    }

    fn shrink(&mut self) {
        while self.weight > CAPACITY {
            self.level += 1;
            let level = self.level;
            self.map.retain(|k, _| Self::keeps(level, *k));
            self.weight = self.map.values().map(Timeline::weight).sum();
        }
    }

    pub fn merge(&mut self, o: Timelines) {
        if self.map.is_empty() && o.level >= self.level {
            // Into an empty sample (a fresh accumulator): nothing to join.
            *self = o;
            return;
        }
        if o.level > self.level {
            self.level = o.level;
            let level = self.level;
            self.map.retain(|k, _| Self::keeps(level, *k));
        }
        for (k, t) in o.map {
            if !Self::keeps(self.level, k) {
                continue;
            }
            match self.map.get_mut(&k) {
                Some(mine) => {
                    mine.seen += t.seen;
                    mine.calls.extend(t.calls);
                    mine.trim();
                }
                None => {
                    self.map.insert(k, t);
                }
            }
        }
        self.weight = self.map.values().map(Timeline::weight).sum();
        self.shrink();
    }

    /// Calls left out by the per-timeline cap, scaled.
    pub fn dropped_calls(&self) -> u64 {
        self.map.values().map(Timeline::dropped).sum::<u64>() * self.scale()
    }

    /// What each kept timeline stands for: 2^level.
    pub fn scale(&self) -> u64 {
        1u64 << self.level
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Sorts every timeline by time and cuts it to [`MAX_CALLS`] (once, at
    /// the end: [`sorted`](Self::sorted) then reads them).
    pub fn sort_all(&mut self) {
        for t in self.map.values_mut() {
            t.trim();
        }
    }

    /// The timelines with their keys, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &Timeline)> {
        self.map.iter().map(|(k, t)| (*k, t))
    }

    /// The timelines in key order (sorted by time after
    /// [`sort_all`](Self::sort_all)).
    pub fn sorted(&self) -> Vec<(u64, &Timeline)> {
        let mut v: Vec<(u64, &Timeline)> = self.map.iter().map(|(k, t)| (*k, t)).collect();
        v.sort_unstable_by_key(|(k, _)| *k);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(millis: i64) -> TurnCall {
        TurnCall {
            millis,
            ..TurnCall::default()
        }
    }

    #[test]
    fn a_timeline_keeps_its_earliest_calls_whatever_the_order() {
        let n = MAX_CALLS as i64 + 100;
        let mut forward = Timelines::default();
        let mut split = (Timelines::default(), Timelines::default());
        for i in 0..n {
            forward.add(1, 7, Grouping::Session, at(i));
            // Backwards, alternating between two workers.
            let j = n - 1 - i;
            let w = if j % 2 == 0 {
                &mut split.0
            } else {
                &mut split.1
            };
            w.add(1, 7, Grouping::Session, at(j));
        }
        split.0.merge(split.1);
        forward.sort_all();
        split.0.sort_all();
        let (a, b) = (forward.sorted(), split.0.sorted());
        assert_eq!(a, b);
        let t = &a[0].1;
        assert_eq!(t.calls.len(), MAX_CALLS);
        assert_eq!(t.calls[0].millis, 0);
        assert_eq!(t.calls[MAX_CALLS - 1].millis, MAX_CALLS as i64 - 1);
        assert_eq!(t.seen, n as u64);
        assert_eq!(t.dropped(), 100);
    }

    #[test]
    fn past_capacity_whole_timelines_are_sampled_deterministically() {
        // 1,000 timelines of 300 calls: 300,000 > CAPACITY.
        let mut one = Timelines::default();
        let mut two = (Timelines::default(), Timelines::default());
        for k in 0..1000u64 {
            for i in 0..300 {
                one.add(k, 1, Grouping::UserDay, at(i));
                let w = if (k + i as u64).is_multiple_of(3) {
                    &mut two.0
                } else {
                    &mut two.1
                };
                w.add(k, 1, Grouping::UserDay, at(i));
            }
        }
        two.0.merge(two.1);
        assert!(one.scale() > 1);
        assert_eq!(one.scale(), two.0.scale());
        one.sort_all();
        two.0.sort_all();
        let (a, b) = (one.sorted(), two.0.sorted());
        assert_eq!(a, b);
        // Kept timelines are whole, and fit.
        assert!(a
            .iter()
            .all(|(_, t)| t.calls.len() == 300 && t.dropped() == 0));
        assert!(a.len() * 300 <= CAPACITY);
    }
}

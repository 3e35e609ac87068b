//! A bounded, mergeable sample of timelines: the calls of one session (or
//! of one user on one feature and day, to be cut into sessions), kept whole
//! so they can be sorted by time at the end.
//!
//! Calls reach the accumulators in any order, on several threads, so turn
//! inference cannot run as they stream past. Each worker keeps its calls
//! here, in one list with their timeline keys, and counts them per key;
//! workers merge by union; the calls are grouped by timeline and sorted
//! once, at the end. Memory is bounded twice:
//!
//! - a timeline keeps at most [`MAX_CALLS`] calls, the earliest (by the
//!   calls' total order, so the same ones whatever the arrival order); the
//!   calls beyond are counted in [`Timeline::dropped`] (they are cut when
//!   the list passes twice [`CAPACITY`], and at the end);
//! - past [`CAPACITY`] calls in all, whole timelines are dropped by a hash
//!   of their key (a coordinated sample, as in `sketch::HashSample`), so a
//!   kept timeline has all its calls and stands for [`Timelines::scale`].
//!
//! Both are deterministic: the kept timelines are those whose key passes
//! the lowest level at which the kept calls fit, whatever the split.

use rustc_hash::FxHashMap;

use super::sessions::TurnCall;
use crate::sketch::mix;

mod wire;

/// Calls kept per timeline (the earliest).
pub const MAX_CALLS: usize = 512;

/// Calls kept in all before timelines are sampled (48 bytes each, with
/// their key).
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

/// The calls of one timeline key, as [`Timelines::iter`] shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeline<'a> {
    /// The (feature, model) cell the calls belong to.
    pub cell: u64,
    pub grouping: Grouping,
    /// The earliest [`MAX_CALLS`], sorted by time.
    pub calls: &'a [TurnCall],
    /// Calls seen in all (kept or dropped by the cap).
    pub seen: u64,
}

impl Timeline<'_> {
    /// Calls seen but not kept (past [`MAX_CALLS`]).
    pub fn dropped(&self) -> u64 {
        self.seen - self.calls.len() as u64
    }
}

/// What the sample knows of one kept timeline; its calls are in the
/// sample's list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Meta {
    cell: u64,
    grouping: Grouping,
    /// Calls seen in all (kept or dropped by the cap).
    seen: u64,
    /// Its calls in the sample's list.
    held: u32,
    /// Where they start once grouped.
    start: u32,
}

impl Meta {
    /// Calls this timeline counts against [`CAPACITY`]: a function of the
    /// calls seen only, so that the sample's level does not depend on when
    /// lists were trimmed.
    fn weight(&self) -> usize {
        (self.seen as usize).min(MAX_CALLS)
    }
}

/// The sample; see the module docs.
///
/// The calls are one list (with their keys beside them), not a list per
/// timeline: a call is a push, not a timeline's list growing, and most
/// timelines are a call or two. [`sort_all`](Self::sort_all) groups them
/// by timeline, each sorted by time and cut to [`MAX_CALLS`]; so does a
/// list grown past twice [`CAPACITY`] (timelines longer than the cap).
#[derive(Clone, Debug)]
pub struct Timelines {
    map: FxHashMap<u64, Meta>,
    /// The key of each call in `calls`.
    keys: Vec<u64>,
    calls: Vec<TurnCall>,
    /// Whether `calls` is grouped by timeline (each `Meta::start`).
    grouped: bool,
    /// Calls of a grouped sample no timeline holds any more (left by a
    /// grouped merge; see `compact`).
    dead: usize,
    level: u32,
    weight: usize,
}

impl Default for Timelines {
    fn default() -> Self {
        Timelines {
            map: FxHashMap::default(),
            keys: Vec::new(),
            calls: Vec::new(),
            grouped: true,
            dead: 0,
            level: 0,
            weight: 0,
        }
    }
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
    #[inline]
    pub fn add(&mut self, key: u64, cell: u64, grouping: Grouping, call: TurnCall) {
        if !self.admits(key) {
            return;
        }
        if self.dead > 0 {
            self.compact();
        }
        let m = self.map.entry(key).or_insert(Meta {
            cell,
            grouping,
            seen: 0,
            held: 0,
            start: 0,
        });
        let before = m.weight();
        m.seen += 1;
        m.held += 1;
        self.weight += m.weight() - before;
        self.keys.push(key);
        self.calls.push(call);
        self.grouped = false;
        if self.weight > CAPACITY {
            self.shrink();
        }
        if self.calls.len() > 2 * CAPACITY {
            self.group();
        }
    }

    /// Raises the level until the kept timelines fit.
    fn shrink(&mut self) {
        while self.weight > CAPACITY {
            self.level += 1;
            self.retain_level();
            self.weight = self.map.values().map(Meta::weight).sum();
        }
    }

    /// Drops the timelines (and their calls) the level no longer keeps.
    fn retain_level(&mut self) {
        self.compact();
        let level = self.level;
        self.map.retain(|k, _| Self::keeps(level, *k));
        let mut kept = 0;
        for i in 0..self.keys.len() {
            if Self::keeps(level, self.keys[i]) {
                self.keys[kept] = self.keys[i];
                self.calls[kept] = self.calls[i];
                kept += 1;
            }
        }
        self.keys.truncate(kept);
        self.calls.truncate(kept);
        self.grouped = false;
    }

    /// Groups the calls by timeline, each sorted and cut to its earliest
    /// [`MAX_CALLS`] (by the calls' total order, so the same ones whatever
    /// the arrival order).
    fn group(&mut self) {
        self.compact();
        let mut at = 0u32;
        for m in self.map.values_mut() {
            m.start = at;
            at += m.held;
            m.held = 0;
        }
        // Where each call goes, then the calls gathered in that order (a
        // list of 4-byte places, not one of calls filled with defaults
        // first).
        let mut from = vec![u32::MAX; at as usize];
        for (i, k) in self.keys.iter().enumerate() {
            if let Some(m) = self.map.get_mut(k) {
                from[(m.start + m.held) as usize] = i as u32;
                m.held += 1;
            }
        }
        let mut scattered: Vec<TurnCall> = from.iter().map(|&i| self.calls[i as usize]).collect();
        self.keys.clear();
        self.calls.clear();
        for (k, m) in self.map.iter_mut() {
            let mine = &mut scattered[m.start as usize..(m.start + m.held) as usize];
            mine.sort_unstable();
            let kept = &mine[..mine.len().min(MAX_CALLS)];
            m.start = self.calls.len() as u32;
            m.held = kept.len() as u32;
            self.keys.extend(std::iter::repeat_n(*k, kept.len()));
            self.calls.extend_from_slice(kept);
        }
        self.grouped = true;
    }

    pub fn merge(&mut self, o: Timelines) {
        if self.map.is_empty() && o.level >= self.level {
            // Into an empty sample (a fresh accumulator): nothing to join.
            *self = o;
            return;
        }
        if self.grouped && o.grouped {
            // Two grouped samples (days' states read from the audit
            // cache): joined timeline by timeline, not call by call.
            self.merge_grouped(o);
            return;
        }
        let mut o = o;
        self.compact();
        o.compact();
        if o.level > self.level {
            self.level = o.level;
            self.retain_level();
        }
        let level = self.level;
        for (k, t) in o.map {
            if !Self::keeps(level, k) {
                continue;
            }
            match self.map.get_mut(&k) {
                Some(mine) => {
                    mine.seen += t.seen;
                    mine.held += t.held;
                }
                None => {
                    self.map.insert(k, t);
                }
            }
        }
        if o.level == level {
            // Its calls passed this level when they were added.
            self.keys.extend(o.keys);
            self.calls.extend(o.calls);
        } else {
            for (k, c) in o.keys.into_iter().zip(o.calls) {
                if Self::keeps(level, k) {
                    self.keys.push(k);
                    self.calls.push(c);
                }
            }
        }
        self.grouped = false;
        self.weight = self.map.values().map(Meta::weight).sum();
        self.shrink();
        if self.calls.len() > 2 * CAPACITY {
            self.group();
        }
    }

    /// [`merge`](Self::merge) of two grouped samples: the timelines the
    /// higher of their levels keeps, each one's calls copied whole, the two
    /// lists of a timeline both hold sorted and cut as [`group`](Self::group)
    /// would; the result grouped.
    fn merge_grouped(&mut self, o: Timelines) {
        let level = self.level.max(o.level);
        let Timelines {
            map,
            keys,
            calls,
            dead,
            ..
        } = self;
        if level > self.level {
            map.retain(|k, m| {
                let keep = Self::keeps(level, *k);
                if !keep {
                    *dead += m.held as usize;
                }
                keep
            });
        }
        self.level = level;
        // In place: the other's timelines appended, and a timeline both
        // hold moved to the end with the other's calls (its old calls left
        // dead until `compact`): a month's calls are not copied for a
        // night's.
        calls.reserve(o.calls.len());
        keys.reserve(o.calls.len());
        let range = |m: &Meta| m.start as usize..(m.start + m.held) as usize;
        for (k, t) in &o.map {
            if !Self::keeps(level, *k) {
                continue;
            }
            let theirs = &o.calls[range(t)];
            let start = calls.len();
            match map.get_mut(k) {
                Some(m) => {
                    calls.extend_from_within(range(m));
                    calls.extend_from_slice(theirs);
                    calls[start..].sort_unstable();
                    calls.truncate(start + (calls.len() - start).min(MAX_CALLS));
                    *dead += m.held as usize;
                    m.start = start as u32;
                    m.held = (calls.len() - start) as u32;
                    m.seen += t.seen;
                    keys.extend(std::iter::repeat_n(*k, m.held as usize));
                }
                None => {
                    calls.extend_from_slice(theirs);
                    keys.extend(std::iter::repeat_n(*k, t.held as usize));
                    map.insert(
                        *k,
                        Meta {
                            start: start as u32,
                            ..*t
                        },
                    );
                }
            }
        }
        if *dead > calls.len() / 2 {
            self.compact();
        }
        self.weight = self.map.values().map(Meta::weight).sum();
        self.shrink();
    }

    /// A grouped sample's calls without the dead ones a grouped merge left
    /// (each timeline's calls where its `Meta` says): before anything reads
    /// the calls by their keys.
    fn compact(&mut self) {
        if self.dead == 0 {
            return;
        }
        debug_assert!(self.grouped, "dead calls only in a grouped sample");
        let live: usize = self.map.values().map(|m| m.held as usize).sum();
        let mut calls: Vec<TurnCall> = Vec::with_capacity(live);
        let mut keys: Vec<u64> = Vec::with_capacity(live);
        for (k, m) in self.map.iter_mut() {
            let start = calls.len();
            calls.extend_from_slice(&self.calls[m.start as usize..(m.start + m.held) as usize]);
            keys.extend(std::iter::repeat_n(*k, m.held as usize));
            m.start = start as u32;
        }
        self.calls = calls;
        self.keys = keys;
        self.dead = 0;
    }

    /// Calls left out by the per-timeline cap, scaled.
    pub fn dropped_calls(&self) -> u64 {
        self.map
            .values()
            .map(|m| m.seen - m.weight() as u64)
            .sum::<u64>()
            * self.scale()
    }

    /// What each kept timeline stands for: 2^level.
    pub fn scale(&self) -> u64 {
        1u64 << self.level
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Sorts every timeline by time and cuts it to [`MAX_CALLS`] (once, at
    /// the end: [`iter`](Self::iter) and [`sorted`](Self::sorted) then
    /// read them).
    pub fn sort_all(&mut self) {
        if !self.grouped {
            self.group();
        }
    }

    /// The timelines with their keys, in no particular order.
    ///
    /// Panics unless [`sort_all`](Self::sort_all) ran since the last call
    /// was added (a bug, not bad input).
    pub fn iter(&self) -> impl Iterator<Item = (u64, Timeline<'_>)> {
        assert!(self.grouped, "timelines read before sort_all");
        self.map.iter().map(|(k, m)| {
            let start = m.start as usize;
            (
                *k,
                Timeline {
                    cell: m.cell,
                    grouping: m.grouping,
                    calls: &self.calls[start..start + m.held as usize],
                    seen: m.seen,
                },
            )
        })
    }

    /// The timelines in key order, sorted by time (after
    /// [`sort_all`](Self::sort_all), as [`iter`](Self::iter)).
    pub fn sorted(&self) -> Vec<(u64, Timeline<'_>)> {
        let mut v: Vec<(u64, Timeline<'_>)> = self.iter().collect();
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
    fn a_list_past_twice_the_capacity_is_cut_to_each_timelines_earliest() {
        // Two timelines of 250,000 calls each, latest first: the list
        // passes 2 × CAPACITY and is cut while filling; the earliest 512
        // of each stay, and the seen counts are whole.
        let n = 250_000i64;
        let mut t = Timelines::default();
        for i in (0..n).rev() {
            t.add(1, 7, Grouping::Session, at(i));
            t.add(2, 7, Grouping::UserDay, at(2 * i));
        }
        assert!(t.calls.len() < 2 * CAPACITY);
        t.sort_all();
        let v = t.sorted();
        assert_eq!(v.len(), 2);
        for (k, tl) in &v {
            assert_eq!(tl.seen, n as u64);
            assert_eq!(tl.calls.len(), MAX_CALLS);
            assert_eq!(tl.dropped(), n as u64 - MAX_CALLS as u64);
            let step = *k as i64;
            assert!(tl
                .calls
                .iter()
                .enumerate()
                .all(|(i, c)| c.millis == step * i as i64));
        }
        assert_eq!(t.scale(), 1);
        assert_eq!(t.dropped_calls(), 2 * (n as u64 - MAX_CALLS as u64));
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

    /// Two states read back from their bytes (grouped) join timeline by
    /// timeline into what joining them call by call gives: a timeline in
    /// both cut to its earliest calls, one in either kept whole, the
    /// result grouped; and the bytes read back are the state written.
    #[test]
    fn grouped_states_merge_as_their_calls_do() {
        use crate::wire::{Reader, Wire};
        let (mut a, mut b) = (Timelines::default(), Timelines::default());
        // Timeline 1 in both, 400 calls each (800 > MAX_CALLS), interleaved
        // in time; 2 only in the first; 3 only in the second.
        for i in 0..400 {
            a.add(1, 7, Grouping::Session, at(2 * i));
            b.add(1, 7, Grouping::Session, at(2 * i + 1));
        }
        a.add(2, 8, Grouping::UserDay, at(5));
        b.add(3, 9, Grouping::UserDay, at(6));
        b.add(3, 9, Grouping::UserDay, at(4));
        let mut by_calls = a.clone();
        by_calls.merge(b.clone());
        by_calls.sort_all();
        let read = |t: &Timelines| {
            let mut w = Vec::new();
            t.put(&mut w);
            let back = Timelines::get(&mut Reader::new(&w)).unwrap();
            assert!(back.grouped);
            back
        };
        let (mut ga, gb) = (read(&a), read(&b));
        ga.merge(gb);
        assert!(ga.grouped);
        assert_eq!(ga.sorted(), by_calls.sorted());
        let v = ga.sorted();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].1.seen, 800);
        assert_eq!(v[0].1.calls.len(), MAX_CALLS);
        assert!(v[0]
            .1
            .calls
            .iter()
            .enumerate()
            .all(|(i, c)| c.millis == i as i64));
        assert_eq!(v[2].1.calls, &[at(4), at(6)]);
        assert_eq!(read(&ga).sorted(), v);
        assert_eq!(ga.weight, MAX_CALLS + 3);
        // Timeline 1's first calls were left dead by the join: a call added
        // after it, a join call by call and a trim see only the live ones.
        assert!(ga.dead > 0);
        let (mut added, mut by_calls_added) = (ga.clone(), by_calls.clone());
        added.add(3, 9, Grouping::UserDay, at(5));
        by_calls_added.add(3, 9, Grouping::UserDay, at(5));
        added.sort_all();
        by_calls_added.sort_all();
        assert_eq!(added.sorted(), by_calls_added.sorted());
        assert_eq!(added.calls.len(), MAX_CALLS + 4);
        let mut joined = ga.clone();
        joined.merge(b.clone());
        let mut joined_by_calls = by_calls.clone();
        joined_by_calls.merge(b.clone());
        joined.sort_all();
        joined_by_calls.sort_all();
        assert_eq!(joined.sorted(), joined_by_calls.sorted());

        // A sampled state (a month: its level past 0) and a day's (level
        // 0, some of its timelines also the month's): the day's timelines
        // the month's level drops are dropped, as call by call.
        let mut month = Timelines::default();
        for k in 0..1000u64 {
            for i in 0..300 {
                month.add(k, 1, Grouping::UserDay, at(i));
            }
        }
        assert!(month.level > 0);
        let mut day = Timelines::default();
        for k in 990..1100u64 {
            day.add(k, 1, Grouping::UserDay, at(1000 + k as i64));
        }
        assert_eq!(day.level, 0);
        for (a, b) in [(&month, &day), (&day, &month)] {
            let mut by_calls = a.clone();
            by_calls.merge(b.clone());
            by_calls.sort_all();
            let mut grouped = read(a);
            grouped.merge(read(b));
            assert!(grouped.grouped);
            assert_eq!(grouped.level, month.level);
            assert_eq!(grouped.sorted(), by_calls.sorted());
            assert_eq!(grouped.weight, by_calls.weight);
        }
    }
}

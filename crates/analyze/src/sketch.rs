//! Bounded-memory summaries of distributions and keyed streams, used by the
//! detectors so that the audit's memory does not grow with the number of
//! calls.
//!
//! - [`LogHist`]: a log-linear histogram (HDR-style) of non-negative
//!   integers. Values below 64 are counted exactly; above, each power of two
//!   is split into 32 buckets, so a bucket spans at most 1/32 (3.1%) of its
//!   values. Each bucket keeps its count and the exact sum of its values, so
//!   means and "tokens above a cap" are exact up to the one bucket that
//!   straddles the cap. Merging is bucket-wise addition.
//! - [`HashSample`]: a keyed map that keeps every key while it is small and,
//!   once it passes its capacity, keeps only keys whose hash falls under a
//!   threshold that halves each time the map fills again. All the calls of one
//!   key are in or out together (the sample is *coordinated* by key), so
//!   per-key analyses (duplicates, retry chains, sessions) stay exact on the
//!   sampled keys and scale up by [`HashSample::scale`]. Below capacity it is
//!   exact and `scale` is 1.

use rustc_hash::FxHashMap;

/// Sub-buckets per power of two (2^5).
const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
/// Values below this are their own bucket.
const LINEAR: u64 = 2 * SUB;

/// A log-linear histogram of `u64` values; see the module docs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogHist {
    /// Index of `buckets[0]`.
    offset: u32,
    buckets: Vec<Bucket>,
    count: u64,
    sum: u128,
    max: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Bucket {
    count: u64,
    sum: u128,
    /// The least and the largest value in it (a bucket of equal values
    /// gives them back; quantiles spread within these, not the bucket's
    /// bounds).
    min: u64,
    max: u64,
}

impl Bucket {
    #[inline]
    fn take(&mut self, count: u64, sum: u128, min: u64, max: u64) {
        if self.count == 0 {
            (self.min, self.max) = (min, max);
        } else {
            self.min = self.min.min(min);
            self.max = self.max.max(max);
        }
        self.count += count;
        self.sum += sum;
    }
}

fn index_of(v: u64) -> u32 {
    if v < LINEAR {
        v as u32
    } else {
        let e = 63 - v.leading_zeros(); // e >= SUB_BITS + 1
        let mantissa = (v >> (e - SUB_BITS)) & (SUB - 1);
        (LINEAR + (e - SUB_BITS - 1) as u64 * SUB + mantissa) as u32
    }
}

/// The smallest value in bucket `i` (the tests check the buckets' cover).
#[cfg(test)]
fn lower_of(i: u32) -> u64 {
    let i = i as u64;
    if i < LINEAR {
        i
    } else {
        let e = (i - LINEAR) / SUB + SUB_BITS as u64 + 1;
        let mantissa = (i - LINEAR) % SUB;
        (1u64 << e) | (mantissa << (e - SUB_BITS as u64))
    }
}

/// The largest value in bucket `i`.
#[cfg(test)]
fn upper_of(i: u32) -> u64 {
    if i >= index_of(u64::MAX) {
        u64::MAX
    } else {
        lower_of(i + 1) - 1
    }
}

impl LogHist {
    #[inline]
    pub fn add(&mut self, v: u64) {
        let i = index_of(v);
        if self.buckets.is_empty() {
            self.offset = i;
        } else if i < self.offset {
            let grow = (self.offset - i) as usize;
            self.buckets
                .splice(0..0, std::iter::repeat_n(Bucket::default(), grow));
            self.offset = i;
        }
        let at = (i - self.offset) as usize;
        if at >= self.buckets.len() {
            self.buckets.resize(at + 1, Bucket::default());
        }
        self.buckets[at].take(1, v as u128, v, v);
        self.count += 1;
        self.sum += v as u128;
        self.max = self.max.max(v);
    }

    pub fn merge(&mut self, o: &LogHist) {
        for (k, b) in o.buckets.iter().enumerate() {
            if b.count == 0 {
                continue;
            }
            let i = o.offset + k as u32;
            // Re-insert bucket by bucket (cheap: histograms are small).
            if self.buckets.is_empty() {
                self.offset = i;
            } else if i < self.offset {
                let grow = (self.offset - i) as usize;
                self.buckets
                    .splice(0..0, std::iter::repeat_n(Bucket::default(), grow));
                self.offset = i;
            }
            let at = (i - self.offset) as usize;
            if at >= self.buckets.len() {
                self.buckets.resize(at + 1, Bucket::default());
            }
            self.buckets[at].take(b.count, b.sum, b.min, b.max);
        }
        self.count += o.count;
        self.sum += o.sum;
        self.max = self.max.max(o.max);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn sum(&self) -> u128 {
        self.sum
    }

    pub fn max(&self) -> u64 {
        self.max
    }

    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum as f64 / self.count as f64
        }
    }

    /// The `q`-quantile (0..=1), by the nearest-rank method: the value of the
    /// call at rank ⌈q·n⌉. Exact below 64; above, the value is interpolated
    /// within its bucket (error under 3.1%).
    pub fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for b in &self.buckets {
            if b.count == 0 {
                continue;
            }
            if seen + b.count >= rank {
                // The bucket's least and largest values are exact, and so
                // are both of a bucket of two; between, its calls are
                // spread evenly around their mean, as far as those allow
                // on the nearer side (hunt70, hunt76: calls of exactly
                // 200, 3,000 or 10,000 tokens read back as they are).
                let (lo, hi) = (b.min, b.max);
                let at = rank - seen;
                if lo == hi || at == 1 {
                    return lo;
                }
                if at == b.count {
                    return hi;
                }
                let mean = b.sum as f64 / b.count as f64;
                let half = (mean - lo as f64).min(hi as f64 - mean).max(0.0);
                let within = (at as f64 - 0.5) / b.count as f64;
                let v = mean - half + 2.0 * half * within;
                return (v.round() as u64).clamp(lo, hi);
            }
            seen += b.count;
        }
        self.max
    }

    /// How many values exceed `cap`, and by how much in total (`Σ max(0, v −
    /// cap)`). Exact except in the bucket holding `cap`, where its values are
    /// taken as spread evenly up to the largest value seen, within what
    /// the bucket's sum allows: nothing exceeds a cap at or above the
    /// largest value (outputs cut at `max_tokens` pile up exactly on it).
    pub fn excess_over(&self, cap: u64) -> (u64, u128) {
        let mut calls = 0u64;
        let mut excess = 0u128;
        for b in &self.buckets {
            if b.count == 0 {
                continue;
            }
            let (lo, hi) = (b.min, b.max);
            if lo > cap {
                calls += b.count;
                excess += b.sum - b.count as u128 * cap as u128;
            } else if hi > cap {
                // The straddling bucket: the share of its range above cap,
                // between the least and the most its count and sum allow
                // (all of them at its mean; all at its two ends).
                let n = b.count as f64;
                let (lo_f, hi_f, cap_f) = (lo as f64, hi as f64, cap as f64);
                let mean = b.sum as f64 / n;
                let even = n * (hi_f - cap_f).powi(2) / (2.0 * (hi_f - lo_f + 1.0));
                let least = (n * (mean - cap_f)).max(0.0);
                let most = n * (hi_f - cap_f) * (mean - lo_f) / (hi_f - lo_f);
                let over = even.clamp(least, most.max(least)).round();
                if over > 0.0 {
                    let share = (hi_f - cap_f) / (hi_f - lo_f + 1.0);
                    calls += ((n * share).round() as u64).clamp(1, b.count);
                    excess += over as u128;
                }
            }
        }
        (calls, excess)
    }

    /// The share of the values' sum held by values above `v` (0 with no
    /// values). Exact except in the bucket holding `v`, whose values are
    /// taken as spread evenly up to the largest value seen.
    pub fn share_above(&self, v: f64) -> f64 {
        if self.sum == 0 {
            return 0.0;
        }
        let mut above = 0.0;
        for b in &self.buckets {
            if b.count == 0 {
                continue;
            }
            let (lo, hi) = (b.min as f64, b.max as f64);
            if lo > v {
                above += b.sum as f64;
            } else if hi > v {
                let n = b.count as f64 * (hi - v) / (hi - lo + 1.0);
                above += (n * (v + hi) / 2.0).min(b.sum as f64);
            }
        }
        (above / self.sum as f64).clamp(0.0, 1.0)
    }

    /// How many values are at most `v`.
    pub fn count_at_most(&self, v: u64) -> u64 {
        let cut = index_of(v);
        self.buckets
            .iter()
            .enumerate()
            .filter(|(k, _)| self.offset + *k as u32 <= cut)
            .map(|(_, b)| b.count)
            .sum()
    }
}

/// Default capacity of a [`HashSample`].
pub const SAMPLE_CAPACITY: usize = 20_000;

/// A coordinated hash sample of keyed entries; see the module docs.
#[derive(Clone, Debug)]
pub struct HashSample<V> {
    map: FxHashMap<u64, V>,
    /// Keys are kept when `mix(key) >> shift == 0`... expressed as a level:
    /// a key is kept when its mixed hash has `level` leading zero bits.
    level: u32,
    capacity: usize,
}

impl<V> Default for HashSample<V> {
    fn default() -> Self {
        HashSample::with_capacity(SAMPLE_CAPACITY)
    }
}

/// A strong 64-bit mix so that sampling does not depend on how keys were made.
#[inline]
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl<V> HashSample<V> {
    pub fn with_capacity(capacity: usize) -> HashSample<V> {
        HashSample {
            map: FxHashMap::default(),
            level: 0,
            capacity: capacity.max(1),
        }
    }

    #[inline]
    fn keeps(level: u32, key: u64) -> bool {
        level == 0 || mix(key).leading_zeros() >= level
    }

    /// The entry for `key`, created with `make` if the key is in the sample;
    /// `None` if the key is sampled out.
    #[inline]
    pub fn entry(&mut self, key: u64, make: impl FnOnce() -> V) -> Option<&mut V> {
        if !Self::keeps(self.level, key) {
            return None;
        }
        // One lookup while below capacity; two once full.
        if self.map.len() < self.capacity || self.map.contains_key(&key) {
            return Some(self.map.entry(key).or_insert_with(make));
        }
        self.map.insert(key, make());
        self.raise_level();
        if Self::keeps(self.level, key) {
            self.map.get_mut(&key)
        } else {
            None
        }
    }

    /// Whether `key` is (still) in the sample's range: a key that is not
    /// never will be.
    #[inline]
    pub fn admits(&self, key: u64) -> bool {
        Self::keeps(self.level, key)
    }

    /// The entry for `key` if it is already kept.
    #[inline]
    pub fn get_mut(&mut self, key: u64) -> Option<&mut V> {
        // Every kept key passes `keeps`: a key that does not is not looked
        // up (a probe into a table this size is a cache miss).
        if self.map.is_empty() || !Self::keeps(self.level, key) {
            return None;
        }
        self.map.get_mut(&key)
    }

    /// Raises the level until at most `capacity` keys remain. The final
    /// level is the lowest at which the keys seen fit, whatever the order
    /// they came in or how they were split between workers: the sample is
    /// deterministic.
    fn raise_level(&mut self) {
        while self.map.len() > self.capacity {
            self.level += 1;
            let level = self.level;
            self.map.retain(|k, _| Self::keeps(level, *k));
        }
        // `retain` leaves the removed entries as tombstones, which count
        // as full until the table grows: without this, a sample refilled
        // after a raise doubles its table (twice the memory for the same
        // capacity). The kept keys are put back into the same table, its
        // tombstones cleared: rebuilding it at half the size freed the
        // full-size table and allocated it again as the sample refilled,
        // each time (churn that glibc's arenas keep as free memory).
        let kept: Vec<(u64, V)> = self.map.drain().collect();
        self.map.extend(kept);
    }

    /// Merges `o` into `self` (entries of equal keys with `merge_value`), at
    /// the coarser of the two sampling levels.
    pub fn merge(&mut self, o: HashSample<V>, mut merge_value: impl FnMut(&mut V, V)) {
        let level = self.level.max(o.level);
        if level > self.level {
            self.level = level;
            self.map.retain(|k, _| Self::keeps(level, *k));
        }
        for (k, v) in o.map {
            if !Self::keeps(self.level, k) {
                continue;
            }
            match self.map.get_mut(&k) {
                Some(mine) => merge_value(mine, v),
                None => {
                    self.map.insert(k, v);
                }
            }
        }
        if self.map.len() > self.capacity {
            self.raise_level();
        }
    }

    /// What each kept entry stands for: 2^level (1 when nothing was dropped).
    pub fn scale(&self) -> u64 {
        1u64 << self.level
    }

    /// Whether the sample kept every key.
    pub fn is_exact(&self) -> bool {
        self.level == 0
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The kept entries, in no particular order.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.map.values_mut()
    }

    /// Entries in key order (deterministic whatever the merge order).
    pub fn sorted(&self) -> Vec<(u64, &V)> {
        let mut v: Vec<(u64, &V)> = self.map.iter().map(|(k, v)| (*k, v)).collect();
        v.sort_unstable_by_key(|(k, _)| *k);
        v
    }
}

crate::wire::wire_struct!(LogHist {
    offset,
    buckets,
    count,
    sum,
    max,
});

crate::wire::wire_struct!(Bucket {
    count,
    sum,
    min,
    max
});

impl<V: crate::wire::Wire> crate::wire::Wire for HashSample<V> {
    fn put(&self, w: &mut Vec<u8>) {
        let HashSample {
            map,
            level,
            capacity,
        } = self;
        crate::wire::put_u64_map(map, w);
        crate::wire::Wire::put(level, w);
        crate::wire::Wire::put(capacity, w);
    }
    fn get(r: &mut crate::wire::Reader<'_>) -> crate::wire::Result<Self> {
        Ok(HashSample {
            map: crate::wire::Wire::get(r)?,
            level: crate::wire::Wire::get(r)?,
            capacity: crate::wire::Wire::get(r)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_refilled_after_raises_keeps_its_table_size() {
        // 100k keys through a sample of 1,500: the level rises again and
        // again. The table holds at most 1,501 keys: 2,048 buckets, room
        // for 1,792. Without a rebuild, the tombstones `retain` leaves
        // use up that room before the sample refills, and the table
        // doubles.
        let mut s = HashSample::with_capacity(1_500);
        for k in 0..100_000u64 {
            s.entry(k, || ());
        }
        assert!(s.scale() > 1);
        assert!(s.len() <= 1_500);
        assert!(s.map.capacity() <= 1_792, "{}", s.map.capacity());
    }

    /// Equal values give themselves back, and quantiles stay in the
    /// bucket (hunt70: 97 values of 200 and 3 of 3,000 read as a median of
    /// 202 and a p99 of 2,981).
    #[test]
    fn a_bucket_of_equal_values_gives_them_back() {
        let mut h = LogHist::default();
        for _ in 0..97 {
            h.add(200);
        }
        for _ in 0..3 {
            h.add(3_000);
        }
        assert_eq!(h.quantile(0.5), 200);
        assert_eq!(h.quantile(0.95), 200);
        assert_eq!(h.quantile(0.99), 3_000);
        let mut h = LogHist::default();
        for _ in 0..70 {
            h.add(2_000);
        }
        assert_eq!(h.quantile(0.5), 2_000);
        // Equal values inside a bucket, not on its lower bound (hunt76:
        // a median of 10,004 for calls of exactly 10,000 tokens), merged
        // from two histograms; and the excess over a cap, exact.
        for v in [10_000u64, 10_100, 4_500] {
            let (mut a, mut b) = (LogHist::default(), LogHist::default());
            for i in 0..80 {
                if i % 2 == 0 {
                    a.add(v)
                } else {
                    b.add(v)
                }
            }
            for _ in 0..20 {
                b.add(10 * v);
            }
            a.merge(&b);
            assert_eq!(a.quantile(0.5), v);
            assert_eq!(a.quantile(0.8), v);
            assert_eq!(a.quantile(0.81), 10 * v);
            assert_eq!(a.excess_over(2 * v), (20, 20 * 8 * u128::from(v)));
            assert_eq!(a.excess_over(10 * v), (0, 0));
        }
        // A bucket's least and largest values are exact.
        let mut h = LogHist::default();
        for v in [9_990u64, 10_001, 10_002, 10_040] {
            h.add(v);
        }
        assert_eq!((h.quantile(0.25), h.quantile(1.0)), (9_990, 10_040));
        // Values spread over a bucket (2,048–2,111) stay in it, in order.
        let mut h = LogHist::default();
        for v in 2_048..2_112 {
            h.add(v);
        }
        let (p10, p50, p90) = (h.quantile(0.1), h.quantile(0.5), h.quantile(0.9));
        assert!((2_048..=2_111).contains(&p10) && p10 < p50 && p50 < p90 && p90 <= 2_111);
        assert!(p50.abs_diff(2_079) <= 1, "{p50}");
    }

    #[test]
    fn buckets_cover_every_value_once() {
        let mut prev_upper = None;
        for i in 0..index_of(1 << 40) {
            let (lo, hi) = (lower_of(i), upper_of(i));
            assert!(lo <= hi, "bucket {i}: {lo}..{hi}");
            assert_eq!(index_of(lo), i);
            assert_eq!(index_of(hi), i);
            if let Some(p) = prev_upper {
                assert_eq!(lo, p + 1, "gap before bucket {i}");
            }
            prev_upper = Some(hi);
        }
        assert_eq!(index_of(u64::MAX), index_of(u64::MAX - 1));
    }

    #[test]
    fn small_values_are_exact() {
        let mut h = LogHist::default();
        for v in [5, 1, 3, 3, 60] {
            h.add(v);
        }
        assert_eq!(h.count(), 5);
        assert_eq!(h.sum(), 72);
        assert_eq!(h.quantile(0.5), 3);
        assert_eq!(h.quantile(0.0), 1);
        assert_eq!(h.quantile(1.0), 60);
        assert_eq!(h.max(), 60);
        // 60 − 4 + 5 − 4 over 4.
        assert_eq!(h.excess_over(4), (2, 57));
        assert_eq!(h.count_at_most(3), 3);
    }

    #[test]
    fn large_quantiles_within_bucket_error() {
        let mut h = LogHist::default();
        for v in 1..=10_000u64 {
            h.add(v * 100);
        }
        for (q, want) in [(0.5, 500_000.0), (0.95, 950_000.0), (0.99, 990_000.0)] {
            let got = h.quantile(q) as f64;
            assert!((got - want).abs() / want < 0.032, "q{q}: {got} vs {want}");
        }
        let (n, excess) = h.excess_over(900_000);
        assert!((n as i64 - 1000).abs() <= 20, "{n}");
        let want: u128 = (9001..=10_000u128).map(|v| v * 100 - 900_000).sum();
        assert!((excess as f64 - want as f64).abs() / (want as f64) < 0.03);
    }

    /// Outputs cut at `max_tokens` = 4,096: a cap at or above them cuts
    /// nothing (it was credited 640, 620 and 20 tokens of 10 calls, as if
    /// they were spread over their bucket 4,096..4,223); one below cuts
    /// 96 each, exactly.
    #[test]
    fn a_cap_at_the_largest_value_cuts_nothing() {
        let mut h = LogHist::default();
        for _ in 0..10 {
            h.add(4096);
        }
        for cap in [4096, 4100, 4200] {
            assert_eq!(h.excess_over(cap), (0, 0), "cap {cap}");
        }
        assert_eq!(h.excess_over(4000), (10, 960));
        // A bucket's values above its mean: the excess is at least what its
        // sum says (4,100 and 4,150 over 4,096: 4 + 54).
        let mut h = LogHist::default();
        for v in [4100, 4150] {
            h.add(v);
        }
        let (n, excess) = h.excess_over(4096);
        assert_eq!(n, 2);
        assert!((58..=108).contains(&excess), "{excess}");
    }

    #[test]
    fn merge_equals_adding_everything() {
        let (mut a, mut b, mut all) = (LogHist::default(), LogHist::default(), LogHist::default());
        for v in [1u64, 70, 5_000, 1_000_000, 3] {
            a.add(v);
            all.add(v);
        }
        for v in [2u64, 9_999_999, 64, 65] {
            b.add(v);
            all.add(v);
        }
        a.merge(&b);
        assert_eq!(a, all);
    }

    #[test]
    fn hash_sample_is_exact_under_capacity_and_bounded_over_it() {
        let mut s: HashSample<u32> = HashSample::with_capacity(100);
        for k in 0..100u64 {
            *s.entry(k, || 0).expect("kept") += 1;
        }
        assert!(s.is_exact());
        assert_eq!(s.len(), 100);
        for k in 0..10_000u64 {
            if let Some(v) = s.entry(k, || 0) {
                *v += 1;
            }
        }
        assert!(s.len() <= 100);
        // The same keys in another order, split in two, give the same sample.
        let (mut x, mut y): (HashSample<u32>, HashSample<u32>) = (
            HashSample::with_capacity(100),
            HashSample::with_capacity(100),
        );
        for k in (0..10_000u64).rev() {
            let t = if k % 3 == 0 { &mut x } else { &mut y };
            if let Some(v) = t.entry(k, || 0) {
                *v += 1;
            }
        }
        x.merge(y, |a, b| *a += b);
        let keys = |h: &HashSample<u32>| h.sorted().iter().map(|(k, _)| *k).collect::<Vec<_>>();
        assert_eq!(keys(&x), keys(&s));
        assert_eq!(x.scale(), s.scale());
        assert!(!s.is_exact());
        let est = s.len() as u64 * s.scale();
        assert!((2_000..=40_000).contains(&est), "estimate {est}");
        // Kept keys saw every one of their calls.
        for (k, v) in s.sorted() {
            assert_eq!(*v, if k < 100 { 2 } else { 1 });
        }
    }

    #[test]
    fn hash_sample_merge_takes_coarser_level() {
        let mut a: HashSample<u32> = HashSample::with_capacity(50);
        let mut b: HashSample<u32> = HashSample::with_capacity(50);
        for k in 0..1000u64 {
            *a.entry(k, || 0).unwrap_or(&mut 0) += 1;
        }
        for k in 0..10u64 {
            *b.entry(k, || 0).expect("kept") += 1;
        }
        let level_a = a.scale();
        a.merge(b, |x, y| *x += y);
        assert!(a.scale() >= level_a);
        for (k, v) in a.sorted() {
            assert_eq!(*v, if k < 10 { 2 } else { 1 });
        }
    }
}

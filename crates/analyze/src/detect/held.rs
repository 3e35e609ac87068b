//! The error of a figure estimated from a hash sample, for holding a ticket
//! open when a sampled estimate misses a rule's threshold by less than it.
//!
//! Past their capacity the prompts, a cell's text days, timelines and
//! chains are kept 1 in `s` by hash and their sums scaled by `s`. Each unit
//! (a prompt, a day) is in or out whole, so when a few units carry most of
//! a figure (40 prompts repeated all day among 50,000 sent once) the sample
//! keeps more or fewer of them by chance. With each unit kept with
//! probability `1/s`, the scaled total `s·Σh` has variance `(s-1)·Σh²`
//! over all units, estimated from the kept ones as `s(s-1)·Σh²`; a ratio
//! `Σh/Σc` (a hit rate) has, to first order, variance
//! `(s-1)/s · Σ(h - R·c)² / (Σc)²` over the kept units.
//!
//! An estimate from one unit carrying the figure says too little (its
//! error is as large as itself, so any remnant would hold a ticket open:
//! hunt109, one prompt repeated 5 times held a `min_hits` 20 ticket), and
//! one under half its threshold is no near miss: a finding is held only
//! with at least [`MIN_CARRIERS`] kept units carrying the figure and the
//! estimate at least half the threshold it misses.

/// Sums over the kept units of a figure `h` and its base `c` (hits and
/// calls of a prompt), for the standard errors of `s·Σh` and `Σh/Σc`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Held {
    h: f64,
    c: f64,
    hh: f64,
    hc: f64,
    cc: f64,
    /// Units with `h` above zero.
    carriers: u64,
}

/// A threshold is missed by chance when the estimate is within this many
/// standard errors of it (about 1 in 40 of a true value just above it falls
/// further below).
pub const STANDARD_ERRORS: f64 = 2.0;

/// Fewest kept units with a figure above zero for a finding to be held.
pub const MIN_CARRIERS: u64 = 2;

impl Held {
    /// One kept unit.
    pub fn add(&mut self, h: u64, c: u64) {
        self.carriers += u64::from(h > 0);
        let (h, c) = (h as f64, c as f64);
        self.h += h;
        self.c += c;
        self.hh += h * h;
        self.hc += h * c;
        self.cc += c * c;
    }

    /// The standard error of the scaled total `s·Σh` (0 when exact).
    pub fn total_error(&self, s: u64) -> f64 {
        if s <= 1 {
            return 0.0;
        }
        let s = s as f64;
        (s * (s - 1.0) * self.hh).sqrt()
    }

    /// The standard error of the ratio `Σh/Σc` (0 when exact).
    pub fn ratio_error(&self, s: u64) -> f64 {
        if s <= 1 || self.c <= 0.0 {
            return 0.0;
        }
        let r = self.h / self.c;
        let d = (self.hh - 2.0 * r * self.hc + r * r * self.cc).max(0.0);
        let s = s as f64;
        ((s - 1.0) / s * d).sqrt() / self.c
    }

    /// Whether a scaled total under `min` may be at least `min` but for
    /// the sample.
    pub fn total_may_reach(&self, s: u64, min: f64) -> bool {
        let total = self.h * s as f64;
        s > 1
            && self.carriers >= MIN_CARRIERS
            && total >= min / 2.0
            && total + STANDARD_ERRORS * self.total_error(s) >= min
    }

    /// Whether a ratio under `min` may be at least `min` but for the sample.
    pub fn ratio_may_reach(&self, s: u64, min: f64) -> bool {
        s > 1
            && self.c > 0.0
            && self.carriers >= MIN_CARRIERS
            && self.h / self.c >= min / 2.0
            && self.h / self.c + STANDARD_ERRORS * self.ratio_error(s) >= min
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_zero_when_exact_and_as_computed_by_hand() {
        let mut e = Held::default();
        // Three kept prompts: (hits, calls) = (4, 5), (0, 1), (2, 4).
        for (h, c) in [(4, 5), (0, 1), (2, 4)] {
            e.add(h, c);
        }
        assert_eq!(e.total_error(1), 0.0);
        assert_eq!(e.ratio_error(1), 0.0);
        assert!(!e.total_may_reach(1, 1.0));
        // s = 2: Var(2·Σh) = 2·1·(16 + 0 + 4) = 40.
        assert!((e.total_error(2) - 40f64.sqrt()).abs() < 1e-12);
        // R = 6/10; d = (4 - 3, 0 - 0.6, 2 - 2.4) = (1, -0.6, -0.4);
        // Σd² = 1 + 0.36 + 0.16 = 1.52; Var = (1/2)·1.52/100 = 0.0076.
        assert!((e.ratio_error(2) - 0.0076f64.sqrt()).abs() < 1e-12);
        // 0.6 + 2·0.0872 = 0.774: reaches 0.77, not 0.78.
        assert!(e.ratio_may_reach(2, 0.77));
        assert!(!e.ratio_may_reach(2, 0.78));
        // 12 + 2·6.32 = 24.6: reaches 24, not 25.
        assert!(e.total_may_reach(2, 24.0));
        assert!(!e.total_may_reach(2, 25.0));
        // At s = 8: 48 + 2·√(8·7·20) = 48 + 66.9 = 114.9, but 48 is under
        // half of 100.
        assert!(e.total_may_reach(8, 96.0));
        assert!(!e.total_may_reach(8, 100.0));
        // One unit carrying hits: never held.
        let mut one = Held::default();
        one.add(5, 6);
        one.add(0, 1);
        assert!((one.total_error(2) - 50f64.sqrt()).abs() < 1e-12);
        assert!(!one.total_may_reach(2, 20.0));
        assert!(!one.ratio_may_reach(2, 0.8));
    }
}

//! An exact-match response cache over a sweep of TTLs.
//!
//! A repeat of a prompt within the TTL of the call that filled the cache is
//! answered from it; a repeat after that refills it (a response cache does
//! not refresh its entries on a hit: the answer gets no fresher). One TTL
//! sees only part of the picture: FAQ-style traffic asked once a day is
//! a cache opportunity a 60-minute replay never sees, and a week-long TTL
//! serves answers that may have gone stale. So the replay runs at several
//! TTLs ([`SWEEP_MINUTES`]), the recommendation is the shortest TTL that
//! gets most of the longest one's saving ([`recommend`]), and the distinct
//! prompts that recur on different days are counted.

/// The TTLs of the sweep: 5 minutes, 1 hour, 1 day, 7 days.
pub const SWEEP_MINUTES: [u64; 4] = [5, 60, 24 * 60, 7 * 24 * 60];

/// The share of the best saving a recommended TTL must reach.
pub const ENOUGH: f64 = 0.9;

const DAY_MS: i64 = 86_400_000;

/// Hits and their cost at one TTL.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Point {
    pub ttl_minutes: u64,
    pub hits: u64,
    /// Σ cost of the hits, in pico-dollars.
    pub saved: i128,
}

/// Hits and their cost for one prompt's time-sorted calls
/// `(millis, cost picos)` at `ttl_ms`.
pub fn replay(calls: &[(i64, i64)], ttl_ms: i64) -> (u64, i128) {
    let (mut hits, mut saved) = (0u64, 0i128);
    let mut filled: Option<i64> = None;
    for &(t, cost) in calls {
        match filled {
            Some(f) if t - f <= ttl_ms => {
                hits += 1;
                saved += cost as i128;
            }
            _ => filled = Some(t),
        }
    }
    (hits, saved)
}

/// The sweep's totals over many prompts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sweep {
    /// One point per TTL, in the order given.
    pub points: Vec<Point>,
    /// Distinct prompts sent on at least two different days (UTC).
    pub recurring_prompts: u64,
}

impl Sweep {
    pub fn new(ttls_minutes: &[u64]) -> Sweep {
        Sweep {
            points: ttls_minutes
                .iter()
                .map(|&m| Point {
                    ttl_minutes: m,
                    ..Point::default()
                })
                .collect(),
            recurring_prompts: 0,
        }
    }

    /// Adds one prompt's time-sorted calls `(millis, cost picos)`.
    pub fn add(&mut self, calls: &[(i64, i64)]) {
        if calls.len() < 2 {
            return;
        }
        for p in &mut self.points {
            let (hits, saved) = replay(calls, p.ttl_minutes as i64 * 60_000);
            p.hits += hits;
            p.saved += saved;
        }
        let first_day = calls[0].0.div_euclid(DAY_MS);
        if calls.iter().any(|c| c.0.div_euclid(DAY_MS) != first_day) {
            self.recurring_prompts += 1;
        }
    }
}

/// The index of the recommended point: the shortest TTL whose saving is at
/// least [`ENOUGH`] of the best one's, among those not longer than
/// `max_minutes` (`None` when none of them saves anything).
pub fn recommend(points: &[Point], max_minutes: u64) -> Option<usize> {
    let allowed: Vec<(usize, &Point)> = points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.ttl_minutes <= max_minutes)
        .collect();
    let best = allowed.iter().map(|(_, p)| p.saved).max()?;
    if best <= 0 {
        return None;
    }
    allowed
        .iter()
        .filter(|(_, p)| p.saved as f64 >= ENOUGH * best as f64)
        .min_by_key(|(_, p)| p.ttl_minutes)
        .map(|(i, _)| *i)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn a_response_cache_does_not_refresh_on_hits() {
        // Filled at 0; 30 and 55 hit; 70 is 70 after the fill: refills;
        // 100 hits (30 after 70).
        let calls = [
            (0, 5),
            (30 * MIN, 5),
            (55 * MIN, 5),
            (70 * MIN, 5),
            (100 * MIN, 5),
        ];
        assert_eq!(replay(&calls, 60 * MIN), (3, 15));
        assert_eq!(replay(&calls, 5 * MIN), (0, 0));
    }

    #[test]
    fn a_daily_question_is_seen_only_by_long_ttls() {
        let mut s = Sweep::new(&SWEEP_MINUTES);
        // An FAQ asked at 09:00 on 5 days running, $1 (10^12 picos) each.
        let faq: Vec<(i64, i64)> = (0..5)
            .map(|d| (d * DAY_MS + 9 * 60 * MIN, 1_000_000_000_000))
            .collect();
        s.add(&faq);
        // A dashboard refreshing every 3 minutes for half an hour, 1¢ each.
        let dash: Vec<(i64, i64)> = (0..10).map(|i| (i * 3 * MIN, 10_000_000_000)).collect();
        s.add(&dash);
        // Sent once: nothing.
        s.add(&[(0, 1)]);
        let hits: Vec<u64> = s.points.iter().map(|p| p.hits).collect();
        // 5 min: the dashboard's calls 3 minutes after a fill hit: fills at
        // 0, 6, 12, 18, 24 → 5 hits. 1 h: 9. 1 day: 9, and the FAQ's
        // days 1 and 3 (24 h after a fill; days 2 and 4 refill). 7 days:
        // 9 + 4.
        assert_eq!(hits, [5, 9, 11, 13]);
        assert_eq!(
            s.points[2].saved,
            9 * 10_000_000_000 + 2 * 1_000_000_000_000
        );
        assert_eq!(
            s.points[3].saved,
            9 * 10_000_000_000 + 4 * 1_000_000_000_000
        );
        assert_eq!(s.recurring_prompts, 1);
        // Seven days: the day gets $2.09 of the week's $4.09.
        assert_eq!(recommend(&s.points, u64::MAX), Some(3));
        // At most a day: the day; at most an hour: the hour.
        assert_eq!(recommend(&s.points, 24 * 60), Some(2));
        assert_eq!(recommend(&s.points, 60), Some(1));
        assert_eq!(
            recommend(&Sweep::new(&SWEEP_MINUTES).points, u64::MAX),
            None
        );
    }
}

//! The five rate-limiting algorithms, each deciding alone for every key it meters, in
//! integer microseconds so that the exact ones are exact: a token bucket, a leaky bucket
//! (a queue that lets one request through every `window / limit`), a fixed window
//! counter, a sliding log, and a sliding window counter (the previous window's count
//! weighted by how much of it the sliding window still covers). And `Peak`, which
//! measures what any of them let through in every window of time, sliding.

use crate::time::Micros;
use std::collections::VecDeque;

/// The algorithms, by knob value; `none` admits everything.
pub const ALGORITHMS: &[&str] = &["token-bucket", "leaky-bucket", "fixed-window", "sliding-log", "sliding-window", "none"];
/// The index of `none` in `ALGORITHMS`.
pub const NONE: usize = 5;

/// One key's allowance: `limit` requests per `window`, and `burst` (a token bucket's
/// capacity, a leaky bucket's queue).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rule {
    pub limit: u64,
    pub window_us: Micros,
    pub burst: u64,
}

impl Rule {
    /// A token bucket holds at least one token, or it would admit nothing.
    fn capacity(&self) -> u64 {
        self.burst.max(1)
    }

    /// A leaky bucket's spacing between two requests it lets through, rounded up so that
    /// a window never holds more than `limit` of them.
    fn spacing_us(&self) -> Micros {
        self.window_us.div_ceil(self.limit).max(1)
    }

    /// The most `algorithm` may admit in any span of `window_us`, for the exact ones: a
    /// full token bucket and its refill, one window's worth of leaks, or the log's limit.
    /// The fixed window (about twice the limit across a boundary) and the sliding window
    /// counter (an estimate) have none, nor has `none`.
    pub fn bound(&self, algorithm: usize) -> Option<u64> {
        match algorithm {
            0 => Some(self.limit + self.capacity()),
            1 | 3 => Some(self.limit),
            _ => None,
        }
    }
}

/// One key's state; which fields mean what depends on the algorithm.
#[derive(Clone, Debug, Default)]
struct KeyState {
    /// Token bucket: tokens, scaled by the window (a token is `window_us` units, and the
    /// bucket gains `limit` units a microsecond). Leaky bucket: when the next request may
    /// leave. Windows: the current window's number.
    a: u64,
    /// Token bucket: when it was last filled up.
    at: Micros,
    /// Windows: requests admitted in the current window, and in the one before.
    count: u64,
    before: u64,
    /// Sliding log: when each request admitted in the last window was.
    log: VecDeque<Micros>,
    started: bool,
}

/// One algorithm metering every key.
pub struct Meter {
    pub algorithm: usize,
    keys: Vec<KeyState>,
}

impl Meter {
    pub fn new(algorithm: usize, keys: usize) -> Meter {
        Meter { algorithm, keys: vec![KeyState::default(); keys] }
    }

    /// Whether a request of `key` at `now` is admitted under `rule`, and if so when it
    /// goes on: now, or later for one that waits in a leaky bucket.
    pub fn decide(&mut self, key: usize, now: Micros, rule: &Rule) -> Option<Micros> {
        let s = &mut self.keys[key];
        let w = rule.window_us;
        match self.algorithm {
            0 => {
                let full = rule.capacity() * w;
                if !s.started {
                    (s.started, s.a, s.at) = (true, full, now);
                }
                s.a = s.a.saturating_add((now - s.at).saturating_mul(rule.limit)).min(full);
                s.at = now;
                (s.a >= w).then(|| {
                    s.a -= w;
                    now
                })
            }
            1 => {
                let t = rule.spacing_us();
                let leave = s.a.max(now);
                // Requests already waiting: those that leave after now.
                let waiting = if s.a > now { (s.a - now - 1) / t } else { 0 };
                (leave == now || waiting < rule.burst).then(|| {
                    s.a = leave + t;
                    leave
                })
            }
            2 | 4 => {
                let window = now / w;
                if window != s.a || !s.started {
                    s.before = if s.started && window == s.a + 1 { s.count } else { 0 };
                    (s.started, s.a, s.count) = (true, window, 0);
                }
                let admit = if self.algorithm == 2 {
                    s.count < rule.limit
                } else {
                    // before * (share of the last window still covered) + count < limit
                    let covered = w - (now - window * w);
                    u128::from(s.before) * u128::from(covered) + u128::from(s.count) * u128::from(w) < u128::from(rule.limit) * u128::from(w)
                };
                admit.then(|| {
                    s.count += 1;
                    now
                })
            }
            3 => {
                while s.log.front().is_some_and(|t| t + w <= now) {
                    s.log.pop_front();
                }
                ((s.log.len() as u64) < rule.limit).then(|| {
                    s.log.push_back(now);
                    now
                })
            }
            _ => Some(now),
        }
    }

    /// `key`'s level at `now`, from 0 to 1, and the words for it, as the limiter node
    /// shows them: a token bucket's tokens (empty refuses), a leaky bucket's queue, a
    /// window's count or the log's length against the limit (full refuses).
    pub fn level(&self, key: usize, now: Micros, rule: &Rule) -> (f64, String) {
        let s = &self.keys[key];
        let w = rule.window_us;
        let limit = rule.limit as f64;
        match self.algorithm {
            0 => {
                let full = rule.capacity() * w;
                let tokens = if s.started { s.a.saturating_add((now - s.at).saturating_mul(rule.limit)).min(full) } else { full };
                (tokens as f64 / full as f64, format!("{}/{} tokens", tokens / w, rule.capacity()))
            }
            1 => {
                let waiting = if s.a > now { (s.a - now - 1) / rule.spacing_us() } else { 0 };
                (waiting as f64 / rule.burst.max(1) as f64, format!("{waiting}/{} waiting", rule.burst))
            }
            2 | 4 => {
                let count = if s.started && now / w == s.a { s.count } else { 0 };
                (count as f64 / limit, format!("{count}/{} in window", rule.limit))
            }
            3 => {
                let n = s.log.iter().filter(|t| **t + w > now).count();
                (n as f64 / limit, format!("{n}/{} in log", rule.limit))
            }
            _ => (0.0, String::new()),
        }
    }
}

/// What an algorithm let through, key by key, in every window of time: the most any key
/// had in a span of `window_us` (sliding, not aligned to any clock), and the key's count
/// right now. Admissions are given in time order for each key (a leaky bucket's are the
/// moments requests leave, which only grow).
pub struct Peak {
    window_us: Micros,
    recent: Vec<VecDeque<Micros>>,
    pub max: u64,
}

impl Peak {
    pub fn new(window_us: Micros, keys: usize) -> Peak {
        Peak { window_us, recent: vec![VecDeque::new(); keys], max: 0 }
    }

    /// Records an admission; returns how many the key has had in the window ending then.
    pub fn admit(&mut self, key: usize, at: Micros) -> u64 {
        let log = &mut self.recent[key];
        while log.front().is_some_and(|t| t + self.window_us <= at) {
            log.pop_front();
        }
        log.push_back(at);
        self.max = self.max.max(log.len() as u64);
        log.len() as u64
    }

    /// Admissions of `key` in the window that ends at `now`.
    pub fn in_window(&self, key: usize, now: Micros) -> u64 {
        self.recent[key].iter().filter(|t| **t <= now && **t + self.window_us > now).count() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const RULE: Rule = Rule { limit: 10, window_us: 1_000_000, burst: 5 };

    /// Admission times of `arrivals` (sorted) under `algorithm`.
    fn admitted(algorithm: usize, arrivals: &[Micros], rule: &Rule) -> Vec<Micros> {
        let mut m = Meter::new(algorithm, 1);
        arrivals.iter().filter_map(|t| m.decide(0, *t, rule)).collect()
    }

    fn peak(times: &[Micros], window_us: Micros) -> u64 {
        let mut p = Peak::new(window_us, 1);
        for t in times {
            p.admit(0, *t);
        }
        p.max
    }

    #[test]
    fn a_fixed_window_admits_twice_its_limit_across_a_boundary_and_a_sliding_log_does_not() {
        // Twenty requests in the last 10 ms of one window and twenty in the first 10 ms of the next.
        let arrivals: Vec<Micros> = (0..20).map(|i| 990_000 + i * 500).chain((0..20).map(|i| 1_000_000 + i * 500)).collect();
        assert_eq!(peak(&admitted(2, &arrivals, &RULE), RULE.window_us), 20);
        assert_eq!(peak(&admitted(3, &arrivals, &RULE), RULE.window_us), 10);
        assert_eq!(peak(&admitted(5, &arrivals, &RULE), RULE.window_us), 40);
    }

    #[test]
    fn a_token_bucket_lets_a_burst_through_then_the_rate() {
        // 100 requests in the first millisecond: the full bucket's 5, then one a tenth of a second.
        let burst: Vec<Micros> = (0..100).map(|i| i * 10).collect();
        assert_eq!(admitted(0, &burst, &RULE).len(), 5);
        let steady: Vec<Micros> = (0..10_000).map(|i| i * 1000).collect();
        // The full bucket's 5, and 9.999 s of refill at 10 a second: 99 whole tokens.
        assert_eq!(admitted(0, &steady, &RULE).len(), 5 + 99);
    }

    #[test]
    fn a_leaky_bucket_spaces_what_it_lets_through_and_queues_at_most_burst() {
        let burst: Vec<Micros> = (0..100).map(|i| i * 10).collect();
        let out = admitted(1, &burst, &RULE);
        // The first leaves at once; five more wait their turn, a tenth of a second apart.
        assert_eq!(out, vec![0, 100_000, 200_000, 300_000, 400_000, 500_000]);
    }

    #[test]
    fn the_sliding_window_counter_weighs_the_previous_window() {
        // Ten admitted late in window 0; a quarter into window 1, 75% of them still count.
        let mut m = Meter::new(4, 1);
        for i in 0..10 {
            assert!(m.decide(0, 900_000 + i, &RULE).is_some());
        }
        // 7.5 + 0, + 1, + 2 are under 10; 7.5 + 3 is not.
        for i in 0..3 {
            assert!(m.decide(0, 1_250_000 + i, &RULE).is_some());
        }
        assert!(m.decide(0, 1_250_003, &RULE).is_none());
    }

    proptest! {
        /// Over random traffic (bursts and lulls), the exact algorithms never let more than
        /// their bound through in any window, and every algorithm admits in time order.
        #[test]
        fn exact_algorithms_never_exceed_their_bound_in_any_window(
            gaps in proptest::collection::vec(prop_oneof![0u64..50, 0u64..5_000, 0u64..400_000], 1..600),
            limit in 1u64..30,
            burst in 0u64..20,
            window_ms in 1u64..2_000,
        ) {
            let rule = Rule { limit, window_us: window_ms * 1000, burst };
            let arrivals: Vec<Micros> = gaps.iter().scan(0, |t, g| { *t += g; Some(*t) }).collect();
            for algorithm in 0..ALGORITHMS.len() {
                let out = admitted(algorithm, &arrivals, &rule);
                prop_assert!(out.windows(2).all(|p| p[0] <= p[1]));
                if let Some(bound) = rule.bound(algorithm) {
                    prop_assert!(peak(&out, rule.window_us) <= bound, "{} let {} through in a window, bound {bound}", ALGORITHMS[algorithm], peak(&out, rule.window_us));
                }
            }
        }
    }
}

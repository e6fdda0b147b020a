//! A circuit breaker, as a policy a caller consults: closed, open, half-open, with
//! count- and rate-based thresholds over a sliding time window.

use crate::time::Micros;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum BreakerState {
    Closed = 0,
    Open = 1,
    HalfOpen = 2,
}

impl BreakerState {
    pub fn name(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half-open",
        }
    }
    pub fn from_code(code: u8) -> BreakerState {
        match code {
            1 => BreakerState::Open,
            2 => BreakerState::HalfOpen,
            _ => BreakerState::Closed,
        }
    }
}

#[derive(Clone, Debug)]
pub struct BreakerConfig {
    pub enabled: bool,
    /// Failures within the window needed to open (also the minimum number of calls).
    pub failure_threshold: u32,
    /// Fraction of calls within the window that must have failed to open.
    pub failure_rate: f64,
    pub window_us: Micros,
    pub open_timeout_us: Micros,
    /// Trial calls let through when half-open; all must succeed to close.
    pub half_open_probes: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permit {
    Call,
    Probe,
    Refused,
}

const BUCKETS: usize = 10;

pub struct Breaker {
    cfg: BreakerConfig,
    state: BreakerState,
    opened_at_us: Micros,
    /// (bucket number, calls, failures): a ring of the window's tenths.
    buckets: [(u64, u32, u32); BUCKETS],
    probes_sent: u32,
    probes_ok: u32,
}

impl Breaker {
    pub fn new(cfg: BreakerConfig) -> Self {
        Breaker { cfg, state: BreakerState::Closed, opened_at_us: 0, buckets: [(u64::MAX, 0, 0); BUCKETS], probes_sent: 0, probes_ok: 0 }
    }

    pub fn state(&self) -> BreakerState {
        self.state
    }

    fn bucket_len(&self) -> Micros {
        (self.cfg.window_us / BUCKETS as u64).max(1)
    }

    /// Calls and failures within the window ending at `now`.
    fn window(&self, now: Micros) -> (u32, u32) {
        let current = now / self.bucket_len();
        self.buckets
            .iter()
            .filter(|(b, _, _)| *b != u64::MAX && *b + BUCKETS as u64 > current)
            .fold((0, 0), |(c, f), (_, bc, bf)| (c + bc, f + bf))
    }

    /// May a call go out now? Moves open → half-open when the open timeout has passed.
    /// Returns the permit and the new state if it changed.
    pub fn permit(&mut self, now: Micros) -> (Permit, Option<BreakerState>) {
        if !self.cfg.enabled {
            return (Permit::Call, None);
        }
        let mut changed = None;
        if self.state == BreakerState::Open && now >= self.opened_at_us + self.cfg.open_timeout_us {
            self.state = BreakerState::HalfOpen;
            self.probes_sent = 0;
            self.probes_ok = 0;
            changed = Some(BreakerState::HalfOpen);
        }
        let permit = match self.state {
            BreakerState::Closed => Permit::Call,
            BreakerState::Open => Permit::Refused,
            BreakerState::HalfOpen if self.probes_sent < self.cfg.half_open_probes => {
                self.probes_sent += 1;
                Permit::Probe
            }
            BreakerState::HalfOpen => Permit::Refused,
        };
        (permit, changed)
    }

    /// Records a call's result; returns the new state if it changed.
    pub fn record(&mut self, now: Micros, ok: bool, probe: bool) -> Option<BreakerState> {
        if !self.cfg.enabled {
            return None;
        }
        match self.state {
            BreakerState::Closed => {
                let b = now / self.bucket_len();
                let slot = &mut self.buckets[(b % BUCKETS as u64) as usize];
                if slot.0 != b {
                    *slot = (b, 0, 0);
                }
                slot.1 += 1;
                slot.2 += u32::from(!ok);
                let (calls, failures) = self.window(now);
                let rate = f64::from(failures) / f64::from(calls.max(1));
                (failures >= self.cfg.failure_threshold && rate >= self.cfg.failure_rate).then(|| self.open(now))
            }
            BreakerState::HalfOpen if probe => {
                if !ok {
                    return Some(self.open(now));
                }
                self.probes_ok += 1;
                (self.probes_ok >= self.cfg.half_open_probes).then(|| {
                    self.state = BreakerState::Closed;
                    self.buckets = [(u64::MAX, 0, 0); BUCKETS];
                    BreakerState::Closed
                })
            }
            // Late answers to calls made before the breaker opened change nothing.
            _ => None,
        }
    }

    fn open(&mut self, now: Micros) -> BreakerState {
        self.state = BreakerState::Open;
        self.opened_at_us = now;
        BreakerState::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> BreakerConfig {
        BreakerConfig { enabled: true, failure_threshold: 3, failure_rate: 0.5, window_us: 10_000, open_timeout_us: 5_000, half_open_probes: 2 }
    }

    #[test]
    fn opens_on_threshold_and_rate_then_recovers_through_half_open() {
        let mut b = Breaker::new(cfg());
        assert_eq!(b.record(0, false, false), None);
        assert_eq!(b.record(1, true, false), None);
        assert_eq!(b.record(2, false, false), None);
        assert_eq!(b.record(3, false, false), Some(BreakerState::Open), "3 failures of 4 calls");
        assert_eq!(b.permit(4_000), (Permit::Refused, None));
        assert_eq!(b.permit(8_003), (Permit::Probe, Some(BreakerState::HalfOpen)));
        assert_eq!(b.permit(8_004), (Permit::Probe, None));
        assert_eq!(b.permit(8_005), (Permit::Refused, None), "only two probes");
        assert_eq!(b.record(8_006, true, true), None);
        assert_eq!(b.record(8_007, true, true), Some(BreakerState::Closed));
    }

    #[test]
    fn a_failed_probe_reopens_and_old_failures_leave_the_window() {
        let mut b = Breaker::new(cfg());
        for t in 0..3 {
            b.record(t, false, false);
        }
        assert_eq!(b.state(), BreakerState::Open);
        b.permit(6_000);
        assert_eq!(b.record(6_001, false, true), Some(BreakerState::Open));
        let mut c = Breaker::new(cfg());
        c.record(0, false, false);
        c.record(1, false, false);
        assert_eq!(c.record(20_000, false, false), None, "the first two failures have left the window");
    }

    #[test]
    fn rate_threshold_keeps_it_closed_when_most_calls_succeed() {
        let mut b = Breaker::new(cfg());
        for t in 0..20 {
            b.record(t, true, false);
        }
        for t in 20..25 {
            assert_eq!(b.record(t, false, false), None);
        }
    }
}

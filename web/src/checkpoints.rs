//! Runs of the scenario parked at instants of the timeline, so that a jump back replays
//! from the nearest one before it instead of from 0 s. A run cannot be copied, so each
//! is built by a run of its own from 0 s, a few milliseconds a frame while the page has
//! time; it is the same run as the one on the stage (the engine is deterministic).

use crate::runner::Runner;
use clusterlab_sim::fault::ScheduledFault;
use clusterlab_sim::scenario::Scenario;
use clusterlab_sim::time::Micros;

/// Virtual time between parked runs, and the last instant one is parked at: a jump
/// anywhere in the first minute replays at most this much.
pub const SPACING_US: Micros = 15_000_000;
pub const LAST_US: Micros = 60_000_000;

#[derive(Default)]
pub struct Checkpoints {
    parked: Vec<Runner>,
    building: Option<Runner>,
}

impl Checkpoints {
    pub fn len(&self) -> usize {
        self.parked.len()
    }

    /// The run changed: none of these is it any more.
    pub fn clear(&mut self) {
        self.parked.clear();
        self.building = None;
    }

    /// The parked run latest at or before `t` and after `after`, taken out (it becomes the
    /// run on the stage).
    pub fn take(&mut self, t: Micros, after: Micros) -> Option<Runner> {
        let i = self.parked.iter().enumerate().filter(|(_, r)| (after + 1..=t).contains(&r.now())).max_by_key(|(_, r)| r.now())?.0;
        Some(self.parked.swap_remove(i))
    }

    /// A schedule entry joined the run at its instant: runs parked later did not have it,
    /// so they are no longer this run; earlier ones take it in.
    pub fn schedule(&mut self, f: &ScheduledFault) {
        self.parked.retain(|r| r.now() <= f.at_us);
        self.parked.iter_mut().for_each(|r| drop(r.add_fault(f.clone())));
        if self.building.as_ref().is_some_and(|r| r.now() > f.at_us) {
            self.building = None;
        }
        if let Some(r) = self.building.as_mut() {
            let _ = r.add_fault(f.clone());
        }
    }

    /// Works towards the next missing parked run for at most `budget_ms` of real time. All
    /// of the first minute is parked, not only what the reader has played: a jump ahead
    /// (a link's instant, a click at the far end of the timeline) starts from one too.
    pub fn build(&mut self, scenario: impl FnOnce() -> Option<Scenario>, budget_ms: f64, clock: &dyn Fn() -> f64) {
        let missing = (1..=LAST_US / SPACING_US).map(|k| k * SPACING_US).find(|&t| !self.parked.iter().any(|r| r.now() == t));
        let Some(target) = missing else { return };
        let mut r = match self.building.take() {
            Some(r) if r.now() <= target => r,
            _ => match scenario().map(|s| Runner::new(&s)) {
                Some(Ok(r)) => r,
                _ => return,
            },
        };
        // At speed 0 nothing is drawn: every dot is sampled away on the way.
        if r.seek(target, 0, 0.0, budget_ms, clock) {
            self.parked.push(r);
        } else {
            self.building = Some(r);
        }
    }
}

//! The page's simulation loop, in plain Rust: owns the `Sim`, advances it frame by frame
//! within a time budget, and keeps the messages in flight that the stage draws. It
//! computes nothing itself: every number comes from clusterlab-sim.

use clusterlab_sim::fault::ScheduledFault;
use clusterlab_sim::log::EventLog;
use clusterlab_sim::scenario::Scenario;
use clusterlab_sim::time::Micros;
use clusterlab_sim::trace::RingSink;
use clusterlab_sim::{Limit, Result, Sim};

/// Most records taken from the engine per frame.
pub const RING_CAPACITY: usize = clusterlab_sim::trace::PAGE_RING_CAPACITY;
/// Entries the event log keeps.
pub const EVENTS_KEPT: usize = 400;
/// Most dots kept in flight.
pub const MAX_FLIGHTS: usize = 32_000;
/// Above this many dots the stage animates fewer requests; below a quarter of it, more.
pub const DOTS_HIGH: usize = 24_000;
/// The same for "Run 1M", whose stage only shows that the run goes on: drawing dots is
/// the browser's work between the slices (without a GPU, most of the time a frame takes).
pub const DOTS_MILLION: usize = 2_000;
/// Every hop stays on screen at least this long (real seconds), so that it can be seen.
pub const MIN_VISIBLE_S: f64 = 0.35;
/// Virtual time between chart points.
pub const SERIES_INTERVAL_US: Micros = 250_000;

/// A message on the stage is an arrow of the space-time diagram: one mapping for both.
pub use clusterlab_sim::diagram::{Arrow, Dot, End};

/// Messages kept for the space-time diagram (as sampled for the stage), and the longest
/// window it shows.
pub const RECENT_KEPT: usize = 20_000;
pub const RECENT_US: Micros = 10_000_000;

pub struct Runner {
    pub sim: Sim,
    pub scenario: Scenario,
    pub flights: Vec<Arrow>,
    /// The messages of the last `RECENT_US`, at most `RECENT_KEPT`, oldest first.
    pub recent: std::collections::VecDeque<Arrow>,
    /// Animate one request in this many (the engine still simulates all of them).
    pub sample_every: u32,
    /// The most dots before `sample_every` doubles.
    pub dots_high: usize,
    /// The engine could not keep up with the chosen speed during the last frame.
    pub behind: bool,
    /// What happened, in words (faults, knob changes, actions, state changes, violations).
    pub events: EventLog,
    notices: Vec<String>,
}

impl Runner {
    /// Builds the run; faults that name no node of this scene are left out with a notice.
    pub fn new(scenario: &Scenario) -> Result<Runner> {
        let mut sim = Self::sim(scenario, &[], Limit::Forever)?;
        let mut kept = scenario.clone();
        kept.faults.clear();
        let mut notices = Vec::new();
        for f in &scenario.faults {
            match sim.add_fault(f.clone()) {
                Ok(()) => kept.faults.push(f.clone()),
                Err(e) => notices.push(format!("{e}; that fault is left out")),
            }
        }
        Ok(Self::around(sim, kept, DOTS_HIGH, notices))
    }

    /// A run of the scenario that ends after `requests` transactions ("Run 1M").
    pub fn finite(scenario: &Scenario, requests: u64) -> Result<Runner> {
        let sim = Self::sim(scenario, &scenario.faults, Limit::Requests(requests))?;
        Ok(Self::around(sim, scenario.clone(), DOTS_MILLION, Vec::new()))
    }

    /// The scenario's engine with the page's trace ring attached.
    fn sim(scenario: &Scenario, faults: &[ScheduledFault], limit: Limit) -> Result<Sim> {
        let mut sim = Sim::build(scenario.scene, scenario.params.clone(), scenario.seed, faults, limit, SERIES_INTERVAL_US)?;
        *sim.world.ring_mut() = Some(RingSink::new(RING_CAPACITY));
        Ok(sim)
    }

    /// A runner around `sim`, nothing on the stage yet.
    fn around(sim: Sim, scenario: Scenario, dots_high: usize, notices: Vec<String>) -> Runner {
        Runner { sim, scenario, flights: Vec::new(), recent: Default::default(), sample_every: 1, dots_high, behind: false, events: EventLog::new(EVENTS_KEPT), notices }
    }

    /// Runs a finite run on for about `budget_ms` of real time, in slices of events;
    /// true once it is over.
    pub fn run_for(&mut self, budget_ms: f64, clock: &dyn Fn() -> f64) -> bool {
        let start = clock();
        let done = loop {
            if self.sim.run_slice(5_000) {
                break true;
            }
            if clock() - start > budget_ms {
                break false;
            }
        };
        self.collect();
        done
    }

    pub fn take_notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notices)
    }

    pub fn now(&self) -> Micros {
        self.sim.world.now()
    }

    /// A fault from a click: it joins the schedule at the current virtual time.
    pub fn add_fault(&mut self, f: ScheduledFault) -> Result<()> {
        self.sim.add_fault(f.clone())?;
        self.scenario.faults.push(f);
        Ok(())
    }

    /// Advances virtual time by `virtual_us`, spending at most `budget_ms` of real time
    /// (measured by `clock`); the page stays responsive whatever the speed.
    pub fn advance(&mut self, virtual_us: Micros, budget_ms: f64, clock: &dyn Fn() -> f64) {
        let target = self.now() + virtual_us;
        let start = clock();
        self.behind = false;
        while !self.sim.advance_bounded(target, 20_000) {
            if clock() - start > budget_ms {
                self.behind = true;
                break;
            }
        }
        self.collect();
    }

    fn collect(&mut self) {
        let every = self.sample_every;
        // Taken out for the walk, so the world's fault list can be read alongside.
        let Some(mut ring) = self.sim.world.ring_mut().take() else { return };
        ring.drain_each(|r| {
            let Some(a) = Arrow::of(&r) else {
                self.events.record(&self.sim.world, &r);
                return;
            };
            if self.flights.len() < MAX_FLIGHTS {
                self.flights.push(a);
            }
            if self.recent.len() == RECENT_KEPT {
                self.recent.pop_front();
            }
            self.recent.push_back(a);
        });
        *self.sim.world.ring_mut() = Some(ring);
        self.events.check_violations(&self.sim.world);
        // Keep the dots on screen near a target count by sampling requests more or less.
        if self.flights.len() > self.dots_high && every < 1 << 16 {
            self.sample_every = every * 2;
        } else if self.flights.len() < self.dots_high / 4 && every > 1 {
            self.sample_every = every / 2;
        }
        self.sim.world.set_sampling(self.sample_every);
    }

    /// Runs on towards virtual time `target` as fast as the engine goes, for at most
    /// `budget_ms` of real time (a long way takes several frames); true once there. Dots
    /// are sampled away until the last `tail_us` before `target` (what the stage shows at
    /// `speed`, or the space-time diagram's window), so the page there looks as if the run
    /// had played to it; the event log takes in everything on the way.
    pub fn seek(&mut self, target: Micros, tail_us: Micros, speed: f64, budget_ms: f64, clock: &dyn Fn() -> f64) -> bool {
        let start = clock();
        let shown_from = target.saturating_sub(tail_us);
        loop {
            let quick = self.now() < shown_from;
            let every = self.sample_every;
            if quick {
                self.sim.world.set_sampling(1 << 30);
            }
            let there = self.sim.advance_bounded(if quick { shown_from } else { target }, 20_000);
            if quick {
                self.sim.world.set_sampling(every);
            }
            self.collect();
            self.prune(speed);
            if there && !quick {
                return true;
            }
            if clock() - start > budget_ms {
                return false;
            }
        }
    }

    /// How long a hop stays on screen, in virtual microseconds, at `speed`.
    pub fn visible_us(speed: f64) -> Micros {
        (MIN_VISIBLE_S * speed * 1e6) as Micros
    }

    /// Forgets dots whose hop has ended on screen.
    pub fn prune(&mut self, speed: f64) {
        let now = self.now();
        let min = Self::visible_us(speed);
        self.flights.retain(|f| f.t0 + (f.t1 - f.t0).max(min) > now);
        while self.recent.front().is_some_and(|a| a.t0 + RECENT_US < now) {
            self.recent.pop_front();
        }
    }
}

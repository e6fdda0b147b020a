//! A run: a scene built from validated knobs, a seed and a fault schedule, driven to the
//! end (CLI, tests) or slice by slice (the page), sampling its time series as it goes.

use crate::error::Result;
use crate::fault::ScheduledFault;
use crate::knob::Params;
use crate::ledger::Outcome;
use crate::scene::{Scene, find};
use crate::series::Series;
use crate::time::{Micros, US_PER_S};
use crate::world::{Limit, World};

/// Everything that determines a run: the same spec always gives the same trace.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    pub scene: String,
    pub set: Vec<(String, String)>,
    pub seed: u64,
    pub faults: Vec<String>,
    pub limit: Limit,
}

impl RunSpec {
    pub fn new(scene: &str) -> Self {
        RunSpec { scene: scene.into(), set: Vec::new(), seed: 1, faults: Vec::new(), limit: Limit::Requests(100_000) }
    }
    pub fn set(mut self, knob: &str, value: &str) -> Self {
        self.set.push((knob.into(), value.into()));
        self
    }
    pub fn fault(mut self, f: &str) -> Self {
        self.faults.push(f.into());
        self
    }
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    pub fn limit(mut self, limit: Limit) -> Self {
        self.limit = limit;
        self
    }
}

/// After arrivals stop, requests still in flight get this long (virtual) to end.
pub const DRAIN_US: Micros = 3_600 * US_PER_S;
pub const SERIES_POINTS: usize = 512;
pub const COMMON_SERIES: [&str; 8] = ["offered_rps", "throughput_rps", "errors_rps", "p50_ms", "p95_ms", "p99_ms", "fail_p50_ms", "fail_p99_ms"];

pub struct Sim {
    pub world: World,
    pub scene: &'static dyn Scene,
    pub params: Params,
    pub limit: Limit,
    pub series: Series,
    sample_interval_us: Micros,
    next_sample_us: Micros,
    row: Vec<f64>,
    /// Requests sent up to the last sample, for the offered rate.
    sent: u64,
}

impl Sim {
    /// Validates every part of `spec`; the first error names what was wrong.
    pub fn new(spec: &RunSpec) -> Result<Sim> {
        let scene = find(&spec.scene)?;
        let mut params = Params::defaults(&scene.info().knobs);
        for (k, v) in &spec.set {
            params.set(k, v)?;
        }
        let faults = spec.faults.iter().map(|f| f.parse::<ScheduledFault>()).collect::<Result<Vec<_>>>()?;
        Sim::build(scene, params, spec.seed, &faults, spec.limit, US_PER_S)
    }

    pub fn build(
        scene: &'static dyn Scene,
        params: Params,
        seed: u64,
        faults: &[ScheduledFault],
        limit: Limit,
        sample_interval_us: Micros,
    ) -> Result<Sim> {
        scene.check(&params)?;
        let mut world = World::new(seed, params.clone(), scene.info().actions, limit);
        let probe = scene.build(&params, &mut world);
        let mut names: Vec<String> = COMMON_SERIES.iter().map(|s| s.to_string()).collect();
        names.extend(probe.series_names(&world));
        world.set_probe(probe);
        for f in faults {
            world.schedule_fault(f.clone())?;
        }
        let series = Series::new(names, sample_interval_us, SERIES_POINTS);
        world.start();
        Ok(Sim { world, scene, params, limit, series, sample_interval_us, next_sample_us: sample_interval_us, row: Vec::new(), sent: 0 })
    }

    /// Schedules one more entry (a click on a node, a knob moved during play); it is
    /// checked against the scene first.
    pub fn add_fault(&mut self, f: ScheduledFault) -> Result<()> {
        self.world.schedule_fault(f)
    }

    fn sample(&mut self) {
        let w = self.world.take_window();
        let per_s = US_PER_S as f64 / self.sample_interval_us as f64;
        let errors: u64 = w.outcomes.iter().sum::<u64>() - w.outcomes[Outcome::Completed as usize];
        let sent = self.world.counts().sent;
        self.row.clear();
        self.row.extend([
            (sent - self.sent) as f64 * per_s,
            w.outcomes[Outcome::Completed as usize] as f64 * per_s,
            errors as f64 * per_s,
            w.p50_us / 1e3,
            w.p95_us / 1e3,
            w.p99_us / 1e3,
            w.fail_p50_us / 1e3,
            w.fail_p99_us / 1e3,
        ]);
        self.sent = sent;
        self.world.probe().sample(&self.world, &mut self.row);
        self.series.push(&self.row);
    }

    /// Runs every event up to virtual time `t`, sampling the series on the way.
    pub fn advance_to(&mut self, t: Micros) {
        while self.next_sample_us <= t {
            self.world.run_until(self.next_sample_us);
            self.sample();
            self.next_sample_us += self.sample_interval_us;
        }
        self.world.run_until(t);
    }

    /// One step towards the earliest event, due at `e`: the sample tick before it if one is
    /// due (every event up to the tick has run, since `e` is the earliest), else the event.
    /// Never more than one event, so callers can bound the work they do.
    fn step_to(&mut self, e: Micros) {
        if e > self.next_sample_us {
            self.tick();
        } else {
            self.world.step();
        }
    }

    /// The sample tick, once every event up to it has run.
    fn tick(&mut self) {
        self.world.run_until(self.next_sample_us);
        self.sample();
        self.next_sample_us += self.sample_interval_us;
    }

    /// Like `advance_to`, but stops after about `max_events` events; returns whether `t` was reached.
    pub fn advance_bounded(&mut self, t: Micros, max_events: u64) -> bool {
        let stop = self.world.events() + max_events;
        while self.world.events() < stop {
            match self.world.peek_time() {
                Some(e) if e <= t => self.step_to(e),
                _ => {
                    self.advance_to(t);
                    return true;
                }
            }
        }
        false
    }

    /// Runs until arrivals stop and every request has ended (or the drain deadline passes).
    pub fn run(&mut self) {
        while !self.run_slice(u64::MAX) {}
    }

    /// `run` a slice at a time: stops after about `max_events` events (the page runs a
    /// million transactions in frame-sized slices). True once the run is over and its
    /// end-of-run checks are done; the same events happen however it is sliced.
    pub fn run_slice(&mut self, max_events: u64) -> bool {
        assert!(self.limit != Limit::Forever, "a run to the end needs a limit");
        let stop = self.world.events().saturating_add(max_events);
        loop {
            if self.world.events() >= stop {
                return false;
            }
            // While arrivals are open nothing can end the run: events run in a tight loop
            // up to the next sample tick, in the very order `step_to` takes them.
            if self.world.arrivals_open() {
                match self.world.peek_time() {
                    None => break,
                    Some(next) if next > self.next_sample_us => self.tick(),
                    Some(_) => self.world.run_open_until(self.next_sample_us, stop),
                }
                continue;
            }
            if self.world.quiescent() && self.world.probe().settled(&self.world) {
                break;
            }
            let Some(next) = self.world.peek_time() else { break };
            if self.world.arrivals_closed_at().is_some_and(|c| next > c + DRAIN_US) {
                break;
            }
            self.step_to(next);
        }
        let drained = self.world.quiescent();
        self.world.finish_checks(drained);
        true
    }

    pub fn metrics(&self) -> serde_json::Map<String, serde_json::Value> {
        self.world.probe().metrics(&self.world)
    }

    /// Theory for the knobs as they are now (after any live change).
    pub fn theory(&self) -> Vec<(&'static str, f64)> {
        self.world.probe().theory(self.world.params())
    }

    /// The command line that reproduces this run.
    pub fn reproduce(&self) -> String {
        let mut cmd = format!("clusterlab run {} --seed {}", self.scene.info().id, self.world.seed);
        for (k, v) in self.params.changed() {
            cmd += &format!(" --set {k}={v}");
        }
        match self.limit {
            Limit::Requests(n) => cmd += &format!(" --requests {n}"),
            Limit::Until(t) => cmd += &format!(" --until {}", crate::time::format_duration(t)),
            Limit::Forever => {}
        }
        for f in self.world.faults() {
            cmd += &format!(" --fault \"{f}\"");
        }
        cmd
    }
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reproduce())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run sliced as the page slices "Run 1M" is the very same run: same trace, same
    /// end, and no slice runs more events than asked.
    #[test]
    fn a_run_in_slices_is_the_same_run() {
        for scene in crate::scene::SCENES.iter().map(|s| s.info().id) {
            let spec = RunSpec::new(scene).fault("1s set arrival_rate=2000").limit(Limit::Requests(20_000));
            let hashed = |slice: Option<u64>| {
                let mut sim = Sim::new(&spec).unwrap();
                *sim.world.hash_mut() = Some(crate::trace::HashSink::default());
                match slice {
                    None => sim.run(),
                    Some(n) => loop {
                        let before = sim.world.events();
                        let done = sim.run_slice(n);
                        assert!(sim.world.events() - before <= n, "{scene}: a slice ran {} events", sim.world.events() - before);
                        if done {
                            break;
                        }
                    },
                }
                let h = sim.world.hash().unwrap();
                (h.hash, h.records, sim.world.counts(), sim.world.violations().1)
            };
            assert_eq!(hashed(None), hashed(Some(997)), "{scene}");
        }
    }

    /// The page relies on this bound to stay responsive: a slice never runs away, however
    /// many events a sample interval holds.
    #[test]
    fn bounded_advance_never_runs_more_than_asked() {
        let spec = RunSpec::new("load-balancing").set("arrival_rate", "1000000").set("servers", "64").limit(Limit::Forever);
        let mut sim = Sim::new(&spec).unwrap();
        for slice in 0.. {
            assert!(slice < 100_000, "no progress");
            let before = sim.world.events();
            let done = sim.advance_bounded(2 * US_PER_S, 1_000);
            assert!(sim.world.events() - before <= 1_000, "a slice ran {} events", sim.world.events() - before);
            if done {
                break;
            }
        }
        assert_eq!(sim.world.now(), 2 * US_PER_S);
        assert_eq!(sim.series.len(), 2, "one point per second of virtual time");
    }
}

//! The report of a run (CLI `--json`, and the page's "download report").

use crate::check::Violation;
use crate::histogram::Histogram;
use crate::ledger::Counts;
use crate::run::Sim;
use serde::Serialize;
use serde_json::{Map, Value as Json};

#[derive(Serialize)]
pub struct Latency {
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    fn of(h: &Histogram) -> Latency {
        let [p50, p95, p99] = h.quantiles([0.5, 0.95, 0.99]);
        Latency { mean: round2(h.mean()), p50, p95, p99, max: h.max() as f64 }
    }
}

#[derive(Serialize)]
pub struct Invariants {
    pub names: Vec<&'static str>,
    pub checked: u64,
    pub violation_count: u64,
    pub violations: Vec<Violation>,
    /// The command that replays the run, when something was violated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reproduce: Option<String>,
}

#[derive(Serialize)]
pub struct Report {
    pub pattern: &'static str,
    pub seed: u64,
    pub params: Map<String, Json>,
    pub faults: Vec<String>,
    pub virtual_time_us: u64,
    pub events: u64,
    pub wall_ms: f64,
    pub requests: Counts,
    /// Latency of completed requests, in microseconds.
    pub latency_us: Latency,
    /// Latency of the requests that ended otherwise (refused, failed, timed out): how
    /// long a failure took, in microseconds.
    pub failure_latency_us: Latency,
    pub throughput_rps: f64,
    pub metrics: Map<String, Json>,
    pub theory: Map<String, Json>,
    pub invariants: Invariants,
}

impl Report {
    pub fn of(sim: &Sim, wall_ms: f64) -> Report {
        let w = &sim.world;
        let h = w.latency();
        let (violations, violation_count, checked) = w.violations();
        // Throughput over the time arrivals were open, so the drain does not dilute it.
        let span_us = w.arrivals_closed_at().unwrap_or(w.now()).max(1);
        Report {
            pattern: sim.scene.info().id,
            seed: w.seed,
            params: sim.params.to_json(),
            faults: w.faults().iter().map(ToString::to_string).collect(),
            virtual_time_us: w.now(),
            events: w.events(),
            wall_ms,
            requests: w.counts(),
            latency_us: Latency::of(h),
            failure_latency_us: Latency::of(w.failure_latency()),
            throughput_rps: round2(w.counts().completed as f64 * 1e6 / span_us as f64),
            metrics: sim.metrics(),
            theory: {
                // Inserted one by one, as Params::to_json does (collect would sort).
                let mut m = Map::new();
                sim.theory().into_iter().for_each(|(k, v)| drop(m.insert(k.to_string(), Json::from(round2(v)))));
                m
            },
            invariants: Invariants {
                names: w.checker_names(),
                checked,
                violation_count,
                violations: violations.to_vec(),
                reproduce: (violation_count > 0).then(|| sim.reproduce()),
            },
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports serialise")
    }
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

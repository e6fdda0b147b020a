//! What the panels show of a run, taken from its runner a few times a second.

use clusterlab_sim::num::Fixed;
use crate::runner::Runner;
use crate::stage;
use clusterlab_sim::ledger::Counts;

/// What the panels show, refreshed a few times a second from the runner.
#[derive(Clone, Default, PartialEq)]
pub struct Stats {
    pub now_s: f64,
    pub counts: Counts,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub throughput_rps: f64,
    /// (invariant, violations so far)
    pub invariants: Vec<(String, u64)>,
    pub violations: Vec<String>,
    pub sample_every: u32,
    pub behind: bool,
    pub flights: usize,
    /// The event log, oldest first: (virtual µs, node, kind, words).
    pub events: Vec<(u64, Option<usize>, &'static str, String)>,
    pub events_dropped: u64,
    pub nodes: Vec<NodeRow>,
    /// The scene's own compare rows (`SceneView::compare`), as text.
    pub measures: Vec<String>,
    /// Every measure of the run, for the goals and the tables side by side.
    pub metrics: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Default, PartialEq)]
pub struct NodeRow {
    pub id: usize,
    pub name: String,
    pub role: &'static str,
    pub condition: &'static str,
    pub slow: f64,
    pub queue: u32,
    pub busy: u32,
    pub workers: u32,
    pub state: &'static str,
    pub completed: u64,
}

impl Stats {
    /// Four times a second: the run's numbers for the panels.
    pub(crate) fn of(r: &Runner) -> Stats {
        let w = &r.sim.world;
        let (violations, _, _) = w.violations();
        let metrics = r.sim.metrics();
        Stats {
            measures: r.sim.scene.info().view.compare.iter().map(|row| metrics.get(row.metric).map(show_measure).unwrap_or_default()).collect(),
            now_s: w.now() as f64 / 1e6,
            counts: w.counts(),
            p50_ms: w.latency().quantile(0.5) / 1e3,
            p95_ms: w.latency().quantile(0.95) / 1e3,
            p99_ms: w.latency().quantile(0.99) / 1e3,
            throughput_rps: r.sim.series.column("throughput_rps").and_then(|c| c.last().copied()).unwrap_or(0.0),
            invariants: w.checker_names().into_iter().map(|n| (n.to_string(), w.violations_of(n))).collect(),
            violations: violations.iter().take(3).map(|v| format!("{}s [{}] {}", Fixed(v.at_us as f64 / 1e6, 3), v.invariant, v.detail)).collect(),
            sample_every: r.sample_every,
            behind: r.behind,
            flights: r.flights.len(),
            events: r.events.entries().map(|e| (e.t_us, e.node.map(|n| n as usize), e.kind.name(), e.text.clone())).collect(),
            events_dropped: r.events.dropped,
            metrics,
            nodes: w
                .nodes()
                .iter()
                .enumerate()
                .map(|(id, n)| {
                    let v = n.view();
                    NodeRow {
                        id,
                        name: n.name.clone(),
                        role: n.role,
                        condition: stage::condition(n).0,
                        slow: n.slow,
                        queue: v.queue,
                        busy: v.busy,
                        workers: v.workers,
                        state: v.state,
                        completed: v.completed,
                    }
                })
                .collect(),
        }
    }
}

/// A measure as the compare table shows it: numbers as they are, lists joined.
pub(crate) fn show_measure(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Array(items) => items.iter().map(show_measure).collect::<Vec<_>>().join(" · "),
        serde_json::Value::String(s) => s.clone(),
        // Each written by its own `Display`; the `Value`'s would go through serde_json's
        // writer, which brings std's I/O errors (and their `Debug`) into the page.
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        _ => "null".to_string(),
    }
}


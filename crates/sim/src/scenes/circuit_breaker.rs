//! Scene `circuit-breaker` (patterns.md row 6): clients → service A (a bounded worker
//! pool) → dependency B, with a breaker in A guarding its calls to B.

use super::measure::{measures, ms};
use crate::fault::Fault;
use crate::time::Micros;
use crate::check::Checker;
use crate::components::breaker::{BreakerConfig, BreakerState};
use crate::components::server::Server;
use crate::components::service::{Service, ServiceConfig};
use crate::components::source::Source;
use crate::knob::{KnobKind, KnobSpec, Params, common_knobs};
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView, LATENCY_CHART};
use crate::msg::{Kind, NodeId};
use crate::scene::{Preset, Probe, Scene, SceneInfo};
use crate::time::US_PER_S;
use crate::trace::Record;
use crate::world::World;
use serde_json::{Map, Value as Json};
use std::sync::LazyLock;

pub struct CircuitBreaker;

pub const INVARIANT: &str = "no call reaches B while open, except half-open probes";

/// Request keys run over `0..KEYS`; those below `dependent_share x KEYS` need B.
const KEYS: u64 = 10_000;
/// A failure that ends within this long is a fast one.
const FAST_FAILURE_US: u64 = 100_000;

static INFO: LazyLock<SceneInfo> = LazyLock::new(|| {
    let mut knobs = common_knobs("200", 100_000.0);
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "breaker", kind: KnobKind::Bool, default: "on", unit: "", live: true, help: "Whether A guards its calls to B with a circuit breaker." },
        KnobSpec { name: "failure_threshold", kind: KnobKind::Int { min: 1, max: 10_000 }, default: "5", unit: "failures", live: false, help: "Failures within the window that open the breaker (also the fewest calls it judges on)." },
        KnobSpec { name: "failure_rate", kind: KnobKind::Float { min: 0.0, max: 1.0 }, default: "0.5", unit: "fraction", live: false, help: "Share of calls within the window that must have failed to open; 0 makes the breaker count-based only." },
        KnobSpec { name: "window", kind: KnobKind::Duration { min_us: 10_000, max_us: 600 * US_PER_S }, default: "2s", unit: "", live: false, help: "The sliding window over which failures are counted." },
        KnobSpec { name: "open_timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "5s", unit: "", live: false, help: "How long the breaker stays open before letting probes through." },
        KnobSpec { name: "half_open_probes", kind: KnobKind::Int { min: 1, max: 100 }, default: "3", unit: "calls", live: false, help: "Trial calls allowed when half-open; all must succeed to close." },
        KnobSpec { name: "call_timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 60 * US_PER_S }, default: "1s", unit: "", live: false, help: "How long A waits for B before counting the call failed." },
        KnobSpec { name: "retries", kind: KnobKind::Int { min: 0, max: 10 }, default: "0", unit: "", live: false, help: "Extra attempts A makes after a failed call (each goes through the breaker)." },
        KnobSpec { name: "workers", kind: KnobKind::Int { min: 1, max: 10_000 }, default: "20", unit: "", live: false, help: "A's worker pool: requests it serves at once, each holding a worker for its whole call to B." },
        KnobSpec { name: "queue_limit", kind: KnobKind::Int { min: 0, max: 100_000 }, default: "100", unit: "requests", live: false, help: "Requests A lets wait for a worker; beyond it A answers 503." },
        KnobSpec { name: "dependent_share", kind: KnobKind::Float { min: 0.0, max: 1.0 }, default: "0.5", unit: "fraction", live: false, help: "Share of requests that need B; A answers the others from its own work, with the same workers." },
        KnobSpec { name: "local_time", kind: KnobKind::Dist, default: "exp:5ms", unit: "", live: false, help: "A's own work on a request that does not need B." },
        KnobSpec { name: "dependency_time", kind: KnobKind::Dist, default: "exp:20ms", unit: "", live: false, help: "B's time to answer one call when healthy." },
        KnobSpec { name: "dependency_workers", kind: KnobKind::Int { min: 1, max: 10_000 }, default: "64", unit: "", live: false, help: "Calls B serves at once." },
        KnobSpec { name: "client_timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "2s", unit: "", live: false, help: "How long a client waits for A before giving up." },
    ] });
    SceneInfo {
        id: "circuit-breaker",
        title: "Circuit breaker",
        knobs,
        actions: &[],
        view: SceneView {
            stage: StageView { columns: &[&["client"], &["service"], &["dependency"]], links: &[("client", "service"), ("service", "dependency")], paired: &[] },
            charts: const { &[
                Chart {
                    title: "Not needing B: completed/s",
                    unit: "req/s",
                    lines: &[
                        Line::measured("not needing B, completed/s", "independent_rps", Colour::Green).compared(),
                        Line::theory("their offered rate", "independent_offered_rps", 1.0, Colour::Blue),
                    ],
                },
                LATENCY_CHART,
                Chart {
                    title: "Time a failure took (ms)",
                    unit: "ms",
                    lines: &[
                        Line::measured("failures p50", "fail_p50_ms", Colour::Red).compared(),
                        Line::measured("failures p99", "fail_p99_ms", Colour::Orange),
                        Line::measured("successes p50", "p50_ms", Colour::Green),
                    ],
                },
                clusterlab_engine::traffic_chart!(Line::theory("A's capacity if B hangs", "a_capacity_when_b_hangs_rps", 1.0, Colour::Yellow)),
                Chart {
                    title: "A's workers, waiting clients",
                    unit: "",
                    lines: &[
                        Line::measured("A workers busy", "a_workers_busy", Colour::Blue).compared(),
                        Line::measured("clients waiting on A", "clients_waiting", Colour::Purple).compared(),
                        Line::measured("breaker (top open, middle half-open)", "breaker_level", Colour::Red),
                    ],
                },
            ] },
            compare: &[
                Row { label: "not needing B: completed", metric: "independent_completed" },
                Row { label: "not needing B: success rate during B's outage, % of before", metric: "independent_outage_pct" },
                Row { label: "refused by A (its queue full)", metric: "a_rejected" },
                Row { label: "failed fast (under 100 ms)", metric: "failed_fast" },
                Row { label: "failed slow (100 ms or more)", metric: "failed_slow" },
                Row { label: "time a failed request took, mean · p99 (ms)", metric: "failure_ms" },
                Row { label: "clients waiting on A, on average", metric: "clients_waiting_mean" },
                Row { label: "A's busiest moment (workers)", metric: "a_workers_busy_max" },
                Row { label: "calls B never answered", metric: "dependency_timeouts" },
                Row { label: "calls to B", metric: "dependency_calls" },
                Row { label: "back to normal after B returns (s)", metric: "recovery_s" },
                Row { label: "breaker transitions", metric: "breaker_transitions" },
            ],
            tables: &[],
        },
        narrative: &crate::narratives::circuit_breaker::NARRATIVE,
        presets: const { &[
            Preset {
                name: "hung-dependency-no-breaker",
                title: "A hung dependency takes A down",
                about: "B hangs from 10 s to 40 s. With no breaker every call to B holds one of A's 20 workers for the full 1 s timeout: the pool is pinned, A's queue fills and refuses, and the half of the requests that never needed B fail with the rest.",
                set: &[("breaker", "off")],
                faults: &["10s hang b", "40s revive b"],
            },
            Preset {
                name: "hung-dependency-with-breaker",
                title: "The breaker fails fast and keeps A serving",
                about: "Same outage with the breaker on: after five timeouts it opens, calls that need B fail at once, the requests that do not need B keep completing, and half-open probes close it again after B is back.",
                set: &[("breaker", "on")],
                faults: &["10s hang b", "40s revive b"],
            },
            Preset {
                name: "erroring-dependency",
                title: "B refuses connections",
                about: "B is down from 10 s to 30 s and refuses connections: calls fail fast anyway, and the breaker stops A from even trying.",
                set: &[("breaker", "on")],
                faults: &["10s kill b", "30s revive b"],
            },
        ] },
    }
});

struct CbProbe {
    a: NodeId,
    b: NodeId,
    client: NodeId,
    workers: f64,
    /// For the rate of B-independent completions between samples: the count and time at
    /// the last sample.
    last_sample: std::cell::Cell<(u64, Micros)>,
}

impl Scene for CircuitBreaker {
    fn info(&self) -> &'static SceneInfo {
        &INFO
    }

    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe> {
        let dependency = Server::new(p.int("dependency_workers") as u32, 1_000, p.dist("dependency_time"), 1.0);
        let b = w.add_node("b", "dependency", Box::new(dependency));
        let breaker = BreakerConfig {
            enabled: p.flag("breaker"),
            failure_threshold: p.int("failure_threshold") as u32,
            failure_rate: p.float("failure_rate"),
            window_us: p.duration("window"),
            open_timeout_us: p.duration("open_timeout"),
            half_open_probes: p.int("half_open_probes") as u32,
        };
        let cfg = ServiceConfig {
            workers: p.int("workers") as u32,
            queue_limit: p.int("queue_limit") as u32,
            call_timeout_us: p.duration("call_timeout"),
            retries: p.int("retries") as u32,
            breaker,
            dependent_below: dependent_below(p),
            local_time: p.dist("local_time"),
        };
        let a = w.add_node("a", "service", Box::new(Service::new(b, cfg)));
        let source = Source::new(a, p.float("arrival_rate"), p.duration("client_timeout"), KEYS, w.stream("workload")).shaped(p).split_keys(dependent_below(p));
        let client = w.add_node("client", "client", Box::new(source));
        w.add_checker(Box::new(NoCallsWhileOpen {
            a,
            b,
            state: BreakerState::Closed,
            probes: 0,
            max_probes: p.int("half_open_probes") as u32,
        }));
        Box::new(CbProbe { a, b, client, workers: p.int("workers") as f64, last_sample: Default::default() })
    }
}

fn dependent_below(p: &Params) -> u64 {
    (p.float("dependent_share") * KEYS as f64).round() as u64
}

/// B's first outage so far (from a hang or kill of B to its revival, or to now), in
/// whole seconds of virtual time.
fn outage(w: &World) -> Option<(usize, Option<usize>)> {
    let now = w.now();
    let happened = w.faults().iter().filter(|f| f.at_us <= now);
    let mut start = None;
    for f in happened {
        match (&f.fault, start) {
            (Fault::Hang(n) | Fault::Kill(n), None) if n == "b" => start = Some(f.at_us),
            (Fault::Revive(n), Some(s)) if n == "b" => return Some((secs(s), Some(secs(f.at_us)))),
            _ => {}
        }
    }
    start.map(|s| (secs(s), None))
}

/// Time-average number of clients waiting on an answer: the time every ended request
/// waited, over the time run (Little's law; the few still waiting are left out).
fn mean_waiting(w: &World) -> f64 {
    let waited = |h: &crate::histogram::Histogram| h.mean() * h.count() as f64;
    let now = w.now().max(1) as f64;
    (waited(w.latency()) + waited(w.failure_latency())) / now
}

fn secs(us: Micros) -> usize {
    (us / US_PER_S) as usize
}

/// The mean per second over whole seconds `from..to` of a per-second count.
fn rate(counts: &[u32], from: usize, to: usize) -> Option<f64> {
    (to > from).then(|| sum(counts, from, to) / (to - from) as f64)
}

fn sum(counts: &[u32], from: usize, to: usize) -> f64 {
    (from..to).map(|s| f64::from(counts.get(s).copied().unwrap_or(0))).sum()
}

/// The share of requests sent in seconds `from..to` that completed (counted by the
/// second they completed in; over many seconds the edges hardly count).
fn success(sent: &[u32], completed: &[u32], from: usize, to: usize) -> Option<f64> {
    let n = sum(sent, from, to);
    (n > 0.0).then(|| sum(completed, from, to) / n)
}

impl Probe for CbProbe {
    fn metrics(&self, w: &World) -> Map<String, Json> {
        let a = w.component::<Service>(self.a);
        let client = w.component::<Source>(self.client);
        let timeline: Vec<Json> = a.timeline.iter().map(|(t, s)| Json::from([Json::from(*t), Json::from(s.name())])).collect();
        let [dependent, independent] = &client.completed_by_split;
        let independent_sent = &client.sent_by_split[1];
        let failures = w.failure_latency();
        let fast = failures.count_below(FAST_FAILURE_US);
        let now_s = secs(w.now());
        // The lesson: how the requests that never needed B fared while B was out (the
        // share of them that succeeded), against before (from the second second, past the
        // start-up); and the price: how long after B's return those that need B were back
        // to half their old rate.
        let (mut outage_pct, mut recovery) = (Json::from("—"), Json::from("—"));
        if let Some((start, end)) = outage(w) {
            let end = end.unwrap_or(now_s);
            if let (Some(before), Some(during)) = (success(independent_sent, independent, 1, start), success(independent_sent, independent, start, end)) {
                outage_pct = Json::from((1000.0 * during / before.max(1e-9)).round() / 10.0);
            }
            if let (Some(back), Some(before)) = (outage(w).and_then(|o| o.1), rate(dependent, 1, start)) {
                let first = (back..now_s).find(|s| f64::from(dependent.get(*s).copied().unwrap_or(0)) >= before / 2.0);
                recovery = first.map_or(Json::from("not yet"), |s| Json::from(s - back));
            }
        }
        measures!{
            "state_timeline": timeline,
            "breaker_transitions": a.transitions,
            "dependency_calls": a.dependency_calls,
            "dependency_completed": w.component::<Server>(self.b).completed,
            "dependency_timeouts": a.dependency_timeouts,
            "fast_failures": a.fast_failures,
            "a_workers_busy_max": a.busy_max,
            "a_rejected": a.rejected,
            "calls_while_open": w.violations_of(INVARIANT),
            "independent_completed": independent.iter().map(|c| u64::from(*c)).sum::<u64>(),
            "independent_outage_pct": outage_pct,
            "failed_fast": fast,
            "failed_slow": failures.count() - fast,
            "failure_ms": [ms(failures.mean()), ms(failures.quantile(0.99))],
            "clients_waiting_mean": (10.0 * mean_waiting(w)).round() / 10.0,
            "clients_waiting_max": client.waiting_max,
            "recovery_s": recovery,
        }
    }

    fn series_names(&self, _w: &World) -> Vec<String> {
        vec!["a_workers_busy".into(), "breaker_level".into(), "clients_waiting".into(), "independent_rps".into()]
    }

    /// The breaker's state as a level on the workers' scale (all of them when open, half
    /// when half-open, none when closed), to chart beside A's busy workers.
    fn sample(&self, w: &World, out: &mut Vec<f64>) {
        let a = w.component::<Service>(self.a);
        out.push(f64::from(a.busy()));
        out.push(match a.breaker_state() {
            BreakerState::Open => self.workers,
            BreakerState::HalfOpen => self.workers / 2.0,
            BreakerState::Closed => 0.0,
        });
        let client = w.component::<Source>(self.client);
        out.push(f64::from(client.waiting));
        let total: u64 = client.completed_by_split[1].iter().map(|c| u64::from(*c)).sum();
        let (last, at) = self.last_sample.replace((total, w.now()));
        let span_s = (w.now() - at) as f64 / 1e6;
        out.push(if span_s > 0.0 { (total - last) as f64 / span_s } else { 0.0 });
    }

    /// With B hung and no breaker, a request that needs B holds a worker for every
    /// attempt's full timeout and one that does not for A's own work, so A can finish at
    /// most workers / (mean hold) requests a second, whatever their kind.
    fn theory(&self, p: &Params) -> Vec<(&'static str, f64)> {
        let attempts = (p.int("retries") + 1) as f64;
        let dependent = dependent_below(p) as f64 / KEYS as f64;
        let hold_s = dependent * p.duration("call_timeout") as f64 / 1e6 * attempts + (1.0 - dependent) * p.dist("local_time").mean_us() / 1e6;
        vec![
            ("a_capacity_when_b_hangs_rps", p.int("workers") as f64 / hold_s.max(1e-9)),
            ("independent_offered_rps", p.float("arrival_rate") * (1.0 - dependent)),
        ]
    }
}

/// Watches A's announced breaker state and every call A sends to B.
struct NoCallsWhileOpen {
    a: NodeId,
    b: NodeId,
    state: BreakerState,
    probes: u32,
    max_probes: u32,
}

impl Checker for NoCallsWhileOpen {
    fn name(&self) -> &'static str {
        INVARIANT
    }

    fn on_record(&mut self, r: &Record, violations: &mut Vec<String>) {
        match r {
            Record::State { node, state, .. } if *node == self.a => {
                self.state = BreakerState::from_code(*state);
                self.probes = 0;
            }
            Record::Send { from, to, msg, t0, .. } if *from == self.a && *to == self.b && matches!(msg.kind, Kind::Call | Kind::Probe) => {
                let probe = msg.kind == Kind::Probe;
                match self.state {
                    BreakerState::Open => violations.push(format!("call for {:?} sent at {t0}us while the breaker was open", msg.req)),
                    BreakerState::HalfOpen if !probe => violations.push(format!("non-probe call for {:?} at {t0}us while half-open", msg.req)),
                    BreakerState::HalfOpen => {
                        self.probes += 1;
                        if self.probes > self.max_probes {
                            violations.push(format!("probe {} at {t0}us exceeds half_open_probes = {}", self.probes, self.max_probes));
                        }
                    }
                    BreakerState::Closed => {}
                }
            }
            _ => {}
        }
    }
}

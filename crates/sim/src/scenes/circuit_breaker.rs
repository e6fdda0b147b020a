//! Scene `circuit-breaker` (patterns.md row 6): clients → service A (a bounded worker
//! pool) → dependency B, with a breaker in A guarding its calls to B.

use super::measure::measures;
use crate::check::Checker;
use crate::components::breaker::{BreakerConfig, BreakerState};
use crate::components::server::Server;
use crate::components::service::{Service, ServiceConfig};
use crate::components::source::Source;
use crate::knob::{KnobKind, KnobSpec, Params, common_knobs};
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView, latency_chart, traffic_chart};
use crate::msg::{Kind, NodeId};
use crate::scene::{Preset, Probe, Scene, SceneInfo};
use crate::time::US_PER_S;
use crate::trace::Record;
use crate::world::World;
use serde_json::{Map, Value as Json, json};
use std::sync::LazyLock;

pub struct CircuitBreaker;

pub const INVARIANT: &str = "no call reaches B while open, except half-open probes";

static INFO: LazyLock<SceneInfo> = LazyLock::new(|| {
    let dur = |lo: u64, hi: u64| KnobKind::Duration { min_us: lo, max_us: hi };
    let mut knobs = common_knobs("200", 100_000.0);
    knobs.extend([
        KnobSpec { name: "breaker", kind: KnobKind::Bool, default: "on", unit: "", live: true, help: "Whether A guards its calls to B with a circuit breaker." },
        KnobSpec { name: "failure_threshold", kind: KnobKind::Int { min: 1, max: 10_000 }, default: "5", unit: "failures", live: false, help: "Failures within the window that open the breaker (also the fewest calls it judges on)." },
        KnobSpec { name: "failure_rate", kind: KnobKind::Float { min: 0.0, max: 1.0 }, default: "0.5", unit: "fraction", live: false, help: "Share of calls within the window that must have failed to open; 0 makes the breaker count-based only." },
        KnobSpec { name: "window", kind: dur(10_000, 600 * US_PER_S), default: "2s", unit: "", live: false, help: "The sliding window over which failures are counted." },
        KnobSpec { name: "open_timeout", kind: dur(1_000, 600 * US_PER_S), default: "5s", unit: "", live: false, help: "How long the breaker stays open before letting probes through." },
        KnobSpec { name: "half_open_probes", kind: KnobKind::Int { min: 1, max: 100 }, default: "3", unit: "calls", live: false, help: "Trial calls allowed when half-open; all must succeed to close." },
        KnobSpec { name: "call_timeout", kind: dur(1_000, 60 * US_PER_S), default: "1s", unit: "", live: false, help: "How long A waits for B before counting the call failed." },
        KnobSpec { name: "retries", kind: KnobKind::Int { min: 0, max: 10 }, default: "0", unit: "", live: false, help: "Extra attempts A makes after a failed call (each goes through the breaker)." },
        KnobSpec { name: "workers", kind: KnobKind::Int { min: 1, max: 10_000 }, default: "20", unit: "", live: false, help: "A's worker pool: requests it serves at once, each holding a worker for its whole call to B." },
        KnobSpec { name: "queue_limit", kind: KnobKind::Int { min: 0, max: 100_000 }, default: "50", unit: "requests", live: false, help: "Requests A lets wait for a worker; beyond it A answers 503." },
        KnobSpec { name: "dependency_time", kind: KnobKind::Dist, default: "exp:20ms", unit: "", live: false, help: "B's time to answer one call when healthy." },
        KnobSpec { name: "dependency_workers", kind: KnobKind::Int { min: 1, max: 10_000 }, default: "64", unit: "", live: false, help: "Calls B serves at once." },
        KnobSpec { name: "client_timeout", kind: dur(1_000, 600 * US_PER_S), default: "2s", unit: "", live: false, help: "How long a client waits for A before giving up." },
    ]);
    SceneInfo {
        id: "circuit-breaker",
        title: "Circuit breaker",
        knobs,
        actions: &[],
        view: SceneView {
            stage: StageView { columns: &[&["client"], &["service"], &["dependency"]], links: &[("client", "service"), ("service", "dependency")], paired: &[] },
            charts: vec![
                latency_chart(),
                traffic_chart(&[Line::theory("A's capacity if B hangs", "a_capacity_when_b_hangs_rps", 1.0, Colour::Yellow)]),
                Chart {
                    title: "A's busy workers, and the breaker",
                    unit: "workers",
                    lines: vec![
                        Line::measured("A workers busy", "a_workers_busy", Colour::Blue).compared(),
                        Line::measured("breaker (top open, middle half-open)", "breaker_level", Colour::Red),
                    ],
                },
            ],
            compare: &[
                Row { label: "fast failures (breaker open)", metric: "fast_failures" },
                Row { label: "calls to B", metric: "dependency_calls" },
                Row { label: "A's busiest moment (workers)", metric: "a_workers_busy_max" },
                Row { label: "refused by A (queue full)", metric: "a_rejected" },
                Row { label: "breaker transitions", metric: "breaker_transitions" },
            ],
        },
        narrative: &crate::narratives::circuit_breaker::NARRATIVE,
        presets: vec![
            Preset {
                name: "hung-dependency-no-breaker",
                title: "A hung dependency takes A down",
                about: "B hangs from 10 s to 40 s. With no breaker every call holds one of A's 20 workers for the full 1 s timeout, so A can serve 20 requests a second of the 200 offered: A fails too.",
                set: &[("breaker", "off")],
                faults: &["10s hang b", "40s revive b"],
            },
            Preset {
                name: "hung-dependency-with-breaker",
                title: "The breaker fails fast and recovers",
                about: "Same outage with the breaker on: after five timeouts it opens, A answers at once instead of waiting, and half-open probes close it soon after B is back.",
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
        ],
    }
});

struct CbProbe {
    a: NodeId,
    b: NodeId,
    workers: f64,
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
        };
        let a = w.add_node("a", "service", Box::new(Service::new(b, cfg)));
        let source = Source::new(a, p.float("arrival_rate"), p.duration("client_timeout"), 1_000, w.stream("workload")).shaped(p);
        w.add_node("client", "client", Box::new(source));
        w.add_checker(Box::new(NoCallsWhileOpen {
            a,
            b,
            state: BreakerState::Closed,
            probes: 0,
            max_probes: p.int("half_open_probes") as u32,
        }));
        Box::new(CbProbe { a, b, workers: p.int("workers") as f64 })
    }
}

impl Probe for CbProbe {
    fn metrics(&self, w: &World) -> Map<String, Json> {
        let a = w.component::<Service>(self.a);
        let timeline: Vec<Json> = a.timeline.iter().map(|(t, s)| json!([t, s.name()])).collect();
        measures(json!({
            "state_timeline": timeline,
            "breaker_transitions": a.transitions,
            "dependency_calls": a.dependency_calls,
            "dependency_completed": w.component::<Server>(self.b).completed,
            "fast_failures": a.fast_failures,
            "a_workers_busy_max": a.busy_max,
            "a_rejected": a.rejected,
            "calls_while_open": w.violations_of(INVARIANT),
        }))
    }

    fn series_names(&self, _w: &World) -> Vec<String> {
        vec!["a_workers_busy".into(), "breaker_level".into()]
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
    }

    /// With B hung and no breaker, each request holds a worker for every attempt's full
    /// timeout, so A can finish at most workers / (timeout x attempts) requests a second.
    fn theory(&self, p: &Params) -> Vec<(&'static str, f64)> {
        let attempts = (p.int("retries") + 1) as f64;
        let hold_s = p.duration("call_timeout") as f64 / 1e6 * attempts;
        vec![("a_capacity_when_b_hangs_rps", p.int("workers") as f64 / hold_s)]
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

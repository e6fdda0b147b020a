//! Scene `saga` (patterns.md row 13): a trip booked as four local transactions, flight,
//! hotel, car and payment, each in its own service. A step that fails is not rolled back
//! by a database: the steps before it are undone by compensations (cancel the flight,
//! cancel the hotel), run in reverse order, retried until they succeed. Orchestrated, one
//! coordinator asks each service in turn, owns every timeout, and resumes from its log
//! after a crash; choreographed, each service cues the next (or the previous, to undo).

mod check;
mod nodes;

use super::measure::{measures, share};
use check::Ends;
use crate::components::source::Source as Clients;
use crate::knob::{KnobKind, KnobSpec, Params, common_knobs_with_latency};
use crate::msg::NodeId;
use crate::scene::{Preset, Probe, Scene, SceneInfo};
use crate::time::{Micros, US_PER_S};
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView, Table, LATENCY_CHART};
use crate::world::World;
use nodes::{Coordinator, S_DONE, S_FAILED, S_UNDONE, STEPS, Service};
use serde_json::{Map, Value as Json};
use std::cell::RefCell;
use std::sync::LazyLock;

pub struct Saga;

pub const STYLES: &[&str] = &["orchestration", "choreography"];
pub const SERVICES: [&str; STEPS] = ["flight", "hotel", "car", "payment"];
const INVARIANT: &str = "every saga ends all-done or all-compensated, compensating only steps that ran (partial_left = 0)";

static INFO: LazyLock<SceneInfo> = LazyLock::new(|| {
    let mut knobs = common_knobs_with_latency("50", 20_000.0, "const:1ms");
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "style", kind: KnobKind::Choice(STYLES), default: "orchestration", unit: "", live: false, help: "orchestration: one coordinator asks each service in turn, times each step out, compensates in reverse and resumes from its log after a crash. choreography: each service cues the next when its step is done, or the previous to undo; nobody owns a saga as a whole." },
        KnobSpec { name: "step_failure_rate", kind: KnobKind::Float { min: 0.0, max: 1.0 }, default: "0.1", unit: "fraction", live: true, help: "The chance that a step fails (no seat, no room, card declined); it did nothing, and the steps before it are compensated." },
        KnobSpec { name: "compensation_failure_rate", kind: KnobKind::Float { min: 0.0, max: 0.9 }, default: "0.1", unit: "fraction", live: true, help: "The chance that a compensation fails for now; it is retried after the backoff until it succeeds." },
        KnobSpec { name: "retries", kind: KnobKind::Int { min: 0, max: 5 }, default: "0", unit: "", live: false, help: "How often a failed step is tried again before the saga gives up and compensates." },
        KnobSpec { name: "step_timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 60 * US_PER_S }, default: "1s", unit: "", live: false, help: "Orchestration: how long the coordinator waits for a step before it counts it failed; a step that timed out may have run, so it is compensated too." },
        KnobSpec { name: "backoff", kind: KnobKind::Duration { min_us: 1_000, max_us: 60 * US_PER_S }, default: "200ms", unit: "", live: false, help: "The wait before a failed compensation (or, in choreography, a failed step) is tried again." },
        KnobSpec { name: "step_time", kind: KnobKind::Dist, default: "exp:20ms", unit: "", live: false, help: "How long a service takes to do or undo its step." },
        KnobSpec { name: "client_timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "30s", unit: "", live: false, help: "How long a traveller waits to hear booked or cancelled." },
    ] });
    SceneInfo {
        id: "saga",
        title: "Saga",
        knobs,
        actions: &[],
        view: SceneView {
            stage: StageView { columns: &[&["client"], &["orchestrator"], &["service"]], links: &[("client", "orchestrator"), ("orchestrator", "service"), ("service", "service")], paired: &[] },
            charts: const { &[
                Chart {
                    title: "Sagas ended per second",
                    unit: "sagas/s",
                    lines: &[Line::measured("all done/s", "completed_rps", Colour::Green).compared(), Line::measured("compensated/s", "compensated_rps", Colour::Orange).compared()],
                },
                Chart {
                    title: "Share all done",
                    unit: "fraction",
                    lines: &[Line::measured("all done / ended", "completed_share", Colour::Green).compared(), Line::theory("(1 - p^(retries+1))^4", "completed_share", 1.0, Colour::White)],
                },
                Chart { title: "Sagas open", unit: "sagas", lines: &[Line::measured("open", "open", Colour::Purple).compared()] },
                LATENCY_CHART,
            ] },
            compare: &[
                Row { label: "all done", metric: "completed" },
                Row { label: "compensated (all undone)", metric: "compensated" },
                Row { label: "left partial (partial_left)", metric: "partial_left" },
                Row { label: "compensations run", metric: "compensations_run" },
                Row { label: "failed compensations, retried", metric: "compensation_failures" },
                Row { label: "steps timed out", metric: "timeouts" },
                Row { label: "sagas with no outcome after 10 s", metric: "stuck" },
                Row { label: "sagas resumed after a crash", metric: "resumed" },
            ],
            tables: &[Table {
                caption: "The latest sagas to end, step by step: ✓ done, ✗ failed, ↺ done then undone, ○ nothing to undo, — not reached",
                columns: "saga_columns",
                rows: &[
                    Row { label: "latest", metric: "saga_0" },
                    Row { label: "before it", metric: "saga_1" },
                    Row { label: "2 before", metric: "saga_2" },
                    Row { label: "3 before", metric: "saga_3" },
                    Row { label: "4 before", metric: "saga_4" },
                    Row { label: "5 before", metric: "saga_5" },
                ],
            }],
        },
        narrative: &crate::narratives::saga::NARRATIVE,
        presets: const { &[
            Preset {
                name: "orchestrated",
                title: "An orchestrator books, and undoes in reverse",
                about: "Each step fails 10% of the time, so about 0.9⁴ ≈ 66% of trips book in full. When the car fails, the orchestrator cancels the hotel, then the flight: the table shows each saga's steps done, failed and compensated.",
                set: &[],
                faults: &[],
            },
            Preset {
                name: "orchestrator-crash",
                title: "The orchestrator crashes mid-saga and resumes from its log",
                about: "At 20 s the orchestrator dies with sagas under way and comes back at 25 s. Its log holds where each saga was: it asks again for the step or the compensation under way, and every saga still ends all done or all undone.",
                set: &[],
                faults: &["20s kill orchestrator", "25s revive orchestrator"],
            },
            Preset {
                name: "hotel-hangs",
                title: "Choreographed, the hotel service hangs",
                about: "From 20 s to 30 s the hotel takes bookings and never answers, and restarts at 30 s without the work it held. Nobody was waiting for it: those sagas never end, their flights booked. Orchestrated, the coordinator times the hotel out, and cancels the flights once the hotel answers again.",
                set: &[("style", "choreography")],
                faults: &["20s hang hotel", "30s revive hotel"],
            },
            Preset {
                name: "choreographed",
                title: "Choreography: each service cues the next",
                about: "No coordinator: the flight service books and tells the hotel, which tells the car service, and so on; a failure goes back the same way, each service undoing its own step. Same outcomes, fewer hops, and nobody to ask where a saga is.",
                set: &[("style", "choreography")],
                faults: &[],
            },
        ] },
    }
});

/// The share of sagas that book in full when each step fails with chance `p` on each of
/// `retries + 1` independent attempts.
pub fn completed_share(p: f64, retries: i64) -> f64 {
    (1.0 - p.powi(retries as i32 + 1)).powi(STEPS as i32)
}

struct SagaProbe {
    coordinator: NodeId,
    services: Vec<NodeId>,
    /// At the last sample: time, completed, compensated.
    last: RefCell<(Micros, u64, u64)>,
}

impl Scene for Saga {
    fn info(&self) -> &'static SceneInfo {
        &INFO
    }

    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe> {
        let choreography = p.choice("style") == "choreography";
        let (timeout, backoff) = (p.duration("step_timeout"), p.duration("backoff"));
        let retries = p.int("retries") as u32;
        // Long after any saga could still be under way, bar an outage.
        let keep = 60 * US_PER_S + 20 * timeout;
        // The coordinator is node 0 and the services 1 to 4, in order.
        let services: Vec<NodeId> = (1..=STEPS as NodeId).collect();
        let coordinator = w.add_node("orchestrator", "orchestrator", Box::new(Coordinator::new(services.clone(), choreography, retries, timeout, backoff, keep)));
        for (i, name) in SERVICES.iter().enumerate() {
            let prev = (i > 0).then(|| services[i - 1]);
            let next = services.get(i + 1).copied();
            let s = Service::new(i, coordinator, prev, next, choreography, p.dist("step_time"), p.float("step_failure_rate"), p.float("compensation_failure_rate"), retries, backoff, keep);
            assert!(w.add_node(*name, "service", Box::new(s)) == services[i], "nodes added in id order");
        }
        let clients = Clients::new(coordinator, p.float("arrival_rate"), p.duration("client_timeout"), 1 << 40, w.stream("workload")).shaped(p);
        let client = w.add_node("client", "client", Box::new(clients));
        w.add_checker(Box::new(Ends::new(coordinator, client, keep)));
        Box::new(SagaProbe { coordinator, services, last: RefCell::new((0, 0, 0)) })
    }
}

/// A step of one saga, as its service holds it, in words for the table.
fn step_word(state: Option<u8>) -> &'static str {
    match state {
        Some(s) if s & S_DONE != 0 && s & S_UNDONE != 0 => "↺",
        Some(s) if s & S_DONE != 0 => "✓",
        Some(s) if s & S_UNDONE != 0 => "○",
        Some(s) if s & S_FAILED != 0 => "✗",
        _ => "—",
    }
}

impl Probe for SagaProbe {
    fn metrics(&self, w: &World) -> Map<String, Json> {
        let c = w.component::<Coordinator>(self.coordinator);
        let services: Vec<&Service> = self.services.iter().map(|&id| w.component::<Service>(id)).collect();
        let mut m = measures!{
            "sagas": c.completed + c.compensated + c.open + c.stuck,
            "completed": c.completed,
            "compensated": c.compensated,
            "completed_share": share(c.completed, c.completed + c.compensated),
            "partial_left": w.violations_of(INVARIANT),
            "compensations_run": services.iter().map(|s| s.compensations_run).sum::<u64>(),
            "compensation_failures": services.iter().map(|s| s.compensation_failures).sum::<u64>(),
            "step_failures": services.iter().map(|s| s.failed).sum::<u64>(),
            "timeouts": c.timeouts,
            "open": c.open,
            "stuck": c.stuck_at(w.now()),
            "resumed": c.resumed,
            "saga_columns": ["flight", "hotel", "car", "payment", "ended"],
        };
        for (i, (id, outcome)) in c.recent.iter().rev().enumerate() {
            let mut row: Vec<Json> = services.iter().map(|s| Json::from(step_word(s.held.get(*id).map(|h| h.state)))).collect();
            row.push(Json::from(if *outcome { "booked" } else { "cancelled" }));
            m.insert(format!("saga_{i}"), Json::Array(row));
        }
        m
    }

    fn series_names(&self, _w: &World) -> Vec<String> {
        ["completed_rps", "compensated_rps", "completed_share", "open"].map(String::from).to_vec()
    }

    fn sample(&self, w: &World, out: &mut Vec<f64>) {
        let c = w.component::<Coordinator>(self.coordinator);
        let mut last = self.last.borrow_mut();
        let dt = (w.now() - last.0) as f64 / 1e6;
        let (done, undone) = (c.completed - last.1, c.compensated - last.2);
        out.push(if dt > 0.0 { done as f64 / dt } else { 0.0 });
        out.push(if dt > 0.0 { undone as f64 / dt } else { 0.0 });
        out.push(if done + undone > 0 { done as f64 / (done + undone) as f64 } else { f64::NAN });
        out.push(c.open as f64);
        *last = (w.now(), c.completed, c.compensated);
    }

    fn theory(&self, p: &Params) -> Vec<(&'static str, f64)> {
        vec![("completed_share", completed_share(p.float("step_failure_rate"), p.int("retries")))]
    }
}

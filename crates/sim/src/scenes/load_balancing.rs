//! Scene `load-balancing` (patterns.md row 5): clients → balancer → N servers.

use super::measure::{max_over_mean, measures, round3};
use super::theory::{erlang_m1_response_us, mm1_in_system, mm1_response_us};
use crate::check::{Checker, RunEnd};
use crate::components::balancer::{Balancer, Policy};
use crate::components::server::Server;
use crate::components::source::Source as Clients;
use crate::dist::Dist;
use crate::knob::{KnobKind, KnobSpec, Params, common_knobs};
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView, LATENCY_CHART};
use crate::ledger::Outcome;
use crate::msg::{Kind, NodeId};
use crate::scene::{Preset, Probe, Scene, SceneInfo};
use crate::time::US_PER_S;
use crate::trace::Record;
use crate::world::World;
use serde_json::{Map, Value as Json};
use std::sync::LazyLock;

pub struct LoadBalancing;

static INFO: LazyLock<SceneInfo> = LazyLock::new(|| {
    let mut knobs = common_knobs("3000", 1_000_000.0);
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "policy", kind: KnobKind::Choice(Policy::NAMES), default: "round-robin", unit: "", live: true, help: "How the balancer picks a server for each request." },
        KnobSpec { name: "servers", kind: KnobKind::Int { min: 1, max: 64 }, default: "4", unit: "", live: false, help: "Number of servers behind the balancer." },
        KnobSpec { name: "service_time", kind: KnobKind::Dist, default: "exp:1ms", unit: "", live: false, help: "Work one request needs on a server of speed 1, on average (service_cv sets its spread)." },
        KnobSpec {
            name: "service_cv",
            kind: KnobKind::Float { min: 0.0, max: 4.0 },
            default: "1",
            unit: "",
            live: false,
            help: "How much requests differ in cost: the spread of service_time around its mean (standard deviation over mean). 0: every request costs the same; 1: exponential; above 1: a heavy tail of rare, very costly requests.",
        },
        KnobSpec {
            name: "server_speeds",
            kind: KnobKind::Floats { min: 0.01, max: 100.0, max_len: 64 },
            default: "1",
            unit: "x",
            live: false, help: "Relative speed of each server, comma-separated; the list repeats if shorter than the number of servers. Also the weights of weighted round robin.",
        },
        KnobSpec { name: "workers", kind: KnobKind::Int { min: 1, max: 256 }, default: "1", unit: "", live: false, help: "Requests a server works on at once." },
        KnobSpec { name: "queue_limit", kind: KnobKind::Int { min: 0, max: 100_000 }, default: "1000", unit: "requests", live: false, help: "Waiting room per server; beyond it the server answers 503." },
        KnobSpec { name: "health_checks", kind: KnobKind::Bool, default: "off", unit: "", live: false, help: "Whether the balancer probes servers and stops sending to dead ones." },
        KnobSpec { name: "health_interval", kind: KnobKind::Duration { min_us: 10_000, max_us: 60 * US_PER_S }, default: "1s", unit: "", live: false, help: "Time between health checks of each server." },
        KnobSpec { name: "timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "10s", unit: "", live: false, help: "How long the balancer waits for a server before answering 504; clients wait twice as long." },
        KnobSpec { name: "clients", kind: KnobKind::Int { min: 1, max: 1_000_000 }, default: "1000", unit: "", live: false, help: "Distinct client addresses (what ip-hash hashes)." },
    ] });
    SceneInfo {
        id: "load-balancing",
        title: "Load balancing",
        knobs,
        actions: &[],
        view: SceneView {
            stage: StageView { columns: &[&["client"], &["balancer"], &["server"]], links: &[("client", "balancer"), ("balancer", "server")], paired: &[] },
            charts: const { &[
                LATENCY_CHART,
                clusterlab_engine::traffic_chart!(),
                Chart { title: "Queue depth per server", unit: "requests", lines: &[Line::each("queue:", Colour::Blue)] },
            ] },
            compare: &[
                Row { label: "completed per server", metric: "per_server_completed" },
                Row { label: "longest queue per server", metric: "per_server_queue_max" },
                Row { label: "refused per server (queue full)", metric: "per_server_rejected" },
                Row { label: "mean in system per server", metric: "queue_mean" },
                Row { label: "errors after the first kill", metric: "errors_after_kill" },
            ],
            tables: &[],
        },
        narrative: &crate::narratives::load_balancing::NARRATIVE,
        presets: const { &[
            Preset {
                name: "slow-server-round-robin",
                title: "Round robin drowns a slow server",
                about: "One server runs at a quarter speed; round robin still sends it a quarter of the traffic, so its queue grows until it refuses requests.",
                set: &[("policy", "round-robin"), ("server_speeds", "1,1,1,0.25"), ("arrival_rate", "2400")],
                faults: &[],
            },
            Preset {
                name: "slow-server-power-of-two",
                title: "Power of two choices keeps up",
                about: "Same slow server, but each request goes to the less busy of two random servers: the slow one simply gets less.",
                set: &[("policy", "power-of-two"), ("server_speeds", "1,1,1,0.25"), ("arrival_rate", "2400")],
                faults: &[],
            },
            Preset {
                name: "dead-server-no-health-checks",
                title: "A dead server eats requests",
                about: "server-2 dies at 10.5 s. Without health checks, round robin keeps sending it a quarter of the requests, and every one fails.",
                set: &[("policy", "round-robin"), ("health_checks", "off")],
                faults: &["10500ms kill server-2"],
            },
            Preset {
                name: "dead-server-health-checks",
                title: "Health checks route around the dead",
                about: "Same failure with health checks every second: a few requests fail until the next check, then traffic goes to the three live servers.",
                set: &[("policy", "round-robin"), ("health_checks", "on"), ("health_interval", "1s")],
                faults: &["10500ms kill server-2"],
            },
            Preset {
                name: "slowness-moves-least-connections",
                title: "Slowness that moves: counting connections is not enough",
                about: "server-1 runs at a tenth of its speed from 10 s to 25 s, then server-3 until 40 s. Least connections notices only once requests pile up on the slow one; a latency-aware policy (peak-ewma) notices from the first slow answer.",
                set: &[("policy", "least-connections"), ("arrival_rate", "2000")],
                faults: &["10s slow server-1 x10", "25s revive server-1", "25s slow server-3 x10", "40s revive server-3"],
            },
            Preset {
                name: "costly-requests-round-robin",
                title: "Requests of very different cost",
                about: "The same mean work per request, but spread wide (service_cv 3): a few rare, very costly requests block the queue behind them, and round robin keeps sending work there.",
                set: &[("policy", "round-robin"), ("service_cv", "3")],
                faults: &[],
            },
        ] },
    }
});

struct LbProbe {
    servers: Vec<NodeId>,
    balancer: NodeId,
}

impl Scene for LoadBalancing {
    fn info(&self) -> &'static SceneInfo {
        &INFO
    }

    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe> {
        let n = p.int("servers") as usize;
        let speeds = p.floats("server_speeds");
        let speed = |i: usize| speeds[i % speeds.len()];
        let service = service(p);
        let (workers, queue_limit) = (p.int("workers") as u32, p.int("queue_limit") as u32);
        let servers: Vec<NodeId> = (0..n)
            .map(|i| w.add_node(format!("server-{}", i + 1), "server", Box::new(Server::new(workers, queue_limit, service.clone(), speed(i)))))
            .collect();
        let policy = Policy::from_name(p.choice("policy")).expect("choices are policy names");
        let health = p.flag("health_checks").then(|| p.duration("health_interval"));
        let timeout = p.duration("timeout");
        let weights = (0..n).map(speed).collect();
        let balancer = w.add_node("lb", "balancer", Box::new(Balancer::new(servers.clone(), policy, weights, health, timeout)));
        let source = Clients::new(balancer, p.float("arrival_rate"), 2 * timeout, p.int("clients") as u64, w.stream("workload")).shaped(p);
        w.add_node("client", "client", Box::new(source));
        let mut is_server = vec![false; w.nodes().len()];
        for s in &servers {
            is_server[*s as usize] = true;
        }
        w.add_checker(Box::new(ServedOrFailed { servers: is_server, served: Vec::new() }));
        Box::new(LbProbe { servers, balancer })
    }
}

impl Probe for LbProbe {
    fn metrics(&self, w: &World) -> Map<String, Json> {
        let now = w.now();
        let srv = |id: &NodeId| w.component::<Server>(*id);
        let completed: Vec<u64> = self.servers.iter().map(|s| srv(s).completed).collect();
        let queue_max: Vec<u32> = self.servers.iter().map(|s| srv(s).queue_max).collect();
        let in_system: Vec<f64> = self.servers.iter().map(|s| round3(srv(s).mean_in_system(now))).collect();
        let lb = w.component::<Balancer>(self.balancer);
        measures!{
            "per_server_completed": completed,
            "per_server_queue_max": queue_max,
            "per_server_queue_mean": in_system,
            "queue_mean": round3(in_system.iter().sum::<f64>() / in_system.len() as f64),
            "per_server_forwarded": lb.forwarded,
            "per_server_rejected": self.servers.iter().map(|s| srv(s).rejected).collect::<Vec<_>>(),
            "load_imbalance": round3(max_over_mean(&completed.iter().map(|c| *c as f64).collect::<Vec<_>>())),
            "errors_after_kill": w.errors_after_kill(),
        }
    }

    fn series_names(&self, w: &World) -> Vec<String> {
        self.servers.iter().map(|s| format!("queue:{}", w.nodes()[*s as usize].name)).collect()
    }

    fn sample(&self, w: &World, out: &mut Vec<f64>) {
        out.extend(self.servers.iter().map(|s| f64::from(w.component::<Server>(*s).in_system())));
    }

    fn theory(&self, p: &Params) -> Vec<(&'static str, f64)> {
        lb_theory(p)
    }
}

/// Each request's work: service_time's mean, with the spread service_cv asks for.
fn service(p: &Params) -> Dist {
    p.dist("service_time").with_cv(p.float("service_cv"))
}

/// Closed forms for the current knobs, where they apply: steady traffic, exponential service, equal
/// speeds, one worker, no loss, a network delay that is constant (it shifts every
/// percentile by four hops), and a waiting room large enough never to refuse.
pub fn lb_theory(p: &Params) -> Vec<(&'static str, f64)> {
    let Dist::Exp { mean_us } = service(p) else { return vec![] };
    let Dist::Const(hop_us) = p.dist("net_latency") else { return vec![] };
    let speeds = p.floats("server_speeds");
    let steady = p.choice("traffic") == "steady";
    if !steady || speeds.iter().any(|s| *s != speeds[0]) || p.int("workers") != 1 || p.float("loss") > 0.0 {
        return vec![];
    }
    let n = p.int("servers") as f64;
    let lambda = p.float("arrival_rate") / n;
    let mu = 1e6 / mean_us as f64 * speeds[0];
    let (response, name) = match p.choice("policy") {
        "random" => (mm1_response_us(lambda, mu), "M/M/1"),
        "round-robin" | "weighted-round-robin" => (erlang_m1_response_us(n as u32, lambda, mu), "E_N/M/1"),
        _ => (None, ""),
    };
    let Some((mean, p95, p99)) = response else { return vec![] };
    let shift = 4.0 * hop_us as f64;
    let mut out = vec![("latency_mean_us", mean + shift), ("latency_p95_us", p95 + shift), ("latency_p99_us", p99 + shift)];
    if name == "M/M/1" {
        out.push(("queue_mean", mm1_in_system(lambda, mu).unwrap_or(f64::NAN)));
    }
    out
}


/// "Every request reaches a live server or is counted failed": a request can complete
/// only if a server answered it, and none is left in flight once the run has drained.
struct ServedOrFailed {
    /// By node id: whether the node is a server.
    servers: Vec<bool>,
    /// By ledger slot: the generation + 1 of the newest request a server answered there.
    served: Vec<u32>,
}

impl ServedOrFailed {
    fn is_server(&self, node: NodeId) -> bool {
        self.servers.get(node as usize).is_some_and(|s| *s)
    }
}

impl Checker for ServedOrFailed {
    fn name(&self) -> &'static str {
        "every request reaches a live server or is counted failed"
    }

    fn on_record(&mut self, r: &Record, violations: &mut Vec<String>) {
        match r {
            Record::Send { from, msg, .. } if matches!(msg.kind, Kind::Response | Kind::Reject) && self.is_server(*from) => {
                let slot = msg.req.slot();
                if self.served.len() <= slot {
                    self.served.resize(slot + 1, 0);
                }
                // A slot's generations only grow, and a late answer to an older request
                // must not hide the answer to the one now in the slot: keep the newest.
                self.served[slot] = self.served[slot].max(msg.req.generation() + 1);
            }
            Record::End { req, outcome: Outcome::Completed, .. } => {
                if self.served.get(req.slot()).copied() != Some(req.generation() + 1) {
                    violations.push(format!("request {req:?} completed but no live server answered it"));
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self, end: &RunEnd, violations: &mut Vec<String>) {
        if !end.drained {
            violations.push(format!("{} requests neither served nor counted failed after the drain", end.counts.in_flight));
        }
    }
}

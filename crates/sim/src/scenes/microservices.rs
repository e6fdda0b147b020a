//! Scene `microservices` (patterns.md row 12): one request served by a monolith, which
//! runs every module in its own process, or by a gateway that fans out to `fan_out`
//! services over the network, each with replicas, and answers when all have. Each call
//! is slow now and then (a GC pause, a cold cache), and fails now and then. The request
//! is as slow as its slowest call and fails if any call fails: the chance that at least
//! one of N calls is slow is 1 - (1-p)^N, and availability multiplies down as a^N.

use super::measure::{measures, round3, share};
use crate::component::{Component, Ctx, NodeView, Tone};
use crate::components::slab::Slab;
use crate::components::source::Source as Clients;
use crate::dist::Dist;
use crate::knob::{KnobKind, KnobSpec, Params, Value, common_knobs};
use crate::msg::{Kind, Msg, NodeId};
use crate::scene::{Preset, Probe, Scene, SceneInfo};
use crate::time::{Micros, US_PER_S};
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView, Table, LATENCY_CHART};
use crate::world::World;
use serde_json::{Map, Value as Json};
use std::any::Any;
use std::cell::RefCell;
use std::sync::LazyLock;

pub struct Microservices;

pub const ARCHITECTURES: &[&str] = &["microservices", "monolith"];
pub const SERVICES: [&str; 12] = ["user", "order", "payment", "inventory", "shipping", "search", "review", "pricing", "auth", "cart", "email", "media"];
/// Fan-outs in the theory table.
const FAN_OUTS: [i64; 6] = [1, 2, 4, 8, 12, 50];
/// A request slower than this counts as slow (it touched a slow call).
const SLOW_ABOVE_US: Micros = 100_000;

static INFO: LazyLock<SceneInfo> = LazyLock::new(|| {
    let mut knobs = common_knobs("200", 50_000.0);
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "architecture", kind: KnobKind::Choice(ARCHITECTURES), default: "microservices", unit: "", live: false, help: "microservices: a gateway calls fan_out services in parallel over the network and answers when all have. monolith: one process runs the same modules one after another, in memory." },
        KnobSpec { name: "fan_out", kind: KnobKind::Int { min: 1, max: 12 }, default: "3", unit: "services", live: false, help: "Services (modules, in the monolith) each request needs." },
        KnobSpec { name: "replicas", kind: KnobKind::Int { min: 1, max: 4 }, default: "2", unit: "", live: false, help: "Instances of each service (of the monolith); a call goes to one at random." },
        KnobSpec { name: "hop_latency", kind: KnobKind::Dist, default: "const:1ms", unit: "per call", live: false, help: "What a call over the network adds (there and back, serialising, TLS); a monolith's in-process calls pay none." },
        KnobSpec { name: "service_time", kind: KnobKind::Dist, default: "exp:5ms", unit: "", live: false, help: "A module's work for one request, when it is not slow." },
        KnobSpec { name: "slow_probability", kind: KnobKind::Float { min: 0.0, max: 1.0 }, default: "0.01", unit: "fraction", live: true, help: "The chance that one call is slow (a pause, a cold cache, a retransmit)." },
        KnobSpec { name: "slow_time", kind: KnobKind::Duration { min_us: 1_000, max_us: 60 * US_PER_S }, default: "300ms", unit: "", live: false, help: "How long a slow call takes." },
        KnobSpec { name: "service_availability", kind: KnobKind::Float { min: 0.5, max: 1.0 }, default: "0.999", unit: "fraction", live: true, help: "The chance that one call succeeds (the monolith's chance per request): each service fails on its own." },
        KnobSpec { name: "call_timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 60 * US_PER_S }, default: "2s", unit: "", live: false, help: "How long the gateway waits for a call before it fails the request." },
        KnobSpec { name: "client_timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "10s", unit: "", live: false, help: "How long a client waits for an answer." },
    ] });
    SceneInfo {
        id: "microservices",
        title: "Microservices",
        knobs,
        actions: &[],
        view: SceneView {
            stage: StageView { columns: &[&["client"], &["gateway"], &["service", "monolith"]], links: &[("client", "gateway"), ("gateway", "service"), ("gateway", "monolith")], paired: &[] },
            charts: const { &[
                Chart {
                    title: "Requests that touched a slow call",
                    unit: "fraction",
                    lines: &[Line::measured("slow share", "slow_share", Colour::Orange).compared(), Line::theory("1 - (1-p)^N", "slow_share", 1.0, Colour::White)],
                },
                Chart {
                    title: "Availability",
                    unit: "fraction",
                    lines: &[Line::measured("answered", "availability", Colour::Green).compared(), Line::theory("a^N", "availability", 1.0, Colour::White)],
                },
                LATENCY_CHART,
            ] },
            compare: &[
                Row { label: "availability", metric: "availability" },
                Row { label: "... theory (a^N)", metric: "availability_theory" },
                Row { label: "share slower than 100 ms", metric: "slow_share" },
                Row { label: "... theory (1-(1-p)^N)", metric: "slow_share_theory" },
                Row { label: "calls per request", metric: "calls_per_request" },
            ],
            tables: &[Table {
                caption: "Theory by fan-out, for this p and a: a request waits for its slowest call, and fails if any fails",
                columns: "fan_outs",
                rows: &[Row { label: "touches a slow call, 1-(1-p)^N", metric: "slow_by_fan_out" }, Row { label: "availability, a^N", metric: "availability_by_fan_out" }],
            }],
        },
        narrative: &crate::narratives::microservices::NARRATIVE,
        presets: const { &[
            Preset {
                name: "fan-out-tail",
                title: "Ten services per request: the rare slow call becomes common",
                about: "Each call is slow 1% of the time. A request that needs ten services touches at least one slow call 1-(0.99)^10 ≈ 9.6% of the time: the p99 is the slow call's 300 ms, where one service's p99 is a few milliseconds.",
                set: &[("fan_out", "10")],
                faults: &[],
            },
            Preset {
                name: "availability-multiplies",
                title: "Ten services at 99%: 90% available",
                about: "Each service answers 99% of calls. A request needs all ten: 0.99^10 ≈ 90% succeed. The same modules in one process fail only when that process does: 99%.",
                set: &[("fan_out", "10"), ("service_availability", "0.99")],
                faults: &[],
            },
            Preset {
                name: "monolith",
                title: "The same modules in one process",
                about: "No network between modules: no hop latency, one thing to fail. Its slow modules add up instead of racing: a request is slow if any module is, as before, but it never waits on the network.",
                set: &[("architecture", "monolith"), ("fan_out", "10")],
                faults: &[],
            },
            Preset {
                name: "one-service-down",
                title: "One service's replicas die: every request fails",
                about: "At 20 s both replicas of the order service die. Every request needs it: availability drops to 0 until they come back at 30 s, though the other services are healthy.",
                set: &[],
                faults: &["20s kill order-1", "20s kill order-2", "30s revive order-1", "30s revive order-2"],
            },
        ] },
    }
});

/// A service replica, or a monolith instance doing `modules` modules one after another.
pub struct Service {
    modules: u32,
    work: Dist,
    hop: Dist,
    slow_p: f64,
    slow_us: Micros,
    availability: f64,
    working: Slab<(NodeId, Msg, bool)>,
    pub served: u64,
    pub failed: u64,
}

impl Component for Service {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if !matches!(msg.kind, Kind::Call | Kind::Request) {
            return;
        }
        let mut us = self.hop.sample(ctx.rng);
        for _ in 0..self.modules {
            us += if self.slow_p > 0.0 && ctx.rng.unit() < self.slow_p { self.slow_us } else { self.work.sample(ctx.rng) };
        }
        let ok = ctx.rng.unit() < self.availability;
        let us = ctx.work(us);
        let k = self.working.insert((from, msg, ok));
        ctx.set_timer(us, k);
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        let Some((to, msg, ok)) = self.working.remove(token) else { return };
        if ok { self.served += 1 } else { self.failed += 1 }
        ctx.send(to, msg.reply(if ok { Kind::Response } else { Kind::Error }));
    }

    fn on_set(&mut self, _ctx: &mut Ctx, knob: &str, value: &Value) {
        match (knob, value) {
            ("slow_probability", Value::Float(p)) => self.slow_p = *p,
            ("service_availability", Value::Float(a)) => self.availability = *a,
            _ => {}
        }
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        self.working.drain(|(to, msg, _)| held.push((to, msg)));
    }

    fn view(&self) -> NodeView {
        NodeView { busy: self.working.len() as u32, completed: self.served, note: format!("{} failed", self.failed), tone: Tone::Neutral, ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A request in flight at the gateway: calls still awaited, and whether one failed.
struct Pending {
    client: NodeId,
    msg: Msg,
    left: u32,
    failed: bool,
}

/// The gateway: fans each request out to one replica of every service it needs (or
/// forwards it to one monolith instance), and answers when every call has.
pub struct Gateway {
    /// Replicas of each service, in order (one group, the monolith's, for a monolith).
    groups: Vec<Vec<NodeId>>,
    timeout: Micros,
    pending: Slab<Pending>,
    pub calls: u64,
    pub requests: u64,
}

impl Gateway {
    fn settle(&mut self, ctx: &mut Ctx, key: u64, failed: bool) {
        let Some(p) = self.pending.get_mut(key) else { return };
        p.failed |= failed;
        p.left -= 1;
        if p.left == 0 || p.failed {
            let p = self.pending.remove(key).expect("live");
            ctx.send(p.client, p.msg.reply(if p.failed { Kind::Error } else { Kind::Response }));
        }
    }
}

impl Component for Gateway {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if msg.kind == Kind::Request {
            self.requests += 1;
            let key = self.pending.insert(Pending { client: from, msg, left: self.groups.len() as u32, failed: false });
            for g in 0..self.groups.len() {
                let replica = self.groups[g][ctx.rng.below(self.groups[g].len() as u64) as usize];
                ctx.send(replica, Msg { kind: Kind::Call, req: msg.req, key, tag: g as u32, value: 0 });
                self.calls += 1;
            }
            ctx.set_timer(self.timeout, key);
            return;
        }
        self.settle(ctx, msg.key, msg.kind != Kind::Response);
    }

    /// Calls still unanswered at the timeout fail the request.
    fn on_timer(&mut self, ctx: &mut Ctx, key: u64) {
        if self.pending.contains(key) {
            self.settle(ctx, key, true);
        }
    }

    fn on_bounce(&mut self, ctx: &mut Ctx, _to: NodeId, msg: Msg) {
        self.settle(ctx, msg.key, true);
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        self.pending.drain(|p| held.push((p.client, p.msg)));
    }

    fn view(&self) -> NodeView {
        NodeView { busy: self.pending.len() as u32, note: format!("{} calls each", self.groups.len()), ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

struct FanProbe {
    gateway: NodeId,
    /// At the last sample: time, requests ended, completed, slow.
    last: RefCell<(Micros, u64, u64, u64)>,
}

/// The share of requests that touch at least one slow call, and the share answered.
fn theory_for(p: &Params, fan_out: i64) -> (f64, f64) {
    let monolith = p.choice("architecture") == "monolith";
    let slow = 1.0 - (1.0 - p.float("slow_probability")).powi(fan_out as i32);
    let a = p.float("service_availability");
    (slow, if monolith { a } else { a.powi(fan_out as i32) })
}

impl Scene for Microservices {
    fn info(&self) -> &'static SceneInfo {
        &INFO
    }

    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe> {
        let monolith = p.choice("architecture") == "monolith";
        let n = p.int("fan_out") as usize;
        let replicas = p.int("replicas") as usize;
        let service = |modules: u32, hop: Dist| Service {
            modules,
            work: p.dist("service_time"),
            hop,
            slow_p: p.float("slow_probability"),
            slow_us: p.duration("slow_time"),
            availability: p.float("service_availability"),
            working: Slab::default(),
            served: 0,
            failed: 0,
        };
        let groups: Vec<Vec<NodeId>> = if monolith {
            vec![(1..=replicas).map(|r| w.add_node(format!("monolith-{r}"), "monolith", Box::new(service(n as u32, Dist::Const(0))))).collect()]
        } else {
            SERVICES[..n].iter().map(|name| (1..=replicas).map(|r| w.add_node(format!("{name}-{r}"), "service", Box::new(service(1, p.dist("hop_latency"))))).collect()).collect()
        };
        let gateway = w.add_node("gateway", "gateway", Box::new(Gateway { groups, timeout: p.duration("call_timeout"), pending: Slab::default(), calls: 0, requests: 0 }));
        let clients = Clients::new(gateway, p.float("arrival_rate"), p.duration("client_timeout"), 1 << 40, w.stream("workload")).shaped(p);
        w.add_node("client", "client", Box::new(clients));
        Box::new(FanProbe { gateway, last: RefCell::new((0, 0, 0, 0)) })
    }
}

impl Probe for FanProbe {
    fn metrics(&self, w: &World) -> Map<String, Json> {
        let g = w.component::<Gateway>(self.gateway);
        let c = w.counts();
        let ended = c.completed + c.failed + c.rejected + c.timed_out;
        let slow = w.latency().count() - w.latency().count_below(SLOW_ABOVE_US) + w.failure_latency().count() - w.failure_latency().count_below(SLOW_ABOVE_US);
        let p = w.params();
        let (slow_theory, availability_theory) = theory_for(p, p.int("fan_out"));
        let by: Vec<(f64, f64)> = FAN_OUTS.iter().map(|&n| theory_for(p, n)).collect();
        measures!{
            "availability": share(c.completed, ended),
            "availability_theory": round3(availability_theory),
            "slow_share": share(slow, ended),
            "slow_share_theory": round3(slow_theory),
            "calls_per_request": if g.requests > 0 { round3(g.calls as f64 / g.requests as f64) } else { 0.0 },
            "fan_outs": FAN_OUTS,
            "slow_by_fan_out": by.iter().map(|t| round3(t.0)).collect::<Vec<_>>(),
            "availability_by_fan_out": by.iter().map(|t| round3(t.1)).collect::<Vec<_>>(),
        }
    }

    fn series_names(&self, _w: &World) -> Vec<String> {
        vec!["slow_share".into(), "availability".into()]
    }

    fn sample(&self, w: &World, out: &mut Vec<f64>) {
        let c = w.counts();
        let ended = c.completed + c.failed + c.rejected + c.timed_out;
        let slow = w.latency().count() - w.latency().count_below(SLOW_ABOVE_US) + w.failure_latency().count() - w.failure_latency().count_below(SLOW_ABOVE_US);
        let mut last = self.last.borrow_mut();
        let n = ended - last.1;
        out.push(if n > 0 { (slow - last.3) as f64 / n as f64 } else { f64::NAN });
        out.push(if n > 0 { (c.completed - last.2) as f64 / n as f64 } else { f64::NAN });
        *last = (w.now(), ended, c.completed, slow);
    }

    fn theory(&self, p: &Params) -> Vec<(&'static str, f64)> {
        let (slow, availability) = theory_for(p, p.int("fan_out"));
        vec![("slow_share", slow), ("availability", availability)]
    }
}

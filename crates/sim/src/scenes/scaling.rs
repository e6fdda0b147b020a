//! Scene `scaling` (patterns.md row 11): clients under a traffic ramp → a router → app
//! nodes → one shared database. Vertical: one node, its cores the knob. Horizontal:
//! nodes of a few cores each, added by an autoscaler when they run hot (after a warm-up)
//! and removed when idle. Either way the work per request grows with the size of what
//! shares it by the Universal Scalability Law: contention (σ) and coherency (κ) make the
//! n-th core or node add less than the first, and past a point, take away.

use super::measure::{measures, round3};
use crate::component::{Component, Ctx, NodeView, Tone};
use crate::components::server::Server;
use crate::components::slab::{Slab, index_of};
use crate::components::source::Source as Clients;
use crate::dist::Dist;
use crate::knob::{KnobKind, KnobSpec, Params, common_knobs};
use crate::msg::{Kind, Msg, NodeId};
use crate::scene::{Preset, Probe, Scene, SceneInfo};
use crate::time::{Micros, US_PER_S};
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView, Table, LATENCY_CHART};
use crate::world::World;
use serde_json::{Map, Value as Json};
use std::any::Any;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::LazyLock;

pub struct Scaling;

pub const MODES: &[&str] = &["vertical", "horizontal"];
/// App nodes built for horizontal scaling; the autoscaler turns them on and off.
const MAX_NODES: usize = 16;
/// The router's timers: the autoscaler's evaluation, and a node's warm-up (its index + 1).
const EVALUATE: u64 = 0;
/// The router's word to an app: serving (value 1), booting (2) or off (0), with the USL
/// stretch in millionths in `key`.
const CONTROL: u32 = u32::MAX - 1;
const EVALUATE_EVERY_US: Micros = 10 * US_PER_S;
/// Requests a node or the database lets wait; the next is refused (503), so that an
/// overloaded node still answers in time what it takes.
const QUEUE_LIMIT: usize = 50;
/// Sizes the USL table predicts.
const SIZES: [u32; 7] = [1, 2, 4, 8, 16, 32, 64];

static INFO: LazyLock<SceneInfo> = LazyLock::new(|| {
    let mut knobs = common_knobs("3000", 1_000_000.0);
    for k in knobs.iter_mut() {
        match k.name {
            "traffic" => k.default = "ramp",
            "traffic_period" => k.default = "120s",
            _ => {}
        }
    }
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "mode", kind: KnobKind::Choice(MODES), default: "horizontal", unit: "", live: false, help: "vertical: one node, with `cores` cores. horizontal: `nodes` nodes of `cores` cores each behind a router, more added by the autoscaler." },
        KnobSpec { name: "cores", kind: KnobKind::Int { min: 1, max: 64 }, default: "4", unit: "", live: false, help: "Cores of the node (vertical), or of each node (horizontal). 64 is the biggest machine there is." },
        KnobSpec { name: "nodes", kind: KnobKind::Int { min: 1, max: MAX_NODES as i64 }, default: "2", unit: "", live: false, help: "Nodes at the start (horizontal)." },
        KnobSpec { name: "autoscale", kind: KnobKind::Bool, default: "on", unit: "", live: false, help: "Whether nodes are added when the mean CPU is over scale_threshold, as many as bring it back to it (and one removed when under half of it), checked every 10 s (horizontal)." },
        KnobSpec { name: "scale_threshold", kind: KnobKind::Float { min: 0.05, max: 1.0 }, default: "0.7", unit: "fraction", live: false, help: "The mean share of busy cores above which the autoscaler adds a node." },
        KnobSpec { name: "warm_up", kind: KnobKind::Duration { min_us: 0, max_us: 600 * US_PER_S }, default: "20s", unit: "", live: false, help: "How long a new node takes to boot before it serves." },
        KnobSpec { name: "cost_per_core", kind: KnobKind::Float { min: 0.0, max: 100.0 }, default: "0.05", unit: "$/hour", live: false, help: "What a core costs an hour." },
        KnobSpec { name: "sigma", kind: KnobKind::Float { min: 0.0, max: 1.0 }, default: "0.03", unit: "", live: false, help: "USL contention: the share of the work that queues on something shared." },
        KnobSpec { name: "kappa", kind: KnobKind::Float { min: 0.0, max: 0.1 }, default: "0.0005", unit: "", live: false, help: "USL coherency: the cost of keeping every pair of cores or nodes in agreement." },
        KnobSpec { name: "service_time", kind: KnobKind::Dist, default: "exp:10ms", unit: "", live: false, help: "CPU time one request needs on a core, alone." },
        KnobSpec { name: "db_workers", kind: KnobKind::Int { min: 1, max: 1024 }, default: "16", unit: "", live: false, help: "Queries the shared database runs at once." },
        KnobSpec { name: "db_time", kind: KnobKind::Dist, default: "exp:5ms", unit: "", live: false, help: "Work one query needs on the database." },
        KnobSpec { name: "timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "2s", unit: "", live: false, help: "How long clients wait for an answer." },
    ] });
    SceneInfo {
        id: "scaling",
        title: "Scaling",
        knobs,
        actions: &[],
        view: SceneView {
            stage: StageView { columns: &[&["client"], &["router"], &["app"], &["db"]], links: &[("client", "router"), ("router", "app"), ("app", "db")], paired: &[] },
            charts: const { &[
                Chart {
                    title: "Throughput against capacity (req/s)",
                    unit: "req/s",
                    lines: &[
                        Line::measured("offered/s", "offered_rps", Colour::Blue),
                        Line::measured("completed/s", "throughput_rps", Colour::Green).compared(),
                        Line { dashed: true, ..Line::measured("capacity (USL, database)", "capacity_rps", Colour::White) },
                    ],
                },
                Chart { title: "Nodes serving, and cost ($/hour)", unit: "", lines: &[Line::measured("nodes", "nodes", Colour::Purple).compared(), Line::measured("$/hour", "cost", Colour::Yellow).compared()] },
                Chart { title: "CPU busy (saturation)", unit: "fraction", lines: &[Line::measured("CPU", "saturation", Colour::Orange).compared()] },
                LATENCY_CHART,
            ] },
            compare: &[
                Row { label: "capacity at the end (USL, database) req/s", metric: "capacity_rps" },
                Row { label: "most completed in a second", metric: "peak_rps" },
                Row { label: "cost, mean ($/hour)", metric: "cost_per_hour" },
                Row { label: "CPU busy, mean", metric: "saturation" },
                Row { label: "most nodes serving", metric: "nodes_max" },
                Row { label: "nodes added · removed", metric: "scale_events" },
            ],
            tables: &[Table {
                caption: "The Universal Scalability Law for these σ and κ: capacity by size",
                columns: "usl_size",
                rows: &[
                    Row { label: "cores (vertical), req/s", metric: "usl_vertical" },
                    Row { label: "nodes (horizontal), req/s", metric: "usl_horizontal" },
                    Row { label: "... with the database, req/s", metric: "usl_with_db" },
                ],
            }],
        },
        narrative: &crate::narratives::scaling::NARRATIVE,
        presets: const { &[
            Preset {
                name: "vertical-ceiling",
                title: "Vertical: a 64-core machine runs out of room",
                about: "One node with 64 cores under a ramp to 3000 requests a second. Contention and coherency cap its capacity near 1300 a second (32 cores would do as well): past that it refuses. Kill the node and everything stops.",
                set: &[("mode", "vertical"), ("cores", "64")],
                faults: &[],
            },
            Preset {
                name: "horizontal-autoscale",
                title: "Horizontal: the autoscaler follows the ramp",
                about: "Nodes of 4 cores, added when busier than 70% (each booting for 20 s), under a ramp to 3000 a second: capacity follows the ramp, 20 s behind.",
                set: &[],
                faults: &[],
            },
            Preset {
                name: "database-ceiling",
                title: "Horizontal, past the database",
                about: "The ramp goes to 6000 a second: nodes keep being added, but the shared database's 3200 a second is the ceiling, and more nodes only cost more.",
                set: &[("arrival_rate", "6000")],
                faults: &[],
            },
        ] },
    }
});

/// USL: how many times one core's (or node's) capacity `n` of them give.
fn usl(n: f64, sigma: f64, kappa: f64) -> f64 {
    n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))
}

/// An app node: cores working through a queue, each request's CPU time stretched by the
/// USL factor of what shares it, then a query to the database.
pub struct App {
    db: NodeId,
    service: Dist,
    cores: u32,
    busy: u32,
    queue: VecDeque<(NodeId, Msg)>,
    /// Requests at the database, by slab key (the tag): who to answer.
    querying: Slab<(NodeId, Msg)>,
    /// The USL stretch now (1 + σ(n−1) + κn(n−1)), set by the router as nodes come and go.
    pub stretch: f64,
    pub serving: bool,
    pub warming_until: Option<Micros>,
    busy_area: f64,
    last_change: Micros,
}

impl App {
    fn account(&mut self, now: Micros) {
        self.busy_area += f64::from(self.busy) * (now - self.last_change) as f64;
        self.last_change = now;
    }

    fn start(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        self.busy += 1;
        let raw = self.service.sample(ctx.rng) as f64 * self.stretch;
        let us = ctx.work(raw.round() as Micros);
        let k = self.querying.insert((from, msg));
        ctx.set_timer(us, k);
    }
}

impl Component for App {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if from == self.db {
            let Some(k) = self.querying.key_at(msg.tag) else { return };
            if let Some((to, request)) = self.querying.remove(k) {
                // The answer carries how busy this node is (‰), for the autoscaler.
                ctx.send(to, request.reply(msg.kind).with_value(self.busy * 1000 / self.cores.max(1)));
            }
            return;
        }
        if msg.kind == Kind::Call && msg.tag == CONTROL {
            self.serving = msg.value == 1;
            self.warming_until = (msg.value == 2).then_some(ctx.now());
            self.stretch = msg.key as f64 / 1e6;
            return;
        }
        if msg.kind != Kind::Request {
            return;
        }
        self.account(ctx.now());
        if self.busy < self.cores {
            self.start(ctx, from, msg);
        } else if self.queue.len() < QUEUE_LIMIT {
            self.queue.push_back((from, msg));
        } else {
            // Refused: and as busy as can be, the autoscaler hears.
            ctx.send(from, msg.reply(Kind::Reject).with_value(1000));
        }
    }

    /// The CPU part is done: the core is free, and the query goes to the database.
    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        if !self.querying.contains(token) {
            return;
        }
        self.account(ctx.now());
        self.busy -= 1;
        let req = self.querying.get(token).expect("checked").1.req;
        ctx.send(self.db, Msg { kind: Kind::Call, req, key: 0, tag: index_of(token), value: 0 });
        if let Some((from, msg)) = self.queue.pop_front() {
            self.start(ctx, from, msg);
        }
    }

    fn on_bounce(&mut self, ctx: &mut Ctx, _to: NodeId, msg: Msg) {
        let reply = msg.reply(Kind::Error);
        self.on_message(ctx, self.db, reply);
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        held.extend(self.queue.drain(..));
        self.querying.drain(|x| held.push(x));
        self.busy = 0;
    }

    fn view(&self) -> NodeView {
        let state = match (self.serving, self.warming_until) {
            (true, _) => "",
            (false, Some(_)) => "booting",
            (false, None) => "off",
        };
        NodeView { queue: self.queue.len() as u32, busy: self.busy, workers: self.cores, state, tone: Tone::Neutral, ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The router: spreads requests over the serving nodes (the least busy of two at random),
/// and, horizontally, the autoscaler that turns nodes on and off.
pub struct Router {
    apps: Vec<NodeId>,
    serving: Vec<bool>,
    down_until: Vec<Micros>,
    autoscale: bool,
    threshold: f64,
    warm_up: Micros,
    min_nodes: usize,
    /// How busy each node has been lately (an average of what its answers say).
    busy: Vec<f64>,
    sigma: f64,
    kappa: f64,
    booting: Vec<bool>,
    pub added: u64,
    pub removed: u64,
    /// Nodes serving now; what the probe reads to set every node's USL stretch.
    pub active: usize,
    pending: Slab<(NodeId, Msg, u8)>,
}

impl Router {
    /// Tells every node whether it serves, and the USL stretch for the nodes serving now.
    fn tell_all(&self, ctx: &mut Ctx) {
        let n = self.active as f64;
        let stretch = 1.0 + self.sigma * (n - 1.0) + self.kappa * n * (n - 1.0);
        for (i, a) in self.apps.iter().enumerate() {
            let value = if self.serving[i] { 1 } else if self.booting[i] { 2 } else { 0 };
            ctx.send(*a, Msg { kind: Kind::Call, req: crate::msg::ReqId(0), key: (stretch * 1e6).round() as u64, tag: CONTROL, value });
        }
    }

    fn pick(&self, ctx: &mut Ctx) -> Option<usize> {
        let now = ctx.now();
        let ok: Vec<usize> = (0..self.apps.len()).filter(|i| self.serving[*i] && self.down_until[*i] <= now).collect();
        if ok.is_empty() {
            return None;
        }
        Some(ok[ctx.rng.below(ok.len() as u64) as usize])
    }

    fn route(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg, tries: u8) {
        let Some(i) = self.pick(ctx) else { return ctx.send(from, msg.reply(Kind::Error)) };
        let k = self.pending.insert((from, msg, tries));
        ctx.send(self.apps[i], Msg { tag: index_of(k), ..msg });
    }

    /// The pending request that `msg` (an answer, or a message bounced back) belongs to,
    /// taken out: who sent it, the request, how often it was tried. `None` when its slot
    /// holds another request now.
    fn take_pending(&mut self, msg: Msg) -> Option<(NodeId, Msg, u8)> {
        let (k, p) = self.pending.live_at(msg.tag)?;
        if p.1.req != msg.req {
            return None;
        }
        self.pending.remove(k)
    }
}

impl Component for Router {
    fn on_start(&mut self, ctx: &mut Ctx) {
        if self.autoscale {
            ctx.set_timer(EVALUATE_EVERY_US, EVALUATE);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if msg.kind == Kind::Request && !self.apps.contains(&from) {
            return self.route(ctx, from, msg, 0);
        }
        let Some((to, request, _)) = self.take_pending(msg) else { return };
        if let Some(i) = self.apps.iter().position(|a| *a == from) {
            self.busy[i] += 0.02 * (f64::from(msg.value) / 1000.0 - self.busy[i]);
        }
        ctx.send(to, request.reply(msg.kind));
    }

    /// A node that is down: routed around for a while, and the request tried elsewhere once.
    fn on_bounce(&mut self, ctx: &mut Ctx, to: NodeId, msg: Msg) {
        if let Some(i) = self.apps.iter().position(|a| *a == to) {
            self.down_until[i] = ctx.now() + 5 * US_PER_S;
        }
        let Some((from, request, tries)) = self.take_pending(msg) else { return };
        if tries == 0 {
            self.route(ctx, from, request, 1);
        } else {
            ctx.send(from, request.reply(Kind::Error));
        }
    }

    /// Every 10 s the autoscaler looks at how busy the serving nodes are; a booting
    /// node's warm-up ends.
    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        if token != EVALUATE {
            let i = token as usize - 1;
            self.booting[i] = false;
            self.serving[i] = true;
            self.active += 1;
            return self.tell_all(ctx);
        }
        ctx.set_timer(EVALUATE_EVERY_US, EVALUATE);
        let serving: Vec<usize> = (0..self.apps.len()).filter(|i| self.serving[*i]).collect();
        let mean = serving.iter().map(|i| self.busy[*i]).sum::<f64>() / serving.len().max(1) as f64;
        if mean > self.threshold {
            // As many nodes as bring the mean down to the threshold, counting those booting.
            let desired = (serving.len() as f64 * mean / self.threshold).ceil() as usize;
            let booting = self.booting.iter().filter(|b| **b).count();
            for _ in serving.len() + booting..desired {
                let Some(i) = (0..self.apps.len()).find(|i| !self.serving[*i] && !self.booting[*i]) else { break };
                self.booting[i] = true;
                self.added += 1;
                self.busy[i] = 0.0;
                ctx.send(self.apps[i], Msg { kind: Kind::Call, req: crate::msg::ReqId(0), key: 0, tag: CONTROL, value: 2 });
                ctx.set_timer(self.warm_up, i as u64 + 1);
            }
        } else if mean < self.threshold / 2.0 && serving.len() > self.min_nodes {
            let i = *serving.last().expect("more than the minimum");
            self.serving[i] = false;
            self.active -= 1;
            self.removed += 1;
            self.tell_all(ctx);
        }
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        self.pending.drain(|(f, m, _)| held.push((f, m)));
    }

    fn view(&self) -> NodeView {
        NodeView { note: format!("{} serving", self.active), busy: self.pending.len() as u32, ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

struct ScaleProbe {
    router: NodeId,
    apps: Vec<NodeId>,
    horizontal: bool,
    cores: u32,
    sigma: f64,
    kappa: f64,
    core_rate: f64,
    db_rate: f64,
    cost_per_core: f64,
    /// At the last sample: time, each node's busy area, completed.
    last: RefCell<(Micros, Vec<f64>, u64)>,
    stats: RefCell<Stats>,
}

#[derive(Default)]
struct Stats {
    cost_area: f64,
    busy_share_area: f64,
    time: f64,
    peak: f64,
    nodes_max: usize,
    capacity: f64,
}

impl ScaleProbe {
    /// Capacity (req/s) with `n` cores (vertical) or nodes (horizontal), the database aside.
    fn usl_capacity(&self, n: u32, horizontal: bool) -> f64 {
        if horizontal {
            self.core_rate * f64::from(self.cores) * usl(f64::from(n), self.sigma, self.kappa)
        } else {
            self.core_rate * usl(f64::from(n), self.sigma, self.kappa)
        }
    }

    fn serving(&self, w: &World) -> usize {
        self.apps.iter().filter(|a| w.component::<App>(**a).serving).count()
    }
}

impl Scene for Scaling {
    fn info(&self) -> &'static SceneInfo {
        &INFO
    }

    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe> {
        let horizontal = p.choice("mode") == "horizontal";
        let db_workers = p.int("db_workers") as u32;
        let db = w.add_node("db", "db", Box::new(Server::new(db_workers, 4 * QUEUE_LIMIT as u32, p.dist("db_time"), 1.0)));
        let cores = p.int("cores") as u32;
        let (count, start) = if horizontal { (MAX_NODES, p.int("nodes") as usize) } else { (1, 1) };
        let (sigma, kappa) = (p.float("sigma"), p.float("kappa"));
        let stretch = |n: f64| 1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0);
        let first = if horizontal { stretch(start as f64) } else { stretch(f64::from(cores)) };
        let apps: Vec<NodeId> = (1..=count)
            .map(|i| {
                let app = App { db, service: p.dist("service_time"), cores, busy: 0, queue: VecDeque::new(), querying: Slab::default(), stretch: first, serving: i <= start, warming_until: None, busy_area: 0.0, last_change: 0 };
                w.add_node(if horizontal { format!("app-{i}") } else { "app".to_string() }, "app", Box::new(app))
            })
            .collect();
        let router = Router {
            apps: apps.clone(),
            serving: (1..=count).map(|i| i <= start).collect(),
            down_until: vec![0; count],
            busy: vec![0.0; count],
            sigma,
            kappa,
            booting: vec![false; count],
            autoscale: horizontal && p.flag("autoscale"),
            threshold: p.float("scale_threshold"),
            warm_up: p.duration("warm_up"),
            min_nodes: start,
            added: 0,
            removed: 0,
            active: start,
            pending: Slab::default(),
        };
        let router = w.add_node("router", "router", Box::new(router));
        let clients = Clients::new(router, p.float("arrival_rate"), p.duration("timeout"), 1 << 40, w.stream("workload")).shaped(p);
        w.add_node("client", "client", Box::new(clients));
        let probe = ScaleProbe {
            router,
            apps: apps.clone(),
            horizontal,
            cores,
            sigma,
            kappa,
            core_rate: 1e6 / p.dist("service_time").mean_us().max(1.0),
            db_rate: f64::from(db_workers) * 1e6 / p.dist("db_time").mean_us().max(1.0),
            cost_per_core: p.float("cost_per_core"),
            last: RefCell::new((0, vec![0.0; count], 0)),
            stats: RefCell::new(Stats::default()),
        };
        Box::new(probe)
    }
}

impl Probe for ScaleProbe {
    fn metrics(&self, w: &World) -> Map<String, Json> {
        let r = w.component::<Router>(self.router);
        let s = self.stats.borrow();
        let t = s.time.max(1e-9);
        let sizes: Vec<u32> = SIZES.to_vec();
        let round = |x: f64| x.round();
        measures!{
            "capacity_rps": round(s.capacity),
            "peak_rps": round(s.peak),
            "cost_per_hour": round3(s.cost_area / t),
            "saturation": round3(s.busy_share_area / t),
            "nodes_max": s.nodes_max,
            "scale_events": [r.added, r.removed],
            "usl_size": sizes,
            "usl_vertical": SIZES.iter().map(|n| round(self.usl_capacity(*n, false))).collect::<Vec<_>>(),
            "usl_horizontal": SIZES.iter().map(|n| round(self.usl_capacity(*n, true))).collect::<Vec<_>>(),
            "usl_with_db": SIZES.iter().map(|n| round(self.usl_capacity(*n, true).min(self.db_rate))).collect::<Vec<_>>(),
        }
    }

    fn series_names(&self, _w: &World) -> Vec<String> {
        ["capacity_rps", "nodes", "cost", "saturation"].iter().map(|s| s.to_string()).collect()
    }

    /// Per interval: capacity for the nodes serving now, nodes, cost and CPU; the
    /// counters behind the measures.
    fn sample(&self, w: &World, out: &mut Vec<f64>) {
        let n = self.serving(w);
        let capacity = if self.horizontal { self.usl_capacity(n as u32, true).min(self.db_rate) } else { self.usl_capacity(self.cores, false).min(self.db_rate) };
        let mut last = self.last.borrow_mut();
        let dt = (w.now() - last.0) as f64 / 1e6;
        let mut busy = 0.0;
        let mut core_time = 0.0;
        for (i, a) in self.apps.iter().enumerate() {
            let app = w.component::<App>(*a);
            let area = app.busy_area + f64::from(app.busy) * (w.now() - app.last_change) as f64;
            if app.serving {
                busy += area - last.1[i];
                core_time += f64::from(app.cores) * dt * 1e6;
            }
            last.1[i] = area;
        }
        let saturation = if core_time > 0.0 { busy / core_time } else { 0.0 };
        let cost = (n as u32 * self.cores) as f64 * self.cost_per_core;
        let completed = w.counts().completed;
        let rate = if dt > 0.0 { (completed - last.2) as f64 / dt } else { 0.0 };
        last.0 = w.now();
        last.2 = completed;
        let mut s = self.stats.borrow_mut();
        s.cost_area += cost * dt;
        s.busy_share_area += saturation * dt;
        s.time += dt;
        s.peak = s.peak.max(rate);
        s.nodes_max = s.nodes_max.max(n);
        s.capacity = capacity;
        out.extend([capacity, n as f64, cost, saturation]);
    }

    fn theory(&self, _p: &Params) -> Vec<(&'static str, f64)> {
        vec![("db_capacity_rps", self.db_rate)]
    }

}

//! Scene `throttling` (patterns.md row 20): clients → one host with CPU cores and memory,
//! under a traffic spike. The host queues what its cores cannot start at once; its
//! clients give up after a timeout, but the host does not know, and works through their
//! requests anyway. Without throttling the queue outgrows the timeout and the host spends
//! its cores on answers nobody waits for (goodput collapses), or the queue outgrows its
//! memory and the host crashes. Load shedding refuses what would queue too long;
//! adaptive delay drops requests that have already waited too long while the CPU is hot.

use super::measure::{measures, round3};
use crate::component::{Component, Ctx, NodeView, Tone};
use crate::components::source::Source as Clients;
use crate::dist::Dist;
use crate::knob::{KnobKind, KnobSpec, Params, common_knobs};
use crate::msg::{Kind, Msg, NodeId};
use crate::scene::{Preset, Probe, Scene, SceneInfo};
use crate::time::{Micros, US_PER_S};
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView, LATENCY_CHART};
use crate::world::World;
use serde_json::{Map, Value as Json};
use std::any::Any;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::LazyLock;

pub struct Throttling;

pub const MODES: &[&str] = &["none", "load-shedding", "adaptive-delay"];
/// The host's timer: back from a crash (work timers are the core's number).
const RESTARTED: u64 = u64::MAX;

static INFO: LazyLock<SceneInfo> = LazyLock::new(|| {
    let mut knobs = common_knobs("500", 100_000.0);
    for k in knobs.iter_mut().filter(|k| k.name == "traffic") {
        k.default = "spike";
    }
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "mode", kind: KnobKind::Choice(MODES), default: "none", unit: "", live: false, help: "none: every request queues until a core is free. load-shedding: refuses (503) a request that finds queue_limit already waiting. adaptive-delay: while the CPU is above cpu_threshold, drops each request that has waited longer than target_delay instead of working on it." },
        KnobSpec { name: "spike", kind: KnobKind::Float { min: 1.0, max: 20.0 }, default: "3", unit: "x", live: false, help: "How high the spike goes, as a multiple of arrival_rate (with the spike traffic shape: from a third of each period, for a sixth of it)." },
        KnobSpec { name: "cores", kind: KnobKind::Int { min: 1, max: 256 }, default: "8", unit: "", live: false, help: "Requests the host works on at once." },
        KnobSpec { name: "service_time", kind: KnobKind::Dist, default: "exp:10ms", unit: "", live: false, help: "CPU time one request needs." },
        KnobSpec { name: "queue_limit", kind: KnobKind::Int { min: 0, max: 1_000_000 }, default: "100", unit: "requests", live: false, help: "Load shedding: the most requests that may wait." },
        KnobSpec { name: "cpu_threshold", kind: KnobKind::Float { min: 0.0, max: 1.0 }, default: "0.9", unit: "fraction", live: false, help: "Adaptive delay: the share of cores busy above which requests that waited too long are dropped." },
        KnobSpec { name: "target_delay", kind: KnobKind::Duration { min_us: 1_000, max_us: 60 * US_PER_S }, default: "100ms", unit: "", live: false, help: "Adaptive delay: the longest a request may wait before it is dropped while the CPU is hot." },
        KnobSpec { name: "memory", kind: KnobKind::Int { min: 10, max: 10_000_000 }, default: "1000000", unit: "requests", live: false, help: "Requests the host's memory holds; one more and it crashes (out of memory)." },
        KnobSpec { name: "restart_time", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "5s", unit: "", live: false, help: "How long a crashed host takes to come back." },
        KnobSpec { name: "timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "1s", unit: "", live: false, help: "How long clients wait for an answer; the host never learns that they left." },
    ] });
    SceneInfo {
        id: "throttling",
        title: "Throttling",
        knobs,
        actions: &[],
        view: SceneView {
            stage: StageView { columns: &[&["client"], &["host"]], links: &[("client", "host")], paired: &[] },
            charts: const { &[
                Chart {
                    title: "Goodput, answered in time (req/s)",
                    unit: "req/s",
                    lines: &[
                        Line::measured("offered/s", "offered_rps", Colour::Blue),
                        Line::measured("goodput/s", "throughput_rps", Colour::Green).compared(),
                        Line::theory("capacity", "capacity_rps", 1.0, Colour::White),
                    ],
                },
                Chart {
                    title: "Wasted and shed (req/s)",
                    unit: "req/s",
                    lines: &[Line::measured("served too late/s", "wasted_rps", Colour::Red).compared(), Line::measured("shed/s", "shed_rps", Colour::Orange).compared()],
                },
                Chart { title: "CPU busy and queue", unit: "fraction", lines: &[Line::measured("CPU", "cpu", Colour::Purple).compared(), Line::measured("queue / memory", "memory_used", Colour::Yellow)] },
                LATENCY_CHART,
            ] },
            compare: &[
                Row { label: "goodput during the spike (req/s)", metric: "goodput" },
                Row { label: "... the host's capacity (req/s)", metric: "capacity" },
                Row { label: "CPU busy, mean", metric: "cpu" },
                Row { label: "served after the client gave up (wasted)", metric: "wasted" },
                Row { label: "shed (503 at once)", metric: "shed" },
                Row { label: "crashes (out of memory)", metric: "crashed" },
                Row { label: "longest queue", metric: "queue_max" },
            ],
            tables: &[],
        },
        narrative: &crate::narratives::throttling::NARRATIVE,
        presets: const { &[
            Preset {
                name: "spike-no-throttling",
                title: "A spike with no throttling: goodput collapses",
                about: "From 20 s to 30 s, 1500 requests a second reach a host that serves 800. Its queue grows past the clients' 1 s patience: it works on requests nobody waits for, goodput falls to almost nothing, and stays there until the backlog is gone, long after the spike.",
                set: &[],
                faults: &[],
            },
            Preset {
                name: "spike-load-shedding",
                title: "Load shedding keeps goodput at capacity",
                about: "The same spike, and the host refuses (503, at once) what finds 100 already waiting: every request it takes is answered in time, and goodput stays at its 800 a second.",
                set: &[("mode", "load-shedding")],
                faults: &[],
            },
            Preset {
                name: "spike-adaptive-delay",
                title: "Adaptive delay drops requests that waited too long",
                about: "The same spike; while the CPU is above 90%, requests that waited more than 100 ms are dropped unserved: the cores work on fresh requests, and goodput stays near capacity.",
                set: &[("mode", "adaptive-delay")],
                faults: &[],
            },
            Preset {
                name: "spike-out-of-memory",
                title: "A spike with little memory: the host crashes",
                about: "The host's memory holds 3000 waiting requests. The spike's queue passes that at about 24 s: the host crashes, is down for 5 s, and comes back to the same spike.",
                set: &[("memory", "3000")],
                faults: &[],
            },
        ] },
    }
});

/// The host: cores working through one queue, throttled or not, with memory that a long
/// enough queue exhausts.
pub struct Host {
    mode: usize,
    service: Dist,
    queue_limit: usize,
    cpu_threshold: f64,
    target_delay: Micros,
    memory: usize,
    restart: Micros,
    queue: VecDeque<(NodeId, Msg, Micros)>,
    cores: Vec<Option<(NodeId, Msg)>>,
    idle: Vec<u32>,
    down: bool,
    /// Busy core-microseconds so far, brought up to date at each change.
    busy_area: f64,
    last_change: Micros,
    pub served: u64,
    pub wasted: u64,
    pub shed: u64,
    pub crashes: u64,
    pub queue_max: usize,
    /// Answers that arrived in time, by second of virtual time.
    pub useful_by_second: Vec<u32>,
}

impl Host {
    fn busy(&self) -> usize {
        self.cores.len() - self.idle.len()
    }

    fn account(&mut self, now: Micros) {
        self.busy_area += self.busy() as f64 * (now - self.last_change) as f64;
        self.last_change = now;
    }

    fn cpu_now(&self) -> f64 {
        self.busy() as f64 / self.cores.len() as f64
    }

    /// Starts the next request worth starting on core `core`, if any.
    fn next(&mut self, ctx: &mut Ctx, core: u32) {
        while let Some((from, msg, arrived)) = self.queue.pop_front() {
            if self.mode == 2 && self.cpu_now() >= self.cpu_threshold && ctx.now() - arrived > self.target_delay {
                self.shed += 1;
                ctx.send(from, msg.reply(Kind::Reject));
                continue;
            }
            self.cores[core as usize] = Some((from, msg));
            let raw = self.service.sample(ctx.rng);
            let us = ctx.work(raw);
            ctx.set_timer(us, u64::from(core));
            return;
        }
        self.idle.push(core);
    }

    /// Out of memory: everything queued or under way is lost with the process.
    fn crash(&mut self, ctx: &mut Ctx) {
        self.crashes += 1;
        self.down = true;
        self.queue.clear();
        for c in &mut self.cores {
            *c = None;
        }
        self.idle = (0..self.cores.len() as u32).rev().collect();
        ctx.set_state(1);
        ctx.set_timer(self.restart, RESTARTED);
    }
}

impl Component for Host {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if msg.kind != Kind::Request {
            return;
        }
        if self.down {
            // Connection refused while the process is down.
            return ctx.send(from, msg.reply(Kind::Error));
        }
        self.account(ctx.now());
        if let Some(core) = self.idle.pop() {
            self.queue.push_back((from, msg, ctx.now()));
            return self.next(ctx, core);
        }
        if self.mode == 1 && self.queue.len() >= self.queue_limit {
            self.shed += 1;
            return ctx.send(from, msg.reply(Kind::Reject));
        }
        self.queue.push_back((from, msg, ctx.now()));
        self.queue_max = self.queue_max.max(self.queue.len());
        if self.queue.len() + self.busy() > self.memory {
            self.crash(ctx);
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        if token == RESTARTED {
            self.down = false;
            ctx.set_state(0);
            return;
        }
        self.account(ctx.now());
        let Some((to, msg)) = self.cores.get_mut(token as usize).and_then(Option::take) else { return };
        self.served += 1;
        if ctx.is_open(msg.req) {
            let second = (ctx.now() / US_PER_S) as usize;
            if self.useful_by_second.len() <= second {
                self.useful_by_second.resize(second + 1, 0);
            }
            self.useful_by_second[second] += 1;
        } else {
            self.wasted += 1;
        }
        ctx.send(to, msg.reply(Kind::Response));
        self.next(ctx, token as u32);
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        held.extend(self.queue.drain(..).map(|(f, m, _)| (f, m)));
        held.extend(self.cores.iter_mut().filter_map(Option::take));
        self.idle = (0..self.cores.len() as u32).rev().collect();
    }

    fn describe_state(&self, code: u8) -> String {
        if code == 1 { "crashed: out of memory".into() } else { "back after its crash".into() }
    }

    fn view(&self) -> NodeView {
        NodeView {
            queue: self.queue.len() as u32,
            busy: self.busy() as u32,
            workers: self.cores.len() as u32,
            state: if self.down { "out of memory" } else { ["", "shedding", "adaptive"][self.mode] },
            tone: if self.down { Tone::Bad } else { Tone::Good },
            fill: Some(self.queue.len() as f64 / self.memory as f64),
            note: format!("{} wasted", self.wasted),
            completed: self.served,
            ..NodeView::default()
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

struct ThrottleProbe {
    host: NodeId,
    capacity: f64,
    /// The spike's seconds in the first period, where goodput is measured.
    spike: (usize, usize),
    /// At the last sample: time, busy area, served, wasted, shed.
    last: RefCell<(Micros, f64, u64, u64, u64)>,
}

/// Requests a second the host serves flat out: cores over the mean service time.
fn capacity(p: &Params) -> f64 {
    p.int("cores") as f64 * 1e6 / p.dist("service_time").mean_us().max(1.0)
}

impl Scene for Throttling {
    fn info(&self) -> &'static SceneInfo {
        &INFO
    }

    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe> {
        let n = p.int("cores") as usize;
        let host = Host {
            mode: MODES.iter().position(|m| *m == p.choice("mode")).expect("a valid choice"),
            service: p.dist("service_time"),
            queue_limit: p.int("queue_limit") as usize,
            cpu_threshold: p.float("cpu_threshold"),
            target_delay: p.duration("target_delay"),
            memory: p.int("memory") as usize,
            restart: p.duration("restart_time"),
            queue: VecDeque::new(),
            cores: vec![None; n],
            idle: (0..n as u32).rev().collect(),
            down: false,
            busy_area: 0.0,
            last_change: 0,
            served: 0,
            wasted: 0,
            shed: 0,
            crashes: 0,
            queue_max: 0,
            useful_by_second: Vec::new(),
        };
        let host = w.add_node("host", "host", Box::new(host));
        let clients = Clients::new(host, p.float("arrival_rate"), p.duration("timeout"), 1 << 40, w.stream("workload")).shaped(p).spike(p.float("spike"));
        w.add_node("client", "client", Box::new(clients));
        let period = (p.duration("traffic_period") / US_PER_S) as usize;
        Box::new(ThrottleProbe { host, capacity: capacity(p), spike: (period / 3, period / 3 + period / 6), last: RefCell::new((0, 0.0, 0, 0, 0)) })
    }
}

impl Probe for ThrottleProbe {
    fn metrics(&self, w: &World) -> Map<String, Json> {
        let h = w.component::<Host>(self.host);
        let (from, to) = self.spike;
        // Over the spike's seconds gone by so far; a second with no answer in time counts 0.
        let elapsed = to.min((w.now() / US_PER_S) as usize).saturating_sub(from);
        let useful: u32 = h.useful_by_second.iter().skip(from).take(elapsed).sum();
        let goodput = if elapsed > 0 { f64::from(useful) / elapsed as f64 } else { 0.0 };
        let busy = h.busy_area + h.busy() as f64 * (w.now() - h.last_change) as f64;
        measures!{
            "goodput": goodput.round(),
            "capacity": self.capacity.round(),
            "cpu": round3(busy / (h.cores.len() as f64 * w.now().max(1) as f64)),
            "wasted": h.wasted,
            "shed": h.shed,
            "crashed": h.crashes,
            "queue_max": h.queue_max,
            "served": h.served,
        }
    }

    fn series_names(&self, _w: &World) -> Vec<String> {
        vec!["cpu".into(), "wasted_rps".into(), "shed_rps".into(), "memory_used".into()]
    }

    fn sample(&self, w: &World, out: &mut Vec<f64>) {
        let h = w.component::<Host>(self.host);
        let busy = h.busy_area + h.busy() as f64 * (w.now() - h.last_change) as f64;
        let mut last = self.last.borrow_mut();
        let dt = (w.now() - last.0) as f64;
        let rate = |now: u64, then: u64| if dt > 0.0 { (now - then) as f64 * 1e6 / dt } else { 0.0 };
        out.push(if dt > 0.0 { (busy - last.1) / (dt * h.cores.len() as f64) } else { 0.0 });
        out.push(rate(h.wasted, last.3));
        out.push(rate(h.shed, last.4));
        out.push(h.queue.len() as f64 / h.memory as f64);
        *last = (w.now(), busy, h.served, h.wasted, h.shed);
    }

    fn theory(&self, _p: &Params) -> Vec<(&'static str, f64)> {
        vec![("capacity_rps", self.capacity)]
    }
}

//! Scene `eventual-consistency` (patterns.md row 14): a primary and its replicas, and an
//! app that sends each user's reads and writes to them. Writes are numbered (log sequence
//! numbers); replication is synchronous, semi-synchronous or asynchronous, each replica
//! applying what it receives after a lag; the primary resends what a replica has not
//! acknowledged, so a replica cut off by a partition catches up once it heals.

use super::measure::{measures, ms, share};
mod replication;

use replication::{Primary, Replica};
use super::history::History;
use crate::check::{Checker, RunEnd};
use crate::component::{Component, Ctx, NodeView, Tone};
use crate::components::deadlines::Deadlines;
use crate::components::slab::{Key, Slab, index_of};
use crate::components::source::{Source as Clients, WRITE_TAG};
use crate::histogram::Histogram;
use crate::keys::key_knobs;
use crate::knob::{KnobKind, KnobSpec, Params, common_knobs_with_latency};
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::scene::{Preset, Probe, Scene, SceneInfo};
use crate::time::{Micros, US_PER_S};
use crate::trace::Record;
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView, LATENCY_CHART};
use crate::world::World;
use serde_json::{Map, Value as Json};
use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::LazyLock;

pub struct EventualConsistency;

pub const REPLICATION: &[&str] = &["sync", "semi-sync", "async"];
pub const READ_FROM: &[&str] = &["primary", "replica", "any"];
const INVARIANT: &str = "replicas converge after writes stop";

static INFO: LazyLock<SceneInfo> = LazyLock::new(|| {
    let mut knobs = common_knobs_with_latency("2000", 200_000.0, "const:1ms");
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "replication", kind: KnobKind::Choice(REPLICATION), default: "async", unit: "", live: false, help: "When the primary acknowledges a write: once every replica has applied it (sync), once one has (semi-sync), or at once, replicating afterwards (async)." },
        KnobSpec { name: "replicas", kind: KnobKind::Int { min: 1, max: 8 }, default: "3", unit: "", live: false, help: "Replicas of the primary." },
        KnobSpec { name: "replication_lag", kind: KnobKind::Dist, default: "exp:100ms", unit: "", live: false, help: "How long a replica takes to apply a write after receiving it (its apply queue, a busy disk, a slow link)." },
        KnobSpec { name: "read_from", kind: KnobKind::Choice(READ_FROM), default: "replica", unit: "", live: true, help: "Where the app sends reads: the primary, the replicas in turn, or any of them." },
        KnobSpec { name: "read_your_writes", kind: KnobKind::Bool, default: "off", unit: "", live: true, help: "A user's read of their own key goes to a replica only if it already holds that user's last write, else to the primary." },
        KnobSpec { name: "write_ratio", kind: KnobKind::Float { min: 0.0, max: 1.0 }, default: "0.2", unit: "fraction", live: true, help: "The share of requests that write (a user writes their own key)." },
        KnobSpec { name: "own_reads", kind: KnobKind::Float { min: 0.0, max: 1.0 }, default: "0.5", unit: "fraction", live: false, help: "The share of a user's reads that read their own key; the rest read someone else's." },
    ] });
    let mut keys = key_knobs("1000", "uniform", "1.0");
    keys[0].help = "How many users there are; each owns one key (their profile).";
    knobs.extend(keys);
    knobs.push(KnobSpec { name: "timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "2s", unit: "", live: false, help: "How long the app waits before failing a request; clients wait twice as long." });
    SceneInfo {
        id: "eventual-consistency",
        title: "Eventual consistency",
        knobs,
        actions: &[],
        view: SceneView {
            stage: StageView { columns: &[&["client"], &["app"], &["primary"], &["replica"]], links: &[("client", "app"), ("app", "primary"), ("app", "replica"), ("primary", "replica")], paired: &[] },
            charts: const { &[
                LATENCY_CHART,
                Chart {
                    title: "Stale reads and write latency",
                    unit: "share / s",
                    lines: &[
                        Line::measured("stale read share", "stale_read_ratio", Colour::Orange).compared(),
                        Line::measured("slowest write (s)", "write_max_s", Colour::Purple).compared(),
                    ],
                },
                Chart { title: "Keys each replica has yet to catch up on", unit: "keys", lines: &[Line::each("behind:", Colour::Blue)] },
            ] },
            compare: &[
                Row { label: "stale reads (share)", metric: "stale_read_ratio" },
                Row { label: "staleness p50 / p99 (ms)", metric: "staleness" },
                Row { label: "write latency p50 / p99 (ms)", metric: "write_latency" },
                Row { label: "users who missed their own write", metric: "own_stale_reads" },
                Row { label: "slowest write to reach every replica (ms)", metric: "convergence_time" },
                Row { label: "writes failed", metric: "writes_failed" },
            ],
            tables: &[],
        },
        narrative: &crate::narratives::eventual_consistency::NARRATIVE,
        presets: const { &[
            Preset {
                name: "async-stale-reads",
                title: "Asynchronous: fast writes, stale reads",
                about: "The primary acknowledges at once and replicates afterwards; reads go to replicas, which apply writes about 100 ms late. Writes are quick, and a share of reads return an older version.",
                set: &[("replication", "async"), ("read_from", "replica")],
                faults: &[],
            },
            Preset {
                name: "sync-slow-writes",
                title: "Synchronous: no stale reads, slow writes",
                about: "The primary waits for every replica to apply a write before acknowledging it: no read is stale, but each write waits for the slowest of three replicas.",
                set: &[("replication", "sync"), ("read_from", "replica")],
                faults: &[],
            },
            Preset {
                name: "read-your-writes",
                title: "Read-your-writes: users see their own writes",
                about: "Asynchronous again, but a user's read of their own profile goes to the primary unless the replica already has their last write: nobody misses their own write, while reads of other users' profiles stay stale.",
                set: &[("replication", "async"), ("read_from", "replica"), ("read_your_writes", "on")],
                faults: &[],
            },
            Preset {
                name: "partitioned-replica",
                title: "A partitioned replica falls behind, then converges",
                about: "From 10 s to 30 s replica-2 cannot hear the primary: its backlog grows and reads served by it grow staler. After the heal the primary resends what it missed and it catches up within about a second.",
                set: &[("replication", "async"), ("read_from", "replica")],
                faults: &["10s partition primary|replica-2", "30s heal"],
            },
        ] },
    }
});

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Read,
    /// A read-your-writes read a replica could not serve yet, sent on to the primary.
    ReadPrimary,
    Write,
}

struct Pending {
    req: ReqId,
    client: NodeId,
    key: u64,
    user: u32,
    step: Step,
}

const DEADLINE: u64 = 1;

/// The app: sends writes to the primary and reads where `read_from` says, remembering
/// each user's last write for read-your-writes.
pub struct App {
    primary: NodeId,
    replicas: Vec<NodeId>,
    read_from: &'static str,
    read_your_writes: bool,
    next_replica: usize,
    timeout_us: Micros,
    /// By user: the sequence number of their last acknowledged write.
    last_write: Vec<u32>,
    pending: Slab<Pending>,
    deadlines: Deadlines,
    pub writes_failed: u64,
}

impl App {
    fn finish(&mut self, ctx: &mut Ctx, p: Key, kind: Kind, value: u32) {
        let Some(e) = self.pending.remove(p) else { return };
        if e.step == Step::Write {
            if kind == Kind::Response {
                let u = e.user as usize;
                if self.last_write.len() <= u {
                    self.last_write.resize(u + 1, 0);
                }
                self.last_write[u] = self.last_write[u].max(value);
            } else {
                self.writes_failed += 1;
            }
        }
        ctx.send(e.client, Msg { kind, req: e.req, key: e.key, tag: 0, value });
    }

    fn read_target(&mut self, ctx: &mut Ctx) -> NodeId {
        let n = self.replicas.len();
        match self.read_from {
            "primary" => self.primary,
            "any" => {
                let i = ctx.rng.below(n as u64 + 1) as usize;
                if i == n { self.primary } else { self.replicas[i] }
            }
            _ => {
                self.next_replica = (self.next_replica + 1) % n;
                self.replicas[self.next_replica]
            }
        }
    }
}

impl Component for App {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if msg.kind == Kind::Request {
            let write = msg.tag & WRITE_TAG != 0;
            let step = if write { Step::Write } else { Step::Read };
            let p = self.pending.insert(Pending { req: msg.req, client: from, key: msg.key, user: msg.value, step });
            let tag = index_of(p);
            if write {
                ctx.send(self.primary, Msg { kind: Kind::Write, req: msg.req, key: msg.key, tag, value: 0 });
            } else {
                let to = self.read_target(ctx);
                // Read-your-writes: a read of one's own key needs one's last write.
                let own = self.read_your_writes && msg.key == u64::from(msg.value);
                let need = if own { self.last_write.get(msg.value as usize).copied().unwrap_or(0) } else { 0 };
                ctx.send(to, Msg { kind: Kind::Call, req: msg.req, key: msg.key, tag, value: need });
            }
            self.deadlines.add(ctx, self.timeout_us, p);
            return;
        }
        let Some(p) = self.pending.key_at(msg.tag) else { return };
        let Some(e) = self.pending.get_mut(p).filter(|e| e.req == msg.req) else { return };
        match msg.kind {
            Kind::Miss if e.step == Step::Read => {
                e.step = Step::ReadPrimary;
                ctx.send(self.primary, Msg { kind: Kind::Call, req: msg.req, key: msg.key, tag: msg.tag, value: 0 });
            }
            Kind::Response => self.finish(ctx, p, Kind::Response, msg.value),
            _ => self.finish(ctx, p, Kind::Error, 0),
        }
    }

    fn on_bounce(&mut self, ctx: &mut Ctx, _to: NodeId, msg: Msg) {
        if let Some(p) = self.pending.key_at(msg.tag).filter(|p| self.pending.get(*p).is_some_and(|e| e.req == msg.req)) {
            self.finish(ctx, p, Kind::Error, 0);
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, _token: u64) {
        let pending = &self.pending;
        let expired = self.deadlines.fire(ctx, |_, p| pending.contains(p));
        for &p in &expired {
            self.finish(ctx, p, Kind::Error, 0);
        }
        self.deadlines.recycle(expired);
    }

    fn on_set(&mut self, _ctx: &mut Ctx, knob: &str, value: &crate::knob::Value) {
        match (knob, value) {
            ("read_from", crate::knob::Value::Choice(c)) => self.read_from = c,
            ("read_your_writes", crate::knob::Value::Bool(b)) => self.read_your_writes = *b,
            _ => {}
        }
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        self.pending.drain(|e| held.push((e.client, Msg::new(Kind::Request, e.req))));
        self.deadlines.clear();
    }

    fn view(&self) -> NodeView {
        NodeView { busy: self.pending.len() as u32, state: if self.read_your_writes { "read-your-writes" } else { "" }, tone: Tone::Good, ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// What the clients saw, for the measures: reads, stale reads (and how stale), users
/// who missed their own last write, write latency.
#[derive(Default)]
struct Seen {
    reads: u64,
    stale: u64,
    own_stale: u64,
    staleness: Histogram,
    write_latency: Histogram,
    /// Stale reads and reads, and the slowest write, since the last sample.
    window: (u64, u64, Micros),
}

/// "Replicas converge after writes stop", judged from the trace: at the end, every
/// replica the primary can reach has acknowledged the newest version of every key the
/// primary replicated. It also keeps the clients' history for the measures.
struct Converge {
    primary: NodeId,
    replicas: Vec<NodeId>,
    /// By key: the newest version the primary sent; by replica and key: the newest acknowledged.
    sent: Vec<u32>,
    acked: Vec<Vec<u32>>,
    history: History,
    seen: Rc<RefCell<Seen>>,
}

impl Checker for Converge {
    fn name(&self) -> &'static str {
        INVARIANT
    }

    fn on_record(&mut self, r: &Record, _violations: &mut Vec<String>) {
        if let Record::Send { from, to, msg, .. } = *r {
            let k = msg.key as usize;
            if from == self.primary && msg.kind == Kind::Write && self.replicas.contains(&to) {
                if self.sent.len() <= k {
                    self.sent.resize(k + 1, 0);
                }
                self.sent[k] = self.sent[k].max(msg.value);
            } else if to == self.primary
                && msg.kind == Kind::Response
                && let Some(i) = self.replicas.iter().position(|x| *x == from)
            {
                let a = &mut self.acked[i];
                if a.len() <= k {
                    a.resize(k + 1, 0);
                }
                a[k] = a[k].max(msg.value);
            }
        }
        let Some(op) = self.history.on_record(r, |_| 0) else { return };
        let mut s = self.seen.borrow_mut();
        if op.failed {
            return;
        }
        if op.write {
            s.write_latency.record(op.end - op.start);
            s.window.2 = s.window.2.max(op.end - op.start);
        } else {
            s.reads += 1;
            s.window.1 += 1;
            if op.stale {
                s.stale += 1;
                s.window.0 += 1;
                s.staleness.record(op.staleness_us);
                if op.key == u64::from(op.user) {
                    s.own_stale += 1;
                }
            }
        }
    }

    fn finish(&mut self, end: &RunEnd, violations: &mut Vec<String>) {
        if !end.drained {
            return;
        }
        for (i, r) in self.replicas.iter().enumerate() {
            if !end.reachable(self.primary as usize, *r as usize) {
                continue;
            }
            let behind = self.sent.iter().enumerate().filter(|(k, v)| self.acked[i].get(*k).copied().unwrap_or(0) < **v).count();
            if behind > 0 {
                violations.push(format!("replica {} (node {r}) still misses the newest version of {behind} keys after writes stopped", i + 1));
            }
        }
    }
}

struct EcProbe {
    primary: NodeId,
    replicas: Vec<NodeId>,
    app: NodeId,
    seen: Rc<RefCell<Seen>>,
}


impl Scene for EventualConsistency {
    fn info(&self) -> &'static SceneInfo {
        &INFO
    }

    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe> {
        let n = p.int("replicas") as usize;
        let primary_id = n as NodeId; // the replicas come first
        let lag = p.dist("replication_lag");
        let replicas: Vec<NodeId> = (1..=n)
            .map(|i| w.add_node(format!("replica-{i}"), "replica", Box::new(Replica::new(primary_id, lag.clone()))))
            .collect();
        let timeout = p.duration("timeout");
        let needed = match p.choice("replication") {
            "sync" => n as u8,
            "semi-sync" => 1,
            _ => 0,
        };
        let primary = Primary::new(replicas.clone(), needed, timeout);
        let primary = w.add_node("primary", "primary", Box::new(primary));
        debug_assert_eq!(primary, primary_id);
        let app = App {
            primary,
            replicas: replicas.clone(),
            read_from: p.choice("read_from"),
            read_your_writes: p.flag("read_your_writes"),
            next_replica: 0,
            timeout_us: timeout,
            last_write: Vec::new(),
            pending: Slab::default(),
            deadlines: Deadlines::new(DEADLINE),
            writes_failed: 0,
        };
        let app = w.add_node("app", "app", Box::new(app));
        let clients = Clients::new(app, p.float("arrival_rate"), 2 * timeout, 1, w.stream("workload")).shaped(p).keyed(p).writing(p).sessions(p.float("own_reads"));
        let clients = w.add_node("client", "client", Box::new(clients));
        let seen = Rc::new(RefCell::new(Seen::default()));
        w.add_checker(Box::new(Converge { primary, replicas: replicas.clone(), sent: Vec::new(), acked: vec![Vec::new(); n], history: History::new(clients, app), seen: seen.clone() }));
        Box::new(EcProbe { primary, replicas, app, seen })
    }
}

impl Probe for EcProbe {
    fn metrics(&self, w: &World) -> Map<String, Json> {
        let s = self.seen.borrow();
        let primary = w.component::<Primary>(self.primary);
        measures!{
            "stale_read_ratio": share(s.stale, s.reads),
            "stale_reads": s.stale,
            "staleness": [ms(s.staleness.quantile(0.5)), ms(s.staleness.quantile(0.99))],
            "write_latency": [ms(s.write_latency.quantile(0.5)), ms(s.write_latency.quantile(0.99))],
            "own_stale_reads": s.own_stale,
            "convergence_time": ms(primary.convergence.max() as f64),
            "convergence_p99": ms(primary.convergence.quantile(0.99)),
            "writes_failed": w.component::<App>(self.app).writes_failed,
            "writes": primary.writes,
        }
    }

    fn series_names(&self, w: &World) -> Vec<String> {
        let mut names = vec!["stale_read_ratio".to_string(), "write_max_s".to_string()];
        names.extend(self.replicas.iter().map(|r| format!("behind:{}", w.nodes()[*r as usize].name)));
        names
    }

    /// Per interval: the share of reads that were stale, and the slowest write (in s);
    /// and how many keys each replica has not yet applied.
    fn sample(&self, w: &World, out: &mut Vec<f64>) {
        let mut s = self.seen.borrow_mut();
        let (stale, reads, slowest) = std::mem::take(&mut s.window);
        out.push(if reads > 0 { stale as f64 / reads as f64 } else { 0.0 });
        out.push(slowest as f64 / 1e6);
        let primary = w.component::<Primary>(self.primary);
        out.extend(primary.behind.iter().map(|b| f64::from(*b)));
    }

    fn settled(&self, w: &World) -> bool {
        let primary = w.component::<Primary>(self.primary);
        self.replicas.iter().enumerate().all(|(i, r)| primary.caught_up(i) || !w.reachable(self.primary, *r))
    }
}

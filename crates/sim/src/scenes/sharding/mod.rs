//! Scene `sharding` (patterns.md row 1): clients → router → N shard databases. The
//! router places every key on one shard by a strategy (modulo, range, consistent hashing
//! with virtual nodes); shards can be added and removed while the run plays, and the keys
//! that change shard are counted exactly.

mod map;

pub use map::ShardMap;
use super::measure::{max_over_mean, measures, round3};
use crate::check::Checker;
use crate::component::{Component, Ctx, NodeView, Tone};
use crate::components::deadlines::Deadlines;
use crate::components::server::Server;
use crate::components::slab::{Key, Slab, index_of};
use crate::components::source::Source as Clients;
use crate::error::{Error, Result};
use crate::keys::key_knobs;
use crate::knob::{KnobKind, KnobSpec, Params, common_knobs};
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::scene::{ActionSpec, Preset, Probe, Scene, SceneInfo};
use crate::time::{Micros, US_PER_S};
use crate::trace::Record;
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView, LATENCY_CHART};
use crate::world::World;
use serde_json::{Map, Value as Json};
use std::any::Any;
use std::cell::RefCell;
use std::sync::LazyLock;

pub struct Sharding;

pub const STRATEGIES: &[&str] = &["modulo", "range", "consistent-hash"];
/// Shards that can hold keys at once.
pub const MAX_SHARDS: usize = 64;
/// Shards a run may ever have had (removed ones keep their names).
const MAX_SHARDS_EVER: usize = 128;
/// Equal arcs of the key space the stage draws round the router.
const RING_ARCS: u64 = 120;

static ACTIONS: &[ActionSpec] = &[
    ActionSpec { name: "add-shard", arg: None, role: None, help: "A new, empty shard joins; the router re-places the keys by its strategy." },
    ActionSpec { name: "remove-shard", arg: Some("a shard's name"), role: Some("shard"), help: "A shard leaves; its keys go to the others by the router's strategy." },
];

static INFO: LazyLock<SceneInfo> = LazyLock::new(|| {
    let mut knobs = common_knobs("3000", 1_000_000.0);
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "shards", kind: KnobKind::Int { min: 1, max: MAX_SHARDS as i64 }, default: "4", unit: "", live: false, help: "Shards at the start; add-shard and remove-shard change it while the run plays." },
        KnobSpec { name: "strategy", kind: KnobKind::Choice(STRATEGIES), default: "consistent-hash", unit: "", live: false, help: "How a key finds its shard: modulo (hash mod N), range (equal slices of the key space, in key order), consistent-hash (the first shard point clockwise on a hash ring)." },
        KnobSpec { name: "vnodes", kind: KnobKind::Int { min: 1, max: 1024 }, default: "100", unit: "per shard", live: false, help: "Points each shard has on the consistent-hash ring; more points even out the shares." },
    ] });
    knobs.extend(key_knobs("100000", "uniform", "1.1"));
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "query_keys", kind: KnobKind::Int { min: 1, max: 16 }, default: "1", unit: "keys", live: false, help: "Adjacent keys each query reads (a range scan); the router asks every shard that holds one and waits for all." },
        KnobSpec { name: "service_time", kind: KnobKind::Dist, default: "exp:2ms", unit: "", live: false, help: "Work one query needs on a shard." },
        KnobSpec { name: "workers", kind: KnobKind::Int { min: 1, max: 256 }, default: "4", unit: "", live: false, help: "Queries a shard works on at once." },
        KnobSpec { name: "queue_limit", kind: KnobKind::Int { min: 0, max: 100_000 }, default: "1000", unit: "queries", live: false, help: "Waiting room per shard; beyond it the shard refuses." },
        KnobSpec { name: "timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "5s", unit: "", live: false, help: "How long the router waits for shards before failing a query; clients wait twice as long." },
    ] });
    SceneInfo {
        id: "sharding",
        title: "Sharding",
        knobs,
        actions: ACTIONS,
        view: SceneView {
            stage: StageView { columns: &[&["client"], &["router"], &["shard"]], links: &[("client", "router"), ("router", "shard")], paired: &[] },
            charts: const { &[
                LATENCY_CHART,
                clusterlab_engine::traffic_chart!(),
                Chart {
                    title: "Load imbalance and keys moved",
                    unit: "ratio",
                    lines: &[
                        Line::measured("busiest/mean shard", "load_imbalance", Colour::Orange).compared(),
                        Line::theory("expected (uniform keys)", "load_imbalance", 1.0, Colour::Orange),
                        Line::measured("keys moved (last resize)", "keys_moved", Colour::Blue).compared(),
                        Line::theory("theory moved", "keys_moved_fraction", 1.0, Colour::Blue),
                    ],
                },
            ] },
            compare: &[
                Row { label: "queries per shard", metric: "per_shard_load" },
                Row { label: "busiest shard / mean", metric: "load_imbalance" },
                Row { label: "key share, largest / mean", metric: "key_share_imbalance" },
                Row { label: "keys moved by the last resize", metric: "keys_moved_fraction" },
                Row { label: "queries over several shards", metric: "cross_shard_queries" },
            ],
            tables: &[],
        },
        narrative: &crate::narratives::sharding::NARRATIVE,
        presets: const { &[
            Preset {
                name: "hot-shard-sequential-range",
                title: "Timestamps on range sharding: one hot shard",
                about: "Keys grow by one per request, like timestamps, and range sharding keeps neighbours together: every write lands on the same shard, whose queue fills while the others idle.",
                set: &[("strategy", "range"), ("key_dist", "sequential"), ("keys", "1000000")],
                faults: &[],
            },
            Preset {
                name: "resize-modulo",
                title: "Add a shard under modulo: most keys move",
                about: "A fifth shard joins at 20 s. With hash mod N almost every key changes shard (4/5 of them), so nearly all cached data and rows must migrate.",
                set: &[("strategy", "modulo")],
                faults: &["20s add-shard"],
            },
            Preset {
                name: "resize-consistent-hash",
                title: "Add a shard on a hash ring: a fifth move",
                about: "Same resize with consistent hashing and 100 virtual nodes per shard: only the keys the new shard takes over move, about 1/5 of them.",
                set: &[("strategy", "consistent-hash"), ("vnodes", "100")],
                faults: &["20s add-shard"],
            },
        ] },
    }
});

struct Pending {
    req: ReqId,
    client: NodeId,
    /// Shards yet to answer.
    waiting: u16,
    /// The answer so far: a response, unless a shard refused (reject) or failed (error).
    answer: Kind,
}

/// Timer token of the router's deadlines.
const DEADLINE: u64 = 1;

/// The router: finds the shards that hold a query's keys, asks each, and answers the
/// client once all have (scatter-gather).
pub struct Router {
    map: ShardMap,
    /// The node of shard number s, at index s − 1.
    nodes: Vec<NodeId>,
    query_keys: u64,
    timeout_us: Micros,
    pending: Slab<Pending>,
    deadlines: Deadlines,
    /// Calls sent to each shard number (index s − 1): in the whole run, and since the last resize.
    pub calls: Vec<u64>,
    pub calls_since_resize: Vec<u64>,
    pub queries: u64,
    pub cross_shard: u64,
    /// Each arc of the ring: the shard node that holds it and whether it moved at the last resize.
    ring: Vec<(NodeId, bool)>,
    /// Bumped at every resize and announced, so that checkers know the placement changed.
    pub placement: u8,
    /// Scratch: the shards a query needs, each with its first key.
    firsts: Vec<(u32, u64)>,
}

impl Router {
    pub fn new(map: ShardMap, nodes: Vec<NodeId>, query_keys: u64, timeout_us: Micros) -> Router {
        let n = nodes.len();
        let mut r = Router {
            map,
            nodes,
            query_keys,
            timeout_us,
            pending: Slab::default(),
            deadlines: Deadlines::new(DEADLINE),
            calls: vec![0; n],
            calls_since_resize: vec![0; n],
            queries: 0,
            cross_shard: 0,
            ring: Vec::new(),
            placement: 0,
            firsts: Vec::new(),
        };
        r.ring = r.map.arcs(RING_ARCS).iter().map(|s| (r.nodes[*s as usize - 1], false)).collect();
        r
    }

    pub fn map(&self) -> &ShardMap {
        &self.map
    }

    /// Moves to a new shard list (a shard joined, with its node, or left).
    pub fn resize(&mut self, ctx: &mut Ctx, map: ShardMap, joined: Option<NodeId>) {
        if let Some(node) = joined {
            self.nodes.push(node);
            self.calls.push(0);
            self.calls_since_resize.push(0);
        }
        let arcs = map.arcs(RING_ARCS);
        self.ring = arcs.iter().zip(&self.ring).map(|(s, (old, _))| (self.nodes[*s as usize - 1], self.nodes[*s as usize - 1] != *old)).collect();
        self.map = map;
        self.calls_since_resize.fill(0);
        self.placement = self.placement.wrapping_add(1);
        ctx.set_state(self.placement);
    }

    fn settle(&mut self, ctx: &mut Ctx, key: Key) {
        if let Some(p) = self.pending.remove(key) {
            ctx.send(p.client, Msg::new(p.answer, p.req));
        }
    }

    fn answered(&mut self, ctx: &mut Ctx, msg: Msg, kind: Kind) {
        let Some(key) = self.pending.key_at(msg.tag) else { return };
        let Some(p) = self.pending.get_mut(key).filter(|p| p.req == msg.req) else { return };
        p.waiting -= 1;
        p.answer = match (p.answer, kind) {
            (Kind::Error, _) | (_, Kind::Error) => Kind::Error,
            (Kind::Reject, _) | (_, Kind::Reject) => Kind::Reject,
            _ => Kind::Response,
        };
        if p.waiting == 0 {
            self.settle(ctx, key);
        }
    }
}

impl Component for Router {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg.kind {
            Kind::Request => {
                self.queries += 1;
                // The shards holding the query's keys, each asked once, for its first key.
                let mut firsts = std::mem::take(&mut self.firsts);
                firsts.clear();
                let keys = self.map.keys();
                for i in 0..self.query_keys {
                    let k = (msg.key + i) % keys;
                    let s = self.map.shard_of(k);
                    if !firsts.iter().any(|(x, _)| *x == s) {
                        firsts.push((s, k));
                    }
                }
                if firsts.len() > 1 {
                    self.cross_shard += 1;
                }
                let slot = self.pending.insert(Pending { req: msg.req, client: from, waiting: firsts.len() as u16, answer: Kind::Response });
                for &(s, k) in &firsts {
                    let i = s as usize - 1;
                    self.calls[i] += 1;
                    self.calls_since_resize[i] += 1;
                    ctx.send(self.nodes[i], Msg { kind: Kind::Call, req: msg.req, key: k, tag: index_of(slot), value: 0 });
                }
                self.firsts = firsts;
                self.deadlines.add(ctx, self.timeout_us, slot);
            }
            Kind::Response | Kind::Error | Kind::Reject => self.answered(ctx, msg, msg.kind),
            _ => {}
        }
    }

    fn on_bounce(&mut self, ctx: &mut Ctx, _to: NodeId, msg: Msg) {
        if msg.kind == Kind::Call {
            self.answered(ctx, msg, Kind::Error);
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, _token: u64) {
        let pending = &self.pending;
        let expired = self.deadlines.fire(ctx, |_, key| pending.contains(key));
        for &key in &expired {
            if let Some(p) = self.pending.get_mut(key) {
                p.answer = Kind::Error; // 504: a shard did not answer in time
            }
            self.settle(ctx, key);
        }
        self.deadlines.recycle(expired);
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        self.pending.drain(|p| held.push((p.client, Msg::new(Kind::Request, p.req))));
        self.deadlines.clear();
    }

    fn view(&self) -> NodeView {
        NodeView {
            busy: self.pending.len() as u32,
            state: self.map.strategy(),
            tone: Tone::Neutral,
            note: format!("{} shards", self.map.shards().len()),
            ring: self.ring.clone(),
            ..NodeView::default()
        }
    }

    fn describe_state(&self, _code: u8) -> String {
        format!("keys placed anew over {} shards", self.nodes.len())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// "Every key lives on exactly one shard": within one placement (between resizes, which
/// the router announces), every call for a key must reach the same shard.
struct OneShardPerKey {
    router: NodeId,
    /// By key: the node its calls go to in this placement, or `NOWHERE` before the first.
    home: Vec<NodeId>,
}

const NOWHERE: NodeId = NodeId::MAX;

impl Checker for OneShardPerKey {
    fn name(&self) -> &'static str {
        "every key lives on exactly one shard"
    }

    fn on_record(&mut self, r: &Record, violations: &mut Vec<String>) {
        match r {
            Record::State { node, .. } if *node == self.router => self.home.fill(NOWHERE),
            Record::Send { from, to, msg, .. } if *from == self.router && msg.kind == Kind::Call => {
                let k = msg.key as usize;
                if self.home.len() <= k {
                    self.home.resize(k + 1, NOWHERE);
                }
                if self.home[k] == NOWHERE {
                    self.home[k] = *to;
                }
                let home = self.home[k];
                if home != *to {
                    violations.push(format!("key {} was sent to node {to} but lives on node {home}", msg.key));
                }
            }
            _ => {}
        }
    }
}

struct ShardProbe {
    router: NodeId,
    /// Every shard node ever, by shard number − 1.
    shards: Vec<NodeId>,
    /// The calls per shard at the last sample, for the imbalance of each interval.
    last_calls: RefCell<Vec<u64>>,
    /// The last resize: (fraction of keys moved, what theory expected).
    moved: Option<(f64, f64)>,
    /// Cached: the expected imbalance of the current placement (an integral).
    expected_imbalance: f64,
    /// Cached: the placement's key shares.
    shares: Vec<f64>,
}

impl ShardProbe {
    fn refresh(&mut self, map: &ShardMap) {
        self.expected_imbalance = map.expected_share_imbalance();
        self.shares = map.key_shares();
    }

    fn router<'w>(&self, w: &'w World) -> &'w Router {
        w.component::<Router>(self.router)
    }

    fn label_shards(&self, w: &mut World) {
        let map = self.router(w).map().clone();
        for (i, node) in self.shards.iter().enumerate() {
            let s = i as u32 + 1;
            let note = match map.shards().iter().position(|x| *x == s) {
                Some(j) => format!("{}% keys", crate::num::Fixed(self.shares[j] * 100.0, u8::from(self.shares[j] < 0.1))),
                None => "removed".to_string(),
            };
            w.with_component::<Server>(*node, |srv, _| srv.note = note);
        }
    }
}



fn new_shard(p: &Params) -> Server {
    Server::new(p.int("workers") as u32, p.int("queue_limit") as u32, p.dist("service_time"), 1.0)
}

impl Scene for Sharding {
    fn info(&self) -> &'static SceneInfo {
        &INFO
    }

    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe> {
        let n = p.int("shards") as u32;
        let shards: Vec<NodeId> = (1..=n).map(|s| w.add_node(format!("shard-{s}"), "shard", Box::new(new_shard(p)))).collect();
        let map = ShardMap::new(p.choice("strategy"), p.int("keys") as u64, p.int("vnodes") as u32, w.seed, (1..=n).collect());
        let timeout = p.duration("timeout");
        let router = w.add_node("router", "router", Box::new(Router::new(map.clone(), shards.clone(), p.int("query_keys") as u64, timeout)));
        let source = Clients::new(router, p.float("arrival_rate"), 2 * timeout, 1, w.stream("workload")).shaped(p).keyed(p);
        w.add_node("client", "client", Box::new(source));
        w.add_checker(Box::new(OneShardPerKey { router, home: Vec::new() }));
        let mut probe = ShardProbe { router, shards, last_calls: RefCell::new(vec![0; n as usize]), moved: None, expected_imbalance: 1.0, shares: Vec::new() };
        probe.refresh(&map);
        probe.label_shards(w);
        Box::new(probe)
    }
}

impl Probe for ShardProbe {
    fn metrics(&self, w: &World) -> Map<String, Json> {
        let r = self.router(w);
        let active = |counts: &[u64]| -> Vec<f64> { r.map().shards().iter().map(|s| counts[*s as usize - 1] as f64).collect() };
        measures!{
            "per_shard_load": r.calls,
            "load_imbalance": round3(max_over_mean(&active(&r.calls_since_resize))),
            "key_share_imbalance": round3(max_over_mean(&self.shares)),
            "per_shard_keys": self.shares.iter().map(|s| round3(*s)).collect::<Vec<_>>(),
            "keys_moved_fraction": self.moved.map_or(0.0, |(m, _)| round3(m)),
            "cross_shard_queries": r.cross_shard,
            "cross_shard_ratio": round3(if r.queries > 0 { r.cross_shard as f64 / r.queries as f64 } else { 0.0 }),
            "shards_now": r.map().shards().len(),
        }
    }

    fn series_names(&self, _w: &World) -> Vec<String> {
        vec!["load_imbalance".into(), "keys_moved".into()]
    }

    /// The imbalance of the queries each interval (busiest shard over the mean of the
    /// shards that hold keys), and the fraction moved by the last resize.
    fn sample(&self, w: &World, out: &mut Vec<f64>) {
        let r = self.router(w);
        let mut last = self.last_calls.borrow_mut();
        last.resize(r.calls.len(), 0);
        let delta: Vec<f64> = r.map().shards().iter().map(|s| (r.calls[*s as usize - 1] - last[*s as usize - 1]) as f64).collect();
        last.copy_from_slice(&r.calls);
        out.push(max_over_mean(&delta));
        out.push(self.moved.map_or(0.0, |(m, _)| m));
    }

    fn theory(&self, p: &Params) -> Vec<(&'static str, f64)> {
        let mut out = Vec::new();
        if p.choice("key_dist") == "uniform" {
            out.push(("load_imbalance", self.expected_imbalance));
        }
        if let Some((_, expected)) = self.moved.filter(|(_, e)| e.is_finite()) {
            out.push(("keys_moved_fraction", expected));
        }
        out
    }

    fn check_action(&self, w: &World, action: &str, arg: Option<&str>) -> Result<()> {
        let r = self.router(w);
        match (action, arg) {
            ("add-shard", _) if r.map().shards().len() >= MAX_SHARDS => Err(Error::new(format!("there are already {MAX_SHARDS} shards, the most this scene allows"))),
            ("add-shard", _) if self.shards.len() >= MAX_SHARDS_EVER => Err(Error::new(format!("{MAX_SHARDS_EVER} shards have been added in this run, the most it allows"))),
            ("remove-shard", Some(name)) => {
                let names = || r.map().shards().iter().map(|s| format!("shard-{s}")).collect::<Vec<_>>().join(", ");
                let s = name.strip_prefix("shard-").and_then(|s| s.parse::<u32>().ok());
                match s {
                    Some(s) if r.map().shards().contains(&s) => {
                        if r.map().shards().len() == 1 {
                            Err(Error::new(format!("'{name}' is the last shard; at least one must hold the keys")))
                        } else {
                            Ok(())
                        }
                    }
                    _ => Err(Error::new(format!("no shard named '{name}' holds keys (shards: {})", names()))),
                }
            }
            _ => Ok(()),
        }
    }

    fn on_action(&mut self, w: &mut World, action: &str, arg: Option<&str>) {
        let old = self.router(w).map().clone();
        let (next, joined) = match (action, arg) {
            ("add-shard", _) => {
                let s = self.shards.len() as u32 + 1;
                let server = new_shard(w.params());
                let node = w.add_node(format!("shard-{s}"), "shard", Box::new(server));
                self.shards.push(node);
                let mut list = old.shards().to_vec();
                list.push(s);
                (old.with_shards(list), Some(node))
            }
            ("remove-shard", Some(name)) => {
                let s: u32 = name.strip_prefix("shard-").unwrap_or(name).parse().expect("checked when scheduled");
                (old.with_shards(old.shards().iter().copied().filter(|x| *x != s).collect()), None)
            }
            _ => return,
        };
        self.moved = Some((old.moved_fraction(&next), old.expected_moved(&next)));
        self.refresh(&next);
        w.with_component::<Router>(self.router, |r, ctx| r.resize(ctx, next, joined));
        self.label_shards(w);
    }
}

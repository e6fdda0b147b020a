//! Scene `sharding` (patterns.md row 1): clients → router → N shard databases. The
//! router places every key on one shard by a strategy (modulo, range, consistent hashing
//! with virtual nodes); shards can be added and removed while the run plays, and the keys
//! that change shard are counted exactly.

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
use crate::rng::mix64;
use crate::scene::{ActionSpec, Preset, Probe, Scene, SceneInfo};
use crate::time::{Micros, US_PER_S};
use crate::trace::Record;
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView, latency_chart, traffic_chart};
use crate::world::World;
use serde_json::{Map, Value as Json, json};
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
    knobs.extend([
        KnobSpec { name: "shards", kind: KnobKind::Int { min: 1, max: MAX_SHARDS as i64 }, default: "4", unit: "", live: false, help: "Shards at the start; add-shard and remove-shard change it while the run plays." },
        KnobSpec { name: "strategy", kind: KnobKind::Choice(STRATEGIES), default: "consistent-hash", unit: "", live: false, help: "How a key finds its shard: modulo (hash mod N), range (equal slices of the key space, in key order), consistent-hash (the first shard point clockwise on a hash ring)." },
        KnobSpec { name: "vnodes", kind: KnobKind::Int { min: 1, max: 1024 }, default: "100", unit: "per shard", live: false, help: "Points each shard has on the consistent-hash ring; more points even out the shares." },
    ]);
    knobs.extend(key_knobs("100000", "uniform", "1.1"));
    knobs.extend([
        KnobSpec { name: "query_keys", kind: KnobKind::Int { min: 1, max: 16 }, default: "1", unit: "keys", live: false, help: "Adjacent keys each query reads (a range scan); the router asks every shard that holds one and waits for all." },
        KnobSpec { name: "service_time", kind: KnobKind::Dist, default: "exp:2ms", unit: "", live: false, help: "Work one query needs on a shard." },
        KnobSpec { name: "workers", kind: KnobKind::Int { min: 1, max: 256 }, default: "4", unit: "", live: false, help: "Queries a shard works on at once." },
        KnobSpec { name: "queue_limit", kind: KnobKind::Int { min: 0, max: 100_000 }, default: "1000", unit: "queries", live: false, help: "Waiting room per shard; beyond it the shard refuses." },
        KnobSpec { name: "timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "5s", unit: "", live: false, help: "How long the router waits for shards before failing a query; clients wait twice as long." },
    ]);
    SceneInfo {
        id: "sharding",
        title: "Sharding",
        knobs,
        actions: ACTIONS,
        view: SceneView {
            stage: StageView { columns: &[&["client"], &["router"], &["shard"]], links: &[("client", "router"), ("router", "shard")], paired: &[] },
            charts: vec![
                latency_chart(),
                traffic_chart(&[]),
                Chart {
                    title: "Load imbalance and keys moved",
                    unit: "ratio",
                    lines: vec![
                        Line::measured("busiest/mean shard", "load_imbalance", Colour::Orange).compared(),
                        Line::theory("expected (uniform keys)", "load_imbalance", 1.0, Colour::Orange),
                        Line::measured("keys moved (last resize)", "keys_moved", Colour::Blue).compared(),
                        Line::theory("theory moved", "keys_moved_fraction", 1.0, Colour::Blue),
                    ],
                },
            ],
            compare: &[
                Row { label: "queries per shard", metric: "per_shard_load" },
                Row { label: "busiest shard / mean", metric: "load_imbalance" },
                Row { label: "key share, largest / mean", metric: "key_share_imbalance" },
                Row { label: "keys moved by the last resize", metric: "keys_moved_fraction" },
                Row { label: "queries over several shards", metric: "cross_shard_queries" },
            ],
        },
        narrative: &crate::narratives::sharding::NARRATIVE,
        presets: vec![
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
        ],
    }
});

/// Where each key lives: a pure function of the strategy and the shard list, which the
/// router consults for every key and the probe to count what a resize moves.
#[derive(Clone, Debug)]
pub struct ShardMap {
    strategy: &'static str,
    keys: u64,
    vnodes: u32,
    /// Where the ring's points fall depends on it (the run's seed): each seed, another ring.
    salt: u64,
    /// Shard numbers (shard-3 is 3), in placement order.
    shards: Vec<u32>,
    /// Consistent hashing: (ring position, index into `shards`), sorted by position.
    points: Vec<(u64, u32)>,
}

const KEY_SALT: u64 = 0x005E_ED0F_4B1D;

impl ShardMap {
    pub fn new(strategy: &'static str, keys: u64, vnodes: u32, salt: u64, shards: Vec<u32>) -> ShardMap {
        let mut points = Vec::new();
        if strategy == "consistent-hash" {
            for (i, s) in shards.iter().enumerate() {
                points.extend((0..vnodes).map(|v| (mix64(mix64(salt) ^ (u64::from(*s) << 32 | u64::from(v))), i as u32)));
            }
            points.sort_unstable();
        }
        ShardMap { strategy, keys: keys.max(1), vnodes, salt, shards, points }
    }

    pub fn shards(&self) -> &[u32] {
        &self.shards
    }

    /// The same placement with another shard list.
    pub fn with_shards(&self, shards: Vec<u32>) -> ShardMap {
        ShardMap::new(self.strategy, self.keys, self.vnodes, self.salt, shards)
    }

    /// Where a key sits on the hash ring.
    fn hash(key: u64) -> u64 {
        mix64(key ^ KEY_SALT)
    }

    /// The index in `shards` of the shard that holds `key`.
    #[inline]
    pub fn owner(&self, key: u64) -> usize {
        let n = self.shards.len() as u64;
        match self.strategy {
            "modulo" => (Self::hash(key) % n) as usize,
            "range" => (u128::from(key.min(self.keys - 1)) * u128::from(n) / u128::from(self.keys)) as usize,
            _ => self.ring_owner(Self::hash(key)),
        }
    }

    fn ring_owner(&self, position: u64) -> usize {
        let i = self.points.partition_point(|(p, _)| *p < position);
        self.points[if i == self.points.len() { 0 } else { i }].1 as usize
    }

    /// The shard number that holds `key`.
    pub fn shard_of(&self, key: u64) -> u32 {
        self.shards[self.owner(key)]
    }

    /// The fraction of all keys each shard holds, in `shards` order (counted key by key).
    pub fn key_shares(&self) -> Vec<f64> {
        let mut counts = vec![0u64; self.shards.len()];
        for k in 0..self.keys {
            counts[self.owner(k)] += 1;
        }
        counts.iter().map(|c| *c as f64 / self.keys as f64).collect()
    }

    /// The fraction of all keys that sit on a different shard in `next` (counted exactly).
    pub fn moved_fraction(&self, next: &ShardMap) -> f64 {
        let moved = (0..self.keys).filter(|k| self.shard_of(*k) != next.shard_of(*k)).count();
        moved as f64 / self.keys as f64
    }

    /// The shard number holding the middle of each of `arcs` equal arcs: of the hash ring
    /// for consistent hashing, of the key space in key order otherwise.
    pub fn arcs(&self, arcs: u64) -> Vec<u32> {
        (0..arcs)
            .map(|a| {
                if self.strategy == "consistent-hash" {
                    let position = ((u128::from(a) * 2 + 1) << 63) / u128::from(arcs);
                    self.shards[self.ring_owner(position as u64)]
                } else {
                    self.shard_of(((2 * a + 1) * self.keys / (2 * arcs)).min(self.keys - 1))
                }
            })
            .collect()
    }

    /// What theory expects a resize from this shard list to `next` to move (uniform keys).
    /// Consistent hashing moves only what the joining shard takes, 1/(n+1), or what the
    /// leaving one held, 1/n (Karger et al.); modulo keeps a key only where h mod n and
    /// h mod m agree, a fraction 1/max(n, m) for m = n ± 1; range re-slices the key space
    /// and keeps the overlap of each shard's old and new slice.
    pub fn expected_moved(&self, next: &ShardMap) -> f64 {
        let (n, m) = (self.shards.len() as f64, next.shards.len() as f64);
        match self.strategy {
            "consistent-hash" if m > n => 1.0 / m,
            "consistent-hash" => 1.0 / n,
            "modulo" if (n - m).abs() == 1.0 => 1.0 - 1.0 / n.max(m),
            "range" => {
                let slice = |list: &[u32], s: u32| list.iter().position(|x| *x == s).map(|i| (i as f64 / list.len() as f64, (i + 1) as f64 / list.len() as f64));
                let kept: f64 = self
                    .shards
                    .iter()
                    .filter_map(|s| Some((slice(&self.shards, *s)?, slice(&next.shards, *s)?)))
                    .map(|((a0, a1), (b0, b1))| (a1.min(b1) - a0.max(b0)).max(0.0))
                    .sum();
                1.0 - kept
            }
            _ => f64::NAN,
        }
    }

    /// The largest key share over the mean that theory expects on average over rings
    /// (uniform keys). Modulo and range split evenly. On a consistent-hash ring each shard
    /// holds `vnodes` arcs between random points, about a Gamma(v) share in units of
    /// 1/(n v): the expectation of the largest of n of them, over their mean.
    pub fn expected_share_imbalance(&self) -> f64 {
        let n = self.shards.len();
        if self.strategy != "consistent-hash" || n == 1 {
            return 1.0;
        }
        expected_max_gamma(n, self.vnodes) / f64::from(self.vnodes)
    }
}

/// E[max of n independent Gamma(v, 1)] = ∫₀^∞ 1 − F(x)ⁿ dx, by the trapezoid rule, with
/// F(x) = 1 − e^(−x) Σ_{k<v} x^k / k! for whole v.
fn expected_max_gamma(n: usize, v: u32) -> f64 {
    let v = f64::from(v);
    let top = v + 12.0 * v.sqrt() + 40.0;
    let steps = 2_000;
    let h = top / steps as f64;
    let tail = |x: f64| -> f64 {
        // P(Gamma > x) = e^(−x) Σ_{k<v} x^k/k!, summed in logs to stay finite.
        if x == 0.0 {
            return 1.0;
        }
        let (mut term, mut sum) = (-x, 0.0);
        for k in 0..v as u32 {
            if k > 0 {
                term += libm::log(x) - libm::log(f64::from(k));
            }
            sum += libm::exp(term);
        }
        sum.min(1.0)
    };
    let f = |x: f64| 1.0 - libm::pow(1.0 - tail(x), n as f64);
    let mut total = (f(0.0) + f(top)) / 2.0;
    for i in 1..steps {
        total += f(i as f64 * h);
    }
    total * h
}

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
    expired: Vec<u64>,
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
            expired: Vec::new(),
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
                let keys = self.map.keys;
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
        let mut expired = std::mem::take(&mut self.expired);
        let pending = &self.pending;
        self.deadlines.fire(ctx, |_, key| pending.contains(key), &mut expired);
        for key in expired.drain(..) {
            if let Some(p) = self.pending.get_mut(key) {
                p.answer = Kind::Error; // 504: a shard did not answer in time
            }
            self.settle(ctx, key);
        }
        self.expired = expired;
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        self.pending.drain(|p| held.push((p.client, Msg::new(Kind::Request, p.req))));
        self.deadlines.clear();
    }

    fn view(&self) -> NodeView {
        NodeView {
            busy: self.pending.len() as u32,
            state: self.map.strategy,
            tone: Tone::Neutral,
            note: format!("{} shards", self.map.shards.len()),
            ring: self.ring.clone(),
            ..NodeView::default()
        }
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
                Some(j) => format!("{:.1$}% keys", self.shares[j] * 100.0, usize::from(self.shares[j] < 0.1)),
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
        measures(json!({
            "per_shard_load": r.calls,
            "load_imbalance": round3(max_over_mean(&active(&r.calls_since_resize))),
            "key_share_imbalance": round3(max_over_mean(&self.shares)),
            "per_shard_keys": self.shares.iter().map(|s| round3(*s)).collect::<Vec<_>>(),
            "keys_moved_fraction": self.moved.map_or(0.0, |(m, _)| round3(m)),
            "cross_shard_queries": r.cross_shard,
            "cross_shard_ratio": round3(if r.queries > 0 { r.cross_shard as f64 / r.queries as f64 } else { 0.0 }),
            "shards_now": r.map().shards().len(),
        }))
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
                let s: u32 = name.trim_start_matches("shard-").parse().expect("checked when scheduled");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_max_matches_known_values() {
        // One arc per shard: the largest of n spacings of the ring, E = H_n.
        let h4 = 1.0 + 0.5 + 1.0 / 3.0 + 0.25;
        assert!((expected_max_gamma(4, 1) - h4).abs() < 1e-3, "{}", expected_max_gamma(4, 1));
        assert!((expected_max_gamma(1, 5) - 5.0).abs() < 1e-3);
    }

    #[test]
    fn modulo_and_range_resizes_move_what_arithmetic_says() {
        let keys = 100_000;
        let four = ShardMap::new("modulo", keys, 1, 0, vec![1, 2, 3, 4]);
        let five = four.with_shards(vec![1, 2, 3, 4, 5]);
        assert!((four.moved_fraction(&five) - 0.8).abs() < 0.01);
        let four = ShardMap::new("range", keys, 1, 0, vec![1, 2, 3, 4]);
        let five = four.with_shards(vec![1, 2, 3, 4, 5]);
        assert!((four.moved_fraction(&five) - four.expected_moved(&five)).abs() < 0.001, "{}", four.expected_moved(&five));
    }
}

//! Scene `cap` (patterns.md row 15): a key-value store replicated over N regions, each
//! with its own clients, under a network partition.
//!
//! CP: every operation needs quorums that intersect (reads hear R replicas, writes wait
//! for W, R + W > N), in two phases as in the ABD protocol: a read writes back the newest
//! version it found before answering, a write first asks for the newest version to
//! number its own above it. A region that cannot reach a quorum refuses.
//!
//! AP: the local replica answers alone (R = W = 1, always available) and replicates in
//! the background, resending until acknowledged. Versions carry version vectors, so a
//! replica can tell a newer version from a concurrent one; concurrent versions are
//! reconciled by last writer wins (a timestamp order, which drops one) or kept as
//! siblings until the next write of the key merges them.

use super::measure::measures;
mod judge;

use judge::{Converge, Linearizability, Seen};
use super::history::History;
use crate::component::{Component, Ctx, NodeView, Tone};
use crate::components::deadlines::Deadlines;
use crate::components::slab::{Slab, index_of};
use crate::components::source::{Source as Clients, WRITE_TAG};
use crate::error::{Error, Result};
use crate::keys::key_knobs;
use crate::knob::{KnobKind, KnobSpec, Params, common_knobs_with_latency};
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::scene::{Preset, Probe, Scene, SceneInfo};
use crate::time::{Micros, US_PER_S};
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView, LATENCY_CHART};
use crate::world::World;
use serde_json::{Map, Value as Json};
use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::LazyLock;

pub struct Cap;

pub const MODES: &[&str] = &["cp", "ap"];
pub const CONFLICTS: &[&str] = &["lww", "siblings"];
const REGIONS: [&str; 5] = ["a", "b", "c", "d", "e"];
/// How long a CP coordinator waits for a quorum before refusing.
const QUORUM_WAIT_US: Micros = 500_000;
/// AP replicas resend what peers have not acknowledged this often.
const RESEND_EVERY_US: Micros = US_PER_S;
/// The most keys: a key travels in a replication message's low 8 bits.
const MAX_KEYS: i64 = 256;

static INFO: LazyLock<SceneInfo> = LazyLock::new(|| {
    let mut knobs = common_knobs_with_latency("600", 100_000.0, "uniform:20ms..40ms");
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "mode", kind: KnobKind::Choice(MODES), default: "cp", unit: "", live: false, help: "cp: every read and write needs a quorum, or fails. ap: each region's replica answers alone and reconciles later." },
        KnobSpec { name: "n", kind: KnobKind::Int { min: 3, max: 5 }, default: "3", unit: "regions", live: false, help: "Replicas, one per region (a, b, c, ...), each with its own clients." },
        KnobSpec { name: "r", kind: KnobKind::Int { min: 1, max: 5 }, default: "2", unit: "replicas", live: false, help: "CP: replicas a read hears from (at most n). AP reads the local replica alone." },
        KnobSpec { name: "w", kind: KnobKind::Int { min: 1, max: 5 }, default: "2", unit: "replicas", live: false, help: "CP: replicas a write waits for (at most n; r + w must exceed n). AP writes the local replica alone." },
        KnobSpec { name: "conflict", kind: KnobKind::Choice(CONFLICTS), default: "lww", unit: "", live: false, help: "How AP reconciles versions written concurrently: the later timestamp wins (lww) and the other is lost, or both are kept as siblings until the next write of the key merges them." },
        KnobSpec { name: "write_ratio", kind: KnobKind::Float { min: 0.0, max: 1.0 }, default: "0.3", unit: "fraction", live: true, help: "The share of requests that write." },
    ] });
    let mut keys = key_knobs("50", "uniform", "1.0");
    keys[0].kind = KnobKind::Int { min: 1, max: MAX_KEYS };
    knobs.extend(keys);
    knobs.push(KnobSpec { name: "timeout", kind: KnobKind::Duration { min_us: 100_000, max_us: 600 * US_PER_S }, default: "2s", unit: "", live: false, help: "How long clients wait for an answer." });
    SceneInfo {
        id: "cap",
        title: "CAP under a partition",
        knobs,
        actions: &[],
        view: SceneView {
            stage: StageView { columns: &[&["client"], &["replica"]], links: &[("replica", "replica")], paired: &[("client", "replica")] },
            charts: const { &[
                LATENCY_CHART,
                Chart { title: "Requests answered, by region", unit: "share", lines: &[Line::each("answered:", Colour::Green)] },
                Chart {
                    title: "Stale reads and conflicts",
                    unit: "per second",
                    lines: &[Line::measured("stale reads/s", "stale_rps", Colour::Orange).compared(), Line::measured("conflicts/s", "conflicts_rps", Colour::Red).compared()],
                },
            ] },
            compare: &[
                Row { label: "requests answered, by region", metric: "availability_by_side" },
                Row { label: "stale reads", metric: "stale_reads" },
                Row { label: "concurrent versions reconciled", metric: "conflicts" },
                Row { label: "acknowledged writes lost", metric: "lost_writes" },
                Row { label: "keys whose history is not linearizable", metric: "linearizability_violations" },
                Row { label: "quorums intersect (R + W > N)", metric: "quorums_intersect" },
            ],
            tables: &[],
        },
        narrative: &crate::narratives::cap::NARRATIVE,
        presets: const { &[
            Preset {
                name: "cp-partition",
                title: "CP: the minority side refuses",
                about: "Region a is cut off from b and c from 10 s to 30 s. With quorums of 2 of 3, a cannot reach one and refuses every request; b and c carry on. Every key's history stays linearizable.",
                set: &[("mode", "cp")],
                faults: &["10s partition client-a,replica-a|replica-b,replica-c", "30s heal"],
            },
            Preset {
                name: "ap-partition-lww",
                title: "AP: both sides answer, then last writer wins",
                about: "The same partition in AP mode: every region keeps answering and the two sides drift apart (reads are stale, histories stop being linearizable). After the heal they reconcile by timestamp, and writes acknowledged on the losing side are gone.",
                set: &[("mode", "ap")],
                faults: &["10s partition client-a,replica-a|replica-b,replica-c", "30s heal"],
            },
            Preset {
                name: "ap-partition-siblings",
                title: "AP with siblings: nothing lost, conflicts to merge",
                about: "AP again, but reconciling keeps concurrent versions side by side: no acknowledged write is lost, and each conflict waits for the next write of its key.",
                set: &[("mode", "ap"), ("conflict", "siblings")],
                faults: &["10s partition client-a,replica-a|replica-b,replica-c", "30s heal"],
            },
        ] },
    }
});

/// A version vector over up to five regions: how many writes of a key each region has
/// made that a version reflects. It travels inside a replication message, in the key's
/// upper 56 bits and the tag: five counters of 17 bits (they saturate at 131,071).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Vv([u32; 5]);

const COUNTER_MAX: u32 = (1 << 17) - 1;

impl Vv {
    fn pack(self, key: u64) -> (u64, u32) {
        let bits = self.0.iter().enumerate().fold(0u128, |b, (i, c)| b | u128::from(*c.min(&COUNTER_MAX)) << (17 * i));
        (key | ((bits as u64) & ((1 << 56) - 1)) << 8, (bits >> 56) as u32)
    }

    fn unpack(key_field: u64, tag: u32) -> (u64, Vv) {
        let bits = u128::from(key_field >> 8) | u128::from(tag) << 56;
        let mut v = Vv::default();
        for (i, c) in v.0.iter_mut().enumerate() {
            *c = (bits >> (17 * i)) as u32 & COUNTER_MAX;
        }
        (key_field & 0xFF, v)
    }

    /// Every write this one reflects, the other reflects too.
    fn le(&self, o: &Vv) -> bool {
        self.0.iter().zip(&o.0).all(|(a, b)| a <= b)
    }

    fn join(&self, o: &Vv) -> Vv {
        let mut v = *self;
        for (a, b) in v.0.iter_mut().zip(&o.0) {
            *a = (*a).max(*b);
        }
        v
    }
}

/// A version of a value: a timestamp (a Lamport clock above the writer's region, unique
/// per key and ordered, for last-writer-wins) and its version vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Version {
    stamp: u32,
    vv: Vv,
}

fn region_of(stamp: u32) -> usize {
    (stamp & 7) as usize
}

/// Tags of the messages between CP replicas: the operation's index at its coordinator,
/// and this bit when it is the put phase.
const PHASE_PUT: u32 = 1 << 31;

struct Op {
    req: ReqId,
    client: NodeId,
    key: u64,
    write: bool,
    /// Phase 1: the newest version heard; phase 2: the version put.
    stamp: u32,
    put: bool,
    /// Replicas that answered this phase, a bit each.
    answered: u32,
}

/// A replica, and the coordinator of its own region's requests.
pub struct Replica {
    me: usize,
    peers: Vec<NodeId>,
    cp: bool,
    lww: bool,
    r: u32,
    w: u32,
    /// By key: the versions held (several only while siblings wait to be merged).
    store: Vec<Vec<Version>>,
    /// CP: the last sequence number this coordinator gave a write, so that its own
    /// concurrent writes never share a version.
    last_seq: u32,
    ops: Slab<Op>,
    deadlines: Deadlines,
    /// AP: by peer, by key, the newest of this replica's versions the peer has not acknowledged.
    unacked: Vec<Vec<Option<Version>>>,
    pub answered: u64,
    pub refused: u64,
    pub conflicts: u64,
    pub lost_writes: u64,
}

impl Replica {
    fn held(&mut self, key: u64) -> &mut Vec<Version> {
        let k = key as usize;
        if self.store.len() <= k {
            self.store.resize(k + 1, Vec::new());
        }
        &mut self.store[k]
    }

    /// The newest timestamp held for `key` (0: never written).
    fn newest(&self, key: u64) -> u32 {
        self.store.get(key as usize).and_then(|v| v.iter().map(|x| x.stamp).max()).unwrap_or(0)
    }

    /// Takes in a version from a peer: versions it reflects are dropped, a version that
    /// reflects it ignores it, and concurrent ones are reconciled.
    fn merge(&mut self, key: u64, incoming: Version) {
        let (me, lww) = (self.me, self.lww);
        let held = self.held(key);
        if held.iter().any(|h| incoming.vv.le(&h.vv)) {
            return;
        }
        held.retain(|h| !h.vv.le(&incoming.vv));
        held.push(incoming);
        if held.len() < 2 {
            return;
        }
        let mut lost = 0;
        if lww {
            let winner = *held.iter().max_by_key(|h| h.stamp).expect("non-empty");
            // A loser written here was acknowledged to a client here: it is lost.
            lost = held.iter().filter(|h| h.stamp != winner.stamp && region_of(h.stamp) == me).count() as u64;
            let vv = held.iter().fold(Vv::default(), |a, h| a.join(&h.vv));
            *held = vec![Version { stamp: winner.stamp, vv }];
        }
        self.conflicts += 1;
        self.lost_writes += lost;
    }

    fn finish(&mut self, ctx: &mut Ctx, o: u64, ok: bool) {
        let Some(op) = self.ops.remove(o) else { return };
        // A refused write that had begun its put carries its version: it may have taken
        // effect on some replicas (the clients' history needs to know which value).
        let (kind, value) = if ok { (Kind::Response, op.stamp) } else { (Kind::Error, if op.put && op.write { op.stamp } else { 0 }) };
        if ok { self.answered += 1 } else { self.refused += 1 }
        ctx.send(op.client, Msg { kind, req: op.req, key: op.key, tag: 0, value });
    }

    /// A CP phase: asks every other replica, and answers for itself at once (a
    /// coordinator does not call itself over the network).
    fn quorum_phase(&mut self, ctx: &mut Ctx, kind: Kind, key: u64, tag: u32, value: u32) {
        for (i, p) in self.peers.iter().enumerate() {
            if i != self.me {
                ctx.send(*p, Msg { kind, req: ReqId(0), key, tag, value });
            }
        }
        let local = if kind == Kind::Write {
            self.cp_put(key, value);
            value
        } else {
            self.newest(key)
        };
        self.cp_answer(ctx, self.me, key, tag, local);
    }

    /// CP phase 2 at a replica: keeps the version if it is newer.
    fn cp_put(&mut self, key: u64, stamp: u32) {
        let held = self.held(key);
        if held.first().is_none_or(|h| h.stamp < stamp) {
            *held = vec![Version { stamp, vv: Vv::default() }];
        }
    }

    /// Replica `p`'s answer to a phase of this coordinator's operation `tag`.
    fn cp_answer(&mut self, ctx: &mut Ctx, p: usize, key: u64, tag: u32, value: u32) {
        let Some(o) = self.ops.key_at(tag & !PHASE_PUT) else { return };
        let (r, w, me) = (self.r, self.w, self.me);
        let Some(op) = self.ops.get_mut(o).filter(|op| op.key == key && op.put == (tag & PHASE_PUT != 0)) else { return };
        if op.answered & 1 << p != 0 {
            return;
        }
        op.answered |= 1 << p;
        if !op.put {
            op.stamp = op.stamp.max(value);
            if op.answered.count_ones() == r {
                // The newest version a read quorum holds; a write numbers its own above it.
                if op.write {
                    self.last_seq = self.last_seq.max(op.stamp >> 3) + 1;
                    op.stamp = self.last_seq << 3 | me as u32;
                }
                op.put = true;
                op.answered = 0;
                let (key, stamp) = (op.key, op.stamp);
                self.quorum_phase(ctx, Kind::Write, key, PHASE_PUT | index_of(o), stamp);
            }
        } else if op.answered.count_ones() == w {
            self.finish(ctx, o, true);
        }
    }

    fn replicate(&self, ctx: &mut Ctx, peer: usize, key: u64, v: Version) {
        let (key_field, tag) = v.vv.pack(key);
        ctx.send(self.peers[peer], Msg { kind: Kind::Write, req: ReqId(0), key: key_field, tag, value: v.stamp });
    }

    /// AP: a write at this replica supersedes every version it holds of the key.
    fn ap_write(&mut self, ctx: &mut Ctx, client: NodeId, msg: Msg) {
        let me = self.me;
        let held = self.held(msg.key);
        let mut vv = held.iter().fold(Vv::default(), |a, h| a.join(&h.vv));
        vv.0[me] += 1;
        let lamport = held.iter().map(|h| h.stamp >> 3).max().unwrap_or(0) + 1;
        let v = Version { stamp: lamport << 3 | me as u32, vv };
        *held = vec![v];
        for p in 0..self.peers.len() {
            if p == me {
                continue;
            }
            let u = &mut self.unacked[p];
            if u.len() <= msg.key as usize {
                u.resize(msg.key as usize + 1, None);
            }
            u[msg.key as usize] = Some(v);
            self.replicate(ctx, p, msg.key, v);
        }
        self.answered += 1;
        ctx.send(client, msg.reply(Kind::Response).with_value(v.stamp));
    }

    pub fn caught_up(&self, peer: usize) -> bool {
        self.unacked.get(peer).is_none_or(|u| u.iter().all(Option::is_none))
    }
}

/// Timer tokens: the resend tick, and the quorum deadlines' timer.
const RESEND_TICK: u64 = 1;
const DEADLINE: u64 = 2;

impl Component for Replica {
    fn on_start(&mut self, ctx: &mut Ctx) {
        if !self.cp {
            ctx.set_timer(RESEND_EVERY_US, RESEND_TICK);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        let peer = self.peers.iter().position(|p| *p == from);
        match (msg.kind, peer) {
            (Kind::Request, None) => {
                let write = msg.tag & WRITE_TAG != 0;
                if !self.cp {
                    if write {
                        self.ap_write(ctx, from, msg);
                    } else {
                        self.answered += 1;
                        ctx.send(from, msg.reply(Kind::Response).with_value(self.newest(msg.key)));
                    }
                    return;
                }
                let o = self.ops.insert(Op { req: msg.req, client: from, key: msg.key, write, stamp: 0, put: false, answered: 0 });
                self.deadlines.add(ctx, QUORUM_WAIT_US, o);
                self.quorum_phase(ctx, Kind::Call, msg.key, index_of(o), 0);
            }
            // CP phase 1 at a replica: its newest version.
            (Kind::Call, Some(_)) => ctx.send(from, msg.reply(Kind::Response).with_value(self.newest(msg.key))),
            // CP phase 2 at a replica: keep the version if it is newer.
            (Kind::Write, Some(_)) if self.cp => {
                self.cp_put(msg.key, msg.value);
                ctx.send(from, msg.reply(Kind::Response));
            }
            // AP: a version replicated from a peer.
            (Kind::Write, Some(_)) => {
                let (key, vv) = Vv::unpack(msg.key, msg.tag);
                self.merge(key, Version { stamp: msg.value, vv });
                ctx.send(from, msg.reply(Kind::Response));
            }
            (Kind::Response, Some(p)) if !self.cp => {
                let (key, _) = Vv::unpack(msg.key, msg.tag);
                if let Some(u) = self.unacked.get_mut(p).and_then(|u| u.get_mut(key as usize))
                    && u.is_some_and(|v| v.stamp == msg.value)
                {
                    *u = None;
                }
            }
            (Kind::Response, Some(p)) => self.cp_answer(ctx, p, msg.key, msg.tag, msg.value),
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        if token == DEADLINE {
            // No quorum in time: CP refuses.
            let ops = &self.ops;
            let expired = self.deadlines.fire(ctx, |_, o| ops.contains(o));
            for &o in &expired {
                self.finish(ctx, o, false);
            }
            self.deadlines.recycle(expired);
            return;
        }
        for p in 0..self.peers.len() {
            let pending: Vec<(u64, Version)> = self.unacked[p].iter().enumerate().filter_map(|(k, v)| v.map(|v| (k as u64, v))).collect();
            for (k, v) in pending {
                self.replicate(ctx, p, k, v);
            }
        }
        ctx.set_timer(RESEND_EVERY_US, RESEND_TICK);
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        self.ops.drain(|op| held.push((op.client, Msg::new(Kind::Request, op.req))));
        self.deadlines.clear();
    }

    fn view(&self) -> NodeView {
        let siblings = self.store.iter().filter(|v| v.len() > 1).count();
        let note = if siblings > 0 { format!("{siblings} keys with siblings") } else { String::new() };
        NodeView { busy: self.ops.len() as u32, note, state: if self.cp { "cp" } else { "ap" }, tone: Tone::Neutral, ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

struct CapProbe {
    replicas: Vec<NodeId>,
    seen: Rc<RefCell<Seen>>,
    /// At the last sample: per region (answered, refused), and conflicts overall.
    last: RefCell<(Vec<(u64, u64)>, u64)>,
    intersect: bool,
    cp: bool,
}

impl Scene for Cap {
    fn info(&self) -> &'static SceneInfo {
        &INFO
    }

    fn check(&self, p: &Params) -> Result<()> {
        let (n, r, w) = (p.int("n"), p.int("r"), p.int("w"));
        if r > n || w > n {
            return Err(Error::new(format!("quorums larger than the replicas: r = {r} and w = {w} must each be at most n = {n}")));
        }
        if p.choice("mode") == "cp" && r + w <= n {
            return Err(Error::new(format!("cp needs quorums that intersect, r + w > n: r = {r}, w = {w}, n = {n}")));
        }
        Ok(())
    }

    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe> {
        let n = p.int("n") as usize;
        let cp = p.choice("mode") == "cp";
        let first = w.nodes().len() as NodeId;
        let replicas: Vec<NodeId> = (0..n as NodeId).map(|i| first + i).collect();
        for (i, region) in REGIONS.iter().enumerate().take(n) {
            let replica = Replica {
                me: i,
                peers: replicas.clone(),
                cp,
                lww: p.choice("conflict") == "lww",
                r: p.int("r") as u32,
                w: p.int("w") as u32,
                store: Vec::new(),
                last_seq: 0,
                ops: Slab::default(),
                deadlines: Deadlines::new(DEADLINE),
                unacked: vec![Vec::new(); n],
                answered: 0,
                refused: 0,
                conflicts: 0,
                lost_writes: 0,
            };
            w.add_node(format!("replica-{region}"), "replica", Box::new(replica));
        }
        let rate = p.float("arrival_rate") / n as f64;
        let timeout = p.duration("timeout");
        let clients: Vec<NodeId> = (0..n)
            .map(|i| {
                let c = Clients::new(replicas[i], rate, timeout, 1, w.stream(&format!("workload-{}", REGIONS[i]))).shaped(p).keyed(p).writing(p);
                w.add_node(format!("client-{}", REGIONS[i]), "client", Box::new(c))
            })
            .collect();
        let seen = Rc::new(RefCell::new(Seen::default()));
        let pairs = clients.iter().copied().zip(replicas.iter().copied()).collect();
        w.add_checker(Box::new(Linearizability::new(cp, History::of_pairs(pairs), seen.clone())));
        if !cp {
            w.add_checker(Box::new(Converge::new(replicas.clone(), clients)));
        }
        let intersect = p.int("r") + p.int("w") > n as i64;
        Box::new(CapProbe { replicas, seen, last: RefCell::new((vec![(0, 0); n], 0)), intersect, cp })
    }
}

impl Probe for CapProbe {
    fn metrics(&self, w: &World) -> Map<String, Json> {
        let s = self.seen.borrow();
        let reps: Vec<&Replica> = self.replicas.iter().map(|r| w.component::<Replica>(*r)).collect();
        let by_side: Vec<f64> = reps.iter().map(|r| if r.answered + r.refused > 0 { (r.answered as f64 / (r.answered + r.refused) as f64 * 1000.0).round() / 1000.0 } else { 1.0 }).collect();
        measures!{
            "availability_by_side": by_side,
            "stale_reads": s.stale,
            "conflicts": reps.iter().map(|r| r.conflicts).max().unwrap_or(0),
            "lost_writes": reps.iter().map(|r| r.lost_writes).sum::<u64>(),
            "linearizability_violations": s.non_linearizable,
            "quorums_intersect": if self.cp { self.intersect } else { false },
            "refused": reps.iter().map(|r| r.refused).sum::<u64>(),
        }
    }

    fn series_names(&self, w: &World) -> Vec<String> {
        let mut names: Vec<String> = self.replicas.iter().map(|r| format!("answered:{}", w.nodes()[*r as usize].name)).collect();
        names.extend(["stale_rps".to_string(), "conflicts_rps".to_string()]);
        names
    }

    /// Per interval: the share of each region's requests answered; stale reads and
    /// conflicts per second.
    fn sample(&self, w: &World, out: &mut Vec<f64>) {
        let mut last = self.last.borrow_mut();
        let mut conflicts = 0;
        for (i, r) in self.replicas.iter().enumerate() {
            let rep = w.component::<Replica>(*r);
            let (a, f) = (rep.answered - last.0[i].0, rep.refused - last.0[i].1);
            out.push(if a + f > 0 { a as f64 / (a + f) as f64 } else { f64::NAN });
            last.0[i] = (rep.answered, rep.refused);
            conflicts = conflicts.max(rep.conflicts);
        }
        let stale = std::mem::take(&mut self.seen.borrow_mut().window_stale);
        out.push(stale as f64);
        out.push((conflicts - last.1) as f64);
        last.1 = conflicts;
    }

    fn settled(&self, w: &World) -> bool {
        self.replicas.iter().enumerate().all(|(i, r)| {
            let rep = w.component::<Replica>(*r);
            self.replicas.iter().enumerate().all(|(j, peer)| i == j || rep.caught_up(j) || !w.reachable(*r, *peer))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_vectors_travel_in_a_message_and_order_versions() {
        let v = Vv([3, 131_071, 0, 7, 99_999]);
        let (key_field, tag) = v.pack(200);
        assert_eq!(Vv::unpack(key_field, tag), (200, v));
        let (a, b) = (Vv([1, 0, 0, 0, 0]), Vv([1, 1, 0, 0, 0]));
        assert!(a.le(&b) && !b.le(&a));
        let c = Vv([0, 0, 1, 0, 0]);
        assert!(!a.le(&c) && !c.le(&a), "concurrent");
        assert_eq!(a.join(&c), Vv([1, 0, 1, 0, 0]));
    }
}

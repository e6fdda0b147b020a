//! Scene `partitioning` (patterns.md row 16): one table split into partitions by a
//! scheme: range (by date, the newest partition taking the inserts and the oldest
//! dropped whole when its rows pass the retention), hash (by id) or list (by region).
//! Each query asks the partitions the scheme cannot rule out, and each of those scans
//! its rows (point lookups use each partition's index instead).

use super::measure::{max_over_mean, measures};
use crate::report::round2;
use crate::check::Checker;
use crate::component::{Component, Ctx, NodeView, Tone};
use crate::components::slab::{Slab, index_of};
use crate::components::source::{Source as Clients, WRITE_TAG};
use crate::knob::{KnobKind, KnobSpec, Params, common_knobs};
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::scene::{Preset, Probe, Scene, SceneInfo};
use crate::time::{Micros, US_PER_S};
use crate::trace::{DropReason, Record};
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView, LATENCY_CHART};
use crate::world::World;
use serde_json::{Map, Value as Json};
use std::any::Any;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::LazyLock;

pub struct Partitioning;

pub const SCHEMES: &[&str] = &["range", "hash", "list"];
const QUERY_KINDS: [&str; 3] = ["point lookup by id", "rows of the last minutes", "rows of one region"];
/// An index lookup in one partition, whatever its size.
const INDEX_US: Micros = 200;
/// A scan: a fixed cost, and this much per row (a partition of 100,000 rows takes 50 ms).
const SCAN_BASE_US: Micros = 500;
const SCAN_NS_PER_ROW: u64 = 500;
/// The tag of a planner's message that empties a partition (a range partition dropped).
const DROP: u32 = u32::MAX;
const INVARIANT: &str = "every row in exactly one partition";

static INFO: LazyLock<SceneInfo> = LazyLock::new(|| {
    let mut knobs = common_knobs("200", 100_000.0);
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "scheme", kind: KnobKind::Choice(SCHEMES), default: "range", unit: "", live: false, help: "How rows are split: range (by insert date, each partition a stretch of time), hash (by id), list (by region, a partition each)." },
        KnobSpec { name: "partitions", kind: KnobKind::Int { min: 1, max: 16 }, default: "8", unit: "", live: false, help: "How many partitions; for list, also how many regions there are." },
        KnobSpec { name: "query_mix", kind: KnobKind::Floats { min: 0.0, max: 100.0, max_len: 3 }, default: "40,40,20", unit: "weights", live: true, help: "How reads divide between point lookups by id, queries of the last minutes (by date), and queries of one region." },
        KnobSpec { name: "write_ratio", kind: KnobKind::Float { min: 0.0, max: 1.0 }, default: "0.8", unit: "fraction", live: true, help: "The share of requests that insert a row." },
        KnobSpec { name: "skew", kind: KnobKind::Float { min: 0.0, max: 3.0 }, default: "1.0", unit: "", live: false, help: "How unevenly rows fall into regions: region k gets a share in proportion to 1/k^skew (0: even)." },
        KnobSpec { name: "retention", kind: KnobKind::Duration { min_us: 8 * US_PER_S, max_us: 3600 * US_PER_S }, default: "64s", unit: "", live: false, help: "How long rows are kept. Range partitioning drops its oldest partition whole once its rows are all older; hash and list keep every row (deleting row by row is the cost they would pay)." },
        KnobSpec { name: "timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "5s", unit: "", live: false, help: "How long clients wait for an answer." },
    ] });
    SceneInfo {
        id: "partitioning",
        title: "Data partitioning",
        knobs,
        actions: &[],
        view: SceneView {
            stage: StageView { columns: &[&["client"], &["planner"], &["partition"]], links: &[("client", "planner"), ("planner", "partition")], paired: &[] },
            charts: const { &[
                LATENCY_CHART,
                Chart { title: "Partitions asked per read", unit: "partitions", lines: &[Line::measured("per read", "scanned_per_query", Colour::Orange).compared()] },
                Chart { title: "Rows per partition", unit: "rows", lines: &[Line::each("rows:", Colour::Blue)] },
            ] },
            compare: &[
                Row { label: "partitions asked per read (mean)", metric: "partitions_scanned_per_query" },
                Row { label: "... by point lookup · last minutes · one region", metric: "scanned_by_kind" },
                Row { label: "rows per partition", metric: "partition_sizes" },
                Row { label: "largest partition / mean", metric: "skew" },
                Row { label: "rows dropped whole by retention", metric: "rows_dropped" },
            ],
            tables: &[],
        },
        narrative: &crate::narratives::partitioning::NARRATIVE,
        presets: const { &[
            Preset {
                name: "range-by-date",
                title: "Range by date: recent queries touch one partition",
                about: "Each partition holds 8 s of inserts. A query of the last minutes asks one or two partitions; the oldest partition is dropped whole as rows age past 64 s. Point lookups and region queries still ask all eight.",
                set: &[("scheme", "range")],
                faults: &[],
            },
            Preset {
                name: "hash-by-id",
                title: "Hash by id: only point lookups prune",
                about: "Rows spread evenly by id: a lookup by id asks one partition, but every date or region query asks all eight, and every row is kept.",
                set: &[("scheme", "hash")],
                faults: &[],
            },
            Preset {
                name: "list-by-region-skewed",
                title: "List by region: one huge partition",
                about: "One partition per region, and regions are Zipf-skewed (skew 1.5): the first region's partition holds over half the rows, and its scans are the slow ones.",
                set: &[("scheme", "list"), ("skew", "1.5")],
                faults: &[],
            },
        ] },
    }
});

/// A partition: holds rows, answers index lookups quickly and scans in time proportional
/// to its rows, one request at a time.
pub struct Partition {
    pub rows: u64,
    queue: VecDeque<(NodeId, Msg)>,
    busy: Option<(NodeId, Msg)>,
    pub scans: u64,
}

impl Partition {
    fn start(&mut self, ctx: &mut Ctx) {
        let Some((from, msg)) = self.queue.pop_front() else { return };
        // A point lookup (value 0) uses the index; anything else scans the rows.
        let us = if msg.value == 0 { INDEX_US } else { SCAN_BASE_US + self.rows * SCAN_NS_PER_ROW / 1000 };
        self.busy = Some((from, msg));
        ctx.set_timer(ctx.work(us), 0);
    }
}

impl Component for Partition {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg.kind {
            Kind::Write if msg.tag == DROP => self.rows = 0,
            Kind::Write => {
                self.rows += 1;
                ctx.send(from, msg.reply(Kind::Response));
            }
            Kind::Call => {
                self.scans += 1;
                self.queue.push_back((from, msg));
                if self.busy.is_none() {
                    self.start(ctx);
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, _token: u64) {
        if let Some((to, msg)) = self.busy.take() {
            ctx.send(to, msg.reply(Kind::Response));
        }
        self.start(ctx);
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        held.extend(self.busy.take());
        held.extend(self.queue.drain(..));
    }

    fn view(&self) -> NodeView {
        NodeView { queue: self.queue.len() as u32, busy: u32::from(self.busy.is_some()), workers: 1, note: format!("{} rows", self.rows), ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

struct Pending {
    req: ReqId,
    client: NodeId,
    waiting: u16,
    failed: bool,
}

/// The planner: numbers inserted rows and routes each to its partition; sends each read
/// to the partitions the scheme cannot rule out, and answers when all have.
pub struct Planner {
    scheme: &'static str,
    partitions: Vec<NodeId>,
    /// Range: how long each partition takes inserts, and the window now filling.
    span_us: Micros,
    window: u64,
    /// Region shares, as a cumulative distribution (list, and every row's region).
    regions_cdf: Vec<f64>,
    mix: Vec<f64>,
    next_id: u64,
    pending: Slab<Pending>,
    /// Reads by kind, and partitions asked by kind.
    pub reads: [u64; 3],
    pub asked: [u64; 3],
    pub dropped: u64,
    /// Rows per partition (the planner's own count, for the drop).
    pub rows: Vec<u64>,
    targets: Vec<usize>,
}

impl Planner {
    /// A number in [0, 1) from a request's key: the workload's own randomness, the same on
    /// both sides of a comparison.
    fn fraction(key: u64, salt: u64) -> f64 {
        (crate::rng::mix64(key ^ salt) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn region(&self, key: u64) -> usize {
        let u = Self::fraction(key, 0x5E61_0000);
        self.regions_cdf.iter().position(|c| u < *c).unwrap_or(self.regions_cdf.len() - 1)
    }

    /// Range: moves to the window of `now`, emptying the partition it reuses.
    fn roll(&mut self, ctx: &mut Ctx) {
        let window = ctx.now() / self.span_us;
        while self.window < window {
            self.window += 1;
            let p = (self.window % self.partitions.len() as u64) as usize;
            self.dropped += self.rows[p];
            self.rows[p] = 0;
            ctx.send(self.partitions[p], Msg { kind: Kind::Write, req: ReqId(0), key: 0, tag: DROP, value: 0 });
        }
    }
}

impl Component for Planner {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if msg.kind != Kind::Request {
            let Some(p) = self.pending.key_at(msg.tag) else { return };
            let Some(e) = self.pending.get_mut(p).filter(|e| e.req == msg.req) else { return };
            e.waiting -= 1;
            e.failed |= msg.kind != Kind::Response;
            if e.waiting == 0 {
                let e = self.pending.remove(p).expect("found");
                ctx.send(e.client, Msg::new(if e.failed { Kind::Error } else { Kind::Response }, e.req));
            }
            return;
        }
        if self.scheme == "range" {
            self.roll(ctx);
        }
        let n = self.partitions.len();
        self.targets.clear();
        let tag;
        if msg.tag & WRITE_TAG != 0 {
            let id = self.next_id;
            self.next_id += 1;
            let p = match self.scheme {
                "range" => (self.window % n as u64) as usize,
                "hash" => (crate::rng::mix64(id) % n as u64) as usize,
                _ => self.region(msg.key) % n,
            };
            self.rows[p] += 1;
            tag = index_of(self.pending.insert(Pending { req: msg.req, client: from, waiting: 1, failed: false }));
            ctx.send(self.partitions[p], Msg { kind: Kind::Write, req: msg.req, key: id, tag, value: 0 });
            return;
        }
        // A read: which kind, from the workload's key.
        let u = Self::fraction(msg.key, 0x0E81_0000) * self.mix.iter().sum::<f64>();
        let mut acc = 0.0;
        let kind = self.mix.iter().position(|w| {
            acc += w;
            u < acc
        });
        let kind = kind.unwrap_or(0);
        match (kind, self.scheme) {
            // A point lookup by id: hash knows the partition.
            (0, "hash") => self.targets.push((crate::rng::mix64(msg.key % self.next_id.max(1)) % n as u64) as usize),
            // The last minutes: range knows the newest partition (and the one before, if the
            // window began less than half a span ago).
            (1, "range") => {
                self.targets.push((self.window % n as u64) as usize);
                if ctx.now() % self.span_us < self.span_us / 2 && n > 1 && self.window > 0 {
                    self.targets.push(((self.window - 1) % n as u64) as usize);
                }
            }
            // One region: list knows its partition.
            (2, "list") => self.targets.push(self.region(msg.key) % n),
            _ => self.targets.extend(0..n),
        }
        self.reads[kind] += 1;
        self.asked[kind] += self.targets.len() as u64;
        tag = index_of(self.pending.insert(Pending { req: msg.req, client: from, waiting: self.targets.len() as u16, failed: false }));
        // Value 0 asks for an index lookup, 1 for a scan.
        let value = u32::from(kind != 0);
        for &p in &self.targets {
            ctx.send(self.partitions[p], Msg { kind: Kind::Call, req: msg.req, key: msg.key, tag, value });
        }
    }

    fn on_bounce(&mut self, ctx: &mut Ctx, to: NodeId, msg: Msg) {
        let reply = msg.reply(Kind::Error);
        self.on_message(ctx, to, reply);
    }

    fn on_set(&mut self, _ctx: &mut Ctx, knob: &str, value: &crate::knob::Value) {
        if let ("query_mix", crate::knob::Value::Floats(w)) = (knob, value) {
            self.mix = mix(w);
        }
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        self.pending.drain(|e| held.push((e.client, Msg::new(Kind::Request, e.req))));
    }

    fn view(&self) -> NodeView {
        NodeView { busy: self.pending.len() as u32, state: self.scheme, tone: Tone::Neutral, note: format!("{} rows", self.next_id - self.dropped), ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The three weights of reads, however many were given (missing ones are 0).
fn mix(w: &[f64]) -> Vec<f64> {
    let mut m: Vec<f64> = (0..3).map(|i| w.get(i).copied().unwrap_or(0.0)).collect();
    if m.iter().sum::<f64>() <= 0.0 {
        m[0] = 1.0;
    }
    m
}

/// "Every row in exactly one partition", from the trace: the planner numbers rows in
/// order and sends each, once, to one partition (a message lost on the way counts as
/// sent): every insert carries the next number, never one already placed.
struct OneHome {
    planner: NodeId,
    partitions: Vec<NodeId>,
    next: u64,
}

impl Checker for OneHome {
    fn name(&self) -> &'static str {
        INVARIANT
    }

    fn on_record(&mut self, r: &Record, violations: &mut Vec<String>) {
        // A message either leaves (a send) or is lost as it leaves (loss, a partition); a
        // drop at a hung receiver comes after its send and is not a second one.
        let (from, to, msg) = match *r {
            Record::Send { from, to, msg, .. } | Record::Drop { from, to, msg, why: DropReason::Loss | DropReason::Partition, .. } => (from, to, msg),
            _ => return,
        };
        if from != self.planner || msg.kind != Kind::Write || msg.tag == DROP || !self.partitions.contains(&to) {
            return;
        }
        if msg.key != self.next {
            violations.push(format!("row {} sent to a partition when row {} was next: placed twice, or out of turn", msg.key, self.next));
        }
        self.next = self.next.max(msg.key + 1);
    }
}

struct PartProbe {
    planner: NodeId,
    partitions: Vec<NodeId>,
    /// At the last sample: reads and partitions asked.
    last: RefCell<(u64, u64)>,
}

impl Scene for Partitioning {
    fn info(&self) -> &'static SceneInfo {
        &INFO
    }

    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe> {
        let n = p.int("partitions") as usize;
        let partitions: Vec<NodeId> = (1..=n).map(|i| w.add_node(format!("partition-{i}"), "partition", Box::new(Partition { rows: 0, queue: VecDeque::new(), busy: None, scans: 0 }))).collect();
        let weights: Vec<f64> = (1..=n).map(|k| libm::pow(k as f64, -p.float("skew"))).collect();
        let total: f64 = weights.iter().sum();
        let regions_cdf = weights.iter().scan(0.0, |acc, x| {
            *acc += x / total;
            Some(*acc)
        });
        let planner = Planner {
            scheme: p.choice("scheme"),
            partitions: partitions.clone(),
            span_us: (p.duration("retention") / n as u64).max(1),
            window: 0,
            regions_cdf: regions_cdf.collect(),
            mix: mix(&p.floats("query_mix")),
            next_id: 0,
            pending: Slab::default(),
            reads: [0; 3],
            asked: [0; 3],
            dropped: 0,
            rows: vec![0; n],
            targets: Vec::with_capacity(n),
        };
        let planner = w.add_node("planner", "planner", Box::new(planner));
        let clients = Clients::new(planner, p.float("arrival_rate"), p.duration("timeout"), 1 << 40, w.stream("workload")).shaped(p).writing(p);
        w.add_node("client", "client", Box::new(clients));
        w.add_checker(Box::new(OneHome { planner, partitions: partitions.clone(), next: 0 }));
        Box::new(PartProbe { planner, partitions, last: RefCell::new((0, 0)) })
    }
}


impl Probe for PartProbe {
    fn metrics(&self, w: &World) -> Map<String, Json> {
        let pl = w.component::<Planner>(self.planner);
        let sizes: Vec<u64> = self.partitions.iter().map(|p| w.component::<Partition>(*p).rows).collect();
        let reads: u64 = pl.reads.iter().sum();
        let by_kind: Vec<f64> = (0..3).map(|k| if pl.reads[k] > 0 { round2(pl.asked[k] as f64 / pl.reads[k] as f64) } else { 0.0 }).collect();
        measures!{
            "partitions_scanned_per_query": if reads > 0 { round2(pl.asked.iter().sum::<u64>() as f64 / reads as f64) } else { 0.0 },
            "scanned_by_kind": by_kind,
            "query_kinds": QUERY_KINDS,
            "partition_sizes": sizes,
            "skew": round2(max_over_mean(&sizes.iter().map(|s| *s as f64).collect::<Vec<_>>())),
            "rows_dropped": pl.dropped,
            "rows": pl.next_id - pl.dropped,
        }
    }

    fn series_names(&self, w: &World) -> Vec<String> {
        let mut names = vec!["scanned_per_query".to_string()];
        names.extend(self.partitions.iter().map(|p| format!("rows:{}", w.nodes()[*p as usize].name)));
        names
    }

    /// Per interval: partitions asked per read; and each partition's rows.
    fn sample(&self, w: &World, out: &mut Vec<f64>) {
        let pl = w.component::<Planner>(self.planner);
        let (reads, asked) = (pl.reads.iter().sum::<u64>(), pl.asked.iter().sum::<u64>());
        let mut last = self.last.borrow_mut();
        out.push(if reads > last.0 { (asked - last.1) as f64 / (reads - last.0) as f64 } else { f64::NAN });
        *last = (reads, asked);
        out.extend(self.partitions.iter().map(|p| w.component::<Partition>(*p).rows as f64));
    }
}

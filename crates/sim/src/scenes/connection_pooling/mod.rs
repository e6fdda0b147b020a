//! Scene `connection-pooling` (patterns.md row 7): clients → balancer → app instances,
//! each with a pool of database connections (or none), → a database with a connection
//! limit. Opening a connection costs `connect_cost` and a slot at the database; a pool
//! keeps up to `pool_size` open between queries (and `max_overflow` more while busy), a
//! request waits for one when all are out, up to `acquire_timeout`. A database restart
//! leaves the pooled connections stale: the first query on each fails, unless the pool
//! pings a connection before lending it (`pre_ping`).

mod db;

use super::measure::{measures, share};
use db::Db;
use super::theory::mmc_wait;
use crate::check::Checker;
use crate::component::{Component, Ctx, NodeView, Tone};
use crate::components::balancer::{Balancer, Policy};
use crate::components::slab::{Key, Slab, index_of};
use crate::components::source::Source as Clients;
use crate::dist::Dist;
use crate::knob::{KnobKind, KnobSpec, Params, common_knobs_with_latency};
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::scene::{ActionSpec, Preset, Probe, Scene, SceneInfo};
use crate::time::{Micros, US_PER_S};
use crate::trace::{DropReason, Record};
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView, LATENCY_CHART};
use crate::world::World;
use serde_json::{Map, Value as Json};
use std::any::Any;
use std::cell::RefCell;
use crate::idmap::IdSet;
use std::collections::VecDeque;
use std::sync::LazyLock;

pub struct ConnectionPooling;

/// What an app asks the database, in the top bits of a message's key; the connection's
/// number is below.
const CONNECT: u64 = 1 << 32;
const PING: u64 = 2 << 32;
const QUERY: u64 = 3 << 32;
const CLOSE: u64 = 4 << 32;
const OP: u64 = 0xF << 32;
/// A job's timer: waiting for a connection (acquire timeout), or for the database to answer.
const ANSWER: u64 = 1 << 63;
const NONE: u32 = u32::MAX;
const INVARIANT: &str = "connections held ≤ pool_size + max_overflow";

static ACTIONS: &[ActionSpec] = &[ActionSpec { name: "restart-db", arg: None, role: None, help: "Restarts the database at once: queries under way fail, and every connection open so far is gone, though the pools still hold them (stale)." }];

static INFO: LazyLock<SceneInfo> = LazyLock::new(|| {
    let mut knobs = common_knobs_with_latency("400", 100_000.0, "const:500us");
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "pooling", kind: KnobKind::Bool, default: "on", unit: "", live: false, help: "Whether the apps keep connections open in a pool between queries; off, every query opens a connection and closes it after." },
        KnobSpec { name: "pool_size", kind: KnobKind::Int { min: 1, max: 1000 }, default: "10", unit: "connections", live: false, help: "Connections each app keeps open between queries (opened as needed, then kept)." },
        KnobSpec { name: "max_overflow", kind: KnobKind::Int { min: 0, max: 1000 }, default: "5", unit: "connections", live: false, help: "More connections each app may open while all pooled ones are out, closed again when returned." },
        KnobSpec { name: "acquire_timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "1s", unit: "", live: false, help: "How long a request waits for a connection before it fails." },
        KnobSpec { name: "connect_cost", kind: KnobKind::Dist, default: "const:50ms", unit: "", live: false, help: "Time to open a connection (TCP, TLS, authentication, a new server process)." },
        KnobSpec { name: "db_max_connections", kind: KnobKind::Int { min: 1, max: 100_000 }, default: "100", unit: "", live: false, help: "Connections the database accepts at once; it refuses the next." },
        KnobSpec { name: "pre_ping", kind: KnobKind::Bool, default: "off", unit: "", live: false, help: "Whether the pool checks a connection with a round trip before lending it, replacing one the database no longer knows." },
        KnobSpec { name: "app_instances", kind: KnobKind::Int { min: 1, max: 64 }, default: "2", unit: "", live: false, help: "App servers behind the balancer, each with its own pool." },
        KnobSpec { name: "query_time", kind: KnobKind::Dist, default: "exp:10ms", unit: "", live: false, help: "Work one query needs on the database (on its connection)." },
        KnobSpec { name: "timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "2s", unit: "", live: false, help: "How long clients wait for an answer, and an app for the database's." },
    ] });
    SceneInfo {
        id: "connection-pooling",
        title: "Connection pooling",
        knobs,
        actions: ACTIONS,
        view: SceneView {
            stage: StageView { columns: &[&["client"], &["balancer"], &["app"], &["db"]], links: &[("client", "balancer"), ("balancer", "app"), ("app", "db")], paired: &[] },
            charts: const { &[
                LATENCY_CHART,
                Chart {
                    title: "Wait for a connection (ms)",
                    unit: "ms",
                    lines: &[Line::measured("mean wait", "pool_wait_ms", Colour::Orange).compared(), Line::theory("M/M/c (Erlang C)", "pool_wait_us", 1e-3, Colour::Orange)],
                },
                Chart { title: "Connections open at the database", unit: "connections", lines: &[Line::measured("open", "db_open", Colour::Blue).compared(), Line::theory("db_max_connections", "db_max", 1.0, Colour::Red)] },
                clusterlab_engine::traffic_chart!(Line::measured("connections opened/s", "opened_rps", Colour::Purple).compared()),
            ] },
            compare: &[
                Row { label: "connections opened", metric: "connections_opened" },
                Row { label: "wait for a connection, mean (ms)", metric: "pool_wait" },
                Row { label: "... M/M/c theory (ms)", metric: "pool_wait_theory" },
                Row { label: "requests that gave up waiting", metric: "acquire_timeouts" },
                Row { label: "connections refused by the database", metric: "db_refusals" },
                Row { label: "queries failed on a stale connection", metric: "stale_errors" },
                Row { label: "stale connections a ping replaced", metric: "stale_replaced" },
                Row { label: "most connections open at the database", metric: "db_connections_max" },
                Row { label: "... the pools could hold (instances × (size + overflow))", metric: "pools_could_hold" },
            ],
            tables: &[],
        },
        narrative: &crate::narratives::connection_pooling::NARRATIVE,
        presets: const { &[
            Preset {
                name: "no-pool",
                title: "No pool: every query pays for a new connection",
                about: "Each of 400 queries a second opens a connection (50 ms) before its 10 ms of work, and closes it after: latency is six times the work, and the database sets up 400 connections a second.",
                set: &[("pooling", "off")],
                faults: &[],
            },
            Preset {
                name: "pool-too-small",
                title: "A pool of two queues requests",
                about: "Two connections per app, no overflow, at 90% of what they can serve: requests wait for a connection about 40 ms on average, as the M/M/c queue predicts (dashed), and the waits swing widely.",
                set: &[("pool_size", "2"), ("max_overflow", "0"), ("arrival_rate", "360"), ("net_latency", "const:0")],
                faults: &[],
            },
            Preset {
                name: "pools-exhaust-db",
                title: "The database slows; big pools exhaust its connections",
                about: "Four apps with pools of 30 (+5 overflow) against a database that takes 100. At 20 s the database slows six-fold: every app opens connections to keep up, together more than it accepts, and it refuses them: requests fail at every app.",
                set: &[("app_instances", "4"), ("pool_size", "30"), ("max_overflow", "5"), ("arrival_rate", "2000")],
                faults: &["20s slow db x6"],
            },
            Preset {
                name: "db-restart",
                title: "A database restart leaves the pools stale",
                about: "At 20 s the database restarts. The pools still hold their connections; without pre_ping, the first query on each fails.",
                set: &[],
                faults: &["20s restart-db"],
            },
        ] },
    }
});

/// A request at an app: who asked, when, and the connection it holds (`NONE` while it
/// waits for one).
struct Job {
    from: NodeId,
    msg: Msg,
    arrived: Micros,
    conn: u32,
    /// When the operation the job waits on was sent to the database.
    asked: Micros,
    waiting: bool,
}

/// An app instance and its pool.
pub struct App {
    db: NodeId,
    pooled: bool,
    pool_size: u32,
    max_overflow: u32,
    acquire_timeout: Micros,
    answer_timeout: Micros,
    pre_ping: bool,
    idle: VecDeque<u32>,
    /// Connections held: idle, lent out, or being opened.
    pub open: u32,
    pub lent: u32,
    next_conn: u32,
    waiting: VecDeque<Key>,
    jobs: Slab<Job>,
    pub opened: u64,
    pub refused: u64,
    pub acquire_timeouts: u64,
    pub stale: u64,
    /// Stale connections a ping found and replaced.
    pub replaced: u64,
    /// Connections handed to requests, and the time requests waited for them in all.
    pub acquired: u64,
    pub waited_us: u64,
}

impl App {
    fn new(db: NodeId, p: &Params) -> App {
        App {
            db,
            pooled: p.flag("pooling"),
            pool_size: p.int("pool_size") as u32,
            max_overflow: p.int("max_overflow") as u32,
            acquire_timeout: p.duration("acquire_timeout"),
            answer_timeout: p.duration("timeout"),
            pre_ping: p.flag("pre_ping"),
            idle: VecDeque::new(),
            open: 0,
            lent: 0,
            next_conn: 0,
            waiting: VecDeque::new(),
            jobs: Slab::default(),
            opened: 0,
            refused: 0,
            acquire_timeouts: 0,
            stale: 0,
            replaced: 0,
            acquired: 0,
            waited_us: 0,
        }
    }

    fn cap(&self) -> u32 {
        self.pool_size + self.max_overflow
    }

    fn ask(&mut self, ctx: &mut Ctx, job: Key, op: u64) {
        let Some(j) = self.jobs.get_mut(job) else { return };
        j.asked = ctx.now();
        ctx.send(self.db, Msg { kind: Kind::Call, req: j.msg.req, key: op | u64::from(j.conn), tag: index_of(job), value: 0 });
        ctx.set_timer(self.answer_timeout, ANSWER | job);
    }

    /// A connection for `job`: an idle one, a new one, or a place in the queue.
    fn checkout(&mut self, ctx: &mut Ctx, job: Key) {
        if self.pooled
            && let Some(c) = self.idle.pop_front()
        {
            return self.lend(ctx, job, c);
        }
        if !self.pooled || self.open < self.cap() {
            return self.connect(ctx, job);
        }
        if let Some(j) = self.jobs.get_mut(job) {
            j.waiting = true;
        }
        self.waiting.push_back(job);
        ctx.set_timer(self.acquire_timeout, job);
    }

    fn acquired(&mut self, ctx: &mut Ctx, job: Key, conn: u32) {
        let Some(j) = self.jobs.get_mut(job) else { return };
        j.conn = conn;
        j.waiting = false;
        self.acquired += 1;
        self.waited_us += ctx.now() - j.arrived;
        self.lent += 1;
    }

    fn lend(&mut self, ctx: &mut Ctx, job: Key, conn: u32) {
        self.acquired(ctx, job, conn);
        self.ask(ctx, job, if self.pre_ping { PING } else { QUERY });
    }

    fn connect(&mut self, ctx: &mut Ctx, job: Key) {
        let conn = self.next_conn;
        self.next_conn = self.next_conn.wrapping_add(1) % NONE;
        self.open += 1;
        self.acquired(ctx, job, conn);
        self.ask(ctx, job, CONNECT);
    }

    /// A connection is given up (stale, refused, unanswered): the database is told, in
    /// case it still holds it.
    fn discard(&mut self, ctx: &mut Ctx, conn: u32, tell: bool) {
        self.open -= 1;
        self.lent -= 1;
        if tell {
            ctx.send(self.db, Msg { kind: Kind::Call, req: ReqId(0), key: CLOSE | u64::from(conn), tag: 0, value: 0 });
        }
        self.serve_waiting(ctx);
    }

    /// A connection is back: to the next in the queue, to the pool, or closed.
    fn release(&mut self, ctx: &mut Ctx, conn: u32) {
        self.lent -= 1;
        if self.pooled {
            while let Some(next) = self.waiting.pop_front() {
                if self.jobs.get(next).is_some_and(|j| j.waiting) {
                    return self.lend(ctx, next, conn);
                }
            }
            if self.open <= self.pool_size {
                self.idle.push_back(conn);
                return;
            }
        }
        self.open -= 1;
        ctx.send(self.db, Msg { kind: Kind::Call, req: ReqId(0), key: CLOSE | u64::from(conn), tag: 0, value: 0 });
    }

    /// Room for one more connection: the first request still waiting gets it.
    fn serve_waiting(&mut self, ctx: &mut Ctx) {
        while self.open < self.cap() {
            let Some(next) = self.waiting.pop_front() else { return };
            if self.jobs.get(next).is_some_and(|j| j.waiting) {
                return self.connect(ctx, next);
            }
        }
    }

    fn finish(&mut self, ctx: &mut Ctx, job: Key, kind: Kind) {
        if let Some(j) = self.jobs.remove(job) {
            ctx.send(j.from, j.msg.reply(kind));
        }
    }

    /// The database's answer to `job`'s operation.
    fn answered(&mut self, ctx: &mut Ctx, job: Key, op: u64, kind: Kind) {
        let Some(conn) = self.jobs.get(job).map(|j| j.conn) else { return };
        match (op, kind) {
            (CONNECT, Kind::Response) => {
                self.opened += 1;
                self.ask(ctx, job, QUERY);
            }
            (PING, Kind::Response) => self.ask(ctx, job, QUERY),
            (QUERY, Kind::Response) => {
                self.release(ctx, conn);
                self.finish(ctx, job, Kind::Response);
            }
            (CONNECT, Kind::Reject) => {
                self.refused += 1;
                self.discard(ctx, conn, false);
                self.finish(ctx, job, Kind::Error);
            }
            (PING, _) => {
                // Stale: closed and replaced by a new connection in its place, the
                // request none the worse.
                self.replaced += 1;
                ctx.send(self.db, Msg { kind: Kind::Call, req: ReqId(0), key: CLOSE | u64::from(conn), tag: 0, value: 0 });
                if let Some(j) = self.jobs.get_mut(job) {
                    j.conn = self.next_conn;
                }
                self.next_conn = self.next_conn.wrapping_add(1) % NONE;
                self.ask(ctx, job, CONNECT);
            }
            _ => {
                self.stale += u64::from(op == QUERY && kind == Kind::Error);
                self.discard(ctx, conn, true);
                self.finish(ctx, job, Kind::Error);
            }
        }
    }
}

impl Component for App {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if from != self.db {
            if msg.kind == Kind::Request {
                let job = self.jobs.insert(Job { from, msg, arrived: ctx.now(), conn: NONE, asked: 0, waiting: false });
                self.checkout(ctx, job);
            }
            return;
        }
        let Some(job) = self.jobs.key_at(msg.tag).filter(|j| self.jobs.get(*j).is_some_and(|x| x.msg.req == msg.req && u64::from(x.conn) == msg.key & !OP)) else { return };
        self.answered(ctx, job, msg.key & OP, msg.kind);
    }

    fn on_bounce(&mut self, ctx: &mut Ctx, _to: NodeId, msg: Msg) {
        if msg.key & OP != CLOSE {
            let reply = msg.reply(Kind::Error);
            self.on_message(ctx, self.db, reply);
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        let job = token & !ANSWER;
        let Some(j) = self.jobs.get(job) else { return };
        if token & ANSWER == 0 {
            if j.waiting {
                self.acquire_timeouts += 1;
                self.finish(ctx, job, Kind::Error);
            }
        } else if !j.waiting && j.conn != NONE && ctx.now() - j.asked >= self.answer_timeout {
            // The database never answered: give up the connection too (lost, or the database hung).
            let conn = j.conn;
            self.discard(ctx, conn, true);
            self.finish(ctx, job, Kind::Error);
        }
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        self.jobs.drain(|j| held.push((j.from, j.msg)));
        self.waiting.clear();
        self.idle.clear();
        // The database keeps what it thinks is open until it restarts.
        self.open = 0;
        self.lent = 0;
    }

    fn view(&self) -> NodeView {
        let (cap, tone) = if self.pooled { (self.cap(), if self.waiting.is_empty() { Tone::Good } else { Tone::Warn }) } else { (self.open.max(1), Tone::Neutral) };
        NodeView {
            state: if self.pooled { "pool" } else { "no pool" },
            tone,
            fill: Some(f64::from(self.lent) / f64::from(cap.max(1))),
            note: if self.waiting.is_empty() { format!("{} idle · {} out", self.idle.len(), self.lent) } else { format!("{} out · {} wait", self.lent, self.waiting.len()) },
            busy: self.lent,
            ..NodeView::default()
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The invariant, from the trace: what each app asks the database to open, less what it
/// closes and what the database refuses, never exceeds its pool's size and overflow.
struct WithinPool {
    db: NodeId,
    apps: Vec<NodeId>,
    held: Vec<i64>,
    cap: i64,
}

impl Checker for WithinPool {
    fn name(&self) -> &'static str {
        INVARIANT
    }

    fn on_record(&mut self, r: &Record, violations: &mut Vec<String>) {
        let (from, to, msg, delivered) = match *r {
            Record::Send { from, to, msg, .. } => (from, to, msg, true),
            Record::Bounce { from, to, msg, .. } | Record::Drop { from, to, msg, why: DropReason::Loss | DropReason::Partition, .. } => (from, to, msg, false),
            _ => return,
        };
        if msg.kind == Kind::Reject && from == self.db && delivered && msg.key & OP == CONNECT {
            if let Some(a) = self.apps.iter().position(|x| *x == to) {
                self.held[a] -= 1;
            }
            return;
        }
        let Some(a) = self.apps.iter().position(|x| *x == from).filter(|_| to == self.db) else { return };
        match msg.key & OP {
            CONNECT => self.held[a] += 1,
            CLOSE => self.held[a] -= 1,
            _ => return,
        }
        if self.held[a] > self.cap {
            violations.push(format!("app-{} holds {} connections, more than pool_size + max_overflow = {}", a + 1, self.held[a], self.cap));
        }
    }
}

struct PoolProbe {
    apps: Vec<NodeId>,
    db: NodeId,
    /// At the last sample: time, connections opened, acquisitions and the wait in all.
    last: RefCell<(Micros, u64, u64, u64)>,
    theory_wait_us: Option<f64>,
}

impl PoolProbe {
    fn sum(&self, w: &World, f: impl Fn(&App) -> u64) -> u64 {
        self.apps.iter().map(|a| f(w.component::<App>(*a))).sum()
    }
}

impl Scene for ConnectionPooling {
    fn info(&self) -> &'static SceneInfo {
        &INFO
    }

    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe> {
        let db = Db {
            max: p.int("db_max_connections") as usize,
            connect_cost: p.dist("connect_cost"),
            query_time: p.dist("query_time"),
            open: IdSet::default(),
            ops: Slab::default(),
            open_max: 0,
            refusals: 0,
            restarts: 0,
        };
        let db = w.add_node("db", "db", Box::new(db));
        let n = p.int("app_instances") as usize;
        let apps: Vec<NodeId> = (1..=n).map(|i| w.add_node(format!("app-{i}"), "app", Box::new(App::new(db, p)))).collect();
        let timeout = p.duration("timeout");
        let lb = w.add_node("lb", "balancer", Box::new(Balancer::new(apps.clone(), Policy::Random, vec![1.0; n], None, 2 * timeout)));
        let clients = Clients::new(lb, p.float("arrival_rate"), timeout, 1 << 40, w.stream("workload")).shaped(p);
        w.add_node("client", "client", Box::new(clients));
        if p.flag("pooling") {
            let cap = (p.int("pool_size") + p.int("max_overflow")) as i64;
            w.add_checker(Box::new(WithinPool { db, apps: apps.clone(), held: vec![0; n], cap }));
        }
        Box::new(PoolProbe { apps, db, last: RefCell::new((0, 0, 0, 0)), theory_wait_us: wait_theory(p) })
    }
}

/// Each app's pool as an M/M/c queue: Poisson arrivals (random routing of a Poisson
/// stream), exponential queries, c = pool_size connections that stay open. It applies
/// with pooling, no overflow, exponential query times, steady traffic and no network
/// delay (a connection is then held exactly for its query).
fn wait_theory(p: &Params) -> Option<f64> {
    let (Dist::Exp { mean_us }, Dist::Const(0)) = (p.dist("query_time"), p.dist("net_latency")) else { return None };
    if !p.flag("pooling") || p.int("max_overflow") != 0 || p.choice("traffic") != "steady" || p.flag("pre_ping") {
        return None;
    }
    let lambda = p.float("arrival_rate") / p.int("app_instances") as f64;
    mmc_wait(p.int("pool_size") as u32, lambda, 1e6 / mean_us as f64).map(|(_, w)| w)
}

impl Probe for PoolProbe {
    fn metrics(&self, w: &World) -> Map<String, Json> {
        let db = w.component::<Db>(self.db);
        let acquired = self.sum(w, |a| a.acquired);
        let app = w.component::<App>(self.apps[0]);
        let could_hold = if app.pooled { Json::from(self.apps.len() as u32 * app.cap()) } else { Json::from("no limit") };
        measures!{
            "connections_opened": self.sum(w, |a| a.opened),
            // To a hundredth of a millisecond: light waits are fractions of one.
            "pool_wait": if acquired > 0 { (self.sum(w, |a| a.waited_us) as f64 / acquired as f64 / 10.0).round() / 100.0 } else { 0.0 },
            "pool_wait_theory": self.theory_wait_us.map_or(Json::from("—"), |t| Json::from((t / 10.0).round() / 100.0)),
            "acquire_timeouts": self.sum(w, |a| a.acquire_timeouts),
            "db_refusals": db.refusals,
            "stale_errors": self.sum(w, |a| a.stale),
            "stale_replaced": self.sum(w, |a| a.replaced),
            "db_connections_max": db.open_max,
            "db_connections_open": db.open.len(),
            "pools_could_hold": could_hold,
            "reuse_ratio": 1.0 - share(self.sum(w, |a| a.opened), acquired),
        }
    }

    fn series_names(&self, _w: &World) -> Vec<String> {
        vec!["pool_wait_ms".into(), "db_open".into(), "opened_rps".into()]
    }

    /// Per interval: the mean wait of the connections handed out, the connections open
    /// at the database, and connections opened per second.
    fn sample(&self, w: &World, out: &mut Vec<f64>) {
        let (opened, acquired, waited) = (self.sum(w, |a| a.opened), self.sum(w, |a| a.acquired), self.sum(w, |a| a.waited_us));
        let mut last = self.last.borrow_mut();
        out.push(if acquired > last.2 { (waited - last.3) as f64 / (acquired - last.2) as f64 / 1e3 } else { f64::NAN });
        out.push(w.component::<Db>(self.db).open.len() as f64);
        let dt = (w.now() - last.0) as f64 / 1e6;
        out.push(if dt > 0.0 { (opened - last.1) as f64 / dt } else { 0.0 });
        *last = (w.now(), opened, acquired, waited);
    }

    fn theory(&self, p: &Params) -> Vec<(&'static str, f64)> {
        let mut t = vec![("db_max", p.int("db_max_connections") as f64)];
        t.extend(wait_theory(p).map(|w| ("pool_wait_us", w)));
        t
    }

    fn on_action(&mut self, w: &mut World, action: &str, _arg: Option<&str>) {
        if action == "restart-db" {
            w.with_component::<Db>(self.db, |db, ctx| db.restart(ctx));
        }
    }
}

//! Scene `caching` (patterns.md row 2): clients → app → cache, and the database behind
//! them. Reads and writes follow a strategy (cache-aside, read-through, write-through,
//! write-behind); the cache evicts by a policy (LRU, LFU, FIFO, random) and expires
//! entries after a TTL. Values are version numbers, so that a checker outside the
//! components can tell a stale read from a fresh one.

use super::measure::{measures, share};
mod app;
mod freshness;
mod store;

use app::App;
use freshness::Freshness;
use store::{Eviction, Store};
use super::history::History;
use super::theory::che_lru_hit_ratio;
use crate::component::{Component, Ctx, NodeView, Tone};
use crate::components::server::Server;
use crate::components::slab::{Key, Slab, index_of};
use crate::components::source::Source as Clients;
use crate::keys::key_knobs;
use crate::knob::{KnobKind, KnobSpec, Params, common_knobs_with_latency};
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::scene::{ActionSpec, Preset, Probe, Scene, SceneInfo};
use crate::time::{Micros, US_PER_S};
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView, LATENCY_CHART};
use crate::world::World;
use serde_json::{Map, Value as Json};
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::LazyLock;

pub struct Caching;

pub const STRATEGIES: &[&str] = &["none", "cache-aside", "read-through", "write-through", "write-behind"];
pub const EVICTIONS: &[&str] = &["lru", "lfu", "fifo", "random"];
/// The tag of an invalidation (a write that deletes the key), sent without waiting for an answer.
const DELETE: u32 = u32::MAX;
/// The tag of a write-behind cache's write to the database, whose answer it ignores.
const FLUSHED: u32 = u32::MAX - 1;
/// The tag of a fill (a value read from the database, or written through): this bit,
/// and below it when the value was read, in ms, for the TTL to count from.
const FILL: u32 = 1 << 31;

fn fill_tag(read_at: Micros) -> u32 {
    FILL | (read_at / 1000).min(u64::from(FILL - 1)) as u32
}
/// Dirty entries of a write-behind cache go to the database this often.
const FLUSH_EVERY_US: Micros = US_PER_S;

static ACTIONS: &[ActionSpec] = &[ActionSpec { name: "flush", arg: None, role: None, help: "Empties the cache at once (a cold start); a write-behind cache first writes its dirty entries to the database." }];

static INFO: LazyLock<SceneInfo> = LazyLock::new(|| {
    let mut knobs = common_knobs_with_latency("2000", 1_000_000.0, "const:200us");
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "strategy", kind: KnobKind::Choice(STRATEGIES), default: "cache-aside", unit: "", live: false, help: "none: every read and write goes to the database. cache-aside: the app reads the cache, and on a miss reads the database and fills the cache. read-through: the cache itself reads the database on a miss. write-through: writes go to the database, then to the cache. write-behind: writes go to the cache only, which writes them to the database about a second later." },
        KnobSpec { name: "eviction", kind: KnobKind::Choice(EVICTIONS), default: "lru", unit: "", live: false, help: "Which entry a full cache drops: least recently used, least frequently used (sampled, as Redis does: the least used of 5 random entries), first in, or a random one." },
        KnobSpec { name: "capacity", kind: KnobKind::Int { min: 1, max: 1_000_000 }, default: "1000", unit: "entries", live: false, help: "How many keys the cache holds." },
        KnobSpec { name: "ttl", kind: KnobKind::Duration { min_us: 0, max_us: 3600 * US_PER_S }, default: "0", unit: "", live: false, help: "How long an entry may be served after its value was read from the database; 0 keeps entries until they are evicted." },
    ] });
    knobs.extend(key_knobs("10000", "zipf", "0.9"));
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "write_ratio", kind: KnobKind::Float { min: 0.0, max: 1.0 }, default: "0", unit: "fraction", live: true, help: "The share of requests that write a key (a new version of its value)." },
        KnobSpec { name: "invalidation", kind: KnobKind::Bool, default: "on", unit: "", live: false, help: "Whether a write (cache-aside, read-through) deletes the key from the cache; without it the cache serves the old value until it expires." },
        KnobSpec { name: "coalesce", kind: KnobKind::Bool, default: "off", unit: "", live: false, help: "Single-flight: concurrent misses of one key share one database read instead of each making its own." },
        KnobSpec { name: "db_time", kind: KnobKind::Dist, default: "exp:5ms", unit: "", live: false, help: "Work one query needs on the database." },
        KnobSpec { name: "db_workers", kind: KnobKind::Int { min: 1, max: 256 }, default: "8", unit: "", live: false, help: "Queries the database works on at once." },
        KnobSpec { name: "timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "2s", unit: "", live: false, help: "How long the app waits for the cache or the database before failing a request; clients wait twice as long." },
    ] });
    SceneInfo {
        id: "caching",
        title: "Caching",
        knobs,
        actions: ACTIONS,
        view: SceneView {
            stage: StageView { columns: &[&["client"], &["app"], &["cache", "db"]], links: &[("client", "app"), ("app", "cache"), ("app", "db"), ("cache", "db")], paired: &[] },
            charts: const { &[
                LATENCY_CHART,
                clusterlab_engine::traffic_chart!(Line::measured("database queries/s", "db_load_rps", Colour::Purple).compared()),
                Chart {
                    title: "Cache hit ratio",
                    unit: "fraction",
                    lines: &[Line::measured("hit ratio", "hit_ratio", Colour::Green).compared(), Line::theory("LRU theory (Che)", "hit_ratio", 1.0, Colour::Green)],
                },
            ] },
            compare: &[
                Row { label: "hit ratio", metric: "hit_ratio" },
                Row { label: "stale reads", metric: "stale_reads" },
                Row { label: "queries sent to the database per second (mean)", metric: "db_load_rps" },
                Row { label: "queries sent to the database in the busiest second", metric: "stampede_peak" },
                Row { label: "longest database queue", metric: "db_queue_max" },
                Row { label: "acknowledged writes lost", metric: "lost_writes" },
            ],
            tables: &[],
        },
        narrative: &crate::narratives::caching::NARRATIVE,
        presets: const { &[
            Preset {
                name: "cold-cache-stampede",
                title: "A flushed cache stampedes the database",
                about: "The run starts cold, like a fresh deploy, and the first seconds already stampede. Warm, the cache answers 97% of reads and the database idles; at 20 s the cache is flushed. Every read misses at once, each sending its own query: the database takes several times what it can serve, its queue explodes and p99 with it, until the cache fills again.",
                set: &[("arrival_rate", "4000"), ("zipf_s", "1.1"), ("capacity", "5000"), ("db_time", "exp:10ms")],
                faults: &["20s flush"],
            },
            Preset {
                name: "cold-cache-single-flight",
                title: "Single-flight tames the stampede",
                about: "Same flush, with concurrent misses of a key sharing one database read: the hot keys cost one query each instead of hundreds.",
                set: &[("arrival_rate", "4000"), ("zipf_s", "1.1"), ("capacity", "5000"), ("db_time", "exp:10ms"), ("coalesce", "on")],
                faults: &["20s flush"],
            },
            Preset {
                name: "forgotten-invalidation",
                title: "Writes without invalidation: stale reads",
                about: "A tenth of requests write. Without invalidation the cache keeps serving the old version of a written key until its 30 s TTL runs out.",
                set: &[("write_ratio", "0.1"), ("invalidation", "off"), ("ttl", "30s")],
                faults: &[],
            },
        ] },
    }
});

/// Single-flight: by key, the database read under way (a slab key), which a later miss
/// of the key joins instead of reading again, while that read is younger than the TTL (an
/// older one could bring back a value superseded more than a TTL before the joiner began).
struct Flights {
    on: bool,
    ttl_us: Micros,
    by_key: Vec<u64>,
}

impl Flights {
    fn new(on: bool, ttl_us: Micros) -> Flights {
        Flights { on, ttl_us, by_key: Vec::new() }
    }

    /// The read of `key` to join now, if any; `sent_at` tells when a read was sent.
    fn joinable(&self, key: u64, now: Micros, sent_at: impl Fn(Key) -> Option<Micros>) -> Option<Key> {
        let f = self.by_key.get(key as usize).copied().filter(|f| *f > 0)? - 1;
        let sent = sent_at(f)?;
        (self.ttl_us == 0 || now - sent < self.ttl_us).then_some(f)
    }

    /// Read `f` of `key` is now the one to join.
    fn lead(&mut self, key: u64, f: Key) {
        if self.on {
            let k = key as usize;
            if self.by_key.len() <= k {
                self.by_key.resize(k + 1, 0);
            }
            self.by_key[k] = f + 1;
        }
    }

    /// Read `f` of `key` is over.
    fn end(&mut self, key: u64, f: Key) {
        if let Some(x) = self.by_key.get_mut(key as usize).filter(|x| **x == f + 1) {
            *x = 0;
        }
    }

    fn clear(&mut self) {
        self.by_key.clear();
    }
}

/// A read-through cache's read of the database, and the gets waiting on it.
struct Fetch {
    key: u64,
    sent_at: Micros,
    waiters: Vec<(NodeId, Msg)>,
}

/// Timer tokens of the cache.
const FLUSH_TICK: u64 = 2;

/// The cache node: answers gets, sets and deletes from the app; as a read-through cache
/// it reads the database itself on a miss, and as a write-behind cache it keeps writes
/// dirty and sends them to the database about once a second.
pub struct Cache {
    store: Store,
    db: NodeId,
    read_through: bool,
    write_behind: bool,
    /// Read-through misses waiting on a database read.
    fetches: Slab<Fetch>,
    fetching: Flights,
    pub hits: u64,
    pub misses: u64,
    pub lost_writes: u64,
    /// Database writes sent by write-behind (each flush writes a key once, however often it changed).
    pub flushed: u64,
}

impl Cache {
    fn new(store: Store, db: NodeId, strategy: &str, coalesce: bool) -> Cache {
        Cache {
            fetching: Flights::new(coalesce, store.ttl_us),
            store,
            db,
            read_through: strategy == "read-through",
            write_behind: strategy == "write-behind",
            fetches: Slab::default(),
            hits: 0,
            misses: 0,
            lost_writes: 0,
            flushed: 0,
        }
    }

    fn write_to_db(&mut self, ctx: &mut Ctx, key: u64, value: u32) {
        self.flushed += 1;
        ctx.send(self.db, Msg { kind: Kind::Write, req: ReqId(0), key, tag: FLUSHED, value });
    }

    /// Empties the cache (the `flush` action); dirty entries are written first.
    pub fn flush(&mut self, ctx: &mut Ctx) {
        for (k, v) in self.store.clear() {
            self.write_to_db(ctx, k, v);
        }
    }

    fn put(&mut self, ctx: &mut Ctx, key: u64, value: u32, at: Micros, dirty: bool) {
        if self.store.ttl_us > 0 && !dirty && ctx.now().saturating_sub(at) >= self.store.ttl_us {
            return; // expired before it arrived
        }
        if let Some((k, v, true)) = self.store.put(key, value, at, dirty) {
            self.write_to_db(ctx, k, v);
        }
    }

    fn read_through_miss(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        let fetches = &self.fetches;
        if let Some(f) = self.fetching.joinable(msg.key, ctx.now(), |f| fetches.get(f).map(|x| x.sent_at)) {
            self.fetches.get_mut(f).expect("joinable").waiters.push((from, msg));
            return;
        }
        let f = self.fetches.insert(Fetch { key: msg.key, sent_at: ctx.now(), waiters: vec![(from, msg)] });
        self.fetching.lead(msg.key, f);
        ctx.send(self.db, Msg { kind: Kind::Call, req: msg.req, key: msg.key, tag: index_of(f), value: 0 });
    }

    fn fetched(&mut self, ctx: &mut Ctx, msg: Msg, ok: bool) {
        let Some(f) = self.fetches.key_at(msg.tag) else { return };
        if self.fetches.get(f).is_none_or(|x| x.key != msg.key) {
            return;
        }
        let Fetch { key, sent_at, waiters } = self.fetches.remove(f).expect("just found");
        self.fetching.end(key, f);
        if ok {
            self.put(ctx, key, msg.value, sent_at, false);
        }
        for (to, m) in waiters {
            let reply = if ok { m.reply(Kind::Response).with_value(msg.value) } else { m.reply(Kind::Error) };
            ctx.send(to, reply);
        }
    }
}

impl Component for Cache {
    fn on_start(&mut self, ctx: &mut Ctx) {
        if self.write_behind {
            ctx.set_timer(FLUSH_EVERY_US, FLUSH_TICK);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if from == self.db {
            match msg.kind {
                Kind::Response if msg.tag != FLUSHED => self.fetched(ctx, msg, true),
                Kind::Error | Kind::Reject if msg.tag != FLUSHED => self.fetched(ctx, msg, false),
                _ => {}
            }
            return;
        }
        match msg.kind {
            Kind::Call => match self.store.get(msg.key, ctx.now()) {
                Some(v) => {
                    self.hits += 1;
                    ctx.send(from, msg.reply(Kind::Response).with_value(v));
                }
                None => {
                    self.misses += 1;
                    if self.read_through {
                        self.read_through_miss(ctx, from, msg);
                    } else {
                        ctx.send(from, msg.reply(Kind::Miss));
                    }
                }
            },
            Kind::Write if msg.tag == DELETE => {
                self.store.remove(msg.key);
            }
            Kind::Write if msg.tag & FILL != 0 => {
                let read_at = (u64::from(msg.tag & !FILL) * 1000).min(ctx.now());
                self.put(ctx, msg.key, msg.value, read_at, false);
            }
            Kind::Write => {
                // A client's write to a write-behind cache: kept dirty, acknowledged now.
                self.put(ctx, msg.key, msg.value, ctx.now(), true);
                ctx.send(from, msg.reply(Kind::Response));
            }
            _ => {}
        }
    }

    fn on_bounce(&mut self, ctx: &mut Ctx, _to: NodeId, msg: Msg) {
        if msg.kind == Kind::Call {
            self.fetched(ctx, msg, false);
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        if token == FLUSH_TICK {
            for (k, v) in self.store.take_dirty() {
                self.write_to_db(ctx, k, v);
            }
            ctx.set_timer(FLUSH_EVERY_US, FLUSH_TICK);
        }
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        // Memory is gone: dirty writes that were acknowledged are lost.
        self.lost_writes += self.store.clear().len() as u64;
        self.fetches.drain(|f| held.extend(f.waiters));
        self.fetching.clear();
    }

    fn view(&self) -> NodeView {
        let fill = self.store.len() as f64 / self.store.capacity as f64;
        let lookups = self.hits + self.misses;
        let note = if lookups > 0 { format!("hits {}%", crate::num::Fixed(100.0 * self.hits as f64 / lookups as f64, 0)) } else { String::new() };
        NodeView { fill: Some(fill), note, state: if self.store.is_empty() { "cold" } else { "" }, tone: Tone::Warn, ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

struct CacheProbe {
    app: NodeId,
    cache: NodeId,
    db: NodeId,
    stats: Rc<Cell<(u64, u64)>>,
    /// At the last sample: (time, hits, misses, database queries).
    last: RefCell<(Micros, u64, u64, u64)>,
    /// The current one-second window, (start, database queries then), and the busiest one's count.
    second: Cell<(Micros, u64)>,
    peak: Cell<f64>,
    theory: Option<f64>,
}

impl CacheProbe {
    /// Queries that reached the database so far.
    fn db_ops(&self, w: &World) -> u64 {
        w.component::<Server>(self.db).arrived
    }
}


impl Scene for Caching {
    fn info(&self) -> &'static SceneInfo {
        &INFO
    }

    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe> {
        let strategy = p.choice("strategy");
        let db = w.add_node("db", "db", Box::new(Server::new(p.int("db_workers") as u32, 100_000, p.dist("db_time"), 1.0).with_store()));
        let eviction = match p.choice("eviction") {
            "lfu" => Eviction::Lfu,
            "fifo" => Eviction::Fifo,
            "random" => Eviction::Random,
            _ => Eviction::Lru,
        };
        let store = Store::new(p.int("capacity") as usize, eviction, p.duration("ttl"), w.stream("cache"));
        let coalesce = p.flag("coalesce");
        let cache = w.add_node("cache", "cache", Box::new(Cache::new(store, db, strategy, coalesce)));
        let timeout = p.duration("timeout");
        let app = App::new(strategy, p.flag("invalidation"), cache, db, timeout, Flights::new(coalesce, p.duration("ttl")));
        let app = w.add_node("app", "app", Box::new(app));
        let clients = Clients::new(app, p.float("arrival_rate"), 2 * timeout, 1, w.stream("workload")).shaped(p).keyed(p).writing(p);
        let clients = w.add_node("client", "client", Box::new(clients));
        let stats = Rc::new(Cell::new((0, 0)));
        let ttl_us = p.duration("ttl");
        w.add_checker(Box::new(Freshness {
            history: History::new(clients, app),
            ttl_us,
            checked: strategy != "write-behind" && ttl_us > 0,
            floor: Vec::new(),
            recent: VecDeque::new(),
            stats: stats.clone(),
        }));
        // Che's approximation holds for LRU under independent requests of fixed popularity:
        // reads only, no expiry, a cache in front of every read.
        let applies = eviction == Eviction::Lru && p.float("write_ratio") == 0.0 && ttl_us == 0 && matches!(strategy, "cache-aside" | "read-through" | "write-through");
        let theory = applies.then(|| {
            let s = if p.choice("key_dist") == "zipf" { p.float("zipf_s") } else { 0.0 };
            che_lru_hit_ratio(p.int("keys") as u64, s, p.int("capacity") as u64)
        });
        Box::new(CacheProbe { app, cache, db, stats, last: RefCell::new((0, 0, 0, 0)), second: Cell::new((0, 0)), peak: Cell::new(0.0), theory })
    }
}

impl Probe for CacheProbe {
    fn metrics(&self, w: &World) -> Map<String, Json> {
        let cache = w.component::<Cache>(self.cache);
        let db = w.component::<Server>(self.db);
        let app = w.component::<App>(self.app);
        let lookups = cache.hits + cache.misses;
        let (reads, stale) = self.stats.get();
        let secs = w.now() as f64 / 1e6;
        measures!{
            "hit_ratio": share(cache.hits, lookups),
            "stale_reads": stale,
            "stale_read_ratio": share(stale, reads),
            "db_load_rps": (if secs > 0.0 { self.db_ops(w) as f64 / secs } else { 0.0 }).round(),
            "stampede_peak": self.peak.get().round(),
            "db_queue_max": db.queue_max,
            "db_reads": db.reads,
            "db_writes": db.writes,
            "cache_hits": cache.hits,
            "cache_misses": cache.misses,
            "coalesced_reads": app.coalesced,
            "lost_writes": cache.lost_writes,
        }
    }

    fn series_names(&self, _w: &World) -> Vec<String> {
        vec!["hit_ratio".into(), "db_load_rps".into()]
    }

    /// Per interval: the share of lookups that hit, and the database's queries per second.
    fn sample(&self, w: &World, out: &mut Vec<f64>) {
        let cache = w.component::<Cache>(self.cache);
        let ops = self.db_ops(w);
        let mut last = self.last.borrow_mut();
        let (t, hits, misses, db) = *last;
        let (dh, dm) = (cache.hits - hits, cache.misses - misses);
        out.push(if dh + dm > 0 { dh as f64 / (dh + dm) as f64 } else { f64::NAN });
        let dt = (w.now() - t) as f64 / 1e6;
        out.push(if dt > 0.0 { (ops - db) as f64 / dt } else { 0.0 });
        // Whole seconds, whatever the sampling interval.
        let (start, at_start) = self.second.get();
        if w.now() >= start + US_PER_S {
            self.peak.set(self.peak.get().max((ops - at_start) as f64 * US_PER_S as f64 / (w.now() - start) as f64));
            self.second.set((w.now(), ops));
        }
        *last = (w.now(), cache.hits, cache.misses, ops);
    }

    fn theory(&self, _p: &Params) -> Vec<(&'static str, f64)> {
        self.theory.map(|h| vec![("hit_ratio", h)]).unwrap_or_default()
    }

    fn on_action(&mut self, w: &mut World, action: &str, _arg: Option<&str>) {
        if action == "flush" {
            w.with_component::<Cache>(self.cache, |c, ctx| c.flush(ctx));
        }
    }
}

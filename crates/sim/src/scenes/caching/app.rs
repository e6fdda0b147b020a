//! The application in front of the cache and the database: it serves each client
//! request by the strategy, and numbers every write (values are versions).

use super::{DELETE, Flights, fill_tag};
use crate::component::{Component, Ctx, NodeView, Tone};
use crate::components::deadlines::Deadlines;
use crate::components::slab::{Key, Slab, index_of};
use crate::components::source::WRITE_TAG;
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::time::Micros;
use std::any::Any;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Step {
    /// Waiting for the cache's answer to a get.
    CacheRead,
    /// Waiting for the database's answer to a read (a miss, or no cache).
    DbRead,
    /// Waiting for the database to take a write.
    DbWrite,
    /// Waiting for a write-behind cache to take a write.
    CacheWrite,
}

struct Pending {
    req: ReqId,
    client: NodeId,
    key: u64,
    value: u32,
    step: Step,
    started: Micros,
    /// Single-flight: other reads of the key waiting on this one's database read.
    waiters: Vec<(NodeId, ReqId)>,
}

const DEADLINE: u64 = 1;

/// The application: serves each client request by the strategy, through the cache and
/// the database, numbering every write (values are versions, newest highest).
pub struct App {
    strategy: &'static str,
    invalidation: bool,
    cache: NodeId,
    db: NodeId,
    timeout_us: Micros,
    next_value: u32,
    pending: Slab<Pending>,
    /// The cache-aside reads of the database under way, for single-flight.
    reading: Flights,
    deadlines: Deadlines,
    /// Reads that joined another's database read instead of making their own.
    pub coalesced: u64,
}

impl App {
    pub fn new(strategy: &'static str, invalidation: bool, cache: NodeId, db: NodeId, timeout_us: Micros, reading: Flights) -> App {
        App {
            strategy,
            invalidation,
            cache,
            db,
            timeout_us,
            next_value: 0,
            pending: Slab::default(),
            reading,
            deadlines: Deadlines::new(DEADLINE),
            coalesced: 0,
        }
    }

    fn reply(ctx: &mut Ctx, to: NodeId, req: ReqId, kind: Kind, value: u32) {
        ctx.send(to, Msg { kind, req, key: 0, tag: 0, value });
    }

    fn send(ctx: &mut Ctx, to: NodeId, kind: Kind, p: Key, req: ReqId, key: u64, value: u32) {
        ctx.send(to, Msg { kind, req, key, tag: index_of(p), value });
    }

    /// The cache-aside read of the database for pending `p`, or a ride on one under way.
    fn read_db(&mut self, ctx: &mut Ctx, p: Key) {
        let (req, key, client) = {
            let e = self.pending.get(p).expect("pending");
            (e.req, e.key, e.client)
        };
        let pending = &self.pending;
        if let Some(lead) = self.reading.joinable(key, ctx.now(), |l| pending.get(l).filter(|e| e.step == Step::DbRead).map(|e| e.started)) {
            self.pending.get_mut(lead).expect("joinable").waiters.push((client, req));
            self.pending.remove(p);
            self.coalesced += 1;
            return;
        }
        self.reading.lead(key, p);
        let e = self.pending.get_mut(p).expect("pending");
        e.step = Step::DbRead;
        e.started = ctx.now();
        Self::send(ctx, self.db, Kind::Call, p, req, key, 0);
    }

    /// Ends pending `p` with `kind`, its waiters too.
    fn finish(&mut self, ctx: &mut Ctx, p: Key, kind: Kind, value: u32) {
        let Some(e) = self.pending.remove(p) else { return };
        self.reading.end(e.key, p);
        Self::reply(ctx, e.client, e.req, kind, value);
        for (client, req) in e.waiters {
            Self::reply(ctx, client, req, kind, value);
        }
    }

    fn answered(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        let Some(p) = self.pending.key_at(msg.tag) else { return };
        let Some(e) = self.pending.get(p).filter(|e| e.req == msg.req && e.key == msg.key) else { return };
        let (step, key, value, started) = (e.step, e.key, e.value, e.started);
        match (step, msg.kind) {
            (Step::CacheRead, Kind::Response) if from == self.cache => self.finish(ctx, p, Kind::Response, msg.value),
            (Step::CacheRead, Kind::Miss | Kind::Error | Kind::Reject) if from == self.cache => {
                if self.strategy == "read-through" {
                    self.finish(ctx, p, if msg.kind == Kind::Reject { Kind::Reject } else { Kind::Error }, 0);
                } else {
                    self.read_db(ctx, p);
                }
            }
            (Step::DbRead, Kind::Response) if from == self.db => {
                if self.strategy != "none" {
                    // Fill the cache; the TTL counts from when the read was sent.
                    ctx.send(self.cache, Msg { kind: Kind::Write, req: msg.req, key, tag: fill_tag(started), value: msg.value });
                }
                self.finish(ctx, p, Kind::Response, msg.value);
            }
            (Step::DbWrite, Kind::Response) if from == self.db => {
                match self.strategy {
                    "cache-aside" | "read-through" if self.invalidation => ctx.send(self.cache, Msg { kind: Kind::Write, req: msg.req, key, tag: DELETE, value: 0 }),
                    "write-through" => ctx.send(self.cache, Msg { kind: Kind::Write, req: msg.req, key, tag: fill_tag(started), value }),
                    _ => {}
                }
                self.finish(ctx, p, Kind::Response, value);
            }
            (Step::CacheWrite, Kind::Response) if from == self.cache => self.finish(ctx, p, Kind::Response, value),
            (Step::DbRead | Step::DbWrite | Step::CacheWrite, Kind::Error | Kind::Reject) => self.finish(ctx, p, msg.kind, 0),
            _ => {}
        }
    }
}

impl Component for App {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if msg.kind != Kind::Request {
            self.answered(ctx, from, msg);
            return;
        }
        let write = msg.tag & WRITE_TAG != 0;
        let value = if write {
            self.next_value += 1;
            self.next_value
        } else {
            0
        };
        let step = match (write, self.strategy) {
            (false, "none") => Step::DbRead,
            (false, _) => Step::CacheRead,
            (true, "write-behind") => Step::CacheWrite,
            (true, _) => Step::DbWrite,
        };
        let p = self.pending.insert(Pending { req: msg.req, client: from, key: msg.key, value, step, started: ctx.now(), waiters: Vec::new() });
        match step {
            Step::CacheRead => Self::send(ctx, self.cache, Kind::Call, p, msg.req, msg.key, 0),
            Step::DbRead => Self::send(ctx, self.db, Kind::Call, p, msg.req, msg.key, 0),
            Step::DbWrite => Self::send(ctx, self.db, Kind::Write, p, msg.req, msg.key, value),
            Step::CacheWrite => Self::send(ctx, self.cache, Kind::Write, p, msg.req, msg.key, value),
        }
        self.deadlines.add(ctx, self.timeout_us, p);
    }

    fn on_bounce(&mut self, ctx: &mut Ctx, to: NodeId, msg: Msg) {
        let Some(p) = self.pending.key_at(msg.tag) else { return };
        let Some(e) = self.pending.get(p).filter(|e| e.req == msg.req) else { return };
        // A dead cache is an empty one: read the database instead.
        if to == self.cache && e.step == Step::CacheRead && self.strategy != "read-through" {
            self.read_db(ctx, p);
        } else {
            self.finish(ctx, p, Kind::Error, 0);
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, _token: u64) {
        let pending = &self.pending;
        let expired = self.deadlines.fire(ctx, |_, p| pending.contains(p));
        for &p in &expired {
            self.finish(ctx, p, Kind::Error, 0); // 504
        }
        self.deadlines.recycle(expired);
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        self.pending.drain(|e| {
            held.push((e.client, Msg::new(Kind::Request, e.req)));
            held.extend(e.waiters.iter().map(|(c, r)| (*c, Msg::new(Kind::Request, *r))));
        });
        self.reading.clear();
        self.deadlines.clear();
    }

    fn view(&self) -> NodeView {
        NodeView { busy: self.pending.len() as u32, state: self.strategy, tone: Tone::Neutral, ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

//! The consumers of the group and the three downstream services they write to.

use super::broker::{HEARTBEAT, appended_of, generation_of, partition_of, user_of};
use crate::component::{Component, Ctx, NodeView, Tone};
use crate::dist::Dist;
use crate::histogram::Histogram;
use crate::idmap::IdMap;
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::time::Micros;
use std::any::Any;
use std::collections::VecDeque;

pub const AT_MOST_ONCE: usize = 0;
pub const EFFECTIVELY_ONCE: usize = 2;

const BEAT: u64 = 0;
const PROCESSED: u64 = 1;
const RESTARTED: u64 = 2;
/// Writes not all answered by now are sent again (to the services yet to answer).
const WRITE_AGAIN: u64 = 3;
const WRITE_TIMEOUT: Micros = 1_000_000;
/// The commit timer's token (above the kinds' two bits, where no epoch reaches).
const COMMIT_TICK: u64 = u64::MAX;

/// A member of the consumer group: takes its partitions' events in order, one at a time,
/// writes each to the three services, and commits the partition's offset: before the
/// work (at-most-once) or after every service has it (at-least-once, effectively-once).
pub struct Consumer {
    broker: NodeId,
    sinks: Vec<NodeId>,
    mode: usize,
    process: Dist,
    crash_rate: f64,
    restart: Micros,
    owned: u64,
    generation: u32,
    queue: VecDeque<Msg>,
    /// The event under way, and the services that have answered for it (a bit each).
    current: Option<(Msg, u32)>,
    /// Bumped for each event started and at each crash: a timer of other work is ignored.
    epoch: u64,
    /// Each owned partition's next offset expected: a gap (an event lost on the way) asks
    /// the broker to deliver again from the commit.
    expect: IdMap<u32>,
    /// Each partition's latest commit, sent again with every heartbeat (one may be lost).
    commits: IdMap<Msg>,
    /// Gaps asked about (partition to the request), asked again with every heartbeat.
    asked: IdMap<Msg>,
    /// Events that came after a gap, waiting for it to be filled (by partition and offset).
    early: IdMap<Msg>,
    /// At-least-once: offsets are committed this often, up to what has been written out.
    commit_interval: Micros,
    /// Each partition's offset written out and not yet committed.
    ready: IdMap<Msg>,
    down: bool,
    pub processed: u64,
    pub crashes: u64,
}

impl Consumer {
    pub fn new(broker: NodeId, sinks: Vec<NodeId>, mode: usize, process: Dist, crash_rate: f64, restart: Micros, commit_interval: Micros) -> Self {
        Consumer { broker, sinks, mode, process, crash_rate, restart, commit_interval, ready: IdMap::default(), owned: 0, generation: 0, queue: VecDeque::new(), current: None, epoch: 0, expect: IdMap::default(), commits: IdMap::default(), asked: IdMap::default(), early: IdMap::default(), down: false, processed: 0, crashes: 0 }
    }

    fn commit(&mut self, ctx: &mut Ctx, event: &Msg) {
        let commit = Msg { kind: Kind::Write, req: ReqId(0), key: 0, tag: event.tag, value: event.value + 1 };
        self.commits.insert(partition_of(event.tag) as u64, commit);
        ctx.send(self.broker, commit);
    }

    fn write(&self, ctx: &mut Ctx) {
        let Some((event, answered)) = self.current else { return };
        for (_, &s) in self.sinks.iter().enumerate().filter(|(i, _)| answered & 1 << i == 0) {
            ctx.send(s, Msg { kind: Kind::Write, ..event });
        }
    }

    /// What a crash takes from memory: events in hand, offsets and commits under way (a
    /// new epoch, so that timers set before it are ignored).
    fn forget(&mut self) {
        self.queue.clear();
        self.current = None;
        self.expect.clear();
        self.commits.clear();
        self.asked.clear();
        self.early.clear();
        self.ready.clear();
        self.epoch += 1;
    }

    /// Crashes, at a chance of `crash_rate` over the two points where it may: before the
    /// work, or after the writes and before the commit.
    fn crashes_here(&mut self, ctx: &mut Ctx) -> bool {
        if self.crash_rate == 0.0 || ctx.rng.unit() >= self.crash_rate / 2.0 {
            return false;
        }
        self.crashes += 1;
        self.down = true;
        self.forget();
        ctx.set_state(1);
        ctx.set_timer(self.restart, RESTARTED);
        true
    }

    fn next(&mut self, ctx: &mut Ctx) {
        while self.current.is_none() {
            let Some(event) = self.queue.pop_front() else { return };
            // Events of partitions taken away in a rebalance are left to their new owner.
            if self.owned & 1 << partition_of(event.tag) == 0 || generation_of(event.tag) < self.generation {
                continue;
            }
            if self.crashes_here(ctx) {
                return;
            }
            self.current = Some((event, 0));
            self.epoch += 1;
            let raw = self.process.sample(ctx.rng);
            let us = ctx.work(raw);
            ctx.set_timer(us, PROCESSED | self.epoch << 2);
        }
    }

    fn finish(&mut self, ctx: &mut Ctx) {
        let Some((event, _)) = self.current.take() else { return };
        self.processed += 1;
        if self.mode != AT_MOST_ONCE {
            if self.crashes_here(ctx) {
                return;
            }
            let p = partition_of(event.tag) as u64;
            self.ready.insert(p, event);
        }
        self.next(ctx);
    }
}

impl Component for Consumer {
    fn on_start(&mut self, ctx: &mut Ctx) {
        // Joins (or rejoins, after a restart) the group.
        ctx.send(self.broker, Msg::new(Kind::HealthCheck, ReqId(0)));
        ctx.set_timer(HEARTBEAT, BEAT);
        ctx.set_timer(self.commit_interval, COMMIT_TICK);
    }

    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if self.down {
            return;
        }
        match msg.kind {
            // An assignment: partitions owned (a bit each), and where one of them starts.
            Kind::Probe if from == self.broker && generation_of(msg.tag) >= self.generation => {
                if generation_of(msg.tag) == self.generation {
                    if msg.key != 0 {
                        self.expect.insert(partition_of(msg.tag) as u64, msg.value);
                    }
                    return;
                }
                self.owned = msg.key;
                self.generation = generation_of(msg.tag);
                // Delivery starts again from each partition's commit: what is queued comes again.
                self.queue.clear();
                self.expect.clear();
                self.commits.clear();
                self.asked.clear();
                self.early.clear();
                self.ready.clear();
                if msg.key != 0 {
                    self.expect.insert(partition_of(msg.tag) as u64, msg.value);
                }
                self.next(ctx);
            }
            Kind::Call if from == self.broker => {
                // An event of another generation, or of a partition not (yet) assigned here, is
                // dropped: a gap it leaves is asked for again.
                let p = partition_of(msg.tag) as u64;
                let Some(&expect) = self.expect.get(&p).filter(|_| generation_of(msg.tag) == self.generation) else { return };
                if msg.value > expect {
                    // One before it was lost on the way: this one waits, the missing one is asked for.
                    self.early.insert(p << 32 | u64::from(msg.value), msg);
                    let ask = Msg { kind: Kind::Miss, req: ReqId(0), key: 0, tag: msg.tag, value: expect };
                    if self.asked.insert(p, ask).is_none_or(|before| before.value != expect) {
                        ctx.send(self.broker, ask);
                    }
                    return;
                }
                if msg.value < expect {
                    return;
                }
                self.asked.remove(&p);
                let mut event = msg;
                loop {
                    self.expect.insert(p, event.value + 1);
                    // At-most-once: committed as soon as it is in hand.
                    if self.mode == AT_MOST_ONCE {
                        self.commit(ctx, &event);
                    }
                    self.queue.push_back(event);
                    match self.early.remove(&(p << 32 | u64::from(event.value + 1))) {
                        Some(next) => event = next,
                        None => break,
                    }
                }
                // A later gap, if events beyond it are waiting.
                if self.early.keys().any(|k| k >> 32 == p) {
                    let expect = self.expect[&p];
                    let ask = Msg { kind: Kind::Miss, req: ReqId(0), key: 0, tag: msg.tag, value: expect };
                    self.asked.insert(p, ask);
                    ctx.send(self.broker, ask);
                }
                self.next(ctx);
            }
            // A service has the event (applied, or already had it).
            Kind::Response | Kind::Reject => {
                let Some(i) = self.sinks.iter().position(|s| *s == from) else { return };
                let Some((event, answered)) = self.current.as_mut() else { return };
                if event.tag != msg.tag || event.value != msg.value {
                    return;
                }
                *answered |= 1 << i;
                if *answered == (1 << self.sinks.len()) - 1 && self.mode != AT_MOST_ONCE {
                    self.finish(ctx);
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        if token == COMMIT_TICK {
            ctx.set_timer(self.commit_interval, COMMIT_TICK);
            let mut ready: Vec<(u64, Msg)> = self.ready.drain().collect();
            crate::sort::sort_by_key(&mut ready, |(p, _)| *p);
            for (_, event) in ready {
                if !self.down {
                    self.commit(ctx, &event);
                }
            }
            return;
        }
        match token & 3 {
            BEAT => {
                ctx.set_timer(HEARTBEAT, BEAT);
                if !self.down {
                    ctx.send(self.broker, Msg::new(Kind::HealthReply, ReqId(0)));
                    let mut commits: Vec<Msg> = self.commits.values().chain(self.asked.values()).copied().collect();
                    crate::sort::sort_by_key(&mut commits, |m| m.tag);
                    for c in commits {
                        ctx.send(self.broker, c);
                    }
                }
            }
            RESTARTED => {
                self.down = false;
                self.owned = 0;
                ctx.set_state(2);
                ctx.send(self.broker, Msg::new(Kind::HealthCheck, ReqId(0)));
            }
            PROCESSED if token >> 2 == self.epoch && !self.down => {
                self.write(ctx);
                if self.mode == AT_MOST_ONCE {
                    self.finish(ctx);
                } else {
                    ctx.set_timer(WRITE_TIMEOUT, WRITE_AGAIN | self.epoch << 2);
                }
            }
            WRITE_AGAIN if token >> 2 == self.epoch && !self.down && self.current.is_some() => {
                self.write(ctx);
                ctx.set_timer(WRITE_TIMEOUT, WRITE_AGAIN | self.epoch << 2);
            }
            _ => {}
        }
    }

    fn on_crash(&mut self, _held: &mut Vec<(NodeId, Msg)>) {
        self.owned = 0;
        self.forget();
    }

    fn on_set(&mut self, _ctx: &mut Ctx, knob: &str, value: &crate::knob::Value) {
        if let ("consumer_crash_rate", crate::knob::Value::Float(p)) = (knob, value) {
            self.crash_rate = *p;
        }
    }

    fn describe_state(&self, code: u8) -> String {
        if code == 1 { "consumer crashed".into() } else { "consumer restarted and rejoins the group".into() }
    }

    fn view(&self) -> NodeView {
        let idle = self.owned == 0 && !self.down;
        NodeView {
            queue: self.queue.len() as u32,
            busy: u32::from(self.current.is_some()),
            workers: 1,
            state: if self.down { "crashed" } else if idle { "idle" } else { "" },
            tone: if self.down { Tone::Bad } else if idle { Tone::Warn } else { Tone::Good },
            note: format!("partitions {}", (0..64).filter(|p| self.owned & 1 << p != 0).map(|p| p.to_string()).collect::<Vec<_>>().join(",")),
            completed: self.processed,
            ..NodeView::default()
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Offsets of one partition a service has applied, from `base` on; further back they are
/// settled, and those never applied were lost.
#[derive(Default)]
struct Applied {
    seen: VecDeque<bool>,
    /// How many of `seen` are false.
    unseen: u64,
    base: u32,
    lost_before_base: u64,
}

/// Offsets kept per partition, to tell a repeat from a first write.
const KEEP: usize = 4096;

/// A downstream service (e-mail, billing, analytics): applies each event it is sent.
/// Idempotent when asked (effectively-once): it keeps which events it has applied and
/// skips a repeat.
pub struct Sink {
    idempotent: bool,
    applied: Vec<Applied>,
    /// Each user's latest event applied, by append time, to see order broken.
    latest: IdMap<Micros>,
    pub writes: u64,
    pub duplicates: u64,
    pub skipped: u64,
    pub out_of_order: u64,
    pub e2e: Histogram,
}

impl Sink {
    pub fn new(partitions: usize, idempotent: bool) -> Self {
        Sink { idempotent, applied: (0..partitions).map(|_| Applied::default()).collect(), latest: IdMap::default(), writes: 0, duplicates: 0, skipped: 0, out_of_order: 0, e2e: Histogram::new() }
    }

    /// Events of partition `p` before `committed` that were never applied here.
    pub fn lost_before(&self, p: usize, committed: u32) -> u64 {
        let a = &self.applied[p];
        // Counted over the two plain slices, which the compiler can do many at a time (a
        // chart sample asks this of every partition's few thousand offsets).
        // All the unapplied offsets kept, less those from the commit on: the few written
        // since the last commit, where a chart sample would otherwise count thousands.
        let n = (committed.saturating_sub(a.base) as usize).min(a.seen.len());
        let window = a.unseen - a.seen.range(n..).filter(|seen| !**seen).count() as u64;
        debug_assert_eq!(window, a.seen.range(..n).filter(|seen| !**seen).count() as u64, "the count of unapplied offsets kept");
        // Offsets past what was ever written here count too, up to the commit.
        let beyond = u64::from(committed.saturating_sub(a.base + a.seen.len() as u32));
        a.lost_before_base + window + beyond
    }
}

impl Component for Sink {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if msg.kind != Kind::Write {
            return;
        }
        let last = self.applied.len() - 1;
        let a = &mut self.applied[partition_of(msg.tag).min(last)];
        let offset = msg.value;
        let seen = if offset < a.base {
            true
        } else {
            let i = (offset - a.base) as usize;
            if a.seen.len() <= i {
                a.unseen += (i + 1 - a.seen.len()) as u64;
                a.seen.resize(i + 1, false);
            }
            let seen = std::mem::replace(&mut a.seen[i], true);
            a.unseen -= u64::from(!seen);
            seen
        };
        while a.seen.len() > KEEP {
            let lost = u64::from(!a.seen.pop_front().expect("kept"));
            a.lost_before_base += lost;
            a.unseen -= lost;
            a.base += 1;
        }
        if seen && self.idempotent {
            self.skipped += 1;
            return ctx.send(from, msg.reply(Kind::Reject));
        }
        self.writes += 1;
        if seen {
            self.duplicates += 1;
        } else {
            let appended = appended_of(msg.key);
            self.e2e.record(ctx.now().saturating_sub(appended));
            let latest = self.latest.entry(user_of(msg.key)).or_insert(0);
            if appended < *latest {
                self.out_of_order += 1;
            }
            *latest = (*latest).max(appended);
        }
        ctx.send(from, msg.reply(Kind::Response));
    }

    fn view(&self) -> NodeView {
        NodeView {
            completed: self.writes,
            note: format!("{} twice", self.duplicates),
            state: if self.duplicates > 0 { "duplicates" } else { "" },
            tone: if self.duplicates > 0 { Tone::Warn } else { Tone::Neutral },
            ..NodeView::default()
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

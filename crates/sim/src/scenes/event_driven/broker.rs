//! The broker: one topic of `P` partitions, each a log with offsets, and the consumer
//! group's coordinator (members, heartbeats, assignment, committed offsets). A message
//! about an event carries its partition in `tag`'s low byte (the group's generation
//! above), its offset in `value`, and in `key` the producer's key and append time
//! (`key_of`).

use crate::component::{Component, Ctx, NodeView, Tone};
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::time::Micros;
use std::any::Any;
use std::collections::VecDeque;

/// Events delivered and not yet committed, per partition, at most.
pub const WINDOW: u32 = 1024;
/// A consumer heard from within this long is alive.
pub const SESSION_TIMEOUT: Micros = 3_000_000;
pub const HEARTBEAT: Micros = 1_000_000;

/// An event's key as carried: the producer's key (20 bits) and when it was appended (ms).
pub fn key_of(user: u64, appended_us: Micros) -> u64 {
    (appended_us / 1000) << 20 | (user & 0xF_FFFF)
}

pub fn user_of(key: u64) -> u64 {
    key & 0xF_FFFF
}

pub fn appended_of(key: u64) -> Micros {
    (key >> 20) * 1000
}

pub fn tag_of(partition: usize, generation: u32) -> u32 {
    generation << 8 | partition as u32
}

pub fn partition_of(tag: u32) -> usize {
    (tag & 0xff) as usize
}

pub fn generation_of(tag: u32) -> u32 {
    tag >> 8
}

/// What a consumer says: it joins (`HealthCheck`, also after a restart), a heartbeat
/// (`HealthReply`), a commit (`Write`: the partition is done up to, not including,
/// `value`), or that it missed an event (`Miss`, from `value` on). What the broker says
/// to a consumer: an event (`Call`), or its assignment (`Probe`: the partitions it owns, a
/// bit each in `key`; one message per partition, with the offset it starts from).
struct Partition {
    /// Events from `base` on (keys as carried); older ones are committed and let go.
    log: VecDeque<(u64, ReqId)>,
    base: u32,
    committed: u32,
    /// Delivered to the owner up to, not including.
    delivered: u32,
    owner: Option<NodeId>,
}

pub struct Broker {
    consumers: Vec<NodeId>,
    by_key: bool,
    partitions: Vec<Partition>,
    next_partition: usize,
    /// Each consumer: when it was last heard from, if it is a member.
    last_heard: Vec<Option<Micros>>,
    pub generation: u32,
    pub rebalances: u64,
    pub appended: u64,
}

impl Broker {
    pub fn new(partitions: usize, consumers: Vec<NodeId>, by_key: bool) -> Self {
        let n = consumers.len();
        Broker {
            consumers,
            by_key,
            partitions: (0..partitions).map(|_| Partition { log: VecDeque::new(), base: 0, committed: 0, delivered: 0, owner: None }).collect(),
            next_partition: 0,
            last_heard: vec![None; n],
            generation: 0,
            rebalances: 0,
            appended: 0,
        }
    }

    /// Events appended and not yet committed, over all partitions.
    pub fn lag(&self) -> u64 {
        self.partitions.iter().map(|p| u64::from(p.base) + p.log.len() as u64 - u64::from(p.committed)).sum()
    }

    pub fn committed(&self, p: usize) -> u32 {
        self.partitions[p].committed
    }

    pub fn partitions(&self) -> usize {
        self.partitions.len()
    }

    /// Consumers that are members and own no partition.
    pub fn idle_members(&self) -> usize {
        (0..self.consumers.len()).filter(|&i| self.last_heard[i].is_some() && !self.partitions.iter().any(|p| p.owner == Some(self.consumers[i]))).count()
    }

    fn member(&self, node: NodeId) -> Option<usize> {
        self.consumers.iter().position(|c| *c == node)
    }

    /// Partitions dealt round the live members in order; every partition's delivery starts
    /// again from its committed offset (what the old owner had not committed goes again).
    fn rebalance(&mut self, ctx: &mut Ctx) {
        self.generation += 1;
        self.rebalances += 1;
        let live: Vec<NodeId> = (0..self.consumers.len()).filter(|&i| self.last_heard[i].is_some()).map(|i| self.consumers[i]).collect();
        for (i, p) in self.partitions.iter_mut().enumerate() {
            p.owner = (!live.is_empty()).then(|| live[i % live.len()]);
            p.delivered = p.committed;
        }
        // Each member hears its assignment: a message per partition it owns, with the offset
        // it starts from (or one saying it owns none).
        for &c in &live {
            let mask = self.partitions.iter().enumerate().filter(|(_, p)| p.owner == Some(c)).fold(0u64, |m, (i, _)| m | 1 << i);
            if mask == 0 {
                ctx.send(c, Msg { kind: Kind::Probe, req: ReqId(0), key: 0, tag: tag_of(0, self.generation), value: 0 });
            }
            for (i, p) in self.partitions.iter().enumerate().filter(|(_, p)| p.owner == Some(c)) {
                ctx.send(c, Msg { kind: Kind::Probe, req: ReqId(0), key: mask, tag: tag_of(i, self.generation), value: p.committed });
            }
        }
        ctx.set_state(1);
        for i in 0..self.partitions.len() {
            self.deliver(ctx, i);
        }
    }

    /// Sends the partition's owner what it may have: up to `WINDOW` uncommitted events.
    fn deliver(&mut self, ctx: &mut Ctx, i: usize) {
        let generation = self.generation;
        let p = &mut self.partitions[i];
        let Some(owner) = p.owner else { return };
        let end = p.base + p.log.len() as u32;
        while p.delivered < end && p.delivered < p.committed + WINDOW {
            let (key, req) = p.log[(p.delivered - p.base) as usize];
            ctx.send(owner, Msg { kind: Kind::Call, req, key, tag: tag_of(i, generation), value: p.delivered });
            p.delivered += 1;
        }
    }

    fn drop_member(&mut self, ctx: &mut Ctx, i: usize) {
        if self.last_heard[i].take().is_some() {
            self.rebalance(ctx);
        }
    }
}

const SWEEP: u64 = 0;

impl Component for Broker {
    fn on_start(&mut self, ctx: &mut Ctx) {
        ctx.set_timer(HEARTBEAT, SWEEP);
    }

    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg.kind {
            // An event from a producer: appended to its key's partition (or the next one).
            Kind::Request => {
                let i = if self.by_key { (crate::rng::mix64(msg.key) % self.partitions.len() as u64) as usize } else { self.next_partition };
                self.next_partition = (self.next_partition + 1) % self.partitions.len();
                let p = &mut self.partitions[i];
                let offset = p.base + p.log.len() as u32;
                p.log.push_back((key_of(msg.key, ctx.now()), msg.req));
                self.appended += 1;
                ctx.send(from, Msg { kind: Kind::Response, req: msg.req, key: msg.key, tag: tag_of(i, 0), value: offset });
                self.deliver(ctx, i);
            }
            // A heartbeat; a member not heard of for a session joins anew.
            Kind::HealthReply | Kind::HealthCheck => {
                let Some(i) = self.member(from) else { return };
                let joined = self.last_heard[i].is_none() || msg.kind == Kind::HealthCheck;
                self.last_heard[i] = Some(ctx.now());
                if joined {
                    self.rebalance(ctx);
                }
            }
            // A commit counts from the partition's owner in this generation only.
            Kind::Write => {
                let i = partition_of(msg.tag);
                if generation_of(msg.tag) != self.generation || i >= self.partitions.len() || self.partitions[i].owner != Some(from) {
                    return;
                }
                let p = &mut self.partitions[i];
                if msg.value > p.committed && msg.value <= p.delivered {
                    p.committed = msg.value;
                    while p.base < p.committed {
                        p.log.pop_front();
                        p.base += 1;
                    }
                }
                self.deliver(ctx, i);
            }
            // The owner missed an event (lost on the way): that one is sent again.
            Kind::Miss => {
                let i = partition_of(msg.tag);
                if generation_of(msg.tag) == self.generation && i < self.partitions.len() && self.partitions[i].owner == Some(from) {
                    let p = &self.partitions[i];
                    if msg.value >= p.base && msg.value < p.delivered {
                        let (key, req) = p.log[(msg.value - p.base) as usize];
                        ctx.send(from, Msg { kind: Kind::Call, req, key, tag: tag_of(i, self.generation), value: msg.value });
                    }
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, _token: u64) {
        ctx.set_timer(HEARTBEAT, SWEEP);
        let now = ctx.now();
        let silent: Vec<usize> = (0..self.consumers.len()).filter(|&i| self.last_heard[i].is_some_and(|t| now - t > SESSION_TIMEOUT)).collect();
        if !silent.is_empty() {
            for i in silent {
                self.last_heard[i] = None;
            }
            self.rebalance(ctx);
        }
    }

    /// A consumer is dead (connection refused): it leaves the group at once.
    fn on_bounce(&mut self, ctx: &mut Ctx, to: NodeId, _msg: Msg) {
        if let Some(i) = self.member(to) {
            self.drop_member(ctx, i);
        }
    }

    fn describe_state(&self, _code: u8) -> String {
        format!("consumer group rebalanced (generation {})", self.generation)
    }

    fn view(&self) -> NodeView {
        NodeView { queue: self.lag() as u32, note: format!("{} partitions, lag {}", self.partitions.len(), self.lag()), completed: self.appended, tone: Tone::Neutral, ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

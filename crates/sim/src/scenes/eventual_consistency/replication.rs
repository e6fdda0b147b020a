//! Replication: the primary numbers writes, replicates them and acknowledges each when
//! the mode says so; replicas apply what they receive after a lag.

use crate::component::{Component, Ctx, NodeView, Tone};
use crate::components::slab::Slab;
use crate::dist::Dist;
use crate::histogram::Histogram;
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::time::{Micros, US_PER_S};
use std::any::Any;
use std::collections::VecDeque;

/// The primary resends what replicas have not acknowledged, and tells them its newest
/// sequence number, this often.
const RESEND_EVERY_US: Micros = US_PER_S;

/// Timer tokens of the primary; the replica's are its apply slab keys (shifted).
const RESEND_TICK: u64 = 1;

/// A write waiting for replicas' acknowledgements before the primary acknowledges it.
struct Waiting {
    lsn: u32,
    at: Micros,
    app: NodeId,
    msg: Msg,
    /// The replicas that have acknowledged it, a bit each (a resend may be acknowledged twice).
    acked_by: u8,
    /// Answered already (it stays in the queue until those before it leave).
    done: bool,
}

/// The primary: numbers and applies writes, replicates them, and acknowledges each when
/// the replication mode says so; answers reads of its own state.
pub struct Primary {
    replicas: Vec<NodeId>,
    /// Acknowledgements a write needs before the app hears of it (0: async).
    needed: u8,
    timeout_us: Micros,
    lsn: u32,
    store: Vec<u32>,
    /// By key: when its newest version was written, and how many replicas still miss it.
    written_at: Vec<Micros>,
    missing: Vec<u8>,
    /// By replica, by key: the newest version it has not acknowledged (0: none); and
    /// the keys it misses, in the order they went missing.
    unacked: Vec<Vec<u32>>,
    backlog: Vec<VecDeque<u64>>,
    pub behind: Vec<u32>,
    waiting: VecDeque<Waiting>,
    /// How long each write took to reach every replica.
    pub convergence: Histogram,
    pub writes: u64,
}

impl Primary {
    /// A primary replicating to `replicas`, acknowledging a write once `needed` of them
    /// have applied it (0: at once), and giving up on waiting after `timeout_us`.
    pub fn new(replicas: Vec<NodeId>, needed: u8, timeout_us: Micros) -> Primary {
        let n = replicas.len();
        Primary {
            replicas,
            needed,
            timeout_us,
            lsn: 0,
            store: Vec::new(),
            written_at: Vec::new(),
            missing: Vec::new(),
            unacked: vec![Vec::new(); n],
            backlog: vec![VecDeque::new(); n],
            behind: vec![0; n],
            waiting: VecDeque::new(),
            convergence: Histogram::new(),
            writes: 0,
        }
    }

    fn replica_index(&self, node: NodeId) -> Option<usize> {
        self.replicas.iter().position(|r| *r == node)
    }

    fn replicate(&self, ctx: &mut Ctx, r: usize, key: u64, lsn: u32) {
        ctx.send(self.replicas[r], Msg { kind: Kind::Write, req: ReqId(0), key, tag: 0, value: lsn });
    }

    /// Writes answered, or given up on (the app has failed them), leave the queue.
    fn release(&mut self, now: Micros) {
        while self.waiting.front().is_some_and(|w| w.done || w.at + self.timeout_us <= now) {
            self.waiting.pop_front();
        }
    }

    fn acked(&mut self, ctx: &mut Ctx, r: usize, key: u64, lsn: u32) {
        let k = key as usize;
        if self.unacked[r].get(k).is_some_and(|v| *v != 0 && *v <= lsn) {
            self.unacked[r][k] = 0;
            self.behind[r] -= 1;
            self.missing[k] -= 1;
            if self.missing[k] == 0 && self.store[k] == lsn {
                self.convergence.record(ctx.now() - self.written_at[k]);
            }
        }
        if self.needed > 0
            && let Ok(i) = self.waiting.binary_search_by_key(&lsn, |w| w.lsn)
        {
            let w = &mut self.waiting[i];
            w.acked_by |= 1 << r;
            if !w.done && w.acked_by.count_ones() >= u32::from(self.needed) {
                w.done = true;
                ctx.send(w.app, w.msg.reply(Kind::Response).with_value(w.lsn));
            }
            self.release(ctx.now());
        }
    }

    pub fn caught_up(&self, r: usize) -> bool {
        self.behind[r] == 0
    }
}

impl Component for Primary {
    fn on_start(&mut self, ctx: &mut Ctx) {
        ctx.set_timer(RESEND_EVERY_US, RESEND_TICK);
    }

    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg.kind {
            Kind::Write => {
                self.lsn += 1;
                self.writes += 1;
                let (k, lsn) = (msg.key as usize, self.lsn);
                if self.store.len() <= k {
                    self.store.resize(k + 1, 0);
                    self.written_at.resize(k + 1, 0);
                    self.missing.resize(k + 1, 0);
                }
                self.store[k] = lsn;
                self.written_at[k] = ctx.now();
                self.missing[k] = self.replicas.len() as u8;
                for r in 0..self.replicas.len() {
                    if self.unacked[r].len() <= k {
                        self.unacked[r].resize(k + 1, 0);
                    }
                    if self.unacked[r][k] == 0 {
                        self.behind[r] += 1;
                        self.backlog[r].push_back(msg.key);
                    }
                    self.unacked[r][k] = lsn;
                    self.replicate(ctx, r, msg.key, lsn);
                }
                if self.needed == 0 {
                    ctx.send(from, msg.reply(Kind::Response).with_value(lsn));
                } else {
                    self.waiting.push_back(Waiting { lsn, at: ctx.now(), app: from, msg, acked_by: 0, done: false });
                }
            }
            Kind::Call => {
                let v = self.store.get(msg.key as usize).copied().unwrap_or(0);
                ctx.send(from, msg.reply(Kind::Response).with_value(v));
            }
            Kind::Response => {
                if let Some(r) = self.replica_index(from) {
                    self.acked(ctx, r, msg.key, msg.value);
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, _token: u64) {
        // Resend what each replica has not acknowledged (its newest version only), and
        // tell it the newest sequence number, so that it knows how far behind it is.
        for r in 0..self.replicas.len() {
            let backlog = std::mem::take(&mut self.backlog[r]);
            let mut kept = VecDeque::with_capacity(backlog.len());
            for key in backlog {
                let lsn = self.unacked[r][key as usize];
                if lsn != 0 {
                    self.replicate(ctx, r, key, lsn);
                    kept.push_back(key);
                }
            }
            self.backlog[r] = kept;
            ctx.send(self.replicas[r], Msg { kind: Kind::HealthCheck, req: ReqId(0), key: 0, tag: 0, value: self.lsn });
        }
        self.release(ctx.now());
        ctx.set_timer(RESEND_EVERY_US, RESEND_TICK);
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        held.extend(self.waiting.drain(..).filter(|w| !w.done).map(|w| (w.app, w.msg)));
    }

    fn view(&self) -> NodeView {
        NodeView { note: format!("v{}", self.lsn), state: "primary", tone: Tone::Good, busy: self.waiting.len() as u32, ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A replica: applies each write it receives after a lag, keeping the newest version of
/// each key, acknowledges it, and answers reads from what it has applied.
pub struct Replica {
    primary: NodeId,
    lag: Dist,
    store: Vec<u32>,
    applying: Slab<(u64, u32)>,
    pub applied_max: u32,
    /// The primary's newest sequence number, as of its last word.
    pub heard: u32,
}

impl Replica {
    pub fn new(primary: NodeId, lag: Dist) -> Replica {
        Replica { primary, lag, store: Vec::new(), applying: Slab::default(), applied_max: 0, heard: 0 }
    }
}

impl Component for Replica {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg.kind {
            Kind::Write if from == self.primary => {
                let a = self.applying.insert((msg.key, msg.value));
                let lag = self.lag.sample(ctx.rng);
                ctx.set_timer(ctx.work(lag), a);
                self.heard = self.heard.max(msg.value);
            }
            Kind::HealthCheck => self.heard = self.heard.max(msg.value),
            Kind::Call => {
                let v = self.store.get(msg.key as usize).copied().unwrap_or(0);
                // A read that needs a version this replica does not hold yet (read-your-writes).
                if v < msg.value {
                    ctx.send(from, msg.reply(Kind::Miss));
                } else {
                    ctx.send(from, msg.reply(Kind::Response).with_value(v));
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        let Some((key, lsn)) = self.applying.remove(token) else { return };
        let k = key as usize;
        if self.store.len() <= k {
            self.store.resize(k + 1, 0);
        }
        self.store[k] = self.store[k].max(lsn);
        self.applied_max = self.applied_max.max(lsn);
        ctx.send(self.primary, Msg { kind: Kind::Response, req: ReqId(0), key, tag: 0, value: lsn });
    }

    fn on_crash(&mut self, _held: &mut Vec<(NodeId, Msg)>) {
        // What it had applied is on disk; what it was applying is lost (the primary resends it).
        self.applying.drain(|_| {});
    }

    fn view(&self) -> NodeView {
        // How far behind it knows it is: the primary's newest it has heard of.
        let behind = self.heard.saturating_sub(self.applied_max);
        NodeView {
            note: if behind > 0 { format!("v{} (−{behind})", self.applied_max) } else { format!("v{}", self.applied_max) },
            state: if behind > 0 { "behind" } else { "" },
            tone: Tone::Warn,
            busy: self.applying.len() as u32,
            ..NodeView::default()
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

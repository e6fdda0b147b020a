//! What clients saw of a data store, from the trace between the clients and the node that
//! serves them: each request's key, whether it wrote, when it began and ended, and the
//! version it wrote or read back. Scenes about data judge freshness and consistency on
//! this history, outside the components that produce it.

use crate::components::source::WRITE_TAG;
use crate::histogram::Histogram;
use crate::msg::{Kind, NodeId};
use crate::time::Micros;
use crate::trace::Record;

/// One request as the clients saw it, once it ended with an answer.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Op {
    pub key: u64,
    /// The user who made it (sessions; 0 otherwise).
    pub user: u32,
    pub write: bool,
    pub start: Micros,
    pub end: Micros,
    /// The version written, or the version read back (0: none was ever written).
    pub value: u32,
    /// The newest version acknowledged to any client when the request began.
    pub newest_at_start: u32,
    /// A read's answer was older than `newest_at_start`.
    pub stale: bool,
    /// For a stale read: how long before it began the oldest write it missed was
    /// acknowledged (a lower bound when it missed more than `RECENT` writes).
    pub staleness_us: Micros,
    /// The request ended in an error instead (its outcome is unknown for a write).
    pub failed: bool,
    /// What the judging scene noted of the key when the request began (`on_record`).
    pub mark: u32,
    /// The client heard an answer (a failed request may instead have timed out or been
    /// lost, and then what it wrote or read is unknown).
    pub answered: bool,
}

/// Acknowledgements kept per key to time a stale read's lag.
const RECENT: usize = 4;

pub struct History {
    /// (clients, the node that answers them): one pair, or one per region.
    pairs: Vec<(NodeId, NodeId)>,
    /// By ledger slot: the request open there (generation + 1, and what it is).
    open: Vec<(u32, Op)>,
    /// By key: the newest acknowledged version.
    newest: Vec<u32>,
    /// By key: the last acknowledgements, (version, when), newest last.
    recent: Vec<[(u32, Micros); RECENT]>,
    pub reads: u64,
    pub stale_reads: u64,
    pub staleness: Histogram,
    pub write_latency: Histogram,
}

impl History {
    /// The history between the clients and `front`, the node that answers them.
    pub fn new(clients: NodeId, front: NodeId) -> History {
        Self::of_pairs(vec![(clients, front)])
    }

    /// The history of several groups of clients, each with the node that answers it.
    pub fn of_pairs(pairs: Vec<(NodeId, NodeId)>) -> History {
        History { pairs, open: Vec::new(), newest: Vec::new(), recent: Vec::new(), reads: 0, stale_reads: 0, staleness: Histogram::new(), write_latency: Histogram::new() }
    }

    /// When the oldest request of `key` still waiting for its answer began, and whether
    /// a write is among those waiting.
    pub fn open_of(&self, key: u64) -> (Option<Micros>, bool) {
        let open = || self.open.iter().filter(|(g, op)| *g != 0 && op.key == key).map(|(_, op)| op);
        (open().map(|op| op.start).min(), open().any(|op| op.write))
    }

    pub fn newest(&self, key: u64) -> u32 {
        self.newest.get(key as usize).copied().unwrap_or(0)
    }

    /// Takes one record; returns the request it completes, if it does. When a request
    /// begins, `mark` notes what the judge needs of its key then.
    pub fn on_record(&mut self, r: &Record, mark: impl FnOnce(u64) -> u32) -> Option<Op> {
        if let Record::End { t, req, outcome, .. } = *r {
            // A request that ended without an answer reaching the client (a timeout).
            let (generation, mut op) = *self.open.get(req.slot())?;
            if generation != req.generation() + 1 || outcome == crate::ledger::Outcome::Completed {
                return None;
            }
            self.open[req.slot()].0 = 0;
            op.end = t;
            op.failed = true;
            return Some(op);
        }
        let Record::Send { t0, from, to, msg, .. } = *r else { return None };
        let slot = msg.req.slot();
        if msg.kind == Kind::Request && self.pairs.contains(&(from, to)) {
            if self.open.len() <= slot {
                self.open.resize(slot + 1, (0, Op::default()));
            }
            let op = Op { key: msg.key, user: msg.value, write: msg.tag & WRITE_TAG != 0, start: t0, newest_at_start: self.newest(msg.key), mark: mark(msg.key), ..Op::default() };
            self.open[slot] = (msg.req.generation() + 1, op);
            return None;
        }
        if !self.pairs.contains(&(to, from)) {
            return None;
        }
        let (generation, mut op) = *self.open.get(slot)?;
        if generation != msg.req.generation() + 1 {
            return None;
        }
        self.open[slot].0 = 0;
        op.end = t0;
        op.value = msg.value;
        op.answered = true;
        op.failed = msg.kind != Kind::Response;
        if op.failed {
            return Some(op);
        }
        let k = op.key as usize;
        if op.write {
            self.write_latency.record(op.end - op.start);
            if self.newest.len() <= k {
                self.newest.resize(k + 1, 0);
                self.recent.resize(k + 1, [(0, 0); RECENT]);
            }
            if op.value > self.newest[k] {
                self.newest[k] = op.value;
                let r = &mut self.recent[k];
                r.rotate_left(1);
                r[RECENT - 1] = (op.value, op.end);
            }
        } else {
            self.reads += 1;
            if op.value < op.newest_at_start {
                op.stale = true;
                self.stale_reads += 1;
                // The oldest acknowledged version newer than the one read.
                let missed = self.recent[k].iter().find(|(v, _)| *v > op.value).map_or(op.start, |(_, t)| *t);
                op.staleness_us = op.start.saturating_sub(missed);
                self.staleness.record(op.staleness_us);
            }
        }
        Some(op)
    }
}

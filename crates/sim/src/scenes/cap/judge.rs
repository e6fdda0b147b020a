//! The CAP scene's judges, on the trace: every key's history checked for
//! linearizability (an invariant in CP mode, a measure in AP mode), and AP replicas'
//! convergence after the heal.

use super::{REGIONS, Vv, region_of};
use crate::check::{Checker, RunEnd};
use crate::msg::{Kind, NodeId};
use crate::scenes::history::History;
use crate::scenes::linearizable::{INITIAL, RegOp, check};
use crate::time::Micros;
use crate::trace::Record;
use std::cell::RefCell;
use std::rc::Rc;

const LINEARIZABLE: &str = "CP: every key's history is linearizable";
/// In AP mode the same check is a measure, listed beside the invariants but never failing.
const MEASURED: &str = "AP: histories checked for linearizability (measured, not promised)";
const CONVERGE: &str = "AP: after the heal every replica holds every region's newest writes";
/// A key's history is checked every this many operations, and compacted after a check
/// once it holds more than `KEPT_PER_KEY`.
const CHECK_EVERY: u32 = 256;
const KEPT_PER_KEY: usize = 512;

#[derive(Default)]
pub struct Seen {
    pub stale: u64,
    pub non_linearizable: u64,
    pub window_stale: u64,
}

/// Every key's history as the clients saw it, checked for linearizability by the
/// register check of `linearizable`: an invariant in CP mode, a measure in AP mode.
pub struct Linearizability {
    cp: bool,
    history: History,
    keys: Vec<KeyLog>,
    seen: Rc<RefCell<Seen>>,
}

#[derive(Clone, Default)]
struct KeyLog {
    ops: Vec<RegOp>,
    /// Operations since the last check.
    fresh: u32,
    /// A write of this key ended unanswered: what it wrote is unknown, so a read of a
    /// value no recorded write wrote may have read it.
    unknown_write: bool,
}

impl KeyLog {
    /// Checks the history; returns why it is not linearizable, if it is not. While a
    /// write is still open (`writing`), what it writes is not known yet either.
    fn check(&mut self, writing: bool) -> Option<String> {
        self.fresh = 0;
        if self.unknown_write || writing {
            // Reads of unrecorded values: from a write whose value is unknown, which may
            // have taken effect any time (the most lenient reading).
            let mut written: Vec<u32> = self.ops.iter().filter(|o| o.write).map(|o| o.value).collect();
            written.sort_unstable();
            let mut unknown: Vec<u32> = self.ops.iter().filter(|o| !o.write && o.value != INITIAL && written.binary_search(&o.value).is_err()).map(|o| o.value).collect();
            unknown.sort_unstable();
            unknown.dedup();
            self.ops.extend(unknown.into_iter().map(|value| RegOp { start: 0, end: Micros::MAX, write: true, value }));
        }
        check(&self.ops)
    }

    /// Forgets what can no longer constrain the future: reads, and writes superseded for
    /// every operation still to be recorded. Those all begin at or after `open_since`
    /// (the oldest still open; with none open, later than anything recorded). A write
    /// that ended before another write began, which itself completed before then, is
    /// stale for them all: a later read returning it is a violation either way.
    /// Writes kept are moved to time 0, which only makes later checks more lenient.
    fn compact(&mut self, open_since: Option<Micros>) {
        let next = open_since.unwrap_or(Micros::MAX);
        let horizon = self.ops.iter().filter(|o| o.write && o.end < next).map(|o| o.start).max().unwrap_or(0);
        self.ops.retain(|o| o.write && o.end >= horizon);
        for o in &mut self.ops {
            o.start = 0;
        }
    }
}

impl Linearizability {
    pub fn new(cp: bool, history: History, seen: Rc<RefCell<Seen>>) -> Linearizability {
        Linearizability { cp, history, keys: Vec::new(), seen }
    }

    fn check_key(&mut self, k: usize, violations: &mut Vec<String>) {
        let (open_since, writing) = self.history.open_of(k as u64);
        let log = &mut self.keys[k];
        if let Some(why) = log.check(writing) {
            self.seen.borrow_mut().non_linearizable += 1;
            if self.cp {
                violations.push(format!("key {k}: {why}"));
            }
            log.compact(open_since);
        } else if log.ops.len() > KEPT_PER_KEY {
            log.compact(open_since);
        }
    }
}

impl Checker for Linearizability {
    fn name(&self) -> &'static str {
        if self.cp { LINEARIZABLE } else { MEASURED }
    }

    fn on_record(&mut self, r: &Record, violations: &mut Vec<String>) {
        let Some(op) = self.history.on_record(r, |_| 0) else { return };
        if op.stale {
            let mut s = self.seen.borrow_mut();
            s.stale += 1;
            s.window_stale += 1;
        }
        let k = op.key as usize;
        if self.keys.len() <= k {
            self.keys.resize(k + 1, KeyLog::default());
        }
        let log = &mut self.keys[k];
        match (op.failed, op.write) {
            (false, _) => log.ops.push(RegOp { start: op.start, end: op.end, write: op.write, value: op.value }),
            // A refused write that had begun putting its value may have taken effect.
            (true, true) if op.value != 0 => log.ops.push(RegOp { start: op.start, end: Micros::MAX, write: true, value: op.value }),
            (true, true) if !op.answered => log.unknown_write = true,
            // A failed read says nothing; nor does a write refused before it put anything.
            _ => return,
        }
        log.fresh += 1;
        if log.fresh >= CHECK_EVERY {
            self.check_key(k, violations);
        }
    }

    fn finish(&mut self, _end: &RunEnd, violations: &mut Vec<String>) {
        for k in 0..self.keys.len() {
            self.check_key(k, violations);
        }
    }
}

/// AP: at the end, every replica reachable from a region has acknowledged that region's
/// newest version of every key it wrote (so that all merge to the same state).
pub struct Converge {
    replicas: Vec<NodeId>,
    clients: Vec<NodeId>,
    /// By region, by key: the newest stamp acknowledged to its clients.
    written: Vec<Vec<u32>>,
    /// By receiving replica, by writing region, by key: the newest stamp it acknowledged.
    received: Vec<Vec<Vec<u32>>>,
}

fn raise(v: &mut Vec<u32>, k: usize, x: u32) {
    if v.len() <= k {
        v.resize(k + 1, 0);
    }
    v[k] = v[k].max(x);
}

impl Converge {
    pub fn new(replicas: Vec<NodeId>, clients: Vec<NodeId>) -> Converge {
        let n = replicas.len();
        Converge { replicas, clients, written: vec![Vec::new(); n], received: vec![vec![Vec::new(); n]; n] }
    }
}

impl Checker for Converge {
    fn name(&self) -> &'static str {
        CONVERGE
    }

    fn on_record(&mut self, r: &Record, _violations: &mut Vec<String>) {
        let Record::Send { from, to, msg, .. } = *r else { return };
        if msg.kind != Kind::Response {
            return;
        }
        if let (Some(region), true) = (self.replicas.iter().position(|x| *x == from), self.clients.contains(&to)) {
            if msg.value != 0 && region_of(msg.value) == region {
                raise(&mut self.written[region], msg.key as usize, msg.value);
            }
        } else if let (Some(rx), Some(_)) = (self.replicas.iter().position(|x| *x == from), self.replicas.iter().position(|x| *x == to)) {
            let (key, _) = Vv::unpack(msg.key, msg.tag);
            raise(&mut self.received[rx][region_of(msg.value)], key as usize, msg.value);
        }
    }

    fn finish(&mut self, end: &RunEnd, violations: &mut Vec<String>) {
        if !end.drained {
            return;
        }
        for (rx, node) in self.replicas.iter().enumerate() {
            for (region, writer) in self.replicas.iter().enumerate() {
                if rx == region || !end.reachable(*node as usize, *writer as usize) {
                    continue;
                }
                let missing = self.written[region].iter().enumerate().filter(|(k, s)| **s != 0 && self.received[rx][region].get(*k).copied().unwrap_or(0) < **s).count();
                if missing > 0 {
                    violations.push(format!("replica-{} lacks region {}'s newest version of {missing} keys", REGIONS[rx], REGIONS[region]));
                }
            }
        }
    }
}

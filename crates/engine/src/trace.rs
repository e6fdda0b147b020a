//! The trace: small, plain records of what happened, for renderers, checkers and hashes.
//!
//! Every record goes to the invariant checkers. A renderer's sink gets them too, but
//! may ask for a sample: then only every n-th request's messages and end are passed on
//! (the same requests every time), while node and fault records always are.

use crate::ledger::Outcome;
use crate::msg::{Msg, NodeId, ReqId};
use crate::rng::{FNV_OFFSET, fnv1a, mix64};
use crate::time::Micros;
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    Loss,
    Partition,
    /// Sent to a node that is dead and whose sender is dead too, so nobody learns of it.
    Dead,
    /// The receiving node swallows everything (a hung process).
    Hung,
}

/// Plain and `Copy`: building one costs nothing to free.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Record {
    /// A message leaves `from` at `t0` and reaches `to` at `t1`.
    Send { t0: Micros, t1: Micros, from: NodeId, to: NodeId, msg: Msg },
    /// The network refuses `msg` (its receiver is dead) and tells the sender at `t1`.
    Bounce { t0: Micros, t1: Micros, from: NodeId, to: NodeId, msg: Msg },
    Drop { t: Micros, from: NodeId, to: NodeId, msg: Msg, why: DropReason },
    End { t: Micros, req: ReqId, outcome: Outcome, latency_us: Micros },
    /// A component's own state changed (a breaker opened, a server was marked down).
    State { t: Micros, node: NodeId, state: u8 },
    /// Fault number `index` of the world's schedule (`World::faults`) took effect.
    Fault { t: Micros, index: u32 },
}

impl Record {
    pub fn time(&self) -> Micros {
        match *self {
            Record::Send { t0, .. } | Record::Bounce { t0, .. } => t0,
            Record::Drop { t, .. } | Record::End { t, .. } | Record::State { t, .. } | Record::Fault { t, .. } => t,
        }
    }

    /// A message a component sent, whatever became of it: when, from its sender to its
    /// receiver (a bounce record names the dead receiver first), and whether it arrived.
    /// What a component sent, it did: checkers that read outcomes off the wire use this.
    pub fn message(&self) -> Option<(Micros, NodeId, NodeId, Msg, bool)> {
        match *self {
            Record::Send { t0, from, to, msg, .. } => Some((t0, from, to, msg, true)),
            Record::Bounce { t0, from: dead, to: sender, msg, .. } => Some((t0, sender, dead, msg, false)),
            Record::Drop { t, from, to, msg, .. } => Some((t, from, to, msg, false)),
            _ => None,
        }
    }

    /// What a sample of the messages keeps or leaves out together: a message's request
    /// (and the request's end, which goes with it), or for a message of none (a
    /// connection's frames), its key with the top bit set. Health checks, node states and
    /// faults are never sampled out.
    pub fn thread(&self) -> Option<u64> {
        match self {
            Record::End { req, .. } => Some(req.0),
            Record::Send { msg, .. } | Record::Bounce { msg, .. } | Record::Drop { msg, .. } => {
                let health = matches!(msg.kind, crate::msg::Kind::HealthCheck | crate::msg::Kind::HealthReply);
                (!health).then_some(if msg.req.0 != 0 { msg.req.0 } else { msg.key | 1 << 63 })
            }
            _ => None,
        }
    }

    fn hash_into(&self, h: u64) -> u64 {
        let mut buf = [0u8; 48];
        let mut n = 0;
        let mut put = |x: u64| {
            buf[n..n + 8].copy_from_slice(&x.to_le_bytes());
            n += 8;
        };
        // A message's value counts only when it carries one, so that traces without
        // values hash as they always did.
        let msg_bits = |m: &Msg| (m.kind as u64) << 56 ^ u64::from(m.tag) << 24 ^ m.key.rotate_left(17) ^ m.req.0.rotate_left(40) ^ mix64(u64::from(m.value)) * u64::from(m.value != 0);
        match self {
            Record::Send { t0, t1, from, to, msg } | Record::Bounce { t0, t1, from, to, msg } => {
                put(u64::from(matches!(self, Record::Bounce { .. })));
                put(*t0);
                put(*t1);
                put(u64::from(*from) << 32 | u64::from(*to));
                put(msg_bits(msg));
            }
            Record::Drop { t, from, to, msg, why } => {
                put(2 + *why as u64);
                put(*t);
                put(u64::from(*from) << 32 | u64::from(*to));
                put(msg_bits(msg));
            }
            Record::End { t, req, outcome, latency_us } => {
                put(10 + *outcome as u64);
                put(*t);
                put(req.0);
                put(*latency_us);
            }
            Record::State { t, node, state } => {
                put(20);
                put(*t);
                put(u64::from(*node) << 8 | u64::from(*state));
            }
            Record::Fault { t, index } => {
                put(30);
                put(*t);
                put(u64::from(*index));
            }
        }
        fnv1a(&buf[..n], h)
    }
}

/// Where a renderer or a test receives the trace, record by record.
pub trait TraceSink {
    fn record(&mut self, r: &Record);
}

/// Hashes every record it sees: two runs agree exactly when their hashes do.
pub struct HashSink {
    pub hash: u64,
    pub records: u64,
}

impl Default for HashSink {
    fn default() -> Self {
        HashSink { hash: FNV_OFFSET, records: 0 }
    }
}

impl TraceSink for HashSink {
    fn record(&mut self, r: &Record) {
        self.hash = r.hash_into(self.hash);
        self.records += 1;
    }
}

/// The page's ring: the most records it takes from the engine per frame. Benchmarks
/// attach the same, so that their figures are those of a run on the page.
pub const PAGE_RING_CAPACITY: usize = 65_536;

/// Keeps the most recent `capacity` records: memory stays bounded however long the run.
///
/// The records are held in the batches the world hands over whole (`take_batch`), never
/// copied: the world's next batch is written straight into the memory of the oldest one
/// let go. (Copying every batch into one big ring cost a tenth of a run's time, most of
/// it the burst of writes to memory far from the cache.)
pub struct RingSink {
    /// Oldest first, each with how many of its records count (a batch keeps all its
    /// slots, so that the next one written over it needs none added); the first `skip`
    /// records of the front one are let go already.
    chunks: VecDeque<(Vec<Record>, usize)>,
    skip: usize,
    len: usize,
    /// Emptied batches, for reuse.
    spare: Vec<Vec<Record>>,
    pub capacity: usize,
    pub seen: u64,
}

/// The records a batch holds at most when a sink takes them one by one.
const CHUNK: usize = 256;

impl RingSink {
    pub fn new(capacity: usize) -> Self {
        RingSink { chunks: VecDeque::new(), skip: 0, len: 0, spare: Vec::new(), capacity, seen: 0 }
    }

    /// How many records are held.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The records held, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Record> + '_ {
        self.chunks.iter().enumerate().flat_map(|(i, (c, n))| &c[if i == 0 { self.skip } else { 0 }..*n])
    }

    /// Keeps the first `n` records of `batch`, as `record` would keep them one by one;
    /// gives back a batch to write the next records over: the memory of records let go,
    /// which it still holds (of any length up to its capacity).
    pub fn take_batch(&mut self, batch: Vec<Record>, n: usize) -> Vec<Record> {
        if n == 0 {
            return batch;
        }
        let room = batch.capacity();
        self.seen += n as u64;
        self.len += n;
        self.chunks.push_back((batch, n));
        self.trim();
        self.fresh(room)
    }

    /// A batch for `room` records, from those let go (still holding them) when there is one.
    fn fresh(&mut self, room: usize) -> Vec<Record> {
        self.spare.pop().unwrap_or_else(|| Vec::with_capacity(room))
    }

    /// Keeps `batch`'s memory for a later one. Its records stay: the world writes the
    /// next batch over them, and writing them off first would double the writes.
    fn let_go(&mut self, batch: Vec<Record>) {
        self.spare.push(batch);
    }

    /// Lets the oldest records go until at most `capacity` are held.
    fn trim(&mut self) {
        while self.len > self.capacity {
            let front = self.chunks[0].1 - self.skip;
            if self.len - front >= self.capacity {
                let (gone, _) = self.chunks.pop_front().expect("records are held");
                self.let_go(gone);
                (self.len, self.skip) = (self.len - front, 0);
            } else {
                self.skip += self.len - self.capacity;
                self.len = self.capacity;
            }
        }
    }

    /// Hands each record that arrived since the last call to `f`, oldest first; the
    /// emptied batches are kept for the next ones.
    pub fn drain_each(&mut self, mut f: impl FnMut(Record)) {
        while let Some((c, n)) = self.chunks.pop_front() {
            c[std::mem::take(&mut self.skip)..n].iter().for_each(|r| f(*r));
            self.let_go(c);
        }
        self.len = 0;
    }
}

impl TraceSink for RingSink {
    fn record(&mut self, r: &Record) {
        // Onto the last batch if it was made here (one the world handed over may hold
        // more slots than records) and has room.
        match self.chunks.back_mut() {
            Some((c, n)) if *n < CHUNK && c.len() == *n => {
                c.push(*r);
                *n += 1;
            }
            _ => {
                let mut fresh = self.fresh(CHUNK);
                fresh.clear();
                fresh.push(*r);
                self.chunks.push_back((fresh, 1));
            }
        }
        self.seen += 1;
        self.len += 1;
        self.trim();
    }
}

/// Whether request `req`'s messages pass a 1-in-`every` sample (always, for `every` <= 1).
#[inline]
pub fn sampled(req: ReqId, every: u32) -> bool {
    // The page samples by powers of two: a mask, where a division is slow in wasm.
    let (h, every) = (mix64(req.0), u64::from(every));
    every <= 1 || if every.is_power_of_two() { h & (every - 1) == 0 } else { h % every == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(i: u64) -> Record {
        Record::End { t: i, req: ReqId(i), outcome: Outcome::Completed, latency_us: 1 }
    }

    /// Taking a batch at once keeps what taking its records one by one keeps, whether the
    /// batch fits, overflows the ring, or is larger than the ring itself.
    #[test]
    fn a_batch_is_kept_as_its_records_one_by_one() {
        let (mut one, mut all) = (RingSink::new(100), RingSink::new(100));
        let mut next = 0;
        for n in [30, 50, 40, 250, 0, 7, 100] {
            let batch: Vec<Record> = (next..next + n).map(end).collect();
            next += n;
            batch.iter().for_each(|r| one.record(r));
            // A batch with slots past its records (as the world hands them over): only the
            // records count, and one taken one by one next goes after them.
            let mut slots = batch.clone();
            slots.resize(n as usize + 9, end(u64::MAX));
            let _ = all.take_batch(slots, n as usize);
            if n % 2 == 0 {
                one.record(&end(next));
                all.record(&end(next));
                next += 1;
            }
            let (a, b): (Vec<Record>, Vec<Record>) = (one.iter().copied().collect(), all.iter().copied().collect());
            assert_eq!((a, one.seen, one.len()), (b, all.seen, all.len()), "after a batch of {n}");
        }
        assert_eq!(all.len(), 100);
        let mut drained = Vec::new();
        all.drain_each(|r| drained.push(r));
        assert_eq!(drained.first(), Some(&end(next - 100)));
        assert_eq!((drained.len(), all.len(), all.iter().count()), (100, 0, 0));
        // After a drain the ring starts afresh, in the batches it emptied.
        assert!(!all.spare.is_empty(), "drained batches are kept for reuse");
        one.drain_each(|_| {});
        assert_eq!(one.len(), 0);
        for n in [3, 120, 60] {
            let batch: Vec<Record> = (next..next + n).map(end).collect();
            next += n;
            batch.iter().for_each(|r| one.record(r));
            let _ = all.take_batch(batch, n as usize);
            let (a, b): (Vec<Record>, Vec<Record>) = (one.iter().copied().collect(), all.iter().copied().collect());
            assert_eq!(a, b, "after a drain and a batch of {n}");
            assert_eq!(b.last(), Some(&end(next - 1)));
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        one.drain_each(|r| a.push(r));
        all.drain_each(|r| b.push(r));
        assert_eq!(a, b);
    }

    /// A request's end goes with its messages in a sample; faults and node states never
    /// leave it.
    #[test]
    fn an_end_is_sampled_with_its_request() {
        let msg = Msg::new(crate::msg::Kind::Request, ReqId(42));
        let send = Record::Send { t0: 0, t1: 1, from: 0, to: 1, msg };
        assert_eq!(end(42).thread(), send.thread());
        assert_eq!(Record::Fault { t: 0, index: 0 }.thread(), None);
        assert_eq!(Record::State { t: 0, node: 0, state: 1 }.thread(), None);
    }
}

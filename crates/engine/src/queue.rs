//! The event queue: ordered by `(time_us, seq)`, so that ties break the same way everywhere.

use crate::msg::{Msg, NodeId};
use crate::time::Micros;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

#[derive(Clone, Copy, Debug)]
pub(crate) enum EventKind {
    Deliver { from: NodeId, to: NodeId, msg: Msg },
    Bounce { dead: NodeId, to: NodeId, msg: Msg },
    Timer { node: NodeId, epoch: u32, token: u64 },
    Fault(u32),
}

pub(crate) struct Event {
    pub time_us: Micros,
    pub kind: EventKind,
}

/// What the heap orders: small, so that sifting moves little. The payload waits in a slab.
struct Entry {
    time_us: Micros,
    seq: u64,
    slot: u32,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.time_us, self.seq) == (other.time_us, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest event.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time_us, other.seq).cmp(&(self.time_us, self.seq))
    }
}

#[derive(Default)]
pub(crate) struct EventQueue {
    heap: BinaryHeap<Entry>,
    payloads: Vec<EventKind>,
    free: Vec<u32>,
    next_seq: u64,
}

impl EventQueue {
    #[inline]
    pub fn push(&mut self, time_us: Micros, kind: EventKind) {
        let slot = match self.free.pop() {
            Some(s) => {
                self.payloads[s as usize] = kind;
                s
            }
            None => {
                self.payloads.push(kind);
                (self.payloads.len() - 1) as u32
            }
        };
        self.heap.push(Entry { time_us, seq: self.next_seq, slot });
        self.next_seq += 1;
    }
    #[inline]
    pub fn pop(&mut self) -> Option<Event> {
        let e = self.heap.pop()?;
        self.free.push(e.slot);
        Some(Event { time_us: e.time_us, kind: self.payloads[e.slot as usize] })
    }
    #[inline]
    pub fn peek_time(&self) -> Option<Micros> {
        self.heap.peek().map(|e| e.time_us)
    }
    pub fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_by_insertion_order() {
        let mut q = EventQueue::default();
        for (t, f) in [(5, 0), (1, 1), (5, 2), (1, 3), (0, 4)] {
            q.push(t, EventKind::Fault(f));
        }
        let order: Vec<u32> = std::iter::from_fn(|| q.pop())
            .map(|e| match e.kind {
                EventKind::Fault(f) => f,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(order, vec![4, 1, 3, 0, 2]);
    }
}

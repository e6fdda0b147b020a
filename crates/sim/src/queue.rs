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
    pub seq: u64,
    pub kind: EventKind,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        (self.time_us, self.seq) == (other.time_us, other.seq)
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest event.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time_us, other.seq).cmp(&(self.time_us, self.seq))
    }
}

#[derive(Default)]
pub(crate) struct EventQueue {
    heap: BinaryHeap<Event>,
    next_seq: u64,
}

impl EventQueue {
    #[inline]
    pub fn push(&mut self, time_us: Micros, kind: EventKind) {
        self.heap.push(Event { time_us, seq: self.next_seq, kind });
        self.next_seq += 1;
    }
    #[inline]
    pub fn pop(&mut self) -> Option<Event> {
        self.heap.pop()
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

//! The event queue: ordered by `(time_us, seq)`, so that ties break the same way everywhere.
//!
//! Most events in a model without network delay are due at the very instant they are
//! made (a message to the next hop). Those skip the heap: they wait in a FIFO beside it,
//! in the order they were pushed. The order of the whole stays exactly `(time_us, seq)`:
//! a push due at the instant of the last pop goes to the FIFO, so the FIFO holds only
//! events of that instant, each pushed after every heap event of that instant (those
//! were pushed at an earlier instant, or before that pop). So the heap's events of the
//! instant come first, then the FIFO's, then the heap's later ones.

use crate::msg::{Msg, NodeId};
use crate::time::Micros;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

#[derive(Clone, Copy, Debug)]
#[repr(align(16))]
pub(crate) enum EventKind {
    Deliver { from: NodeId, to: NodeId, msg: Msg },
    Bounce { dead: NodeId, to: NodeId, msg: Msg },
    Timer { node: NodeId, epoch: u32, token: u64 },
    Fault(u32),
}

#[cfg(test)]
pub(crate) struct Event {
    pub time_us: Micros,
    pub kind: EventKind,
}

/// What the heap orders, as one number that compares as `(time_us, seq)`: the time in
/// the high 64 bits, then the push's sequence number, then the payload's slot. One
/// `u128` sifts as two registers, where a struct would move through memory.
type Entry = Reverse<u128>;
const SLOT_BITS: u32 = 24;
/// Sequence numbers wrap here; the queue then renumbers what it holds (once in 10^12 pushes).
const SEQ_LIMIT: u64 = 1 << (64 - SLOT_BITS);

#[inline]
fn entry(time_us: Micros, seq: u64, slot: u32) -> Entry {
    Reverse(u128::from(time_us) << 64 | u128::from(seq << SLOT_BITS | u64::from(slot)))
}
#[inline]
fn time_of(e: &Entry) -> Micros {
    (e.0 >> 64) as Micros
}
#[inline]
fn slot_of(e: &Entry) -> u32 {
    (e.0 as u64 & ((1 << SLOT_BITS) - 1)) as u32
}

#[derive(Default)]
pub(crate) struct EventQueue {
    heap: BinaryHeap<Entry>,
    payloads: Vec<EventKind>,
    /// The payload slots free for reuse, in `free[..free_len]`: there is a place for
    /// every slot, so that freeing one is a write, not a `Vec::push` (a call in the
    /// wasm built for size, at every pop from the heap).
    free: Vec<u32>,
    free_len: usize,
    next_seq: u64,
    /// Events due at `instant`, in the order they were pushed: those from `now_head` to
    /// `now_len` wait (the slots past them are there to be written over). It empties at
    /// every instant, when both go back to the start, so it needs no ring's wrapping.
    now: Vec<EventKind>,
    now_head: usize,
    now_len: usize,
    /// Later events pushed in order of time (messages on a network whose delay is the
    /// same for all): a plain queue ordered as the heap orders, by `(time, seq)` keys of
    /// the same form, so that these cost no sifting.
    lane: Lane,
    /// The time of the last event popped.
    instant: Micros,
}

impl EventQueue {
    #[inline(always)]
    pub fn push(&mut self, time_us: Micros, kind: EventKind) {
        // The event is written straight where it waits, field by field as it was made:
        // handed whole to a function it would be put together in memory and read back in
        // other chunks than were written, which stalls the CPU. (So the slots are written
        // through slices: `Vec::push` and a `Vec`'s index are such functions in the wasm
        // built for size.)
        if time_us == self.instant {
            if self.now_len == self.now.len() {
                self.now.push(FILLER);
            }
            self.now.as_mut_slice()[self.now_len] = kind;
            self.now_len += 1;
        } else {
            let slot = self.push_later(time_us);
            self.payloads.as_mut_slice()[slot as usize] = kind;
        }
    }

    /// `push` for rare events (a fault, a bounce), whose code need not be repeated
    /// where they are made.
    #[inline(never)]
    pub fn push_rare(&mut self, time_us: Micros, kind: EventKind) {
        self.push(time_us, kind);
    }

    /// `push` for an event that is most likely due no sooner than the last one pushed
    /// this way (a message, when every hop takes as long): it joins the lane when it is.
    #[inline(always)]
    pub fn push_in_order(&mut self, time_us: Micros, kind: EventKind) {
        if time_us != self.instant && self.lane.back_time().is_none_or(|t| t <= time_us) {
            let seq = self.next_seq();
            self.lane.push_back(entry(time_us, seq, 0), kind);
        } else {
            self.push(time_us, kind);
        }
    }

    #[inline(always)]
    fn next_seq(&mut self) -> u64 {
        if self.next_seq == SEQ_LIMIT {
            self.renumber();
        }
        self.next_seq += 1;
        self.next_seq - 1
    }

    /// Orders an event due at `time_us` in the heap; the slot its payload goes in.
    fn push_later(&mut self, time_us: Micros) -> u32 {
        let slot = if self.free_len > 0 {
            self.free_len -= 1;
            self.free.as_slice()[self.free_len]
        } else {
            self.new_slot()
        };
        let seq = self.next_seq();
        self.heap.push(entry(time_us, seq, slot));
        slot
    }

    /// A payload slot never used before, with its place in the free stack.
    #[cold]
    #[inline(never)]
    fn new_slot(&mut self) -> u32 {
        assert!(self.payloads.len() < 1 << SLOT_BITS, "more than 16 million events pending at once");
        self.payloads.push(FILLER);
        self.free.push(0);
        (self.payloads.len() - 1) as u32
    }

    /// Gives the pending events fresh sequence numbers from 0, in the order they hold.
    #[cold]
    #[inline(never)]
    fn renumber(&mut self) {
        // Sorted ascending by `Reverse`: the latest event first.
        let mut held = std::mem::take(&mut self.heap).into_sorted_vec();
        held.reverse();
        let (mut h, mut seq, mut fresh) = (0, 0, Vec::with_capacity(held.len()));
        // The heap's and the lane's keys in one order, the lane's being in order already.
        for j in 0..self.lane.len {
            let k = self.lane.key_mut(j);
            while h < held.len() && held[h].0 < k.0 {
                fresh.push(entry(time_of(&held[h]), seq, slot_of(&held[h])));
                (h, seq) = (h + 1, seq + 1);
            }
            *k = entry(time_of(k), seq, 0);
            seq += 1;
        }
        for e in &held[h..] {
            fresh.push(entry(time_of(e), seq, slot_of(e)));
            seq += 1;
        }
        self.heap = fresh.into();
        self.next_seq = seq;
    }

    /// The next event if it is due by `until`: its time, and the event where it waits
    /// (valid until the next push); `None` when there is none so soon.
    /// (Read in place by the one `match` that handles it: copied out first, the copy was
    /// a `match` on the kind of its own, a second jump on the event's kind, and a whole
    /// copy of a message just written a field at a time stalls the CPU.)
    #[inline]
    pub fn pop_ref(&mut self, until: Micros) -> Option<(Micros, &EventKind)> {
        let lane = self.lane.front_key();
        if self.now_head < self.now_len
            && self.instant <= until
            && self.heap.peek().is_none_or(|e| time_of(e) > self.instant)
            && lane.is_none_or(|k| time_of(&k) > self.instant)
        {
            let i = self.now_head;
            self.now_head += 1;
            if self.now_head == self.now_len {
                (self.now_head, self.now_len) = (0, 0);
            }
            return Some((self.instant, &self.now.as_slice()[i]));
        }
        if let Some(k) = lane
            && self.heap.peek().is_none_or(|e| e.0 > k.0)
        {
            let time_us = time_of(&k);
            if time_us > until {
                return None;
            }
            self.instant = time_us;
            return Some((time_us, self.lane.pop_front()));
        }
        if self.heap.peek().is_none_or(|e| time_of(e) > until) {
            return None;
        }
        let e = self.heap.pop()?;
        let (time_us, slot) = (time_of(&e), slot_of(&e));
        self.free.as_mut_slice()[self.free_len] = slot;
        self.free_len += 1;
        self.instant = time_us;
        Some((time_us, &self.payloads.as_slice()[slot as usize]))
    }
    #[cfg(test)]
    fn pop(&mut self) -> Option<Event> {
        self.pop_ref(Micros::MAX).map(|(time_us, kind)| Event { time_us, kind: *kind })
    }
    #[inline]
    pub fn peek_time(&self) -> Option<Micros> {
        if self.now_head < self.now_len {
            return Some(self.instant);
        }
        let lane = self.lane.front_key().map(|k| time_of(&k));
        match (self.heap.peek().map(time_of), lane) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
    pub fn len(&self) -> usize {
        self.heap.len() + self.lane.len + self.now_len - self.now_head
    }
}

/// What a slot holds before its first event.
const FILLER: EventKind = EventKind::Fault(0);

/// A FIFO in a ring of slots written in place (see `EventQueue::push`); the capacity
/// is a power of two.
#[derive(Default)]
struct Lane {
    slots: Vec<(Entry, EventKind)>,
    head: usize,
    len: usize,
}

impl Lane {
    #[inline(always)]
    fn front_key(&self) -> Option<Entry> {
        if self.len == 0 { None } else { Some(self.slots.as_slice()[self.head].0) }
    }

    #[inline]
    fn back_time(&self) -> Option<Micros> {
        if self.len == 0 {
            return None;
        }
        let last = (self.head + self.len - 1) & (self.slots.len() - 1);
        Some(time_of(&self.slots.as_slice()[last].0))
    }

    #[inline(always)]
    fn push_back(&mut self, key: Entry, kind: EventKind) {
        if self.len == self.slots.len() {
            self.grow();
        }
        let i = (self.head + self.len) & (self.slots.len() - 1);
        self.slots.as_mut_slice()[i] = (key, kind);
        self.len += 1;
    }

    /// Takes the front event (there is one): where it waits, until the next push.
    #[inline]
    fn pop_front(&mut self) -> &EventKind {
        let i = self.head;
        self.head = (i + 1) & (self.slots.len() - 1);
        self.len -= 1;
        &self.slots.as_slice()[i].1
    }

    /// Doubles the slots of a full lane: the events that wrapped around to the start
    /// move to just past the old end, after the others.
    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let old = self.slots.len();
        self.slots.resize((2 * old).max(16), (Reverse(0), FILLER));
        let (wrapped, new) = self.slots.split_at_mut(old);
        new[..self.head].copy_from_slice(&wrapped[..self.head]);
    }

    /// The key of the `j`th event from the front.
    fn key_mut(&mut self, j: usize) -> &mut Entry {
        let i = (self.head + j) & (self.slots.len() - 1);
        &mut self.slots[i].0
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

    /// The lane's ring is a FIFO through wrapping around and growing while wrapped.
    #[test]
    fn the_lane_keeps_its_order_through_wrapping_and_growth() {
        let (mut lane, mut model) = (Lane::default(), std::collections::VecDeque::new());
        let mut rng = crate::rng::Rng::new(11, "lane");
        for n in 0..5000u32 {
            if rng.below(3) < 2 {
                lane.push_back(entry(u64::from(n), u64::from(n), 0), EventKind::Fault(n));
                model.push_back(n);
            } else if let Some(want) = model.pop_front() {
                let got = *lane.pop_front();
                assert!(matches!(got, EventKind::Fault(f) if f == want), "{got:?} for {want}");
            }
            assert_eq!(lane.len, model.len());
            assert_eq!(lane.front_key().map(|k| time_of(&k)), model.front().map(|&n| u64::from(n)));
            assert_eq!(lane.back_time(), model.back().map(|&n| u64::from(n)));
        }
        assert!(lane.slots.len() >= 1024, "grew: {}", lane.slots.len());
    }

    /// When sequence numbers run out, the events waiting keep their order.
    #[test]
    fn renumbering_keeps_the_order() {
        let mut q = EventQueue::default();
        q.next_seq = SEQ_LIMIT - 3;
        for (t, f) in [(9, 0), (5, 1), (9, 2), (5, 3), (7, 4), (5, 5)] {
            q.push(t, EventKind::Fault(f));
        }
        assert!(q.next_seq < 10, "renumbered: {}", q.next_seq);
        // And with the lane holding some: 6 and 8 join it, 5 comes too late for it.
        q.next_seq = SEQ_LIMIT - 1;
        for (t, f) in [(6, 6), (8, 7), (5, 8)] {
            q.push_in_order(t, EventKind::Fault(f));
        }
        assert_eq!((q.lane.len, q.next_seq < 20), (2, true));
        let order: Vec<u32> = std::iter::from_fn(|| q.pop())
            .map(|e| match e.kind {
                EventKind::Fault(f) => f,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(order, vec![1, 3, 5, 8, 6, 4, 7, 0, 2]);
    }

    /// Events pushed for the instant being played, between and after heap events of
    /// that same instant, and events in the lane beside the heap, pop exactly as a
    /// single heap ordered by (time, seq) would.
    #[test]
    fn events_of_the_current_instant_keep_the_total_order() {
        let mut q = EventQueue::default();
        let mut reference = BinaryHeap::new();
        let mut rng = crate::rng::Rng::new(7, "queue");
        let mut next = 0u32;
        let (mut got, mut want) = (Vec::new(), Vec::new());
        // The reference's seq is the event's number: both count pushes.
        let push = |q: &mut EventQueue, reference: &mut BinaryHeap<Reverse<(Micros, u32)>>, next: &mut u32, t: Micros, in_order: bool| {
            if in_order {
                q.push_in_order(t, EventKind::Fault(*next));
            } else {
                q.push(t, EventKind::Fault(*next));
            }
            reference.push(Reverse((t, *next)));
            *next += 1;
        };
        for _ in 0..5 {
            push(&mut q, &mut reference, &mut next, rng.below(4), false);
        }
        while let Some(e) = q.pop() {
            let EventKind::Fault(f) = e.kind else { unreachable!() };
            got.push((e.time_us, f));
            let Reverse(r) = reference.pop().expect("the same number of events");
            want.push(r);
            // What a handler does: some events at this very instant, some later; some
            // messages with the network's usual delay (mostly in order), some timers.
            if next < 4000 {
                for _ in 0..1 + rng.below(2) {
                    let (delay, in_order) = match rng.below(10) {
                        0..3 => (0, rng.chance(0.5)),
                        3..6 => (3, true),
                        6..7 => (rng.below(6), true),
                        _ => (1 + rng.below(4), false),
                    };
                    push(&mut q, &mut reference, &mut next, e.time_us + delay, in_order);
                }
            }
        }
        assert!(reference.is_empty());
        assert!(got.len() > 1000, "a long run: {}", got.len());
        assert_eq!(got, want);
        assert!(!q.lane.slots.is_empty(), "the lane was used");
    }
}

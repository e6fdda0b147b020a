//! Request accounting: every request ends exactly one way, and at every instant
//! `sent = completed + rejected + failed + timed_out + in_flight`.

use crate::msg::ReqId;
use crate::time::Micros;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Completed,
    Rejected,
    Failed,
    TimedOut,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [Outcome::Completed, Outcome::Rejected, Outcome::Failed, Outcome::TimedOut];
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Rejected => "rejected",
            Outcome::Failed => "failed",
            Outcome::TimedOut => "timed_out",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub sent: u64,
    pub completed: u64,
    pub rejected: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub in_flight: u64,
}

impl Counts {
    pub fn balanced(&self) -> bool {
        self.sent == self.completed + self.rejected + self.failed + self.timed_out + self.in_flight
    }
    pub fn ended(&self) -> u64 {
        self.completed + self.rejected + self.failed + self.timed_out
    }
}

/// Open requests live in a slab whose slots are reused, so memory follows the
/// number in flight, not the number ever sent.
#[derive(Default)]
pub struct Ledger {
    slots: Vec<Slot>,
    free: Vec<u32>,
    counts: Counts,
}

/// A request's place: when it was sent, and which request holds it now.
#[derive(Clone, Copy, Default)]
struct Slot {
    start_us: Micros,
    generation: u32,
    open: bool,
}

impl Ledger {
    pub fn open(&mut self, now: Micros) -> ReqId {
        let slot = match self.free.pop() {
            Some(s) => s as usize,
            None => {
                self.slots.push(Slot::default());
                self.slots.len() - 1
            }
        };
        let s = &mut self.slots[slot];
        s.start_us = now;
        s.open = true;
        self.counts.sent += 1;
        self.counts.in_flight += 1;
        ReqId(u64::from(s.generation) << 32 | slot as u64)
    }

    #[inline(always)]
    pub fn is_open(&self, req: ReqId) -> bool {
        self.slots.get(req.slot()).is_some_and(|s| s.open && s.generation == req.generation())
    }

    /// Ends `req`; returns its latency and whether the counts still balance, or `None` if
    /// it was not open (a bug in a component).
    pub fn end(&mut self, req: ReqId, outcome: Outcome, now: Micros) -> Option<(Micros, bool)> {
        if !self.is_open(req) {
            return None;
        }
        let slot = &mut self.slots[req.slot()];
        slot.open = false;
        slot.generation = slot.generation.wrapping_add(1);
        let start_us = slot.start_us;
        self.free.push(req.slot() as u32);
        // Counted in registers and checked there: read back from memory just after its
        // fields were written one by one, the whole was read in wider chunks than were
        // written, which stalls the CPU.
        let mut c = self.counts;
        c.in_flight -= 1;
        match outcome {
            Outcome::Completed => c.completed += 1,
            Outcome::Rejected => c.rejected += 1,
            Outcome::Failed => c.failed += 1,
            Outcome::TimedOut => c.timed_out += 1,
        }
        self.counts = c;
        Some((now - start_us, c.balanced()))
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }

    #[inline]
    pub fn sent(&self) -> u64 {
        self.counts.sent
    }

    /// How many slots exist: the most requests ever in flight at once.
    pub fn slots(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_request_ends_once_and_slots_are_reused() {
        let mut l = Ledger::default();
        let a = l.open(0);
        let b = l.open(5);
        assert_eq!(l.end(a, Outcome::Completed, 10), Some((10, true)));
        assert_eq!(l.end(a, Outcome::Failed, 11), None, "a second end is refused");
        let c = l.open(20);
        assert_eq!(c.slot(), a.slot());
        assert!(!l.is_open(a) && l.is_open(c));
        l.end(b, Outcome::TimedOut, 30);
        let n = l.counts();
        assert!(n.balanced());
        assert_eq!((n.sent, n.completed, n.timed_out, n.in_flight), (3, 1, 1, 1));
        assert_eq!(l.slots(), 2);
    }
}

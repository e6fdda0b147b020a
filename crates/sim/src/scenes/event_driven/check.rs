//! The invariants, from the trace. What each service applied is on the wire (its answer
//! to the consumer: applied, or already had it), and so is each commit. At-least-once
//! loses nothing: a partition is never committed past an event that some service has not
//! answered for. Effectively-once has zero duplicates: no service answers "applied" twice
//! for one event.

use super::broker::partition_of;
use crate::check::Checker;
use crate::msg::{Kind, NodeId};
use crate::trace::Record;
use std::collections::VecDeque;

/// One partition's offsets from `base` on: a bit per service that answered "applied",
/// another per service that answered at all.
#[derive(Default)]
struct Offsets {
    marks: VecDeque<(u8, u8)>,
    base: u32,
    /// Offsets below it are answered for by every service.
    done: u32,
}

pub struct Delivery {
    name: &'static str,
    broker: NodeId,
    sinks: Vec<NodeId>,
    /// Which of the two invariants this checks.
    no_duplicates: bool,
    partitions: Vec<Offsets>,
}

/// Offsets kept behind the point every service has answered to.
const KEEP: u32 = 4096;

impl Delivery {
    pub fn new(name: &'static str, broker: NodeId, sinks: Vec<NodeId>, partitions: usize, no_duplicates: bool) -> Self {
        Delivery { name, broker, sinks, no_duplicates, partitions: (0..partitions).map(|_| Offsets::default()).collect() }
    }
}

impl Checker for Delivery {
    fn name(&self) -> &'static str {
        self.name
    }

    fn on_record(&mut self, r: &Record, violations: &mut Vec<String>) {
        let Some((_, from, to, msg, arrived)) = r.message() else { return };
        let p = partition_of(msg.tag);
        if p >= self.partitions.len() {
            return;
        }
        let all = (1u8 << self.sinks.len()) - 1;
        if to == self.broker && msg.kind == Kind::Write && arrived {
            // A commit: every event before it answered for by every service.
            let o = &self.partitions[p];
            if !self.no_duplicates && msg.value > o.done {
                violations.push(format!("partition {p} committed up to offset {}, but offset {} is not applied at every service", msg.value, o.done));
            }
            return;
        }
        let Some(s) = self.sinks.iter().position(|&n| n == from) else { return };
        if !matches!(msg.kind, Kind::Response | Kind::Reject) {
            return;
        }
        let o = &mut self.partitions[p];
        if msg.value < o.base {
            return;
        }
        let i = (msg.value - o.base) as usize;
        if o.marks.len() <= i {
            o.marks.resize(i + 1, (0, 0));
        }
        let (applied, answered) = &mut o.marks[i];
        if msg.kind == Kind::Response {
            if self.no_duplicates && *applied & 1 << s != 0 {
                violations.push(format!("partition {p} offset {}: applied twice at service {}", msg.value, s + 1));
            }
            *applied |= 1 << s;
        }
        *answered |= 1 << s;
        while o.done >= o.base && ((o.done - o.base) as usize) < o.marks.len() && o.marks[(o.done - o.base) as usize].1 == all {
            o.done += 1;
        }
        while o.base + KEEP < o.done {
            o.marks.pop_front();
            o.base += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{Msg, ReqId};

    const B: NodeId = 0;
    const C: NodeId = 1;
    const S: [NodeId; 2] = [5, 6];

    fn answer(sink: NodeId, offset: u32, kind: Kind) -> Record {
        Record::Send { t0: 1, t1: 2, from: sink, to: C, msg: Msg { kind, req: ReqId(0), key: 0, tag: 0, value: offset } }
    }

    fn commit(upto: u32) -> Record {
        Record::Send { t0: 1, t1: 2, from: C, to: B, msg: Msg { kind: Kind::Write, req: ReqId(0), key: 0, tag: 0, value: upto } }
    }

    fn check(no_duplicates: bool, history: &[Record]) -> Vec<String> {
        let mut c = Delivery::new("test", B, S.to_vec(), 1, no_duplicates);
        let mut v = Vec::new();
        for r in history {
            c.on_record(r, &mut v);
        }
        v
    }

    #[test]
    fn committing_after_every_service_answered_loses_nothing() {
        let ok = [answer(5, 0, Kind::Response), answer(6, 0, Kind::Response), commit(1), answer(5, 1, Kind::Response), answer(6, 1, Kind::Reject), commit(2)];
        assert!(check(false, &ok).is_empty());
    }

    #[test]
    fn committing_past_an_event_not_applied_everywhere_is_caught() {
        let v = check(false, &[answer(5, 0, Kind::Response), commit(1)]);
        assert_eq!(v.len(), 1);
        assert!(v[0].contains("committed up to offset 1, but offset 0"), "{v:?}");
    }

    #[test]
    fn an_event_applied_twice_is_caught_only_where_duplicates_are_ruled_out() {
        let twice = [answer(5, 0, Kind::Response), answer(5, 0, Kind::Response)];
        assert_eq!(check(true, &twice).len(), 1);
        assert!(check(true, &[answer(5, 0, Kind::Response), answer(5, 0, Kind::Reject)]).is_empty(), "a repeat skipped is fine");
    }
}

//! The invariant, from the trace: what each service did and undid is on the wire (its
//! done, its undone that undid something), and so is how the saga ended (the answer to
//! the traveller). A saga that ended booked must have every step done and none undone;
//! one that ended cancelled must have undone every step it did; and no step is undone
//! that never ran.

use super::nodes::{DONE, STEPS, UNDONE, op_of};
use crate::check::Checker;
use crate::idmap::IdWindow;
use crate::msg::{Kind, NodeId};
use crate::time::Micros;
use crate::trace::Record;

#[derive(Default)]
struct Seen {
    done: u8,
    undone: u8,
    /// How it ended: 0 not yet, 1 booked, 2 cancelled.
    ended: u8,
}

pub struct Ends {
    coordinator: NodeId,
    client: NodeId,
    seen: IdWindow<Seen>,
    keep: Micros,
}

impl Ends {
    pub fn new(coordinator: NodeId, client: NodeId, keep: Micros) -> Self {
        Ends { coordinator, client, seen: IdWindow::default(), keep }
    }
}

/// The steps in `mask`, as `[flight, hotel]` (written out rather than with `{:?}`, whose
/// string escaping would bring the Unicode tables into the page).
fn steps(mask: u8) -> String {
    let names: Vec<&str> = (0..STEPS).filter(|i| mask & (1 << i) != 0).map(|i| super::SERVICES[i]).collect();
    format!("[{}]", names.join(", "))
}

impl Checker for Ends {
    fn name(&self) -> &'static str {
        super::INVARIANT
    }

    fn on_record(&mut self, r: &Record, violations: &mut Vec<String>) {
        // Sent is done: whether it arrives, bounces or is lost on the way.
        let Some((t, from, to, msg, _)) = r.message() else { return };
        let id = msg.key;
        // A request bounced back to the traveller carries its key, not a saga's.
        if msg.kind == Kind::Request {
            return;
        }
        if from == self.coordinator && to == self.client {
            let Some(s) = self.seen.entry(id, t) else { return };
            let booked = msg.kind == Kind::Response;
            s.ended = if booked { 1 } else { 2 };
            let wrong = if booked { s.done != (1 << STEPS) - 1 || s.undone != 0 } else { s.done & !s.undone != 0 };
            if wrong {
                violations.push(format!(
                    "saga {id} ended {}: done {}, undone {}",
                    if booked { "booked" } else { "cancelled" },
                    steps(s.done),
                    steps(s.undone)
                ));
            }
            let _ = self.seen.trim(t.saturating_sub(self.keep), |s| s.ended != 0);
            return;
        }
        if from == self.client || from == self.coordinator {
            return;
        }
        let (op, step) = op_of(msg.tag);
        let Some(s) = self.seen.entry(id, t) else { return };
        // After the end nothing may change: a step done after a cancel is a trip half booked,
        // one undone after a booking too (a step done again, repeating itself, is fine).
        if (s.ended == 2 && op == DONE) || (s.ended == 1 && op == UNDONE && msg.value == 1) {
            violations.push(format!("saga {id}: {} {} after the saga ended {}", super::SERVICES[step], if op == DONE { "done" } else { "undone" }, if s.ended == 1 { "booked" } else { "cancelled" }));
        }
        match op {
            DONE => s.done |= 1 << step,
            UNDONE if msg.value == 1 => {
                if s.done & (1 << step) == 0 {
                    violations.push(format!("saga {id}: {} compensated, but it never ran", super::SERVICES[step]));
                }
                s.undone |= 1 << step;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::nodes::{FAILED, tag};
    use super::*;
    use crate::msg::{Msg, ReqId};

    const C: NodeId = 0;
    const CLIENT: NodeId = 9;

    fn send(from: NodeId, to: NodeId, key: u64, kind: Kind, tag: u32, value: u32) -> Record {
        Record::Send { t0: 1, t1: 2, from, to, msg: Msg { kind, req: ReqId(1), key, tag, value } }
    }

    fn check(history: &[Record]) -> Vec<String> {
        let mut c = Ends::new(C, CLIENT, 1_000_000);
        let mut v = Vec::new();
        for r in history {
            c.on_record(r, &mut v);
        }
        v
    }

    fn done(step: usize) -> Record {
        send(1 + step as NodeId, C, 5, Kind::Response, tag(DONE, step), 0)
    }

    fn undone(step: usize, undid: u32) -> Record {
        send(1 + step as NodeId, C, 5, Kind::Response, tag(UNDONE, step), undid)
    }

    #[test]
    fn booked_in_full_or_undone_in_reverse_is_fine() {
        let booked = [done(0), done(1), done(2), done(3), send(C, CLIENT, 5, Kind::Response, 0, 0)];
        assert!(check(&booked).is_empty());
        let failed = send(3, C, 5, Kind::Error, tag(FAILED, 2), 0);
        let cancelled = [done(0), done(1), failed, undone(1, 1), undone(0, 1), send(C, CLIENT, 5, Kind::Error, 0, 0)];
        assert!(check(&cancelled).is_empty());
        // A step that timed out is compensated too; its service had nothing to undo.
        assert!(check(&[done(0), undone(1, 0), undone(0, 1), send(C, CLIENT, 5, Kind::Error, 0, 0)]).is_empty());
    }

    #[test]
    fn a_saga_left_partial_is_caught() {
        let v = check(&[done(0), done(1), undone(1, 1), send(C, CLIENT, 5, Kind::Error, 0, 0)]);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].contains("done [flight, hotel], undone [hotel]"), "{v:?}");
        assert_eq!(check(&[done(0), done(1), done(2), send(C, CLIENT, 5, Kind::Response, 0, 0)]).len(), 1, "booked with a step missing");
    }

    #[test]
    fn a_step_done_after_the_saga_was_cancelled_is_caught() {
        let v = check(&[done(0), undone(0, 1), send(C, CLIENT, 5, Kind::Error, 0, 0), done(1)]);
        assert_eq!(v.len(), 1);
        assert!(v[0].contains("hotel done after the saga ended cancelled"), "{v:?}");
    }

    #[test]
    fn a_step_repeating_its_done_after_a_booking_is_fine() {
        assert!(check(&[done(0), done(1), done(2), done(3), send(C, CLIENT, 5, Kind::Response, 0, 0), done(3)]).is_empty());
    }

    #[test]
    fn undoing_a_step_that_never_ran_is_caught() {
        let v = check(&[done(0), undone(2, 1)]);
        assert_eq!(v.len(), 1);
        assert!(v[0].contains("car compensated, but it never ran"), "{v:?}");
    }
}

//! The invariant, from the trace: none vanish. A job delivered to a worker comes back
//! within its lease and one sweep of the queue: done, failed, handed back by a dead
//! worker, or its lease revoked (the queue takes it back); a job that failed every
//! attempt is dead-lettered at once. What the queue does with the jobs it holds (a
//! backlog, a backoff) takes as long as it takes; its books are checked by `vanished`.

use crate::check::{Checker, RunEnd};
use crate::idmap::IdWindow;
use crate::msg::{Kind, NodeId};
use crate::time::{Micros, US_PER_S};
use crate::trace::Record;
use std::collections::VecDeque;

#[derive(Default)]
struct Seen {
    /// Events of this job between the queue, its workers and the dead-letter queue.
    progress: u32,
    /// Failures the queue heard of: from the worker that holds the job's lease.
    failures: u32,
    /// The worker the job was last delivered to, while it holds the lease.
    holder: Option<NodeId>,
    finished: bool,
}

pub struct NoneVanish {
    queue: NodeId,
    dlq: NodeId,
    retries: u32,
    /// How long a delivered job may go without news.
    quiet: Micros,
    seen: IdWindow<Seen>,
    /// `(deadline, job, progress then, what it waits for)`, in deadline order.
    due: VecDeque<(Micros, u64, u32, &'static str)>,
    dead_letter_due: VecDeque<(Micros, u64, u32, &'static str)>,
}

impl NoneVanish {
    pub fn new(queue: NodeId, dlq: NodeId, retries: u32, lease: Micros) -> Self {
        NoneVanish { queue, dlq, retries, quiet: lease + lease / 4 + US_PER_S, seen: IdWindow::default(), due: VecDeque::new(), dead_letter_due: VecDeque::new() }
    }

    fn expire(&mut self, now: Micros, violations: &mut Vec<String>) {
        for due in [&mut self.due, &mut self.dead_letter_due] {
            while due.front().is_some_and(|d| d.0 <= now) {
                let (at, id, then, what) = due.pop_front().expect("checked");
                if self.seen.get(id).is_some_and(|s| s.progress == then && !s.finished) {
                    violations.push(format!("job {id} vanished: {what}, and nothing since by {}s", crate::num::Fixed(at as f64 / 1e6, 3)));
                }
            }
        }
    }
}

impl Checker for NoneVanish {
    fn name(&self) -> &'static str {
        super::INVARIANT
    }

    fn on_record(&mut self, r: &Record, violations: &mut Vec<String>) {
        // What was received: the queue acts only on what reaches it.
        let Some((t, from, to, msg, arrived)) = r.message() else { return };
        self.expire(t, violations);
        let (queue, dlq) = (self.queue, self.dlq);
        // Between the queue and its workers or the dead-letter queue, about one job.
        let involved = (from == queue && to != dlq && msg.kind != Kind::Response) || to == queue && msg.kind != Kind::Write || (from == queue && to == dlq);
        if !involved || msg.kind == Kind::HealthReply {
            return;
        }
        let id = msg.key;
        let Some(s) = self.seen.entry(id, t) else { return };
        if s.finished {
            return;
        }
        s.progress += 1;
        let progress = s.progress;
        let holds = s.holder == Some(from);
        match (from == queue, msg.kind) {
            // Delivered to a worker: news within its lease and a sweep.
            (true, Kind::Call) if arrived => {
                s.holder = Some(to);
                self.due.push_back((t + self.quiet, id, progress, "delivered to a worker"));
            }
            // Revoked, or handed back by a dead worker: the queue holds it again.
            (true, Kind::Reject | Kind::Call) => s.holder = None,
            (true, Kind::Write) => s.finished = true,
            (false, Kind::Response) if arrived && holds => s.finished = true,
            (false, Kind::Error) if arrived && holds => {
                s.holder = None;
                s.failures += 1;
                if s.failures > self.retries {
                    self.dead_letter_due.push_back((t + US_PER_S, id, progress, "failed every attempt, not dead-lettered"));
                }
            }
            _ => {}
        }
        let _ = self.seen.trim(t.saturating_sub(3600 * US_PER_S), |s| s.finished);
    }

    fn finish(&mut self, end: &RunEnd, violations: &mut Vec<String>) {
        self.expire(end.now, violations);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{Msg, ReqId};

    const Q: NodeId = 1;
    const W: NodeId = 2;
    const DLQ: NodeId = 3;
    const LEASE: Micros = 10 * US_PER_S;

    fn send(t: Micros, from: NodeId, to: NodeId, kind: Kind) -> Record {
        Record::Send { t0: t, t1: t + 1, from, to, msg: Msg { kind, req: ReqId(1), key: 4, tag: 0, value: 0 } }
    }

    fn check(history: &[Record], end: Micros) -> Vec<String> {
        let mut c = NoneVanish::new(Q, DLQ, 1, LEASE);
        let mut v = Vec::new();
        for r in history {
            c.on_record(r, &mut v);
        }
        let run_end = RunEnd { now: end, counts: Default::default(), drained: true, up: vec![], sides: vec![] };
        c.finish(&run_end, &mut v);
        v
    }

    #[test]
    fn done_retried_or_dead_lettered_jobs_are_accounted_for() {
        let s = US_PER_S;
        let done = [send(0, Q, W, Kind::Call), send(s, W, Q, Kind::Response)];
        assert!(check(&done, 100 * s).is_empty());
        let dead = [send(0, Q, W, Kind::Call), send(s, W, Q, Kind::Error), send(3 * s, Q, W, Kind::Call), send(4 * s, W, Q, Kind::Error), send(4 * s, Q, DLQ, Kind::Write)];
        assert!(check(&dead, 100 * s).is_empty());
        // A worker froze holding it; its lease was revoked and it went out again.
        let again = [send(0, Q, W, Kind::Call), send(12 * s, Q, W, Kind::Reject), send(12 * s, Q, W + 1, Kind::Call), send(13 * s, W + 1, Q, Kind::Response)];
        assert!(check(&again, 100 * s).is_empty());
    }

    #[test]
    fn a_job_delivered_and_never_heard_of_again_vanished() {
        let v = check(&[send(0, Q, W, Kind::Call)], 100 * US_PER_S);
        assert_eq!(v.len(), 1);
        assert!(v[0].contains("job 4 vanished: delivered to a worker"), "{v:?}");
        // Still within its lease and a sweep at the end of the run: not yet.
        assert!(check(&[send(0, Q, W, Kind::Call)], 12 * US_PER_S).is_empty());
    }

    #[test]
    fn a_job_failed_every_attempt_and_not_dead_lettered_vanished() {
        let s = US_PER_S;
        let v = check(&[send(0, Q, W, Kind::Call), send(s, W, Q, Kind::Error), send(3 * s, Q, W, Kind::Call), send(4 * s, W, Q, Kind::Error)], 100 * s);
        assert_eq!(v.len(), 1);
        assert!(v[0].contains("not dead-lettered"), "{v:?}");
    }
}

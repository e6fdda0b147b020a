//! The invariant, from the trace: a transaction is committed everywhere or nowhere. What
//! each participant applied is on the wire (its vote no, its done-commit or done-abort,
//! whether the coordinator hears it or not), and so is what the client was told. A
//! transaction with a commit and an abort among them, or a client told the opposite of
//! what was applied, is a violation.

use super::nodes::{ABORT, COMMITTED, DONE_ABORT, DONE_COMMIT, NO};
use crate::check::Checker;
use crate::idmap::IdWindow;
use crate::msg::NodeId;
use crate::time::Micros;
use crate::trace::Record;

#[derive(Default)]
struct Seen {
    settled: bool,
    /// Participants (by bit) that committed, and that aborted.
    committed: u32,
    aborted: u32,
    /// What the client heard: 1 committed, 2 aborted.
    told: u8,
    reported: bool,
}

pub struct Atomicity {
    coordinator: NodeId,
    client: NodeId,
    /// Every participant, by bit: a transaction all have applied, and whose client was
    /// told, is settled and let go.
    all: u32,
    /// Transactions by id (handed out in order): let go from the front once settled,
    /// or watched for `keep`.
    seen: IdWindow<Seen>,
    /// How long a transaction is watched after it was first seen.
    keep: Micros,
}

impl Atomicity {
    pub fn new(coordinator: NodeId, client: NodeId, participants: u32, keep: Micros) -> Self {
        Atomicity { coordinator, client, all: (1 << participants) - 1, seen: IdWindow::default(), keep }
    }
}

impl Checker for Atomicity {
    fn name(&self) -> &'static str {
        super::INVARIANT
    }

    fn on_record(&mut self, r: &Record, violations: &mut Vec<String>) {
        // Sent is applied: whether it arrives, bounces or is lost on the way.
        let Some((t, from, to, msg, _)) = r.message() else { return };
        let (bit, commit) = if to == self.coordinator && from != self.client {
            match msg.tag {
                DONE_COMMIT => (1u32 << msg.value, true),
                DONE_ABORT | NO => (1 << msg.value, false),
                _ => return,
            }
        } else if from == self.coordinator && to == self.client {
            match msg.tag {
                COMMITTED => (0, true),
                ABORT => (0, false),
                _ => return,
            }
        } else {
            return;
        };
        let id = msg.key;
        // Ids skipped over (all their messages lost, say) are watched from now on too.
        let Some(s) = self.seen.entry(id, t) else { return };
        match (bit, commit) {
            (0, c) => s.told = if c { 1 } else { 2 },
            (b, true) => s.committed |= b,
            (b, false) => s.aborted |= b,
        }
        if s.told != 0 && s.committed | s.aborted == self.all && !s.reported && (s.committed == 0 || s.aborted == 0) && (s.told == 1) == (s.committed != 0) {
            s.settled = true;
            let _ = self.seen.trim(t.saturating_sub(self.keep), |s| s.settled);
            return;
        }
        let mixed = s.committed != 0 && s.aborted != 0;
        let told_wrong = (s.told == 1 && s.aborted != 0) || (s.told == 2 && s.committed != 0);
        if (mixed || told_wrong) && !s.reported {
            s.reported = true;
            let told = ["nothing", "committed", "aborted"][s.told as usize];
            violations.push(format!(
                "transaction {id}: committed at participants {:?}, aborted at {:?}, client told {told}",
                bits(s.committed),
                bits(s.aborted)
            ));
        }
    }
}

/// Participant numbers (from 1, as the stage names them) of the bits set.
fn bits(mask: u32) -> Vec<u32> {
    (0..32).filter(|i| mask & (1 << i) != 0).map(|i| i + 1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{Kind, Msg, ReqId};

    const C: NodeId = 0;
    const CLIENT: NodeId = 9;

    fn send(from: NodeId, to: NodeId, key: u64, tag: u32, value: u32) -> Record {
        Record::Send { t0: 1, t1: 2, from, to, msg: Msg { kind: Kind::Response, req: ReqId(1), key, tag, value } }
    }

    fn check(history: &[Record]) -> Vec<String> {
        let mut a = Atomicity::new(C, CLIENT, 2, 1_000_000);
        let mut v = Vec::new();
        for r in history {
            a.on_record(r, &mut v);
        }
        v
    }

    #[test]
    fn all_commit_or_all_abort_is_atomic() {
        let good = [send(1, C, 7, DONE_COMMIT, 0), send(2, C, 7, DONE_COMMIT, 1), send(C, CLIENT, 7, COMMITTED, 0), send(1, C, 8, NO, 0), send(2, C, 8, DONE_ABORT, 1), send(C, CLIENT, 8, ABORT, 0)];
        assert!(check(&good).is_empty());
    }

    #[test]
    fn a_commit_beside_an_abort_is_caught_once() {
        let bad = [send(1, C, 7, DONE_COMMIT, 0), send(2, C, 7, NO, 1), send(2, C, 7, DONE_ABORT, 1)];
        let v = check(&bad);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].contains("committed at participants [1], aborted at [2]"), "{v:?}");
    }

    #[test]
    fn a_client_told_the_opposite_is_caught() {
        assert_eq!(check(&[send(1, C, 3, DONE_COMMIT, 0), send(C, CLIENT, 3, ABORT, 0)]).len(), 1);
        assert_eq!(check(&[send(C, CLIENT, 3, COMMITTED, 0), send(2, C, 3, DONE_ABORT, 1)]).len(), 1);
        // A decision lost on the way was still applied.
        let lost = Record::Drop { t: 1, from: 1, to: C, msg: Msg { kind: Kind::Response, req: ReqId(1), key: 3, tag: DONE_ABORT, value: 0 }, why: crate::trace::DropReason::Loss };
        assert_eq!(check(&[send(2, C, 3, DONE_COMMIT, 1), lost]).len(), 1);
    }
}

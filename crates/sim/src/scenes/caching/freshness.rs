//! The caching scene's invariant, judged on the clients' history: a read may return a
//! value one write old, for no longer than the TTL.

use crate::scenes::history::History;
use crate::check::Checker;
use crate::time::Micros;
use crate::trace::Record;
use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;

const INVARIANT: &str = "no read returns a value older than TTL + one write";

/// Read freshness as clients see it, judged on their history with the app: a read is
/// stale when it returns an older version than the newest acknowledged when it began,
/// and it breaks the invariant when that version had been superseded more than the TTL
/// before the read began (the cache may serve a value one write old, for up to its TTL).
pub struct Freshness {
    pub history: History,
    pub ttl_us: Micros,
    /// Whether the invariant is checked (not for write-behind, which may lose acknowledged writes).
    pub checked: bool,
    /// By key: the newest version acknowledged a TTL ago or earlier.
    pub floor: Vec<u32>,
    /// Acknowledgements younger than the TTL, oldest first: (when, key, version).
    pub recent: VecDeque<(Micros, u64, u32)>,
    pub stats: Rc<Cell<(u64, u64)>>,
}

impl Freshness {
    fn advance(&mut self, now: Micros) {
        while let Some(&(t, k, v)) = self.recent.front() {
            if t + self.ttl_us > now {
                break;
            }
            self.recent.pop_front();
            let k = k as usize;
            if self.floor.len() <= k {
                self.floor.resize(k + 1, 0);
            }
            self.floor[k] = self.floor[k].max(v);
        }
    }
}

impl Checker for Freshness {
    fn name(&self) -> &'static str {
        INVARIANT
    }

    fn on_record(&mut self, r: &Record, violations: &mut Vec<String>) {
        if self.ttl_us > 0 {
            self.advance(r.time());
        }
        let floor = &self.floor;
        let Some(op) = self.history.on_record(r, |k| floor.get(k as usize).copied().unwrap_or(0)) else { return };
        if op.failed {
            return;
        }
        if op.write {
            if self.ttl_us > 0 {
                self.recent.push_back((op.end, op.key, op.value));
            }
            return;
        }
        self.stats.set((self.history.reads, self.history.stale_reads));
        if self.checked && op.value < op.mark {
            violations.push(format!("a read of key {} returned version {} though version {} was acknowledged more than the TTL before it began", op.key, op.value, op.mark));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::source::WRITE_TAG;
    use crate::msg::{Kind, Msg, ReqId};

    /// A hand-made history between clients (node 0) and the app (node 1).
    fn history(ttl_us: Micros, events: &[(Micros, bool, u64, bool, u32)]) -> (Vec<String>, (u64, u64)) {
        let stats = Rc::new(Cell::new((0, 0)));
        let mut f = Freshness { history: History::new(0, 1), ttl_us, checked: true, floor: Vec::new(), recent: VecDeque::new(), stats: stats.clone() };
        let mut found = Vec::new();
        // (time, a request starts (else its answer), request number, a write, value)
        for &(t, start, n, write, value) in events {
            let req = ReqId(n);
            let (from, to, msg) = if start {
                (0, 1, Msg { kind: Kind::Request, req, key: 7, tag: u32::from(write) * WRITE_TAG, value: 0 })
            } else {
                (1, 0, Msg { kind: Kind::Response, req, key: 0, tag: 0, value })
            };
            f.on_record(&Record::Send { t0: t, t1: t, from, to, msg }, &mut found);
        }
        (found, stats.get())
    }

    #[test]
    fn freshness_checker_flags_only_values_superseded_longer_than_the_ttl_ago() {
        let s = 1_000_000;
        // v1 acknowledged at 0 s, v2 at 1 s; TTL 10 s.
        let writes = [(0, true, 1, true, 0), (0, false, 1, true, 1), (s, true, 2, true, 0), (s, false, 2, true, 2)];
        // A read at 5 s that returns v1: stale (v2 was acknowledged) but within the TTL.
        let mut h = writes.to_vec();
        h.extend([(5 * s, true, 3, false, 0), (5 * s, false, 3, false, 1)]);
        let (found, stats) = history(10 * s, &h);
        assert!(found.is_empty(), "{found:?}");
        assert_eq!(stats, (1, 1), "one read, stale");
        // The same read at 12 s: v2 was acknowledged 11 s before it began.
        let mut h = writes.to_vec();
        h.extend([(12 * s, true, 3, false, 0), (12 * s, false, 3, false, 1)]);
        let (found, _) = history(10 * s, &h);
        assert_eq!(found.len(), 1, "{found:?}");
        // Returning v2 then is fresh; and a read that began before the write is judged by its start.
        let mut h = writes.to_vec();
        h.extend([(12 * s, true, 3, false, 0), (12 * s, false, 3, false, 2), (12 * s, true, 4, false, 0), (30 * s, false, 4, false, 2)]);
        let (found, stats) = history(10 * s, &h);
        assert!(found.is_empty() && stats == (2, 0), "{found:?} {stats:?}");
    }
}

//! Linearizability of a read/write register, checked on its recorded history. Every
//! write writes a value no other write writes, so each read names the write it saw; then
//! the check is the one of Gibbons and Korach (1997), in O(n log n): group each write
//! with the reads of its value into a cluster; a cluster's zone runs between the
//! earliest end and the latest start of its operations. The history is linearizable if
//! and only if no read ends before its write begins, no two forward zones (earliest end
//! before latest start) overlap, and no backward zone lies inside a forward one.

use crate::time::Micros;

/// An operation's interval and what it wrote or read. A write whose outcome is unknown
/// (it failed or timed out, yet may have taken effect) ends at `Micros::MAX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegOp {
    pub start: Micros,
    pub end: Micros,
    pub write: bool,
    pub value: u32,
}

/// The initial value, written "before time began".
pub const INITIAL: u32 = 0;

/// Why a history is not linearizable, in words; `None` if it is.
pub fn check(ops: &[RegOp]) -> Option<String> {
    // Clusters by value: (earliest end, latest start, the write's start if recorded).
    let mut values: Vec<u32> = ops.iter().map(|o| o.value).collect();
    values.push(INITIAL);
    values.sort_unstable();
    values.dedup();
    let index = |v: u32| values.binary_search(&v).expect("every value is listed");
    let mut zone: Vec<(Micros, Micros, Option<Micros>)> = vec![(Micros::MAX, 0, None); values.len()];
    // The initial value's write: before everything.
    zone[index(INITIAL)] = (0, 0, Some(0));
    let mut read_any = vec![false; values.len()];
    for o in ops {
        let z = &mut zone[index(o.value)];
        z.0 = z.0.min(o.end);
        z.1 = z.1.max(o.start);
        if o.write {
            z.2 = Some(o.start);
        } else {
            read_any[index(o.value)] = true;
        }
    }
    for o in ops.iter().filter(|o| !o.write) {
        match zone[index(o.value)].2 {
            None => return Some(format!("a read returned {} though no write of it is recorded", o.value)),
            Some(ws) if o.end < ws => return Some(format!("a read ending at {}us returned {}, written only from {ws}us", o.end, o.value)),
            _ => {}
        }
    }
    // A write nobody read, whose outcome is unknown, may not have happened: leave it out.
    let zones: Vec<(Micros, Micros, u32)> = zone
        .iter()
        .zip(&values)
        .enumerate()
        .filter(|(i, (z, _))| z.2.is_some() && (read_any[*i] || z.0 != Micros::MAX))
        .map(|(_, (z, v))| (z.0, z.1, *v))
        .collect();
    let mut forward: Vec<(Micros, Micros, u32)> = zones.iter().copied().filter(|(f, s, _)| f < s).collect();
    crate::sort::sort(&mut forward);
    for pair in forward.windows(2) {
        if pair[1].0 < pair[0].1 {
            return Some(format!("the operations on {} and on {} each must come after the other", pair[0].2, pair[1].2));
        }
    }
    // Forward zones are now disjoint and sorted: a backward zone [s, f] lies inside one
    // if the last forward zone to begin at or before s also ends at or after f.
    for (f, s, v) in zones.iter().copied().filter(|(f, s, _)| f >= s) {
        let i = forward.partition_point(|z| z.0 <= s);
        if i > 0 {
            let (ff, fs, fv) = forward[i - 1];
            if ff <= s && f <= fs {
                return Some(format!("{v} was written and read entirely while the operations on {fv} forced everything else before or after them"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(start: Micros, end: Micros, value: u32) -> RegOp {
        RegOp { start, end, write: true, value }
    }
    fn r(start: Micros, end: Micros, value: u32) -> RegOp {
        RegOp { start, end, write: false, value }
    }

    #[test]
    fn linearizable_histories_pass() {
        assert_eq!(check(&[]), None);
        // Sequential.
        assert_eq!(check(&[w(1, 2, 1), r(3, 4, 1), w(5, 6, 2), r(7, 8, 2)]), None);
        // Reads of the initial value before any write.
        assert_eq!(check(&[r(1, 2, 0), w(3, 4, 1), r(5, 6, 1)]), None);
        // Concurrent writes, and a read that may see either.
        assert_eq!(check(&[w(0, 10, 1), w(5, 15, 2), r(20, 25, 1)]), None);
        assert_eq!(check(&[w(0, 10, 1), w(5, 15, 2), r(20, 25, 2)]), None);
        // A read overlapping a write may see the old or the new value.
        assert_eq!(check(&[w(0, 10, 1), w(20, 30, 2), r(22, 24, 1), r(25, 35, 2)]), None);
        // A write whose outcome is unknown, seen by a later read.
        assert_eq!(check(&[w(0, Micros::MAX, 1), r(5, 6, 1)]), None);
        // ... or never seen: as if it never happened.
        assert_eq!(check(&[w(0, 2, 1), w(3, Micros::MAX, 2), r(10, 11, 1)]), None);
    }

    #[test]
    fn histories_that_are_not_linearizable_are_caught() {
        // A stale read: the second write finished before the read began.
        assert!(check(&[w(0, 10, 1), w(20, 30, 2), r(35, 40, 1)]).is_some());
        // Reading the initial value after a write completed.
        assert!(check(&[w(1, 2, 1), r(5, 6, 0)]).is_some());
        // Two reads in turn see the concurrent writes in both orders.
        assert!(check(&[w(0, 10, 1), w(5, 15, 2), r(20, 25, 1), r(30, 35, 2)]).is_some());
        // A read of a value before its write began.
        assert!(check(&[r(1, 2, 1), w(5, 6, 1)]).is_some());
        // A value nobody wrote.
        assert!(check(&[w(1, 2, 1), r(5, 6, 9)]).is_some());
        // Going back in time across two readers.
        assert!(check(&[w(0, 1, 1), w(2, 20, 2), r(3, 4, 2), r(5, 6, 1)]).is_some());
    }
}

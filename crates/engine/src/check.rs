//! Invariant checkers: they watch the trace from outside the components they check,
//! and report violations with the seed that reproduces them.

use crate::ledger::Counts;
use crate::time::Micros;
use crate::trace::Record;
use serde::Serialize;

/// How a run ended, for the checks that can only be made at the end.
pub struct RunEnd {
    pub now: Micros,
    pub counts: Counts,
    /// Arrivals stopped and every request ended before the drain deadline.
    pub drained: bool,
    /// By node: whether it is up at the end (alive and not hung), and its partition side.
    pub up: Vec<bool>,
    pub sides: Vec<u8>,
}

impl RunEnd {
    /// Whether nodes `a` and `b` can talk at the end: both up, on the same side of any partition.
    pub fn reachable(&self, a: usize, b: usize) -> bool {
        let side = |n: usize| self.sides.get(n).copied().unwrap_or(crate::world::NO_SIDE);
        let up = |n: usize| self.up.get(n).copied().unwrap_or(false);
        up(a) && up(b) && !crate::world::split(side(a), side(b))
    }
}

pub trait Checker {
    /// The invariant's name, as patterns.md words it.
    fn name(&self) -> &'static str;
    /// Looks at one record; pushes a description of each violation found. (Called
    /// directly, never through a vtable: the world hands the trace over in batches.)
    fn on_record(&mut self, r: &Record, violations: &mut Vec<String>)
    where
        Self: Sized;
    fn finish(&mut self, _end: &RunEnd, _violations: &mut Vec<String>) {}
}

/// A checker as the world holds it: one call through the vtable per batch of records,
/// in which its `on_record` is called directly for each.
pub(crate) trait Watch: Checker {
    /// Looks at `rs` in order up to the first record that shows a violation; returns how
    /// many records it looked at.
    fn on_records(&mut self, rs: &[Record], violations: &mut Vec<String>) -> usize;
}

impl<C: Checker> Watch for C {
    fn on_records(&mut self, rs: &[Record], violations: &mut Vec<String>) -> usize {
        for (i, r) in rs.iter().enumerate() {
            self.on_record(r, violations);
            if !violations.is_empty() {
                return i + 1;
            }
        }
        rs.len()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Violation {
    pub invariant: &'static str,
    pub at_us: Micros,
    pub detail: String,
}

/// Violations kept in full; beyond this only the count grows.
pub const VIOLATIONS_KEPT: usize = 32;

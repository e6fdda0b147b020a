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
    /// Looks at one record; pushes a description of each violation found.
    fn on_record(&mut self, r: &Record, violations: &mut Vec<String>);
    fn finish(&mut self, _end: &RunEnd, _violations: &mut Vec<String>) {}
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Violation {
    pub invariant: &'static str,
    pub at_us: Micros,
    pub detail: String,
}

/// Violations kept in full; beyond this only the count grows.
pub const VIOLATIONS_KEPT: usize = 32;

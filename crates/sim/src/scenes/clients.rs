//! What the scenes of many clients holding connections share (websockets, sse): one node
//! stands for every client, so a connection's id says whose it is; and clients come and
//! go at a rate, each arriving one taking the place of one who leaves.

use crate::rng::Rng;
use crate::time::{Micros, US_PER_S};

/// Connection ids: the client's slot in the low bits, a count of its connections above,
/// so that what concerns an old connection is told from what concerns the current one.
const SLOT_BITS: u32 = 20;

pub fn slot_of(conn: u64) -> usize {
    (conn & ((1 << SLOT_BITS) - 1)) as usize
}

/// Client `slot`'s first connection (made before the run).
pub fn first_conn(slot: usize) -> u64 {
    (1 << SLOT_BITS) | slot as u64
}

/// Client `slot`'s connection after `conn`.
pub fn next_conn(conn: u64, slot: usize) -> u64 {
    ((conn >> SLOT_BITS) + 1) << SLOT_BITS | slot as u64
}

/// How long until the next client arrives, at `per_s` a second (Poisson); none at 0.
pub fn churn_wait(rng: &mut Rng, per_s: f64) -> Option<Micros> {
    (per_s > 0.0).then(|| rng.exp(US_PER_S as f64 / per_s).max(1.0) as Micros)
}

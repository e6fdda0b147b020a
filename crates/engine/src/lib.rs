//! clusterlab-engine: the virtual cluster's engine. A deterministic discrete-event
//! simulation in integer virtual microseconds, with sans-IO components, one owner of time
//! and of randomness, faults as data, fixed-memory measures and invariant checkers that
//! sit outside the components they check. The hot path of every scene lives here, and
//! the page builds this crate for speed; the scenes themselves are in `clusterlab-sim`.

pub mod check;
pub mod component;
pub mod components;
pub mod dist;
pub mod error;
pub mod fault;
pub mod histogram;
pub mod idmap;
pub mod keys;
pub mod knob;
pub mod ledger;
pub mod msg;
pub mod narrative;
pub mod num;
mod queue;
pub mod rng;
pub mod scene;
pub mod series;
pub mod sort;
pub mod time;
pub mod trace;
pub mod traffic;
pub mod view;
pub mod world;
mod world_core;

pub use error::{Error, Result};
pub use world::Limit;

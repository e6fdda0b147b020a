//! clusterlab-sim: the virtual cluster. A deterministic discrete-event simulation in
//! integer virtual microseconds, with sans-IO components, one owner of time and of
//! randomness, faults as data, fixed-memory measures and invariant checkers that sit
//! outside the components they check. It knows nothing of browsers.

pub mod catalogue;
pub mod check;
pub mod component;
pub mod components;
pub mod dist;
pub mod error;
pub mod fault;
pub mod histogram;
pub mod keys;
pub mod knob;
pub mod ledger;
pub mod msg;
pub mod narrative;
pub mod narratives;
mod queue;
pub mod report;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod scene;
pub mod scenes;
pub mod series;
pub mod time;
pub mod trace;
pub mod traffic;
pub mod view;
pub mod world;

pub use error::{Error, Result};
pub use report::Report;
pub use run::{RunSpec, Sim};
pub use world::Limit;

/// The trace hash of a run: equal hashes mean identical event sequences.
pub fn trace_hash(spec: &RunSpec) -> Result<(u64, u64)> {
    let mut sim = Sim::new(spec)?;
    sim.world.hash = Some(trace::HashSink::default());
    sim.run();
    let h = sim.world.hash.as_ref().expect("set above");
    Ok((h.hash, h.records))
}

/// The run whose trace hash is pinned in `golden_trace_hash.txt` and checked natively
/// and in wasm: load balancing with faults, loss and every kind of record.
pub fn golden_spec() -> RunSpec {
    RunSpec::new("load-balancing")
        .seed(42)
        .set("policy", "power-of-two")
        .set("net_latency", "lognormal:200us,0.5")
        .set("loss", "0.001")
        .set("health_checks", "on")
        .set("timeout", "200ms")
        .fault("2s kill server-2")
        .fault("3s slow server-1 x3")
        .fault("4s revive server-2")
        .limit(Limit::Requests(20_000))
}

pub const GOLDEN_TRACE_HASH: &str = include_str!("../golden_trace_hash.txt");

//! clusterlab-sim: the virtual cluster. The scenes (one pattern each, with its story),
//! runs and their reports, on the engine of `clusterlab-engine`, whose modules are
//! re-exported here under the same names. It knows nothing of browsers.

// The engine: built for speed even in the page's wasm (its own crate, so that a profile
// can give it opt-level 3 while scenes, stories and the rest are built for size).
pub use clusterlab_engine::{check, component, components, dist, error, fault, histogram, idmap, keys, knob, ledger, msg, narrative, num, rng, series, sort, time, trace, traffic, view, world};

pub mod catalogue;
pub mod diagram;
pub mod log;
pub mod narratives;
pub mod report;
pub mod run;
pub mod scenario;
pub mod scene;
pub mod scenes;

pub use error::{Error, Result};
pub use report::Report;
pub use run::{RunSpec, Sim};
pub use world::Limit;

/// The trace hash of a run: equal hashes mean identical event sequences.
pub fn trace_hash(spec: &RunSpec) -> Result<(u64, u64)> {
    let mut sim = Sim::new(spec)?;
    *sim.world.hash_mut() = Some(trace::HashSink::default());
    sim.run();
    let h = sim.world.hash().expect("set above");
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

/// The workload `cargo xtask bench` also runs in SimPy, the yardstick for engine speed
/// (`crates/xtask/peer/simpy_random_routing.py`): Poisson arrivals at 320/s sent at
/// random to 4 one-worker FIFO servers with exponential 10 ms service and no network
/// delay, so four M/M/1 queues at utilisation 0.8 with a mean sojourn of 50 ms.
pub fn peer_spec(requests: u64) -> RunSpec {
    RunSpec::new("load-balancing")
        .set("policy", "random")
        .set("servers", "4")
        .set("workers", "1")
        .set("service_time", "exp:10ms")
        .set("arrival_rate", "320")
        .set("net_latency", "const:0")
        .limit(Limit::Requests(requests))
}

pub const GOLDEN_TRACE_HASH: &str = include_str!("../golden_trace_hash.txt");

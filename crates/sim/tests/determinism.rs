//! Determinism: the same scene, knobs, seed and faults give the same report and the same
//! trace hash, every time and on every target (the wasm twin of this test lives in web/).

use clusterlab_sim::{GOLDEN_TRACE_HASH, Limit, Report, RunSpec, Sim, golden_spec, trace_hash};

fn report_without_wall(spec: &RunSpec) -> String {
    let mut sim = Sim::new(spec).unwrap();
    sim.run();
    Report::of(&sim, 0.0).to_json()
}

#[test]
fn same_inputs_same_report_and_trace() {
    let specs = [
        golden_spec(),
        RunSpec::new("circuit-breaker").seed(9).fault("3s hang b").fault("9s revive b").limit(Limit::Until(15_000_000)),
    ];
    for spec in specs {
        assert_eq!(report_without_wall(&spec), report_without_wall(&spec), "{spec:?}");
        assert_eq!(trace_hash(&spec).unwrap(), trace_hash(&spec).unwrap(), "{spec:?}");
    }
}

#[test]
fn different_seeds_differ() {
    let a = trace_hash(&golden_spec()).unwrap();
    let b = trace_hash(&golden_spec().seed(43)).unwrap();
    assert_ne!(a.0, b.0);
}

/// The pinned hash: if the engine's behaviour changes on purpose, update
/// `crates/sim/golden_trace_hash.txt` with the value this test prints.
#[test]
fn golden_trace_hash_is_pinned() {
    let (hash, records) = trace_hash(&golden_spec()).unwrap();
    let got = format!("{hash:016x}");
    assert!(records > 50_000, "the golden run should exercise the engine: {records} records");
    assert_eq!(got, GOLDEN_TRACE_HASH.trim(), "trace hash changed: new value {got}");
}

/// The compare view's promise: one seed, one traffic. Whatever the policy does with its
/// own randomness, the clients send the same requests at the same instants.
#[test]
fn the_same_seed_offers_the_same_traffic_under_different_settings() {
    use clusterlab_sim::msg::Kind;
    use clusterlab_sim::trace::{Record, RingSink};
    let arrivals = |policy: &str| {
        let spec = RunSpec::new("load-balancing").seed(5).set("policy", policy).limit(Limit::Requests(5_000));
        let mut sim = Sim::new(&spec).unwrap();
        *sim.world.ring_mut() = Some(RingSink::new(1 << 20));
        sim.run();
        let client = sim.world.node_id("client").unwrap();
        let ring = sim.world.ring_mut().as_mut().unwrap();
        ring.iter()
            .filter_map(|r| match *r {
                Record::Send { t0, from, msg, .. } if from == client && msg.kind == Kind::Request => Some((t0, msg.key)),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let a = arrivals("round-robin");
    assert_eq!(a.len(), 5_000);
    assert_eq!(a, arrivals("random"));
    assert_eq!(a, arrivals("power-of-two"));
}

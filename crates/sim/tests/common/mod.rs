//! Helpers the experiments tests share: a preset as a run spec, a run that checks its
//! invariants and accounting, a measure by name.

use clusterlab_sim::scene::find;
pub use clusterlab_sim::{Limit, Report, RunSpec, Sim};

pub fn preset(scene: &str, name: &str) -> RunSpec {
    let info = find(scene).unwrap().info();
    let p = info.presets.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no preset {name}"));
    let mut spec = RunSpec::new(scene);
    for (k, v) in p.set {
        spec = spec.set(k, v);
    }
    for f in p.faults {
        spec = spec.fault(f);
    }
    spec
}

pub fn run(spec: RunSpec) -> Report {
    run_sim(spec).1
}

pub fn run_sim(spec: RunSpec) -> (Sim, Report) {
    let mut sim = Sim::new(&spec).unwrap();
    sim.run();
    let r = Report::of(&sim, 0.0);
    assert_eq!(r.invariants.violation_count, 0, "{:?}", r.invariants.violations);
    assert!(r.requests.in_flight == 0 && r.requests.sent == r.requests.completed + r.requests.rejected + r.requests.failed + r.requests.timed_out);
    (sim, r)
}

pub fn metric(r: &Report, name: &str) -> f64 {
    r.metrics[name].as_f64().unwrap_or_else(|| panic!("metric {name}"))
}


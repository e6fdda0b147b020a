//! The schedule beyond faults: live knob changes and traffic shapes, replayed exactly,
//! and entries that do not fit the scene refused with an error that names them.

use clusterlab_sim::{Limit, RunSpec, Sim, trace_hash};

fn run(spec: &RunSpec) -> Sim {
    let mut sim = Sim::new(spec).unwrap();
    sim.run();
    sim
}

/// Mean of a series column over the samples whose end lies in (from_s, to_s].
fn mean_between(sim: &Sim, column: &str, from_s: f64, to_s: f64) -> f64 {
    let dt = sim.series.interval_us as f64 / 1e6;
    let col = sim.series.column(column).unwrap();
    let xs: Vec<f64> = col.iter().enumerate().filter(|(i, _)| (*i as f64 + 1.0) * dt > from_s && (*i as f64 + 1.0) * dt <= to_s).map(|(_, v)| *v).collect();
    xs.iter().sum::<f64>() / xs.len() as f64
}

#[test]
fn shard_actions_are_checked_by_name_and_replay_exactly() {
    let bad = |entries: &[&str], shards: &str| {
        let mut spec = RunSpec::new("sharding")
            .set("shards", shards)
            .limit(Limit::Until(2_000_000));
        for e in entries {
            spec = spec.fault(e);
        }
        Sim::new(&spec).err().map(|e| e.0).unwrap_or_default()
    };
    let e = bad(&["1s remove-shard shard-9"], "4");
    assert!(
        e.contains("no shard named 'shard-9'") && e.contains("shard-1, shard-2, shard-3, shard-4"),
        "{e}"
    );
    assert!(bad(&["1s remove-shard shard-1"], "1").contains("'shard-1' is the last shard"));
    assert!(bad(&["1s add-shard"], "64").contains("already 64 shards"));
    assert!(bad(&["1s remove-shard"], "4").contains("'remove-shard' needs a shard's name"));
    // Entries that were valid when scheduled but no longer apply at their instant do nothing.
    let spec = RunSpec::new("sharding")
        .set("shards", "2")
        .fault("1s remove-shard shard-1")
        .fault("2s remove-shard shard-2")
        .limit(Limit::Until(3_000_000));
    let sim = run(&spec);
    assert_eq!(sim.metrics()["shards_now"], 1);
    assert_eq!(sim.world.violations().1, 0);
    let resize = RunSpec::new("sharding")
        .seed(5)
        .fault("1s add-shard")
        .fault("2s remove-shard shard-1")
        .limit(Limit::Until(3_000_000));
    assert_eq!(trace_hash(&resize).unwrap(), trace_hash(&resize).unwrap());
}

#[test]
fn a_rate_change_at_t_changes_the_offered_load_from_t_and_replays_exactly() {
    let spec = RunSpec::new("load-balancing").seed(3).set("arrival_rate", "1000").fault("10s set arrival_rate=3000").limit(Limit::Until(20_000_000));
    let sim = run(&spec);
    let before = mean_between(&sim, "offered_rps", 0.0, 10.0);
    let after = mean_between(&sim, "offered_rps", 10.0, 20.0);
    assert!((before / 1000.0 - 1.0).abs() < 0.03, "before: {before}");
    assert!((after / 3000.0 - 1.0).abs() < 0.03, "after: {after}");
    assert_eq!(sim.world.params().float("arrival_rate"), 3000.0, "the world's knobs follow the schedule");
    assert_eq!(sim.params.float("arrival_rate"), 1000.0, "the run's settings stay as set");
    assert_eq!(trace_hash(&spec).unwrap(), trace_hash(&spec).unwrap());
    assert!(sim.reproduce().contains("--fault \"10s set arrival_rate=3000\""), "{}", sim.reproduce());
}

#[test]
fn traffic_shapes_offer_what_they_promise() {
    let offered = |shape: &str, from: f64, to: f64| {
        let spec = RunSpec::new("load-balancing").seed(5).set("arrival_rate", "500").set("traffic", shape).limit(Limit::Until(60_000_000));
        mean_between(&run(&spec), "offered_rps", from, to)
    };
    let near = |x: f64, want: f64| (x / want - 1.0).abs() < 0.05;
    // Spike: 4x from a third of the 60 s period for a sixth of it (20 s to 30 s).
    assert!(near(offered("spike", 0.0, 20.0), 500.0) && near(offered("spike", 20.0, 30.0), 2000.0));
    // Ramp: 10% at the start, the full rate from 60 s; the first minute averages 55%.
    assert!(near(offered("ramp", 0.0, 60.0), 275.0), "{}", offered("ramp", 0.0, 60.0));
    // Diurnal: a trough near the start, a peak of 1.8x at half the period, mean 1.
    assert!(offered("diurnal", 0.0, 5.0) < 200.0 && near(offered("diurnal", 27.0, 33.0), 880.0), "{}", offered("diurnal", 27.0, 33.0));
    assert!(near(offered("diurnal", 0.0, 60.0), 500.0));
}

#[test]
fn a_live_policy_change_rescues_the_slow_server() {
    let spec = RunSpec::new("load-balancing")
        .seed(1)
        .set("server_speeds", "1,1,1,0.25")
        .set("arrival_rate", "2400")
        .fault("20s set policy=power-of-two")
        .limit(Limit::Until(60_000_000));
    let sim = run(&spec);
    let at_20 = mean_between(&sim, "queue:server-4", 19.0, 20.0);
    let late = mean_between(&sim, "queue:server-4", 50.0, 60.0);
    assert!(at_20 > 500.0, "round robin drowned it: {at_20}");
    assert!(late < 20.0, "power of two drained it: {late}");
}

#[test]
fn turning_the_breaker_on_mid_outage_keeps_the_invariant() {
    let spec = RunSpec::new("circuit-breaker").set("breaker", "off").fault("10s hang b").fault("20s set breaker=on").fault("40s revive b").limit(Limit::Until(60_000_000));
    let sim = run(&spec);
    let busy_off = mean_between(&sim, "a_workers_busy", 15.0, 20.0);
    let busy_on = mean_between(&sim, "a_workers_busy", 25.0, 40.0);
    assert!(busy_off > 19.0 && busy_on < 3.0, "workers pinned {busy_off}, then freed {busy_on}");
    assert_eq!(sim.world.violations().1, 0);
}

#[test]
fn entries_that_do_not_fit_the_scene_are_refused_by_name() {
    for (entry, needle) in [
        ("10s set servers=8", "cannot change while the run plays"),
        ("10s set arrival_rate=-5", "arrival_rate"),
        ("10s set colour=blue", "unknown knob 'colour'"),
        ("10s add-shard", "unknown action 'add-shard' (this scene has none)"),
        ("10s kill server-9", "no node named 'server-9'"),
    ] {
        let e = Sim::new(&RunSpec::new("load-balancing").fault(entry)).unwrap_err().0;
        assert!(e.contains(needle), "{entry}: {e}");
    }
}

/// A scene of the tests' own, with two actions, to check the schedule's action path:
/// validation by name, by argument and by the scene's own rule, and the exact instant.
mod with_actions {
    use clusterlab_sim::components::server::Server;
    use clusterlab_sim::components::source::Source;
    use clusterlab_sim::dist::Dist;
    use clusterlab_sim::error::{Error, Result};
    use clusterlab_sim::fault::ScheduledFault;
    use clusterlab_sim::knob::{Params, common_knobs};
    use clusterlab_sim::narrative::Narrative;
    use clusterlab_sim::scene::{ActionSpec, Probe, Scene, SceneInfo};
    use clusterlab_sim::view::{SceneView, StageView};
    use clusterlab_sim::world::World;
    use clusterlab_sim::{Limit, Sim};
    use serde_json::{Map, Value as Json, json};
    use std::sync::LazyLock;

    struct Toy;
    static STORY: Narrative = Narrative { what: "", analogy: "", when: "", mistakes: &[], try_this: &[], goals: &[] };
    static INFO: LazyLock<SceneInfo> = LazyLock::new(|| SceneInfo {
        id: "toy",
        title: "Toy",
        knobs: common_knobs("100", 1e4),
        actions: &[
            ActionSpec { name: "flush", arg: None, role: None, help: "" },
            ActionSpec { name: "resize", arg: Some("a number of slots from 1 to 8"), role: None, help: "" },
        ],
        presets: &[],
        view: SceneView { stage: StageView { columns: &[], links: &[], paired: &[] }, charts: &[], compare: &[], tables: &[] },
        narrative: &STORY,
    });

    struct ToyProbe {
        done: Vec<(u64, String)>,
    }

    impl Scene for Toy {
        fn info(&self) -> &'static SceneInfo {
            &INFO
        }
        fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe> {
            let server = w.add_node("server", "server", Box::new(Server::new(1, 100, Dist::Const(1_000), 1.0)));
            w.add_node("client", "client", Box::new(Source::new(server, p.float("arrival_rate"), 1_000_000, 1, w.stream("workload"))));
            Box::new(ToyProbe { done: Vec::new() })
        }
    }

    impl Probe for ToyProbe {
        fn metrics(&self, _w: &World) -> Map<String, Json> {
            let mut m = Map::new();
            m.insert("done".into(), json!(self.done));
            m
        }
        fn check_action(&self, _w: &World, action: &str, arg: Option<&str>) -> Result<()> {
            match (action, arg.map(str::parse::<u32>)) {
                ("resize", Some(Ok(1..=8))) | ("flush", None) => Ok(()),
                _ => Err(Error::new(format!("'{}' is not a number of slots from 1 to 8", arg.unwrap_or("")))),
            }
        }
        fn on_action(&mut self, w: &mut World, action: &str, arg: Option<&str>) {
            self.done.push((w.now(), format!("{action} {}", arg.unwrap_or("")).trim().to_string()));
        }
    }

    fn build(entries: &[&str]) -> Result<Sim> {
        let faults: Vec<ScheduledFault> = entries.iter().map(|e| e.parse().unwrap()).collect();
        Sim::build(&Toy, Params::defaults(&INFO.knobs), 1, &faults, Limit::Until(5_000_000), 1_000_000)
    }

    #[test]
    fn actions_run_at_their_instant_and_bad_ones_are_refused_by_name() {
        let mut sim = build(&["2s flush", "3500ms resize 4"]).unwrap();
        sim.run();
        assert_eq!(sim.metrics()["done"], json!([[2_000_000, "flush"], [3_500_000, "resize 4"]]));
        for (entry, needle) in [
            ("1s explode", "unknown action 'explode' (this scene's: flush, resize)"),
            ("1s resize", "'resize' needs a number of slots from 1 to 8"),
            ("1s flush now", "'flush' takes no argument, got 'now'"),
            ("1s resize 99", "'99' is not a number of slots from 1 to 8"),
        ] {
            let e = build(&[entry]).unwrap_err().0;
            assert!(e.contains(needle), "{entry}: {e}");
        }
    }
}

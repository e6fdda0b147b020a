//! Properties over random seeds, in-range knobs and fault schedules (swarm testing):
//! the accounting identity and every invariant hold, runs drain, nothing panics; and bad
//! input is refused with an error naming the knob, never a panic.

use clusterlab_sim::fault::{Fault, ScheduledFault};
use clusterlab_sim::knob::{KnobKind, KnobSpec, Params};
use clusterlab_sim::scene::SCENES;
use clusterlab_sim::{Limit, Report, Sim};
use proptest::prelude::*;

/// Log-uniform in [lo, hi], so small and large values are both tried.
fn log_uniform(lo: f64, hi: f64, u: f64) -> f64 {
    let (lo, hi) = (lo.max(1e-3), hi.max(lo.max(1e-3)));
    (lo.ln() + u * (hi.ln() - lo.ln())).exp()
}

/// A random in-range value for a knob, as text, from a few random numbers.
fn value_for(spec: &KnobSpec, u: &[f64; 4]) -> String {
    match &spec.kind {
        KnobKind::Int { min, max } => {
            // Keep sizes that multiply the work (servers, workers) testable.
            let max = if spec.name == "clients" { *max } else { (*max).min(min + 64) };
            (*min + (u[0] * (max - min + 1) as f64) as i64).min(max).to_string()
        }
        KnobKind::Float { min, max } if spec.name == "arrival_rate" => format!("{:.1}", log_uniform(*min, max.min(20_000.0), u[0])),
        KnobKind::Float { min, max } if spec.name == "loss" => format!("{:.3}", min + u[0] * 0.2 * (max - min)),
        KnobKind::Float { min, max } => format!("{:.3}", min + u[0] * (max - min)),
        KnobKind::Choice(c) => c[(u[0] * c.len() as f64) as usize % c.len()].to_string(),
        KnobKind::Bool => if u[0] < 0.5 { "on" } else { "off" }.into(),
        KnobKind::Duration { min_us, max_us } => format!("{}us", log_uniform(*min_us as f64, *max_us as f64, u[0]).round() as u64),
        KnobKind::Dist => {
            let us = |x: f64| log_uniform(1.0, 50_000.0, x).round() as u64;
            match (u[0] * 5.0) as u32 {
                0 => format!("const:{}us", us(u[1])),
                1 => format!("exp:{}us", us(u[1])),
                2 => {
                    let (a, b) = (us(u[1]), us(u[2]));
                    format!("uniform:{}us..{}us", a.min(b), a.max(b))
                }
                3 => format!("lognormal:{}us,{:.2}", us(u[1]), 0.1 + u[2] * 1.5),
                _ => format!("pareto:{}us,{:.2}", us(u[1]), 1.1 + u[2] * 2.0),
            }
        }
        KnobKind::Floats { min, max, max_len } => {
            let n = 1 + (u[1] * (*max_len).min(4) as f64) as usize;
            (0..n).map(|i| format!("{:.2}", log_uniform(*min, *max, (u[0] + i as f64 * 0.37) % 1.0).clamp(*min, *max))).collect::<Vec<_>>().join(",")
        }
    }
}

fn fault_for(names: &[String], kind: u8, a: usize, b: usize, at_us: u64, factor: f64) -> ScheduledFault {
    let n = |i: usize| names[i % names.len()].clone();
    let fault = match kind % 6 {
        0 => Fault::Kill(n(a)),
        1 => Fault::Revive(n(a)),
        2 => Fault::Slow(n(a), factor),
        3 => Fault::Hang(n(a)),
        4 if n(a) != n(b) => Fault::Partition(vec![vec![n(a)], vec![n(b)]]),
        _ => Fault::Heal,
    };
    ScheduledFault { at_us, fault }
}

/// Knob values that break a scene's invariant on purpose (its checker then says so):
/// two-phase commit's participants deciding alone. The random runs keep the default.
const BREAKS_ON_PURPOSE: &[(&str, &str)] = &[("in_doubt", "heuristic-commit"), ("in_doubt", "heuristic-abort")];

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn accounting_and_invariants_hold_under_random_knobs_and_faults(
        scene in 0..SCENES.len(),
        seed in any::<u64>(),
        randoms in proptest::collection::vec(proptest::array::uniform4(0.0f64..1.0), 32),
        faults in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>(), 0u64..8_000_000, 1.0f64..20.0), 0..6),
    ) {
        let scene = SCENES[scene];
        let mut params = Params::defaults(&scene.info().knobs);
        for (spec, u) in scene.info().knobs.iter().zip(randoms.iter().cycle()) {
            let text = value_for(spec, u);
            params.set(spec.name, &text).map_err(|e| TestCaseError::fail(format!("in-range value refused: {e}")))?;
        }
        // Settings that break the invariant on purpose, for the reader to see it break.
        for (knob, value) in BREAKS_ON_PURPOSE {
            if let Some(spec) = params.specs().iter().find(|k| k.name == *knob)
                && params.get(knob).to_text() == *value
            {
                params.set(knob, spec.default).unwrap();
            }
        }
        // Knobs that do not make sense together are refused by name (tested below).
        prop_assume!(scene.check(&params).is_ok());
        let mut sim = Sim::build(scene, params, seed, &[], Limit::Until(8_000_000), 1_000_000).unwrap();
        // Faults on the cluster's own nodes (clients are the workload, not a node to kill).
        let names: Vec<String> = sim.world.nodes().iter().filter(|n| n.role != "client").map(|n| n.name.clone()).collect();
        // Live knob changes join the schedule beside the faults.
        let live: Vec<&KnobSpec> = scene.info().knobs.iter().filter(|k| k.live).collect();
        for (kind, a, b, at_us, factor) in faults {
            let actions = scene.info().actions;
            let entry = if kind % 16 >= 13 && !actions.is_empty() {
                // A scene action, on a node of the role it names if it takes one.
                let action = &actions[a % actions.len()];
                let arg = action.role.map(|role| {
                    let of_role: Vec<&str> = sim.world.nodes().iter().filter(|n| n.role == role).map(|n| n.name.as_str()).collect();
                    of_role[b % of_role.len()].to_string()
                });
                // Refused when it cannot apply to the world as built (removing the last
                // shard): that refusal is itself tested elsewhere.
                let _ = sim.add_fault(ScheduledFault { at_us, fault: Fault::Action(action.name.to_string(), arg) });
                continue;
            } else if kind % 8 >= 6 {
                let spec = live[a % live.len()];
                ScheduledFault { at_us, fault: Fault::Set(spec.name.to_string(), value_for(spec, &randoms[b % randoms.len()])) }
            } else {
                fault_for(&names, kind, a, b, at_us, factor)
            };
            sim.add_fault(entry).unwrap();
        }
        let reproduce = sim.reproduce();
        sim.run();
        let r = Report::of(&sim, 0.0);
        let c = r.requests;
        prop_assert!(c.sent == c.completed + c.rejected + c.failed + c.timed_out + c.in_flight, "{c:?} — {reproduce}");
        prop_assert_eq!(c.in_flight, 0, "every request ends — {}", reproduce);
        prop_assert_eq!(r.invariants.violation_count, 0, "{:?} — {}", r.invariants.violations, reproduce);
    }

    #[test]
    fn any_text_for_any_knob_is_an_error_or_a_value_never_a_panic(scene in 0..SCENES.len(), knob in any::<usize>(), text in ".{0,24}") {
        let info = SCENES[scene].info();
        let mut params = Params::defaults(&info.knobs);
        let spec = &info.knobs[knob % info.knobs.len()];
        let before = params.clone();
        if let Err(e) = params.set(spec.name, &text) {
            prop_assert!(e.0.contains(spec.name), "{e}");
            prop_assert_eq!(params, before, "a refused value changes nothing");
        }
    }

    #[test]
    fn any_fault_text_parses_or_errors(text in ".{0,40}") {
        let _ = text.parse::<ScheduledFault>();
    }
}

#[test]
fn out_of_range_values_are_refused_with_the_knob_the_value_and_the_range() {
    for scene in SCENES {
        let mut params = Params::defaults(&scene.info().knobs);
        for spec in &scene.info().knobs {
            let bad: Vec<String> = match &spec.kind {
                KnobKind::Int { min, max } => vec![(max + 1).to_string(), (min - 1).to_string(), "1.5".into(), "many".into()],
                KnobKind::Float { min, max } => vec![(max * 2.0 + 1.0).to_string(), (min - 1.0).to_string(), "NaN".into(), "inf".into()],
                KnobKind::Choice(_) => vec!["nope".into(), "".into()],
                KnobKind::Bool => vec!["maybe".into()],
                KnobKind::Duration { max_us, .. } => vec![format!("{}us", max_us + 1), "10".into(), "-1s".into()],
                KnobKind::Dist => vec!["gauss:1ms".into(), "exp:".into(), "uniform:9ms..1ms".into()],
                KnobKind::Floats { min, .. } => vec!["".into(), "a,b".into(), (min - 1.0).to_string(), "1,,2".into()],
            };
            for text in bad {
                let e = params.set(spec.name, &text).expect_err(&format!("{}={text} must be refused", spec.name));
                assert!(e.0.contains(spec.name), "{e}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// CP stays linearizable whatever the network does: random partitions between
    /// regions, kills, revivals and heals, on random seeds and quorums.
    #[test]
    fn cp_histories_stay_linearizable_under_any_partition(
        seed in any::<u64>(),
        n in 3usize..=5,
        quorum in 0usize..3,
        faults in proptest::collection::vec((0u8..4, 0usize..5, 0usize..32, 0u64..15_000_000), 1..8),
    ) {
        let names = ["a", "b", "c", "d", "e"];
        let (r, w) = [(n / 2 + 1, n / 2 + 1), (n, 1), (1, n)][quorum];
        let mut spec = clusterlab_sim::RunSpec::new("cap").seed(seed).set("n", &n.to_string()).set("r", &r.to_string()).set("w", &w.to_string())
            .set("arrival_rate", "900").set("keys", "8").set("write_ratio", "0.5").limit(Limit::Until(15_000_000));
        for (kind, a, mask, at) in faults {
            let node = format!("replica-{}", names[a % n]);
            let entry = match kind {
                0 => {
                    // Regions on one side of the cut (a bit each), the rest on the other.
                    let (one, other): (Vec<usize>, Vec<usize>) = (0..n).partition(|i| mask & 1 << i != 0);
                    if one.is_empty() || other.is_empty() { continue; }
                    let side = |s: &[usize]| s.iter().map(|i| format!("client-{0},replica-{0}", names[*i])).collect::<Vec<_>>().join(",");
                    format!("{at}us partition {}|{}", side(&one), side(&other))
                }
                1 => format!("{at}us kill {node}"),
                2 => format!("{at}us revive {node}"),
                _ => format!("{at}us heal"),
            };
            spec = spec.fault(&entry);
        }
        let mut sim = Sim::new(&spec).unwrap();
        let reproduce = sim.reproduce();
        sim.run();
        let report = Report::of(&sim, 0.0);
        prop_assert_eq!(report.invariants.violation_count, 0, "{:?} — {}", report.invariants.violations, reproduce);
        prop_assert_eq!(report.metrics["linearizability_violations"].as_u64(), Some(0));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    /// With idempotency keys (locked before the charge), no payment is charged twice, by
    /// the processor's own count, whatever is lost and whenever the API or the processor
    /// crashes, hangs or comes back, for any retry settings.
    #[test]
    fn keys_never_charge_a_payment_twice(
        seed in any::<u64>(),
        loss in 0.0f64..0.3,
        response_loss in 0.0f64..0.6,
        retries in 0u32..8,
        backoff_ms in 1u64..2_000,
        jitter in any::<bool>(),
        timeout_ms in 5u64..3_000,
        charge_ms in 1u64..3_000,
        faults in proptest::collection::vec((0u8..6, 0u64..20_000_000), 0..8),
    ) {
        let mut spec = clusterlab_sim::RunSpec::new("idempotency").seed(seed).set("arrival_rate", "80")
            .set("loss", &format!("{loss:.3}")).set("response_loss", &format!("{response_loss:.3}"))
            .set("retries", &retries.to_string()).set("backoff", &format!("{backoff_ms}ms")).set("jitter", if jitter { "on" } else { "off" })
            .set("attempt_timeout", &format!("{timeout_ms}ms")).set("charge_time", &format!("exp:{charge_ms}ms")).set("key_ttl", "7200s")
            .limit(Limit::Until(20_000_000));
        for (kind, at) in faults {
            let entry = match kind {
                0 => format!("{at}us kill api"),
                1 => format!("{at}us revive api"),
                2 => format!("{at}us kill processor"),
                3 => format!("{at}us revive processor"),
                4 => format!("{at}us hang processor"),
                _ => format!("{at}us partition api|processor"),
            };
            spec = spec.fault(&entry);
        }
        let mut sim = Sim::new(&spec).unwrap();
        let reproduce = sim.reproduce();
        sim.run();
        let report = Report::of(&sim, 0.0);
        prop_assert_eq!(report.metrics["duplicate_charges"].as_u64(), Some(0), "{}", reproduce);
        prop_assert_eq!(report.invariants.violation_count, 0, "{:?} — {}", report.invariants.violations, reproduce);
        let c = report.requests;
        prop_assert_eq!(c.in_flight, 0, "every payment ends — {}", reproduce);
    }
}

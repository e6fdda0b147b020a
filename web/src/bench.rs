//! `?bench=N`: the engine benchmark of `clusterlab bench`, run in the browser, so that
//! `cargo xtask bench` can compare wasm with native. Shows its result as JSON in `#bench`.

use clusterlab_sim::num::Fixed;
use clusterlab_sim::scene::SCENES;
use clusterlab_sim::trace::{PAGE_RING_CAPACITY, RingSink};
use clusterlab_sim::{Limit, RunSpec, Sim};

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}

/// Runs every scene with default knobs for `requests` transactions; returns JSON.
pub fn run(requests: u64) -> String {
    let rows: Vec<String> = SCENES
        .iter()
        .map(|scene| {
            let scene = scene.info().id;
            // Best of three, as natively.
            let (mut wall_ms, mut events) = (f64::INFINITY, 0);
            for _ in 0..3 {
                let spec = RunSpec::new(scene).limit(Limit::Requests(requests));
                let mut sim = Sim::new(&spec).expect("default knobs are valid");
                // The page's trace ring, never drained, as `clusterlab bench` attaches it:
                // the two compare the same work.
                *sim.world.ring_mut() = Some(RingSink::new(PAGE_RING_CAPACITY));
                let start = now_ms();
                sim.run();
                wall_ms = wall_ms.min(now_ms() - start);
                events = sim.world.events();
            }
            format!(
                r#"{{"scene":"{scene}","transactions":{requests},"events":{events},"wall_ms":{},"events_per_s":{}}}"#,
                Fixed(wall_ms, 1),
                Fixed(events as f64 / (wall_ms / 1e3), 0)
            )
        })
        .collect();
    format!(r#"{{"runs":[{}]}}"#, rows.join(","))
}

//! Scene `event-driven` (patterns.md row 3): producers publish sign-up events to a broker
//! topic of `partitions` partitions (each a log with offsets); a consumer group shares
//! the partitions, and each member writes every event of its partitions to three
//! downstream services (e-mail, billing, analytics), committing the partition's offset
//! as it goes. When to commit decides what a crash costs: before the work (at-most-once)
//! loses what was under way; after it (at-least-once) repeats it; after it, with
//! services that skip what they already have (effectively-once), neither. A member that
//! dies or goes quiet is dropped from the group and its partitions are dealt again.

mod broker;
mod check;
mod nodes;

use super::measure::{measures, ms};
use broker::Broker;
use check::Delivery;
use crate::components::source::Source as Producers;
use crate::knob::{KnobKind, KnobSpec, Params, common_knobs_with_latency};
use crate::msg::NodeId;
use crate::scene::{Preset, Probe, Scene, SceneInfo};
use crate::time::US_PER_S;
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView, LATENCY_CHART};
use crate::world::World;
use nodes::{AT_MOST_ONCE, Consumer, EFFECTIVELY_ONCE, Sink};
use serde_json::{Map, Value as Json};
use std::sync::LazyLock;

pub struct EventDriven;

pub const DELIVERY: &[&str] = &["at-most-once", "at-least-once", "effectively-once"];
pub const SINKS: [&str; 3] = ["email", "billing", "analytics"];
const LOSES_NOTHING: &str = "at-least-once loses nothing";
const NO_DUPLICATES: &str = "effectively-once has zero duplicates";

static INFO: LazyLock<SceneInfo> = LazyLock::new(|| {
    let mut knobs = common_knobs_with_latency("200", 20_000.0, "const:1ms");
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "partitions", kind: KnobKind::Int { min: 1, max: 32 }, default: "6", unit: "", live: false, help: "Partitions of the topic: the most consumers that can work at once, and the unit of order." },
        KnobSpec { name: "consumers", kind: KnobKind::Int { min: 1, max: 16 }, default: "3", unit: "", live: false, help: "Members of the consumer group; partitions are dealt round them, and a member left without one waits idle." },
        KnobSpec { name: "delivery", kind: KnobKind::Choice(DELIVERY), default: "at-least-once", unit: "", live: false, help: "at-most-once: commit the offset on receipt, then work (a crash loses the event). at-least-once: work, write to every service, then commit (a crash repeats it). effectively-once: at-least-once, and the services skip an event they already have." },
        KnobSpec { name: "consumer_crash_rate", kind: KnobKind::Float { min: 0.0, max: 0.1 }, default: "0", unit: "per event", live: true, help: "The chance, per event, that its consumer crashes: half before the work, half after the writes and before the commit." },
        KnobSpec { name: "commit_interval", kind: KnobKind::Duration { min_us: 1_000, max_us: 60 * US_PER_S }, default: "1s", unit: "", live: false, help: "At-least-once: how often a consumer commits its partitions' offsets, up to what it has written out (at-most-once commits each event on receipt). A crash repeats what was written since the last commit." },
        KnobSpec { name: "restart_time", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "5s", unit: "", live: false, help: "How long a crashed consumer takes to come back and rejoin the group." },
        KnobSpec { name: "ordering_key", kind: KnobKind::Bool, default: "on", unit: "", live: false, help: "On, a user's events all go to one partition (by a hash of the user), so they are applied in order; off, round robin over the partitions." },
        KnobSpec { name: "process_time", kind: KnobKind::Dist, default: "exp:5ms", unit: "", live: false, help: "A consumer's work on one event, before it writes it out." },
        KnobSpec { name: "users", kind: KnobKind::Int { min: 1, max: 1_000_000 }, default: "1000", unit: "", live: false, help: "Users whose events are produced (the ordering key)." },
    ] });
    SceneInfo {
        id: "event-driven",
        title: "Event-driven architecture",
        knobs,
        actions: &[],
        view: SceneView {
            stage: StageView { columns: &[&["client"], &["broker"], &["consumer"], &["service"]], links: &[("client", "broker"), ("broker", "consumer"), ("consumer", "service")], paired: &[] },
            charts: const { &[
                Chart { title: "Consumer lag (events)", unit: "events", lines: &[Line::measured("lag", "lag", Colour::Purple).compared()] },
                Chart {
                    title: "Duplicates and losses, so far",
                    unit: "events",
                    lines: &[Line::measured("applied twice", "duplicates", Colour::Orange).compared(), Line::measured("lost", "lost", Colour::Red).compared()],
                },
                Chart { title: "Published to applied (ms)", unit: "ms", lines: &[Line::measured("p50", "e2e_p50_ms", Colour::Green), Line::measured("p99", "e2e_p99_ms", Colour::Red).compared()] },
                LATENCY_CHART,
            ] },
            compare: &[
                Row { label: "events published", metric: "published" },
                Row { label: "applied twice (billing)", metric: "duplicates" },
                Row { label: "lost (committed, never applied)", metric: "lost" },
                Row { label: "a user's events out of order", metric: "out_of_order" },
                Row { label: "published to applied, p50 · p99 (ms)", metric: "e2e_latency" },
                Row { label: "consumer lag now (events)", metric: "consumer_lag" },
                Row { label: "rebalances", metric: "rebalances" },
                Row { label: "consumers idle (no partition)", metric: "idle_consumers" },
            ],
            tables: &[],
        },
        narrative: &crate::narratives::event_driven::NARRATIVE,
        presets: const { &[
            Preset {
                name: "crash-at-least-once",
                title: "A consumer dies: its partitions move, some events repeat",
                about: "At 20 s consumer-2 dies; the broker deals its partitions to the others, who start from the last committed offsets: what consumer-2 had written since its last commit (up to a second's worth) is written again. Nothing is lost.",
                set: &[],
                faults: &["20s kill consumer-2", "30s revive consumer-2"],
            },
            Preset {
                name: "crash-at-most-once",
                title: "At-most-once: a dying consumer loses what it held",
                about: "The same death, with offsets committed on receipt: what consumer-2 had in hand and not yet written is gone, and what it wrote is not written again.",
                set: &[("delivery", "at-most-once")],
                faults: &["20s kill consumer-2", "30s revive consumer-2"],
            },
            Preset {
                name: "consumer-crashes",
                title: "Consumers that crash now and then repeat their work",
                about: "Consumers crash on 0.1% of events (each about every 15 s, back 2 s later), half of them after writing and before committing: each crash writes again what was written since the last commit. With effectively-once the services keep which events they have applied and skip a repeat: no loss, no duplicate.",
                set: &[("consumer_crash_rate", "0.001"), ("restart_time", "2s")],
                faults: &[],
            },
            Preset {
                name: "more-consumers-than-partitions",
                title: "Eight consumers, six partitions: two wait idle",
                about: "A partition has one consumer at a time: with more members than partitions, the extra ones get none and sit idle, spares for when one dies.",
                set: &[("consumers", "8")],
                faults: &[],
            },
            Preset {
                name: "no-ordering-key",
                title: "Without an ordering key, a user's events overtake one another",
                about: "Events go round robin over the partitions: a user's sign-up and its update land on different partitions, consumed at different speeds, and are applied out of order.",
                set: &[("ordering_key", "off")],
                faults: &[],
            },
        ] },
    }
});

struct TopicProbe {
    broker: NodeId,
    consumers: Vec<NodeId>,
    billing: NodeId,
}

impl Scene for EventDriven {
    fn info(&self) -> &'static SceneInfo {
        &INFO
    }

    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe> {
        let mode = DELIVERY.iter().position(|d| *d == p.choice("delivery")).expect("a valid choice");
        let partitions = p.int("partitions") as usize;
        let n = p.int("consumers") as usize;
        // Ids in order: broker 0, consumers 1..=n, services after.
        let broker_id: NodeId = 0;
        let consumers: Vec<NodeId> = (1..=n as NodeId).collect();
        let sinks: Vec<NodeId> = (n as NodeId + 1..n as NodeId + 1 + SINKS.len() as NodeId).collect();
        assert!(w.add_node("broker", "broker", Box::new(Broker::new(partitions, consumers.clone(), p.flag("ordering_key")))) == broker_id, "nodes added in id order");
        for (i, &id) in consumers.iter().enumerate() {
            let c = Consumer::new(broker_id, sinks.clone(), mode, p.dist("process_time"), p.float("consumer_crash_rate"), p.duration("restart_time"), p.duration("commit_interval"));
            assert!(w.add_node(format!("consumer-{}", i + 1), "consumer", Box::new(c)) == id, "nodes added in id order");
        }
        for (name, &id) in SINKS.iter().zip(&sinks) {
            assert!(w.add_node(*name, "service", Box::new(Sink::new(partitions, mode == EFFECTIVELY_ONCE))) == id, "nodes added in id order");
        }
        let producers = Producers::new(broker_id, p.float("arrival_rate"), 10 * US_PER_S, p.int("users") as u64, w.stream("workload")).shaped(p);
        w.add_node("client", "client", Box::new(producers));
        if mode != AT_MOST_ONCE {
            w.add_checker(Box::new(Delivery::new(LOSES_NOTHING, broker_id, sinks.clone(), partitions, false)));
        }
        if mode == EFFECTIVELY_ONCE {
            w.add_checker(Box::new(Delivery::new(NO_DUPLICATES, broker_id, sinks.clone(), partitions, true)));
        }
        Box::new(TopicProbe { broker: broker_id, consumers, billing: sinks[1] })
    }
}

impl Probe for TopicProbe {
    fn metrics(&self, w: &World) -> Map<String, Json> {
        let b = w.component::<Broker>(self.broker);
        let billing = w.component::<Sink>(self.billing);
        let lost: u64 = (0..b.partitions()).map(|p| billing.lost_before(p, b.committed(p))).sum();
        measures!{
            "published": b.appended,
            "duplicates": billing.duplicates,
            "skipped_repeats": billing.skipped,
            "lost": lost,
            "out_of_order": billing.out_of_order,
            "e2e_latency": [ms(billing.e2e.quantile(0.5)), ms(billing.e2e.quantile(0.99))],
            "consumer_lag": b.lag(),
            "rebalances": b.rebalances,
            "idle_consumers": b.idle_members(),
            "crashes": self.consumers.iter().map(|&c| w.component::<Consumer>(c).crashes).sum::<u64>(),
        }
    }

    fn series_names(&self, _w: &World) -> Vec<String> {
        ["lag", "duplicates", "lost", "e2e_p50_ms", "e2e_p99_ms"].map(String::from).to_vec()
    }

    fn sample(&self, w: &World, out: &mut Vec<f64>) {
        let b = w.component::<Broker>(self.broker);
        let billing = w.component::<Sink>(self.billing);
        out.push(b.lag() as f64);
        out.push(billing.duplicates as f64);
        out.push((0..b.partitions()).map(|p| billing.lost_before(p, b.committed(p))).sum::<u64>() as f64);
        let [p50, p99] = billing.e2e.quantiles([0.5, 0.99]);
        out.extend([p50 / 1e3, p99 / 1e3]);
    }
}

//! Scene `websockets` (patterns.md row 17): chat. Clients hold a WebSocket each to one
//! of `servers` gateways; the gateways relay every message through a pub/sub backplane
//! to the gateways whose connections are in its room, which push it down. Heartbeats
//! find connections whose client is gone without closing (a phone out of signal), which
//! otherwise stay open for ever. Killing a gateway drops its clients at once: reconnecting
//! immediately makes a storm of connection attempts; backing off with jitter spreads it.
//! Compared with short polling: every client asks every `poll_interval`, whether or not
//! anything was said, and waits half an interval on average for each message.

mod check;
mod devices;
mod nodes;

use super::measure::{measures, ms};
use crate::components::source::Source as People;
use crate::knob::{KnobKind, KnobSpec, Params, common_knobs_with_latency};
use crate::msg::NodeId;
use crate::scene::{Preset, Probe, Scene, SceneInfo};
use crate::series::last_whole_second;
use crate::error::{Error, Result};
use crate::time::{Micros, US_PER_S, format_duration};
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView};
use crate::world::World;
use check::NoLeaks;
use devices::{DeviceConfig, Devices, Reconnect};
use nodes::{Backplane, Gateway};
use serde_json::{Map, Value as Json};
use std::cell::RefCell;
use std::sync::LazyLock;

pub struct WebSockets;

pub const TRANSPORTS: &[&str] = &["websocket", "polling"];
pub const FANOUTS: &[&str] = &["room", "all"];
pub const RECONNECTS: &[&str] = &["none", "immediate", "backoff-jitter"];
const MIN_HEARTBEAT_US: Micros = 100_000;
const NO_LEAKS: &str = "no connection outlives its client (heartbeats on)";

static INFO: LazyLock<SceneInfo> = LazyLock::new(|| {
    let mut knobs = common_knobs_with_latency("2", 10_000.0, "const:1ms");
    // Here the clients' arrivals are new clients, each taking the place of one who leaves.
    knobs[0] = KnobSpec {
        name: "arrival_rate",
        kind: KnobKind::Float { min: 0.0, max: 10_000.0 },
        default: "2",
        unit: "clients/s",
        live: true,
        help: "Clients arriving per second (Poisson), each taking the place of one who leaves, so that `clients` stay online: a leaver closes its connection, or vanishes (vanish_share) leaving it open.",
    };
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "clients", kind: KnobKind::Int { min: 1, max: 20_000 }, default: "1000", unit: "", live: false, help: "Clients online, each holding one WebSocket (or polling)." },
        KnobSpec { name: "servers", kind: KnobKind::Int { min: 1, max: 16 }, default: "3", unit: "gateways", live: false, help: "Gateway servers holding the connections; a client connects to one at random." },
        KnobSpec { name: "message_rate", kind: KnobKind::Float { min: 1.0, max: 20_000.0 }, default: "200", unit: "msg/s", live: true, help: "Chat messages sent per second by all clients together (Poisson; the traffic shape applies to it)." },
        KnobSpec { name: "fanout", kind: KnobKind::Choice(FANOUTS), default: "room", unit: "", live: false, help: "room: a message goes to the members of its sender's room; all: to every client." },
        KnobSpec { name: "rooms", kind: KnobKind::Int { min: 1, max: 10_000 }, default: "50", unit: "", live: false, help: "Chat rooms (with fanout=room); client i is in room i mod rooms." },
        KnobSpec { name: "heartbeat", kind: KnobKind::Duration { min_us: 0, max_us: 600 * US_PER_S }, default: "30s", unit: "", live: false, help: "How often a gateway pings each connection; silent for two intervals, it is closed. A client that hears no ping for 2.5 intervals reconnects. 0 turns heartbeats off; otherwise at least 100ms." },
        KnobSpec { name: "reconnect", kind: KnobKind::Choice(RECONNECTS), default: "backoff-jitter", unit: "", live: false, help: "What a client does when its connection drops or an attempt fails: none (stays offline), immediate (tries again at once), backoff-jitter (waits a random time up to reconnect_base × 2^attempts, at most reconnect_cap)." },
        KnobSpec { name: "reconnect_base", kind: KnobKind::Duration { min_us: 1_000, max_us: 60 * US_PER_S }, default: "1s", unit: "", live: false, help: "The first backoff bound; it doubles with every failed attempt." },
        KnobSpec { name: "reconnect_cap", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "30s", unit: "", live: false, help: "The largest backoff bound." },
        KnobSpec { name: "handshake_time", kind: KnobKind::Dist, default: "exp:20ms", unit: "", live: false, help: "A gateway core's work to accept one connection (TLS, authentication, loading the session)." },
        KnobSpec { name: "cores", kind: KnobKind::Int { min: 1, max: 64 }, default: "2", unit: "", live: false, help: "Handshakes a gateway works on at once." },
        KnobSpec { name: "accept_queue", kind: KnobKind::Int { min: 0, max: 100_000 }, default: "100", unit: "", live: false, help: "Connection attempts a gateway lets wait for a core; beyond it, refused." },
        KnobSpec { name: "vanish_share", kind: KnobKind::Float { min: 0.0, max: 1.0 }, default: "0.5", unit: "fraction", live: true, help: "Of the clients who leave, the share that vanish without closing their connection." },
        KnobSpec { name: "transport", kind: KnobKind::Choice(TRANSPORTS), default: "websocket", unit: "", live: false, help: "websocket: connections held open, messages pushed. polling: no connection; every client asks a gateway every poll_interval for what its room said." },
        KnobSpec { name: "poll_interval", kind: KnobKind::Duration { min_us: 100_000, max_us: 600 * US_PER_S }, default: "2s", unit: "", live: false, help: "Polling: how often each client asks." },
    ] });
    SceneInfo {
        id: "websockets",
        title: "WebSockets",
        knobs,
        actions: &[],
        view: SceneView {
            stage: StageView { columns: &[&["client"], &["devices"], &["gateway"], &["backplane"]], links: &[("client", "devices"), ("devices", "gateway"), ("gateway", "backplane")], paired: &[] },
            charts: const { &[
                Chart { title: "Connection attempts per second", unit: "per s", lines: &[Line::measured("attempts", "attempts_rps", Colour::Orange).compared()] },
                Chart { title: "Connections at the gateways", unit: "connections", lines: &[Line::measured("open", "open_connections", Colour::Blue).compared(), Line::measured("leaked", "leaked_connections", Colour::Red).compared()] },
                Chart {
                    title: "Message latency, sent to received (ms)",
                    unit: "ms",
                    lines: &[
                        Line::measured("p50", "message_p50_ms", Colour::Green),
                        Line::measured("p99", "message_p99_ms", Colour::Red).compared(),
                        Line::theory("theory p50 (polling: half an interval)", "message_p50_ms", 1.0, Colour::White),
                    ],
                },
                Chart { title: "Requests per second at the gateways", unit: "req/s", lines: &[Line::measured("requests", "gateway_rps", Colour::Purple).compared(), Line::theory("theory", "gateway_rps", 1.0, Colour::White)] },
            ] },
            compare: &[
                Row { label: "clients online now", metric: "online" },
                Row { label: "open connections", metric: "open_connections" },
                Row { label: "leaked connections (client gone, silent past 3 heartbeats)", metric: "leaked_connections" },
                Row { label: "connections of gone clients, still open", metric: "dead_connections_open" },
                Row { label: "connection attempts, peak per second", metric: "reconnect_peak" },
                Row { label: "connections refused", metric: "refused" },
                Row { label: "longest a dropped client waited (s)", metric: "offline_max_s" },
                Row { label: "messages lost (client offline)", metric: "messages_lost" },
                Row { label: "message latency p50 · p99 (ms)", metric: "message_latency" },
                Row { label: "requests per second at the gateways", metric: "gateway_rps" },
                Row { label: "heartbeat pings sent", metric: "heartbeats" },
                Row { label: "frames written to dead connections", metric: "wasted_frames" },
            ],
            tables: &[],
        },
        narrative: &crate::narratives::websockets::NARRATIVE,
        presets: const { &[
            Preset {
                name: "gateway-dies-immediate",
                title: "A gateway dies; its clients reconnect at once",
                about: "At 20 s gateway-1 dies with a third of the clients on it. Each reconnects immediately to a gateway at random: hundreds of attempts in the same instant, most refused by full accept queues or sent to the dead gateway, each refusal followed by another attempt.",
                set: &[("reconnect", "immediate")],
                faults: &["20s kill gateway-1", "40s revive gateway-1"],
            },
            Preset {
                name: "gateway-dies-backoff",
                title: "The same death, with exponential backoff and jitter",
                about: "Each dropped client waits a random time up to a second before its first attempt, up to two after a refusal, and so on: the attempts spread out, and the surviving gateways accept them as fast as they come.",
                set: &[("reconnect", "backoff-jitter")],
                faults: &["20s kill gateway-1", "40s revive gateway-1"],
            },
            Preset {
                name: "no-heartbeats",
                title: "No heartbeats: connections of vanished clients stay open",
                about: "Five clients a second leave and are replaced; half of them vanish without closing. Nothing tells the gateways: the dead connections pile up, each still written every message of its room.",
                set: &[("heartbeat", "0"), ("arrival_rate", "5")],
                faults: &[],
            },
            Preset {
                name: "polling",
                title: "Short polling every 2 s instead",
                about: "No connection held: each of the 1000 clients asks every 2 s what its room said. 500 requests a second when nobody talks, and a message waits a second on average before anyone sees it.",
                set: &[("transport", "polling")],
                faults: &[],
            },
        ] },
    }
});

struct ChatProbe {
    devices: NodeId,
    gateways: Vec<NodeId>,
    heartbeat_us: Option<Micros>,
    /// At the last sample: time, requests at the gateways, connection attempts.
    last: RefCell<(Micros, u64)>,
}

impl ChatProbe {
    /// Connections of clients that are gone: all of them (`past_detection` false), or
    /// only those silent longer than heartbeats take to close them (three intervals).
    fn dead(&self, w: &World, past_detection: bool) -> usize {
        let d = w.component::<Devices>(self.devices);
        let silent = if past_detection { self.heartbeat_us.map_or(0, |hb| 3 * hb + US_PER_S) } else { 0 };
        self.gateways.iter().map(|&g| w.component::<Gateway>(g).leaked(w.now(), silent, |c| d.is_current(c))).sum()
    }

    fn open(&self, w: &World) -> usize {
        self.gateways.iter().map(|&g| w.component::<Gateway>(g).open()).sum()
    }

    fn requests(&self, w: &World) -> u64 {
        self.gateways.iter().map(|&g| w.component::<Gateway>(g).requests).sum()
    }
}

impl Scene for WebSockets {
    fn info(&self) -> &'static SceneInfo {
        &INFO
    }

    fn check(&self, p: &Params) -> Result<()> {
        let hb = p.duration("heartbeat");
        if hb > 0 && hb < MIN_HEARTBEAT_US {
            return Err(Error::new(format!("heartbeat={}: use 0 (off) or at least 100ms", format_duration(hb))));
        }
        Ok(())
    }

    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe> {
        let clients = p.int("clients") as usize;
        let n = p.int("servers") as usize;
        let rooms = if p.choice("fanout") == "all" { 1 } else { p.int("rooms") as u32 };
        let polling = p.choice("transport") == "polling";
        let heartbeat = Some(p.duration("heartbeat")).filter(|hb| *hb > 0 && !polling);
        // Ids in order: devices 0, gateways 1..=n, the backplane, the people typing.
        let devices_id: NodeId = 0;
        let gateways: Vec<NodeId> = (1..=n as NodeId).collect();
        let backplane_id = n as NodeId + 1;
        let people_id = n as NodeId + 2;
        let reconnect = match p.choice("reconnect") {
            "none" => Reconnect::Never,
            "immediate" => Reconnect::Immediate,
            _ => Reconnect::Backoff,
        };
        let cfg = DeviceConfig {
            rooms,
            reconnect,
            base_us: p.duration("reconnect_base"),
            cap_us: p.duration("reconnect_cap"),
            heartbeat_us: heartbeat,
            poll_us: polling.then(|| p.duration("poll_interval")),
            churn_per_s: p.float("arrival_rate"),
            vanish_share: p.float("vanish_share"),
        };
        let devices = Devices::new(cfg, clients, people_id, gateways.clone(), w.stream("devices"));
        assert!(w.add_node("devices", "devices", Box::new(devices)) == devices_id, "nodes added in id order");
        // The connections made before the run: client i on gateway i mod n.
        let first = |g: usize| (g..clients).step_by(n).map(move |i| (super::clients::first_conn(i), i as u32 % rooms));
        for (g, &id) in gateways.iter().enumerate() {
            let mut gw = Gateway::new(devices_id, backplane_id, rooms, p.int("cores") as u32, p.int("accept_queue") as usize, p.dist("handshake_time"), heartbeat, polling);
            if !polling {
                gw = gw.holding(first(g));
            }
            assert!(w.add_node(format!("gateway-{}", g + 1), "gateway", Box::new(gw)) == id, "nodes added in id order");
        }
        assert!(w.add_node("backplane", "backplane", Box::new(Backplane::new(gateways.clone(), rooms, !polling))) == backplane_id, "nodes added in id order");
        let people = People::new(devices_id, p.float("message_rate"), 10 * US_PER_S, 1, w.stream("workload")).rate_knob("message_rate").shaped(p);
        assert!(w.add_node("people", "client", Box::new(people)) == people_id, "nodes added in id order");
        if let Some(hb) = heartbeat {
            let initial = (0..n).flat_map(|g| first(g).map(move |(c, _)| (g, c)));
            w.add_checker(Box::new(NoLeaks::new(NO_LEAKS, devices_id, gateways.clone(), hb, initial)));
        }
        Box::new(ChatProbe { devices: devices_id, gateways, heartbeat_us: heartbeat, last: RefCell::new((0, 0)) })
    }
}

impl Probe for ChatProbe {
    fn metrics(&self, w: &World) -> Map<String, Json> {
        let d = w.component::<Devices>(self.devices);
        let secs = (w.now() as f64 / US_PER_S as f64).max(1e-9);
        measures!{
            "online": d.online_count(),
            "open_connections": self.open(w),
            "leaked_connections": self.dead(w, true),
            "dead_connections_open": self.dead(w, false),
            "reconnect_peak": d.attempts.iter().copied().max().unwrap_or(0),
            "reconnects": d.reconnects,
            "offline_max_s": (d.offline_max as f64 / US_PER_S as f64 * 10.0).round() / 10.0,
            "refused": d.refused,
            "messages_delivered": d.delivered,
            "messages_lost": d.lost,
            "message_latency": [ms(d.latency.quantile(0.5)), ms(d.latency.quantile(0.99))],
            "gateway_rps": (self.requests(w) as f64 / secs).round(),
            "heartbeats": self.gateways.iter().map(|&g| w.component::<Gateway>(g).pings).sum::<u64>(),
            "wasted_frames": d.wasted,
            "vanished_clients": d.vanished,
        }
    }

    fn series_names(&self, _w: &World) -> Vec<String> {
        ["attempts_rps", "open_connections", "leaked_connections", "message_p50_ms", "message_p99_ms", "gateway_rps"].map(String::from).to_vec()
    }

    fn sample(&self, w: &World, out: &mut Vec<f64>) {
        let d = w.component::<Devices>(self.devices);
        let now = w.now();
        out.push(last_whole_second(&d.attempts, now));
        out.push(self.open(w) as f64);
        out.push(self.dead(w, true) as f64);
        out.push(d.latency.quantile(0.5) / 1e3);
        out.push(d.latency.quantile(0.99) / 1e3);
        let requests = self.requests(w);
        let mut last = self.last.borrow_mut();
        let dt = now.saturating_sub(last.0);
        out.push(if dt > 0 { (requests - last.1) as f64 * US_PER_S as f64 / dt as f64 } else { f64::NAN });
        *last = (now, requests);
    }

    /// Requests reaching the gateways: each message, plus each new client's connection
    /// (WebSockets) or every client's poll every interval (polling). A polled message
    /// waits half an interval for the next poll, on average, plus the hops there and back
    /// (net_latency's mean, four hops).
    fn theory(&self, p: &Params) -> Vec<(&'static str, f64)> {
        let rate = p.float("message_rate");
        if p.choice("transport") == "polling" {
            let interval_s = p.duration("poll_interval") as f64 / US_PER_S as f64;
            let hops_ms = 4.0 * p.dist("net_latency").mean_us() / 1e3;
            vec![("gateway_rps", p.int("clients") as f64 / interval_s + rate), ("message_p50_ms", interval_s * 500.0 + hops_ms)]
        } else {
            vec![("gateway_rps", rate + p.float("arrival_rate"))]
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::run::{RunSpec, Sim};
    use crate::world::Limit;

    fn leak_violations(keeps_silent: bool) -> u64 {
        let spec = RunSpec::new("websockets").set("heartbeat", "10s").set("arrival_rate", "5").limit(Limit::Until(60_000_000));
        let mut sim = Sim::new(&spec).unwrap();
        for g in 1..=3 {
            sim.world.with_component::<super::Gateway>(g, |gw, _| gw.keeps_silent = keeps_silent);
        }
        sim.run();
        sim.world.violations_of(super::NO_LEAKS)
    }

    /// Polling, a member's poll can see a message before its publisher hears it was
    /// taken: with one client, every time. That message is already seen and forgotten,
    /// not recorded again (once, this asked for a 34 GB ring).
    #[test]
    fn a_poll_that_overtakes_the_publishers_answer_is_fine() {
        let spec = RunSpec::new("websockets").set("transport", "polling").set("net_latency", "exp:5ms").set("fanout", "all").set("clients", "1").set("poll_interval", "100ms").set("message_rate", "500").limit(Limit::Until(20_000_000));
        let mut sim = Sim::new(&spec).unwrap();
        sim.run();
        assert!(sim.world.component::<super::Devices>(0).delivered > 9_000);
    }

    /// The checker catches a gateway that pings its connections and never closes the
    /// silent ones; the gateway as built closes them all in time.
    #[test]
    fn a_gateway_that_keeps_silent_connections_is_caught() {
        assert_eq!(leak_violations(false), 0);
        assert!(leak_violations(true) > 50, "{}", leak_violations(true));
    }
}

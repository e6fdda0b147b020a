//! Scene `sse` (patterns.md row 18): server-sent events. A server streams numbered events
//! to many browsers, each over one long HTTP response, through a reverse proxy that cuts
//! a connection when no byte has crossed it for `proxy_timeout`. A browser whose stream
//! ends waits `retry` and reconnects; with Last-Event-ID it says the last event it got
//! and the server replays what came since (from the `history` it keeps), without it the
//! events of the gap are lost. Keep-alive comments stop the idle cuts. Compared with
//! polling (every `poll_interval`) and long polling (a poll waits at the server for the
//! next event, up to `hold`), both of which carry a cursor.

mod browsers;
mod check;
mod nodes;

use super::measure::{measures, ms};
use crate::components::source::Source as Publisher;
use crate::knob::{KnobKind, KnobSpec, Params, common_knobs_with_latency};
use crate::msg::NodeId;
use crate::scene::{ActionSpec, Preset, Probe, Scene, SceneInfo};
use crate::scenes::clients::first_conn;
use crate::series::last_whole_second;
use crate::time::{Micros, US_PER_S};
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView};
use crate::world::World;
use browsers::{BrowserConfig, Browsers, Transport};
use check::NothingMissed;
use nodes::{Proxy, Server};
use serde_json::{Map, Value as Json};
use std::cell::Cell;
use std::sync::LazyLock;

pub struct Sse;

pub const TRANSPORTS: &[&str] = &["sse", "polling", "long-polling"];
const NOTHING_MISSED: &str = "a browser that resumes with its last event id misses nothing the server still keeps";
const BROWSERS: NodeId = 0;
const PROXY: NodeId = 1;
const SERVER: NodeId = 2;

static ACTIONS: &[ActionSpec] = &[ActionSpec { name: "cut-connections", arg: None, role: None, help: "The proxy drops every stream at once (a reload, a deploy, a failover): each browser waits retry and reconnects." }];

static INFO: LazyLock<SceneInfo> = LazyLock::new(|| {
    let mut knobs = common_knobs_with_latency("1", 10_000.0, "const:1ms");
    // Here arrivals are readers opening the page, each taking the place of one who leaves.
    knobs[0] = KnobSpec {
        name: "arrival_rate",
        kind: KnobKind::Float { min: 0.0, max: 10_000.0 },
        default: "1",
        unit: "readers/s",
        live: true,
        help: "Readers opening the page per second (Poisson), each taking the place of one who closes it, so that `clients` stay. A new page has no event id to resume from: it starts with the next event.",
    };
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "clients", kind: KnobKind::Int { min: 1, max: 20_000 }, default: "1000", unit: "", live: false, help: "Browsers reading the stream, each with one connection through the proxy." },
        KnobSpec { name: "event_rate", kind: KnobKind::Float { min: 0.01, max: 10_000.0 }, default: "5", unit: "events/s", live: true, help: "Events the server publishes per second (Poisson; the traffic shape applies to it)." },
        KnobSpec { name: "retry", kind: KnobKind::Duration { min_us: 0, max_us: 600 * US_PER_S }, default: "3s", unit: "", live: false, help: "How long a browser waits before reconnecting after its stream ends or an attempt fails (the stream's retry field; browsers default to about 3 s)." },
        KnobSpec { name: "last_event_id", kind: KnobKind::Bool, default: "on", unit: "", live: false, help: "On, every event carries an id and a reconnecting browser sends the last one it got (the Last-Event-ID header): the server replays what it missed. Off, the stream resumes from the next event." },
        KnobSpec { name: "proxy_timeout", kind: KnobKind::Duration { min_us: US_PER_S, max_us: 3_600 * US_PER_S }, default: "60s", unit: "", live: false, help: "The proxy cuts a connection when no byte has crossed it for this long (nginx's proxy_read_timeout, a load balancer's idle timeout)." },
        KnobSpec { name: "keepalive", kind: KnobKind::Duration { min_us: 0, max_us: 3_600 * US_PER_S }, default: "0", unit: "", live: false, help: "How often the server writes a comment line on every stream, so that it never looks idle; 0 for never." },
        KnobSpec { name: "history", kind: KnobKind::Int { min: 0, max: 1_000_000 }, default: "10000", unit: "events", live: false, help: "Events the server keeps to replay to browsers that resume (and to answer polls): one who missed more loses the oldest." },
        KnobSpec { name: "transport", kind: KnobKind::Choice(TRANSPORTS), default: "sse", unit: "", live: false, help: "sse: one stream per browser, events pushed. polling: every browser asks every poll_interval. long-polling: a poll with nothing new waits at the server for the next event (up to hold), and the browser asks again at once." },
        KnobSpec { name: "poll_interval", kind: KnobKind::Duration { min_us: 100_000, max_us: 600 * US_PER_S }, default: "2s", unit: "", live: false, help: "Polling: how often each browser asks." },
        KnobSpec { name: "hold", kind: KnobKind::Duration { min_us: 100_000, max_us: 600 * US_PER_S }, default: "25s", unit: "", live: false, help: "Long polling: the longest a poll waits for an event before the server answers it empty." },
    ] });
    SceneInfo {
        id: "sse",
        title: "Server-sent events",
        knobs,
        actions: ACTIONS,
        view: SceneView {
            stage: StageView { columns: &[&["browsers"], &["proxy"], &["server"], &["client"]], links: &[("browsers", "proxy"), ("proxy", "server"), ("server", "client")], paired: &[] },
            charts: const { &[
                Chart { title: "Events missed (total)", unit: "events", lines: &[Line::measured("missed", "events_missed", Colour::Red).compared()] },
                Chart { title: "Reconnections per second", unit: "per s", lines: &[Line::measured("reconnections", "reconnects_rps", Colour::Orange).compared(), Line::theory("theory (idle cuts)", "reconnects_rps", 1.0, Colour::White)] },
                Chart {
                    title: "Event latency (ms)",
                    unit: "ms",
                    lines: &[
                        Line::measured("p50", "latency_p50_ms", Colour::Green),
                        Line::measured("p99", "latency_p99_ms", Colour::Red).compared(),
                        Line::theory("theory p50", "latency_p50_ms", 1.0, Colour::White),
                    ],
                },
                Chart { title: "Requests per second at the server", unit: "req/s", lines: &[Line::measured("requests", "server_rps", Colour::Purple).compared(), Line::theory("theory", "server_rps", 1.0, Colour::White)] },
            ] },
            compare: &[
                Row { label: "events published", metric: "events_published" },
                Row { label: "events delivered (to every reader)", metric: "events_delivered" },
                Row { label: "events missed", metric: "events_missed" },
                Row { label: "events replayed after a reconnection", metric: "replayed" },
                Row { label: "reconnections", metric: "reconnects" },
                Row { label: "streams cut by the proxy", metric: "proxy_cuts" },
                Row { label: "event latency p50 · p99 (ms)", metric: "latency" },
                Row { label: "requests per second at the server", metric: "server_rps" },
                Row { label: "keep-alive comments written", metric: "keepalives" },
            ],
            tables: &[],
        },
        narrative: &crate::narratives::sse::NARRATIVE,
        presets: const { &[
            Preset {
                name: "proxy-reload-no-id",
                title: "The proxy reloads; browsers resume without Last-Event-ID",
                about: "At 20 s the proxy drops every stream (a reload). Each of the 1000 browsers waits 3 s and reconnects, and the stream goes on from the next event: the events of those 3 s (15 on average) reach no one.",
                set: &[("last_event_id", "off")],
                faults: &["20s cut-connections"],
            },
            Preset {
                name: "proxy-reload-last-event-id",
                title: "The same reload, with Last-Event-ID",
                about: "Each browser reconnects saying the last event it got; the server replays the ones since from its history. Nothing is missed; those events arrive up to 3 s late.",
                set: &[("last_event_id", "on")],
                faults: &["20s cut-connections"],
            },
            Preset {
                name: "idle-proxy-timeout",
                title: "A quiet stream behind a 10 s proxy timeout",
                about: "An event every 10 s on average, and a proxy that cuts connections idle for 10 s: now and then a gap is long enough, and every stream is cut at once. Without Last-Event-ID, what happens while they reconnect is lost.",
                set: &[("event_rate", "0.1"), ("proxy_timeout", "10s"), ("last_event_id", "off")],
                faults: &[],
            },
            Preset {
                name: "polling",
                title: "Polling every 2 s instead",
                about: "No stream to cut: each browser asks every 2 s for what is new since its cursor. 500 requests a second however quiet the server, and an event waits a second on average.",
                set: &[("transport", "polling")],
                faults: &[],
            },
        ] },
    }
});

struct SseProbe {
    /// At the last sample: time and requests at the server.
    last: Cell<(Micros, u64)>,
}

fn hop_s(p: &Params) -> f64 {
    p.dist("net_latency").mean_us() / US_PER_S as f64
}

/// Idle cuts without keep-alive: from a stream's opening, the wait for a gap of
/// `proxy_timeout` between Poisson events is (e^{rT} − 1)/r on average; then the browser
/// hears (one hop), waits `retry` and reopens (three hops). Per browser, one
/// reconnection per such cycle. A keep-alive more often than the timeout: none.
fn reconnect_theory(p: &Params) -> Option<f64> {
    let (r, t) = (p.float("event_rate"), p.duration("proxy_timeout") as f64 / US_PER_S as f64);
    let keepalive = p.duration("keepalive");
    if p.choice("transport") != "sse" || p.choice("traffic") != "steady" || keepalive as f64 >= t * US_PER_S as f64 {
        return None;
    }
    let cycle = (libm::exp((r * t).min(700.0)) - 1.0) / r + p.duration("retry") as f64 / US_PER_S as f64 + 4.0 * hop_s(p);
    // (e^{rT} overflows nothing below 700, but past a few dozen the answer is nil.)
    let rate = p.int("clients") as f64 / cycle;
    Some(if keepalive > 0 || rate < 1e-9 { 0.0 } else { rate })
}

impl Scene for Sse {
    fn info(&self) -> &'static SceneInfo {
        &INFO
    }

    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe> {
        let clients = p.int("clients") as usize;
        let transport = match p.choice("transport") {
            "polling" => Transport::Polling,
            "long-polling" => Transport::LongPolling,
            _ => Transport::Sse,
        };
        let sse = transport == Transport::Sse;
        let keepalive = Some(p.duration("keepalive")).filter(|k| *k > 0 && sse);
        let server = Server::new(PROXY, p.int("history") as usize, keepalive, (transport == Transport::LongPolling).then(|| p.duration("hold")));
        let cfg = BrowserConfig {
            transport,
            retry_us: p.duration("retry"),
            last_event_id: p.flag("last_event_id"),
            poll_us: p.duration("poll_interval"),
            hold_us: p.duration("hold"),
            churn_per_s: p.float("arrival_rate"),
        };
        let browsers = Browsers::new(cfg, clients, PROXY, server.log.clone(), w.stream("browsers"));
        assert!(w.add_node("browsers", "browsers", Box::new(browsers)) == BROWSERS, "nodes added in id order");
        let mut proxy = Proxy::new(BROWSERS, SERVER, p.duration("proxy_timeout"), clients);
        if sse {
            // Every browser's first stream, open before the run (the browsers hold the same).
            proxy = proxy.holding(first_conn);
        }
        assert!(w.add_node("proxy", "proxy", Box::new(proxy)) == PROXY, "nodes added in id order");
        assert!(w.add_node("server", "server", Box::new(server)) == SERVER, "nodes added in id order");
        let publisher = Publisher::new(SERVER, p.float("event_rate"), 10 * US_PER_S, 1, w.stream("workload")).rate_knob("event_rate").shaped(p);
        w.add_node("publisher", "client", Box::new(publisher));
        if !sse || p.flag("last_event_id") {
            w.add_checker(Box::new(NothingMissed::new(NOTHING_MISSED, BROWSERS, PROXY, clients, p.int("history") as u32, sse.then_some(first_conn as fn(usize) -> u64))));
        }
        Box::new(SseProbe { last: Cell::new((0, 0)) })
    }
}

impl Probe for SseProbe {
    fn metrics(&self, w: &World) -> Map<String, Json> {
        let b = w.component::<Browsers>(BROWSERS);
        let s = w.component::<Server>(SERVER);
        let secs = (w.now() as f64 / US_PER_S as f64).max(1e-9);
        measures!{
            "streaming": b.online(),
            "open_connections": w.component::<Proxy>(PROXY).streams,
            "events_published": s.log.borrow().head,
            "events_delivered": b.delivered,
            "events_missed": b.missed,
            "replayed": b.replayed,
            "reconnects": b.reconnects,
            "proxy_cuts": w.component::<Proxy>(PROXY).cuts,
            "latency": [ms(b.latency.quantile(0.5)), ms(b.latency.quantile(0.99))],
            "server_rps": (s.requests as f64 / secs).round(),
            "keepalives": s.comments,
        }
    }

    fn series_names(&self, _w: &World) -> Vec<String> {
        ["events_missed", "reconnects_rps", "latency_p50_ms", "latency_p99_ms", "server_rps"].map(String::from).to_vec()
    }

    fn sample(&self, w: &World, out: &mut Vec<f64>) {
        let b = w.component::<Browsers>(BROWSERS);
        let now = w.now();
        out.push(b.missed as f64);
        out.push(last_whole_second(&b.per_second, now));
        out.push(b.latency.quantile(0.5) / 1e3);
        out.push(b.latency.quantile(0.99) / 1e3);
        let requests = w.component::<Server>(SERVER).requests;
        let (t, before) = self.last.get();
        let dt = now.saturating_sub(t);
        out.push(if dt > 0 { (requests - before) as f64 * US_PER_S as f64 / dt as f64 } else { f64::NAN });
        self.last.set((now, requests));
    }

    /// An event reaches a stream two hops after it happens (server, proxy, browser); a
    /// polled one waits half an interval on average for the next poll. Requests at the
    /// server: polls, every interval; long polls, one per cycle of a trip there and back
    /// (four hops) plus, unless an event came during the trip, the wait for the next one
    /// (exponential, capped at `hold`), and each new page's first; streams, new pages and reconnections.
    fn theory(&self, p: &Params) -> Vec<(&'static str, f64)> {
        let (clients, hop) = (p.int("clients") as f64, hop_s(p));
        let steady = p.choice("traffic") == "steady";
        match p.choice("transport") {
            "polling" => {
                let interval = p.duration("poll_interval") as f64 / US_PER_S as f64;
                vec![("server_rps", clients / interval), ("latency_p50_ms", (interval / 2.0 + 2.0 * hop) * 1e3)]
            }
            "long-polling" => {
                let (r, hold, trip) = (p.float("event_rate"), p.duration("hold") as f64 / US_PER_S as f64, 4.0 * hop);
                let cycle = trip + libm::exp(-r * trip) * (1.0 - libm::exp(-r * hold)) / r;
                let mut t = vec![("latency_p50_ms", 2e3 * hop)];
                // A new page's first poll, answered at once, comes on top. (Round trips longer
                // than a browser waits for its answer beyond the hold: no theory.)
                let waits = trip < browsers::ANSWER_TIMEOUT_US as f64 / US_PER_S as f64;
                t.extend((steady && waits).then(|| ("server_rps", clients / cycle + p.float("arrival_rate"))));
                t
            }
            _ => {
                let mut t = vec![("latency_p50_ms", 2e3 * hop)];
                if let Some(reconnects) = reconnect_theory(p) {
                    t.push(("reconnects_rps", reconnects));
                    t.push(("server_rps", reconnects + p.float("arrival_rate")));
                }
                t
            }
        }
    }

    fn on_action(&mut self, w: &mut World, action: &str, _arg: Option<&str>) {
        if action == "cut-connections" {
            w.with_component::<Proxy>(PROXY, |proxy, ctx| proxy.cut(ctx, Micros::MAX));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::run::{RunSpec, Sim};
    use crate::world::Limit;

    /// The checker catches a server that resumes a stream one event too late; the server
    /// as built replays from the next one.
    #[test]
    fn a_server_that_skips_an_event_on_resume_is_caught() {
        let run = |skip: u32| {
            let spec = RunSpec::new("sse").fault("20s cut-connections").limit(Limit::Until(30_000_000));
            let mut sim = Sim::new(&spec).unwrap();
            sim.world.with_component::<super::Server>(super::SERVER, |s, _| s.skip_on_resume = skip);
            sim.run();
            sim.world.violations_of(super::NOTHING_MISSED)
        };
        assert_eq!(run(0), 0);
        assert!(run(1) > 500, "{}", run(1));
    }
}

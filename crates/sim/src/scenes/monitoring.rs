//! Scene `monitoring` (patterns.md row 10): clients → a service that keeps the golden
//! signals of each scrape window (latency, traffic, errors, saturation); a scraper that
//! collects them every `scrape_interval` and evaluates an alert rule: the chosen latency
//! `signal` (mean, p95 or p99) above `alert_threshold` at every scrape for `alert_for`.
//! Incidents are scene actions: a latency spike on a share of requests, an error burst,
//! or saturation (the service slowed). Averages hide an incident that hits a few
//! requests; the scrape interval and `for` set how late an alert comes.

use super::measure::{measures, round3};
use crate::check::{Checker, RunEnd};
use crate::component::{Component, Ctx, NodeView, Tone};
use crate::dist::Dist;
use crate::knob::{KnobKind, KnobSpec, Params, common_knobs};
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::scene::{ActionSpec, Preset, Probe, Scene, SceneInfo};
use crate::time::{Micros, US_PER_S};
use crate::trace::{DropReason, Record};
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView, LATENCY_CHART};
use crate::world::World;
use serde_json::{Map, Value as Json};
use std::any::Any;
use std::collections::VecDeque;
use std::sync::LazyLock;

pub struct Monitoring;

pub const SIGNALS: &[&str] = &["mean", "p95", "p99"];
const INCIDENTS: [&str; 3] = ["latency-spike", "error-burst", "saturation"];
/// The scraper's timer, and the tag of a scrape.
const SCRAPE: u64 = 1;
const SCRAPE_TAG: u32 = u32::MAX;
/// How much longer each request takes while the service is saturated (a slow disk, a
/// noisy neighbour): past what its workers can keep up with at the default load.
const SATURATION: Micros = 20;
/// A service timer that ends the incident under way.
const INCIDENT_OVER: u64 = u64::MAX;
const INVARIANT: &str = "every incident the rule's signal shows for alert_for fires an alert";

static ACTIONS: &[ActionSpec] = &[
    ActionSpec { name: "latency-spike", arg: None, role: None, help: "For incident_duration, incident_share of requests take incident_latency longer." },
    ActionSpec { name: "error-burst", arg: None, role: None, help: "For incident_duration, incident_share of requests fail (500)." },
    ActionSpec { name: "saturation", arg: None, role: None, help: "For incident_duration, each request takes twenty times longer (a slow disk): the service cannot keep up and its queue grows." },
];

static INFO: LazyLock<SceneInfo> = LazyLock::new(|| {
    let mut knobs = common_knobs("400", 100_000.0);
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "signal", kind: KnobKind::Choice(SIGNALS), default: "p99", unit: "", live: false, help: "The latency the alert rule watches: the mean, the 95th or the 99th percentile of each scrape window." },
        KnobSpec { name: "alert_threshold", kind: KnobKind::Duration { min_us: 1_000, max_us: 60 * US_PER_S }, default: "200ms", unit: "", live: false, help: "The latency above which the rule's condition holds." },
        KnobSpec { name: "alert_for", kind: KnobKind::Duration { min_us: 0, max_us: 3600 * US_PER_S }, default: "15s", unit: "", live: false, help: "How long the condition must hold, at every scrape, before the alert fires." },
        KnobSpec { name: "scrape_interval", kind: KnobKind::Duration { min_us: 100_000, max_us: 600 * US_PER_S }, default: "15s", unit: "", live: false, help: "How often the scraper collects the service's signals." },
        KnobSpec { name: "incident_share", kind: KnobKind::Float { min: 0.0, max: 1.0 }, default: "0.05", unit: "fraction", live: false, help: "The share of requests a latency spike or an error burst hits." },
        KnobSpec { name: "incident_latency", kind: KnobKind::Duration { min_us: 0, max_us: 60 * US_PER_S }, default: "1s", unit: "", live: false, help: "What a latency spike adds to each request it hits." },
        KnobSpec { name: "incident_duration", kind: KnobKind::Duration { min_us: 1_000_000, max_us: 3600 * US_PER_S }, default: "60s", unit: "", live: false, help: "How long each incident lasts." },
        KnobSpec { name: "workers", kind: KnobKind::Int { min: 1, max: 256 }, default: "64", unit: "", live: false, help: "Requests the service works on at once." },
        KnobSpec { name: "service_time", kind: KnobKind::Dist, default: "exp:10ms", unit: "", live: false, help: "Work one request needs." },
    ] });
    for k in knobs.iter_mut().filter(|k| k.name == "traffic_period") {
        k.default = "600s";
    }
    SceneInfo {
        id: "monitoring",
        title: "Monitoring",
        knobs,
        actions: ACTIONS,
        view: SceneView {
            stage: StageView { columns: &[&["client"], &["service"], &["scraper"]], links: &[("client", "service"), ("scraper", "service")], paired: &[] },
            charts: const { &[
                Chart {
                    title: "Latency as scraped (ms)",
                    unit: "ms",
                    lines: &[
                        Line::measured("mean", "scraped_mean_ms", Colour::Green),
                        Line::measured("p95", "scraped_p95_ms", Colour::Orange),
                        Line::measured("p99", "scraped_p99_ms", Colour::Red).compared(),
                        Line::theory("alert threshold", "threshold_ms", 1.0, Colour::White),
                    ],
                },
                Chart { title: "Errors and saturation, as scraped", unit: "fraction", lines: &[Line::measured("error rate", "scraped_errors", Colour::Red), Line::measured("saturation", "scraped_saturation", Colour::Purple)] },
                Chart { title: "Alert (1), incident (0.5)", unit: "", lines: &[Line::measured("alert", "alert", Colour::Red).compared(), Line::measured("incident", "incident", Colour::Yellow)] },
                LATENCY_CHART,
            ] },
            compare: &[
                Row { label: "incidents", metric: "incidents" },
                Row { label: "alerts fired", metric: "alerts_fired" },
                Row { label: "incidents no alert caught", metric: "missed_incidents" },
                Row { label: "time to alert, mean (s)", metric: "detection_delay" },
                Row { label: "alerts with no incident", metric: "false_alerts" },
            ],
            tables: &[],
        },
        narrative: &crate::narratives::monitoring::NARRATIVE,
        presets: const { &[
            Preset {
                name: "p99-alert",
                title: "A latency spike on 5% of requests: the p99 alert fires",
                about: "At 20 s one request in twenty starts taking a second longer, for a minute. The mean barely moves; the p99 jumps past 200 ms at the next scrape, and the alert fires once it has held for 15 s.",
                set: &[],
                faults: &["20s latency-spike"],
            },
            Preset {
                name: "mean-alert",
                title: "The same spike behind an average: no alert",
                about: "The same incident, with the rule on the mean: 5% of requests a second slower add about 50 ms to the mean, under the 200 ms threshold. Nobody is paged while one user in twenty waits.",
                set: &[("signal", "mean")],
                faults: &["20s latency-spike"],
            },
            Preset {
                name: "slow-scrapes",
                title: "Scraping every minute: the alert comes late",
                about: "Saturation from 20 s for three minutes, scraped every 60 s with for = 60 s: the alert fires 100 s after the incident began.",
                set: &[("scrape_interval", "60s"), ("alert_for", "60s"), ("incident_duration", "180s")],
                faults: &["20s saturation"],
            },
        ] },
    }
});

/// What one scrape window held.
#[derive(Clone, Copy, Default)]
struct Window {
    mean_us: f64,
    p95_us: f64,
    p99_us: f64,
    requests: u64,
    errors: u64,
    saturation: f64,
}

/// The service: workers serving requests, its own golden signals per scrape window, and
/// the incidents injected into it.
pub struct Service {
    workers: Vec<Option<(NodeId, Msg, Micros)>>,
    idle: Vec<u32>,
    queue: VecDeque<(NodeId, Msg, Micros)>,
    service: Dist,
    share: f64,
    extra_us: Micros,
    duration: Micros,
    /// The incident under way (its index in INCIDENTS), and when it began.
    incident: Option<(usize, Micros)>,
    /// This window's latencies (µs), errors, and busy worker-time.
    latencies: Vec<u32>,
    errors: u64,
    busy_area: f64,
    last_change: Micros,
    window_start: Micros,
    /// Incidents so far: (kind, start, end).
    pub incidents: Vec<(usize, Micros, Micros)>,
    /// The window the last scrape collected: what the dashboard shows.
    scraped: Window,
}

impl Service {
    fn busy(&self) -> usize {
        self.workers.len() - self.idle.len()
    }

    fn account(&mut self, now: Micros) {
        self.busy_area += self.busy() as f64 * (now - self.last_change) as f64;
        self.last_change = now;
    }

    fn begin(&mut self, ctx: &mut Ctx, w: u32, job: (NodeId, Msg, Micros)) {
        let mut us = self.service.sample(ctx.rng);
        match self.incident {
            Some((0, _)) if ctx.rng.chance(self.share) => us += self.extra_us,
            Some((2, _)) => us *= SATURATION,
            _ => {}
        }
        self.workers[w as usize] = Some(job);
        let us = ctx.work(us);
        ctx.set_timer(us, u64::from(w));
    }

    /// Starts an incident now (one at a time: a new one replaces the one under way).
    pub fn start(&mut self, ctx: &mut Ctx, kind: usize) {
        self.end(ctx.now());
        self.incident = Some((kind, ctx.now()));
        self.incidents.push((kind, ctx.now(), ctx.now() + self.duration));
        ctx.set_state(kind as u8 + 1);
        ctx.set_timer(self.duration, INCIDENT_OVER);
    }

    fn end(&mut self, now: Micros) {
        if let Some(last) = self.incidents.last_mut().filter(|_| self.incident.is_some()) {
            last.2 = last.2.min(now);
        }
        self.incident = None;
    }

    /// The window since the last scrape, summed up; a new window begins.
    fn window(&mut self, now: Micros) -> Window {
        self.account(now);
        let span = (now - self.window_start).max(1) as f64;
        let mut w = Window { requests: self.latencies.len() as u64 + self.errors, errors: self.errors, saturation: self.busy_area / (span * self.workers.len() as f64), ..Window::default() };
        if !self.latencies.is_empty() {
            crate::sort::sort(&mut self.latencies);
            let at = |q: f64| f64::from(self.latencies[((self.latencies.len() as f64 * q) as usize).min(self.latencies.len() - 1)]);
            w.mean_us = self.latencies.iter().map(|x| f64::from(*x)).sum::<f64>() / self.latencies.len() as f64;
            w.p95_us = at(0.95);
            w.p99_us = at(0.99);
        }
        self.latencies.clear();
        self.errors = 0;
        self.busy_area = 0.0;
        self.window_start = now;
        w
    }
}

impl Component for Service {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if msg.kind == Kind::Call && msg.tag == SCRAPE_TAG {
            // The scrape: the window's signals, packed (mean, p95, p99 in µs; counts; saturation in ‰).
            let w = self.window(ctx.now());
            let mut reply = msg.reply(Kind::Response);
            reply.value = match msg.value {
                0 => w.mean_us,
                1 => w.p95_us,
                _ => w.p99_us,
            }
            .min(f64::from(u32::MAX)) as u32;
            reply.key = (w.requests.min(0xFF_FFFF) << 40) | (w.errors.min(0xFF_FFFF) << 16) | (w.saturation * 1000.0).round().min(65535.0) as u64;
            self.scraped = w;
            return ctx.send(from, reply);
        }
        if msg.kind != Kind::Request {
            return;
        }
        self.account(ctx.now());
        if matches!(self.incident, Some((1, _))) && ctx.rng.chance(self.share) {
            self.errors += 1;
            return ctx.send(from, msg.reply(Kind::Error));
        }
        match self.idle.pop() {
            Some(w) => self.begin(ctx, w, (from, msg, ctx.now())),
            None => self.queue.push_back((from, msg, ctx.now())),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        if token == INCIDENT_OVER {
            if self.incident.is_some_and(|(_, at)| ctx.now() - at >= self.duration) {
                self.end(ctx.now());
                ctx.set_state(0);
            }
            return;
        }
        self.account(ctx.now());
        let Some((to, msg, arrived)) = self.workers.get_mut(token as usize).and_then(Option::take) else { return };
        self.latencies.push((ctx.now() - arrived).min(Micros::from(u32::MAX)) as u32);
        ctx.send(to, msg.reply(Kind::Response));
        match self.queue.pop_front() {
            Some(job) => self.begin(ctx, token as u32, job),
            None => self.idle.push(token as u32),
        }
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        held.extend(self.queue.drain(..).map(|(f, m, _)| (f, m)));
        held.extend(self.workers.iter_mut().filter_map(Option::take).map(|(f, m, _)| (f, m)));
        self.idle = (0..self.workers.len() as u32).rev().collect();
    }

    fn describe_state(&self, code: u8) -> String {
        match code {
            0 => "incident over".into(),
            c => format!("incident: {}", INCIDENTS[(c as usize - 1).min(2)]),
        }
    }

    fn view(&self) -> NodeView {
        NodeView {
            queue: self.queue.len() as u32,
            busy: self.busy() as u32,
            workers: self.workers.len() as u32,
            state: self.incident.map_or("", |(k, _)| INCIDENTS[k]),
            tone: Tone::Bad,
            ..NodeView::default()
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The alert rule's state, shared by the scraper and the checker that re-evaluates it.
#[derive(Clone, Copy, Default)]
struct Rule {
    threshold_us: u32,
    for_us: Micros,
    /// Since when the condition has held at every scrape.
    pending: Option<Micros>,
    firing: bool,
}

impl Rule {
    /// One scrape's value at `now`: whether the alert fires now (and did not before).
    fn observe(&mut self, now: Micros, value: u32) -> bool {
        if value <= self.threshold_us {
            self.pending = None;
            self.firing = false;
            return false;
        }
        let since = *self.pending.get_or_insert(now);
        let fires = !self.firing && now - since >= self.for_us;
        self.firing |= fires;
        fires
    }
}

/// The scraper: collects the service's signals every interval and evaluates the rule.
pub struct Scraper {
    service: NodeId,
    interval: Micros,
    signal: u32,
    rule: Rule,
    pub fired: Vec<Micros>,
    /// The last scrape: error rate and saturation.
    pub last: (f64, f64),
}

impl Component for Scraper {
    fn on_start(&mut self, ctx: &mut Ctx) {
        ctx.set_timer(self.interval, SCRAPE);
    }

    fn on_timer(&mut self, ctx: &mut Ctx, _token: u64) {
        ctx.send(self.service, Msg { kind: Kind::Call, req: ReqId(0), key: 0, tag: SCRAPE_TAG, value: self.signal });
        ctx.set_timer(self.interval, SCRAPE);
    }

    fn on_message(&mut self, ctx: &mut Ctx, _from: NodeId, msg: Msg) {
        if msg.kind != Kind::Response {
            return;
        }
        let (requests, errors, saturation) = (msg.key >> 40, (msg.key >> 16) & 0xFF_FFFF, (msg.key & 0xFFFF) as f64 / 1000.0);
        self.last = (if requests > 0 { errors as f64 / requests as f64 } else { 0.0 }, saturation);
        let was = self.rule.firing;
        if self.rule.observe(ctx.now(), msg.value) {
            self.fired.push(ctx.now());
            ctx.set_state(1);
        } else if was && !self.rule.firing {
            ctx.set_state(0);
        }
    }

    fn on_revive(&mut self, ctx: &mut Ctx) {
        self.rule.pending = None;
        self.rule.firing = false;
        ctx.set_timer(self.interval, SCRAPE);
    }

    fn describe_state(&self, code: u8) -> String {
        if code == 1 { "alert firing".into() } else { "alert resolved".into() }
    }

    fn view(&self) -> NodeView {
        NodeView { state: if self.rule.firing { "FIRING" } else if self.rule.pending.is_some() { "pending" } else { "ok" }, tone: if self.rule.firing { Tone::Bad } else if self.rule.pending.is_some() { Tone::Warn } else { Tone::Good }, note: format!("{} alerts", self.fired.len()), ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The invariant, from the trace: the scrapes the scraper received, re-evaluated against
/// the rule; whenever the condition has held at every scrape for `alert_for`, the scraper
/// must have announced its alert (at that scrape or before, and not resolved since). A
/// fault anywhere starts the count again (a scraper killed or hung forgets its own).
struct AlertsFire {
    scraper: NodeId,
    service: NodeId,
    threshold_us: u32,
    for_us: Micros,
    /// Since when the condition has held, as the checker counts it.
    pending: Option<Micros>,
    /// What the scraper last announced: firing or not.
    firing: bool,
    /// A scrape at which the alert must be firing, not yet seen to be.
    expected: Option<Micros>,
}

impl AlertsFire {
    fn missed(at: Micros, violations: &mut Vec<String>) {
        violations.push(format!("the rule's condition held for alert_for at the scrape of {}s, and no alert fired", crate::num::Fixed(at as f64 / 1e6, 3)));
    }
}

impl Checker for AlertsFire {
    fn name(&self) -> &'static str {
        INVARIANT
    }

    fn on_record(&mut self, r: &Record, violations: &mut Vec<String>) {
        if let Some(at) = self.expected
            && r.time() > at
        {
            Self::missed(at, violations);
            self.expected = None;
        }
        match *r {
            Record::Send { t1, from, to, msg, .. } if from == self.service && to == self.scraper && msg.kind == Kind::Response => {
                if msg.value <= self.threshold_us {
                    self.pending = None;
                } else if t1 - *self.pending.get_or_insert(t1) >= self.for_us && !self.firing {
                    self.expected = Some(t1);
                }
            }
            Record::Drop { from, to, why: DropReason::Hung | DropReason::Dead, .. } | Record::Bounce { from, to, .. } if from == self.service && to == self.scraper => {
                self.expected = None;
                self.pending = None;
            }
            Record::State { node, state, .. } if node == self.scraper => {
                self.firing = state == 1;
                if self.firing {
                    self.expected = None;
                }
            }
            Record::Fault { .. } => {
                self.expected = None;
                self.pending = None;
            }
            _ => {}
        }
    }

    fn finish(&mut self, _end: &RunEnd, violations: &mut Vec<String>) {
        if let Some(at) = self.expected.take() {
            Self::missed(at, violations);
        }
    }
}

struct MonitorProbe {
    service: NodeId,
    scraper: NodeId,
    threshold_ms: f64,
    /// An alert counts for an incident if it fires between its start and this long after its end.
    grace: Micros,
}

impl Scene for Monitoring {
    fn info(&self) -> &'static SceneInfo {
        &INFO
    }

    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe> {
        let n = p.int("workers") as usize;
        let service = Service {
            workers: vec![None; n],
            idle: (0..n as u32).rev().collect(),
            queue: VecDeque::new(),
            service: p.dist("service_time"),
            share: p.float("incident_share"),
            extra_us: p.duration("incident_latency"),
            duration: p.duration("incident_duration"),
            incident: None,
            latencies: Vec::new(),
            errors: 0,
            busy_area: 0.0,
            last_change: 0,
            window_start: 0,
            incidents: Vec::new(),
            scraped: Window::default(),
        };
        let service = w.add_node("service", "service", Box::new(service));
        let signal = SIGNALS.iter().position(|s| *s == p.choice("signal")).expect("a valid choice") as u32;
        let rule = Rule { threshold_us: p.duration("alert_threshold").min(Micros::from(u32::MAX)) as u32, for_us: p.duration("alert_for"), pending: None, firing: false };
        let interval = p.duration("scrape_interval");
        let scraper = w.add_node("scraper", "scraper", Box::new(Scraper { service, interval, signal, rule, fired: Vec::new(), last: (0.0, 0.0) }));
        let clients = crate::components::source::Source::new(service, p.float("arrival_rate"), 60 * US_PER_S, 1 << 40, w.stream("workload")).shaped(p);
        w.add_node("client", "client", Box::new(clients));
        w.add_checker(Box::new(AlertsFire { scraper, service, threshold_us: rule.threshold_us, for_us: rule.for_us, pending: None, firing: false, expected: None }));
        Box::new(MonitorProbe { service, scraper, threshold_ms: p.duration("alert_threshold") as f64 / 1e3, grace: p.duration("alert_for") + 2 * interval })
    }
}

impl Probe for MonitorProbe {
    fn metrics(&self, w: &World) -> Map<String, Json> {
        let s = w.component::<Service>(self.service);
        let sc = w.component::<Scraper>(self.scraper);
        let caught = |(_, start, end): &(usize, Micros, Micros)| sc.fired.iter().copied().find(|t| *t >= *start && *t <= end + self.grace);
        let delays: Vec<f64> = s.incidents.iter().filter_map(|i| caught(i).map(|t| (t - i.1) as f64 / 1e6)).collect();
        // Missed: incidents over (and past the grace) with no alert.
        let missed = s.incidents.iter().filter(|i| i.2 + self.grace <= w.now() && caught(i).is_none()).count();
        let false_alerts = sc.fired.iter().filter(|t| !s.incidents.iter().any(|(_, a, b)| **t >= *a && **t <= b + self.grace)).count();
        measures!{
            "incidents": s.incidents.len(),
            "alerts_fired": sc.fired.len(),
            "missed_incidents": missed,
            "detection_delay": if delays.is_empty() { Json::from("—") } else { Json::from(round3(delays.iter().sum::<f64>() / delays.len() as f64)) },
            "false_alerts": false_alerts,
        }
    }

    fn series_names(&self, _w: &World) -> Vec<String> {
        ["scraped_mean_ms", "scraped_p95_ms", "scraped_p99_ms", "scraped_errors", "scraped_saturation", "alert", "incident"].iter().map(|s| s.to_string()).collect()
    }

    /// Per interval: the dashboard as the last scrape left it (steps, not the truth),
    /// whether the alert is firing, and whether an incident is under way.
    fn sample(&self, w: &World, out: &mut Vec<f64>) {
        let s = w.component::<Service>(self.service);
        let sc = w.component::<Scraper>(self.scraper);
        let d = &s.scraped;
        out.extend([d.mean_us / 1e3, d.p95_us / 1e3, d.p99_us / 1e3, sc.last.0, sc.last.1]);
        out.push(if sc.rule.firing { 1.0 } else { 0.0 });
        out.push(if s.incident.is_some() { 0.5 } else { 0.0 });
    }

    fn theory(&self, _p: &Params) -> Vec<(&'static str, f64)> {
        vec![("threshold_ms", self.threshold_ms)]
    }

    fn on_action(&mut self, w: &mut World, action: &str, _arg: Option<&str>) {
        if let Some(kind) = INCIDENTS.iter().position(|i| *i == action) {
            w.with_component::<Service>(self.service, |s, ctx| s.start(ctx, kind));
        }
    }
}

//! Scene `rate-limiting` (patterns.md row 4): users in two tiers (free and premium) and
//! one user who can turn abusive send requests through a limiter to an API. The limiter
//! meters each key (a user, an IP address shared by a few users, or everyone at once)
//! with the chosen algorithm, refusing with 429 what is over the allowance. The same
//! requests are also fed to the other four algorithms, which decide for themselves
//! without acting, so that all five are measured side by side on one traffic.

pub mod algorithms;

use super::measure::{measures, share};
use crate::check::Checker;
use crate::component::{Component, Ctx, NodeView, Tone};
use crate::components::server::Server;
use crate::components::slab::{Key, Slab, index_of};
use crate::components::source::Source as Clients;
use crate::error::{Error, Result};
use crate::knob::{KnobKind, KnobSpec, Params, common_knobs};
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::scene::{Preset, Probe, Scene, SceneInfo};
use crate::time::{Micros, US_PER_S};
use crate::trace::{DropReason, Record};
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView, Table, LATENCY_CHART};
use crate::world::World;
use algorithms::{ALGORITHMS, Meter, NONE, Peak, Rule};
use serde_json::{Map, Value as Json};
use std::any::Any;
use std::cell::RefCell;
use std::sync::LazyLock;

pub struct RateLimiting;

pub const KEYS: &[&str] = &["user", "ip", "global"];
const INVARIANT: &str = "never more than limit (+burst) per window for exact algorithms";

static INFO: LazyLock<SceneInfo> = LazyLock::new(|| {
    let mut knobs = common_knobs("100", 100_000.0);
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "algorithm", kind: KnobKind::Choice(ALGORITHMS), default: "token-bucket", unit: "", live: false, help: "How the limiter decides. token-bucket: a bucket of `burst` tokens refilled at limit per window, a token per request. leaky-bucket: requests queue (up to `burst`) and leave one every window/limit. fixed-window: at most limit per clock-aligned window. sliding-log: at most limit in the last window, by the time of each request admitted. sliding-window: the current window's count plus the previous one's, weighted by how much of it the last window still covers. none: no limit." },
        KnobSpec { name: "limit", kind: KnobKind::Int { min: 1, max: 100_000 }, default: "5", unit: "per window", live: false, help: "Requests a key may make per window (a premium user's is premium_factor times more)." },
        KnobSpec { name: "window", kind: KnobKind::Duration { min_us: 1_000, max_us: 60 * US_PER_S }, default: "1s", unit: "", live: false, help: "The span the limit counts over." },
        KnobSpec { name: "burst", kind: KnobKind::Int { min: 0, max: 100_000 }, default: "5", unit: "requests", live: false, help: "A token bucket's capacity: what an idle key may send at once (at least 1). A leaky bucket's queue: how many may wait their turn." },
        KnobSpec { name: "key", kind: KnobKind::Choice(KEYS), default: "user", unit: "", live: false, help: "What the limit counts: each user; each IP address (users_per_ip users share one, as behind an office's router); or everyone together." },
        KnobSpec { name: "users", kind: KnobKind::Int { min: 1, max: 10_000 }, default: "100", unit: "", live: false, help: "Users sending the arrival rate between them, evenly. user-0 is the one who can turn abusive." },
        KnobSpec { name: "users_per_ip", kind: KnobKind::Int { min: 1, max: 1_000 }, default: "5", unit: "", live: false, help: "Users behind each IP address (user-0 shares the first)." },
        KnobSpec { name: "premium_share", kind: KnobKind::Float { min: 0.0, max: 1.0 }, default: "0.1", unit: "fraction", live: false, help: "The share of users on the premium tier (the last ones; user-0 is free unless all are premium)." },
        KnobSpec { name: "premium_factor", kind: KnobKind::Float { min: 1.0, max: 1000.0 }, default: "5", unit: "x", live: false, help: "How many times the free limit and burst a premium user gets, when the key is the user." },
        KnobSpec { name: "abuse_rate", kind: KnobKind::Float { min: 0.0, max: 100_000.0 }, default: "0", unit: "req/s", live: true, help: "Requests per second user-0 sends on top of their share: raise it during a run and the user turns abusive." },
        KnobSpec { name: "api_workers", kind: KnobKind::Int { min: 1, max: 256 }, default: "4", unit: "", live: false, help: "Requests the API works on at once." },
        KnobSpec { name: "api_time", kind: KnobKind::Dist, default: "exp:10ms", unit: "", live: false, help: "Work one request needs on the API." },
        KnobSpec { name: "timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "2s", unit: "", live: false, help: "How long users wait for an answer." },
    ] });
    SceneInfo {
        id: "rate-limiting",
        title: "Rate limiting",
        knobs,
        actions: &[],
        view: SceneView {
            stage: StageView { columns: &[&["client"], &["limiter"], &["api"]], links: &[("client", "limiter"), ("limiter", "api")], paired: &[] },
            charts: const { &[
                Chart {
                    title: "Admitted and refused (429) per second",
                    unit: "req/s",
                    lines: &[
                        Line::measured("offered/s", "offered_rps", Colour::Blue),
                        Line::measured("admitted/s", "admitted_rps", Colour::Green).compared(),
                        Line::measured("429/s", "rejected_rps", Colour::Red).compared(),
                        Line::theory("theory", "admitted_rps", 1.0, Colour::Green),
                    ],
                },
                Chart { title: "user-0: admitted in the last window", unit: "requests", lines: &[Line::each("in_window:", Colour::Blue), Line::theory("limit", "limit", 1.0, Colour::White)] },
                LATENCY_CHART,
            ] },
            compare: &[
                Row { label: "admitted", metric: "admitted" },
                Row { label: "429s, to anyone", metric: "rejected_429" },
                Row { label: "most admitted for one free key in any window", metric: "max_admitted_in_any_window" },
                Row { label: "... what an exact algorithm allows it", metric: "bound" },
                Row { label: "admitted: free · premium", metric: "per_tier_admitted" },
                Row { label: "other users' requests served (%)", metric: "others_served_pct" },
                Row { label: "429s to users other than user-0", metric: "others_rejected_429" },
            ],
            tables: &[Table {
                caption: "The same requests through every algorithm",
                columns: "algorithms",
                rows: &[
                    Row { label: "admitted", metric: "admitted_by_algorithm" },
                    Row { label: "refused (429)", metric: "rejected_by_algorithm" },
                    Row { label: "most for one free key in any window", metric: "max_in_window_by_algorithm" },
                    Row { label: "bound (exact algorithms)", metric: "bound_by_algorithm" },
                ],
            }],
        },
        narrative: &crate::narratives::rate_limiting::NARRATIVE,
        presets: const { &[
            Preset {
                name: "abusive-user",
                title: "One user floods; the token bucket holds them to their limit",
                about: "From 10 s user-0 sends 400 requests a second on top of everyone's 100. The token bucket lets through their burst of 5, then 5 a second, and refuses the rest with 429: the API stays idle enough that everyone else is served in milliseconds.",
                set: &[("algorithm", "token-bucket")],
                faults: &["10s set abuse_rate=400"],
            },
            Preset {
                name: "no-limit",
                title: "No limit: one user takes the API down for everyone",
                about: "The same flood with no limiter: 500 requests a second against an API that serves 400. Its queue fills, answers take seconds, and every user, not only user-0, times out or is refused.",
                set: &[("algorithm", "none")],
                faults: &["10s set abuse_rate=400"],
            },
            Preset {
                name: "fixed-window-boundary",
                title: "A fixed window lets twice the limit through across a boundary",
                about: "The flood starts half-way through a window: the fixed window admits user-0's 5 at once, and 5 more the moment the next window opens, half a second later: 10 in one second against a limit of 5. The sliding log never lets more than 5 into any second.",
                set: &[("algorithm", "fixed-window")],
                faults: &["10.5s set abuse_rate=400"],
            },
            Preset {
                name: "keyed-by-ip",
                title: "Keyed by IP: the abuser's neighbours are refused too",
                about: "Five users share each IP address, and the limit counts by address: once user-0 floods, the four users behind the same router are refused with them.",
                set: &[("key", "ip"), ("limit", "25"), ("burst", "25")],
                faults: &["10s set abuse_rate=400"],
            },
        ] },
    }
});

/// How the limiter finds a request's key and allowance.
#[derive(Clone)]
pub struct Keying {
    by: &'static str,
    users: u64,
    per_ip: u64,
    /// Users from this id on are premium.
    premium_from: u64,
    free: Rule,
    premium: Rule,
}

impl Keying {
    pub fn of(p: &Params) -> Keying {
        let users = p.int("users") as u64;
        let free = Rule { limit: p.int("limit") as u64, window_us: p.duration("window"), burst: p.int("burst") as u64 };
        let factor = p.float("premium_factor");
        let scaled = |x: u64| (x as f64 * factor).round() as u64;
        let premium_users = (users as f64 * p.float("premium_share")).round() as u64;
        Keying {
            by: p.choice("key"),
            users,
            per_ip: p.int("users_per_ip") as u64,
            premium_from: users - premium_users.min(users),
            free,
            premium: Rule { limit: scaled(free.limit).max(1), burst: scaled(free.burst), ..free },
        }
    }

    pub fn keys(&self) -> usize {
        match self.by {
            "user" => self.users as usize,
            "ip" => self.users.div_ceil(self.per_ip) as usize,
            _ => 1,
        }
    }

    pub fn key(&self, user: u64) -> usize {
        match self.by {
            "user" => user as usize,
            "ip" => (user / self.per_ip) as usize,
            _ => 0,
        }
    }

    pub fn premium(&self, user: u64) -> bool {
        user >= self.premium_from
    }

    /// Whether a key has the premium allowance: tiers apply to users; an address or
    /// everyone gets the free one.
    pub fn premium_key(&self, key: usize) -> bool {
        self.by == "user" && self.premium(key as u64)
    }

    pub fn rule(&self, key: usize) -> &Rule {
        if self.premium_key(key) { &self.premium } else { &self.free }
    }

    /// Users behind each key, in order (one each, a few per address, or all).
    fn users_of(&self, key: usize) -> std::ops::Range<u64> {
        match self.by {
            "user" => key as u64..key as u64 + 1,
            "ip" => key as u64 * self.per_ip..((key as u64 + 1) * self.per_ip).min(self.users),
            _ => 0..self.users,
        }
    }
}

/// Timer tokens of the limiter: a request leaving a leaky bucket, by its slab key.
struct Waiting {
    from: NodeId,
    msg: Msg,
}

/// The limiter: decides each request with the chosen algorithm (forwarding it to the
/// API, holding it in a leaky bucket, or refusing it with 429), and lets the other
/// algorithms decide the same request for the record.
pub struct Limiter {
    api: NodeId,
    pub chosen: usize,
    keying: Keying,
    meters: Vec<Meter>,
    /// By algorithm: what each let through in every window, the most one key had in a
    /// window by tier (free, premium), and its counts.
    pub peaks: Vec<Peak>,
    pub max_in_window: Vec<[u64; 2]>,
    pub admitted: Vec<u64>,
    pub rejected: Vec<u64>,
    /// The chosen algorithm's admissions by tier (free, premium), and what other users
    /// than user-0 were refused.
    pub tier_admitted: [u64; 2],
    pub others_rejected: u64,
    /// Requests on their way to the API, by slab key (the tag): who to answer, and the
    /// request (an answer to a forgotten one finds its slot reused by another).
    forwarded: Slab<(NodeId, ReqId)>,
    waiting: Slab<Waiting>,
    /// Whether user-0's last request was refused, and their key's allowance as it was
    /// then (how full, in words): what the node shows.
    refusing: bool,
    level: (f64, String),
}

impl Limiter {
    fn forward(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        let tag = index_of(self.forwarded.insert((from, msg.req)));
        ctx.send(self.api, Msg { tag, ..msg });
    }
}

impl Component for Limiter {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if from == self.api {
            let Some(k) = self.forwarded.key_at(msg.tag).filter(|k| self.forwarded.get(*k).is_some_and(|e| e.1 == msg.req)) else { return };
            if let Some((client, _)) = self.forwarded.remove(k) {
                ctx.send(client, msg);
            }
            return;
        }
        if msg.kind != Kind::Request {
            return;
        }
        let now = ctx.now();
        let user = msg.key;
        let key = self.keying.key(user);
        let rule = *self.keying.rule(key);
        let mut verdict = None;
        for (a, meter) in self.meters.iter_mut().enumerate() {
            let d = meter.decide(key, now, &rule);
            match d {
                Some(at) => {
                    self.admitted[a] += 1;
                    let n = self.peaks[a].admit(key, at);
                    let m = &mut self.max_in_window[a][usize::from(self.keying.premium_key(key))];
                    *m = (*m).max(n);
                }
                None => self.rejected[a] += 1,
            }
            if a == self.chosen {
                verdict = Some(d);
            }
        }
        let verdict = verdict.expect("the chosen algorithm is one of the meters");
        if user == 0 {
            self.refusing = verdict.is_none();
        }
        if key == self.keying.key(0) {
            self.level = self.meters[self.chosen].level(key, now, &rule);
        }
        match verdict {
            Some(at) => {
                self.tier_admitted[usize::from(self.keying.premium(user))] += 1;
                if at == now {
                    self.forward(ctx, from, msg);
                } else {
                    let k = self.waiting.insert(Waiting { from, msg });
                    ctx.set_timer(at - now, k);
                }
            }
            None => {
                if user != 0 {
                    self.others_rejected += 1;
                }
                ctx.send(from, msg.reply(Kind::Reject));
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        if let Some(Waiting { from, msg }) = self.waiting.remove(token as Key) {
            self.forward(ctx, from, msg);
        }
    }

    fn on_bounce(&mut self, ctx: &mut Ctx, _to: NodeId, msg: Msg) {
        let reply = msg.reply(Kind::Error);
        self.on_message(ctx, self.api, reply);
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        self.waiting.drain(|w| held.push((w.from, w.msg)));
        self.forwarded.drain(|_| {});
    }

    fn view(&self) -> NodeView {
        if self.chosen == NONE {
            return NodeView { state: "no limit", tone: Tone::Warn, ..NodeView::default() };
        }
        NodeView {
            state: if self.refusing { "refusing" } else { ALGORITHMS[self.chosen] },
            tone: if self.refusing { Tone::Warn } else { Tone::Good },
            queue: self.waiting.len() as u32,
            busy: self.forwarded.len() as u32,
            fill: Some(self.level.0.clamp(0.0, 1.0)),
            note: format!("user-0 {}", self.level.1),
            ..NodeView::default()
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The invariant, from the trace: the requests the limiter sends on to the API, key by
/// key, never number more than the chosen exact algorithm's bound in any window.
struct WithinBound {
    limiter: NodeId,
    api: NodeId,
    keying: Keying,
    chosen: usize,
    peak: Peak,
    window_us: Micros,
}

impl Checker for WithinBound {
    fn name(&self) -> &'static str {
        INVARIANT
    }

    fn on_record(&mut self, r: &Record, violations: &mut Vec<String>) {
        let (t, msg) = match *r {
            Record::Send { t0, from, to, msg, .. } if from == self.limiter && to == self.api => (t0, msg),
            Record::Drop { t, from, to, msg, why: DropReason::Loss | DropReason::Partition } if from == self.limiter && to == self.api => (t, msg),
            _ => return,
        };
        if msg.kind != Kind::Request {
            return;
        }
        let key = self.keying.key(msg.key);
        let Some(bound) = self.keying.rule(key).bound(self.chosen) else { return };
        let n = self.peak.admit(key, t);
        if n > bound {
            violations.push(format!("key {key}: {n} requests let through within {} ms, more than the bound of {bound}", self.window_us / 1000));
        }
    }
}

struct LimitProbe {
    limiter: NodeId,
    clients: NodeId,
    keying: Keying,
    /// At the last sample: time, admitted and refused by the chosen algorithm, and sent.
    last: RefCell<(Micros, u64, u64, u64)>,
}

impl Scene for RateLimiting {
    fn info(&self) -> &'static SceneInfo {
        &INFO
    }

    fn check(&self, p: &Params) -> Result<()> {
        if p.choice("key") == "ip" && p.int("users_per_ip") > p.int("users") {
            return Err(Error::new(format!("users_per_ip={} is more than users={}: every user would share one address", p.int("users_per_ip"), p.int("users"))));
        }
        Ok(())
    }

    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe> {
        let api = w.add_node("api", "api", Box::new(Server::new(p.int("api_workers") as u32, 200, p.dist("api_time"), 1.0)));
        let keying = Keying::of(p);
        let keys = keying.keys();
        let chosen = ALGORITHMS.iter().position(|a| *a == p.choice("algorithm")).expect("a valid choice");
        let window = p.duration("window");
        let limiter = Limiter {
            api,
            chosen,
            keying: keying.clone(),
            meters: (0..ALGORITHMS.len()).map(|a| Meter::new(a, keys)).collect(),
            peaks: (0..ALGORITHMS.len()).map(|_| Peak::new(window, keys)).collect(),
            max_in_window: vec![[0; 2]; ALGORITHMS.len()],
            admitted: vec![0; ALGORITHMS.len()],
            rejected: vec![0; ALGORITHMS.len()],
            tier_admitted: [0; 2],
            others_rejected: 0,
            forwarded: Slab::default(),
            waiting: Slab::default(),
            refusing: false,
            level: (0.0, String::new()),
        };
        let limiter = w.add_node("limiter", "limiter", Box::new(limiter));
        let timeout = p.duration("timeout");
        let users = keying.users;
        let clients = Clients::new(limiter, p.float("arrival_rate"), timeout, users, w.stream("workload")).shaped(p).split_keys(1);
        let clients = w.add_node("client", "client", Box::new(clients));
        let abuser = Clients::new(limiter, p.float("abuse_rate"), timeout, 1, w.stream("abuser")).rate_knob("abuse_rate");
        // A client too: the workload, not a node of the cluster to break.
        w.add_node("user-0", "client", Box::new(abuser));
        w.add_checker(Box::new(WithinBound { limiter, api, keying: keying.clone(), chosen, peak: Peak::new(window, keys), window_us: window }));
        Box::new(LimitProbe { limiter, clients, keying, last: RefCell::new((0, 0, 0, 0)) })
    }
}

impl Probe for LimitProbe {
    fn metrics(&self, w: &World) -> Map<String, Json> {
        let l = w.component::<Limiter>(self.limiter);
        let c = w.component::<Clients>(self.clients);
        let others = |v: &Vec<u32>| v.iter().map(|x| u64::from(*x)).sum::<u64>();
        let (others_sent, others_done) = (others(&c.sent_by_split[1]), others(&c.completed_by_split[1]));
        let a = l.chosen;
        let bound = |a: usize| self.keying.free.bound(a).map_or(Json::from("—"), Json::from);
        measures!{
            "algorithm": ALGORITHMS[a],
            "admitted": l.admitted[a],
            "rejected_429": l.rejected[a],
            "max_admitted_in_any_window": l.max_in_window[a][0],
            "max_admitted_premium": l.max_in_window[a][1],
            "bound": bound(a),
            "per_tier_admitted": l.tier_admitted,
            "others_served_pct": (share(others_done, others_sent) * 1000.0).round() / 10.0,
            "others_rejected_429": l.others_rejected,
            "algorithms": ALGORITHMS,
            "admitted_by_algorithm": l.admitted,
            "rejected_by_algorithm": l.rejected,
            "max_in_window_by_algorithm": l.max_in_window.iter().map(|m| m[0]).collect::<Vec<_>>(),
            "bound_by_algorithm": (0..ALGORITHMS.len()).map(bound).collect::<Vec<_>>(),
        }
    }

    fn series_names(&self, _w: &World) -> Vec<String> {
        let mut names = vec!["admitted_rps".to_string(), "rejected_rps".to_string()];
        names.extend(ALGORITHMS[..NONE].iter().map(|a| format!("in_window:{a}")));
        names
    }

    /// Per interval: the chosen algorithm's admissions and refusals per second; and for
    /// each algorithm, user-0's key's admissions in the window that ends now.
    fn sample(&self, w: &World, out: &mut Vec<f64>) {
        let l = w.component::<Limiter>(self.limiter);
        let now = w.now();
        let mut last = self.last.borrow_mut();
        let dt = (now - last.0) as f64 / 1e6;
        let (adm, rej) = (l.admitted[l.chosen], l.rejected[l.chosen]);
        out.push(if dt > 0.0 { (adm - last.1) as f64 / dt } else { 0.0 });
        out.push(if dt > 0.0 { (rej - last.2) as f64 / dt } else { 0.0 });
        *last = (now, adm, rej, 0);
        out.extend(l.peaks[..NONE].iter().map(|p| p.in_window(0, now) as f64));
    }

    /// In the long run each key is admitted at the smaller of what it offers and its
    /// limit rate; the sum over keys, with steady traffic.
    fn theory(&self, p: &Params) -> Vec<(&'static str, f64)> {
        let k = Keying::of(p);
        let mut out = vec![("limit", k.free.limit as f64)];
        if p.choice("traffic") != "steady" {
            return out;
        }
        let per_user = p.float("arrival_rate") / k.users as f64;
        let none = p.choice("algorithm") == "none";
        let admitted: f64 = (0..k.keys())
            .map(|key| {
                let offered = k.users_of(key).count() as f64 * per_user + if key == 0 { p.float("abuse_rate") } else { 0.0 };
                let r = k.rule(key);
                if none { offered } else { offered.min(r.limit as f64 * US_PER_S as f64 / r.window_us as f64) }
            })
            .sum();
        out.push(("admitted_rps", admitted));
        out
    }
}

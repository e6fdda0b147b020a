//! A load balancer: forwards each request to one healthy server chosen by a policy,
//! relays the answer, times out upstream calls, and optionally health-checks servers.

use super::deadlines::Deadlines;
use super::slab::{Key, Slab, index_of};
use crate::component::{Component, Ctx, NodeView, Tone};
use crate::knob::Value;
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::rng::mix64;
use crate::time::Micros;
use std::any::Any;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    RoundRobin,
    WeightedRoundRobin,
    Random,
    LeastConnections,
    PowerOfTwo,
    IpHash,
    /// Latency-aware (Finagle's and Linkerd's): of two servers drawn at random, the one
    /// whose peak-EWMA latency times (outstanding + 1) is lower.
    PeakEwma,
}

impl Policy {
    pub const NAMES: &'static [&'static str] =
        &["round-robin", "weighted-round-robin", "random", "least-connections", "power-of-two", "ip-hash", "peak-ewma"];

    pub fn from_name(name: &str) -> Option<Policy> {
        Some(match name {
            "round-robin" => Policy::RoundRobin,
            "weighted-round-robin" => Policy::WeightedRoundRobin,
            "random" => Policy::Random,
            "least-connections" => Policy::LeastConnections,
            "power-of-two" => Policy::PowerOfTwo,
            "ip-hash" => Policy::IpHash,
            "peak-ewma" => Policy::PeakEwma,
            _ => return None,
        })
    }
}

const HEALTH_TICK: u64 = 0;
const DEADLINE: u64 = 1;
/// Health checks belong to no request.
const NO_REQUEST: ReqId = ReqId(u64::MAX);
/// How fast a server's latency estimate forgets (the EWMA's time constant).
pub const PEAK_EWMA_DECAY_US: f64 = 1e6;

/// A request forwarded to a server and not yet answered.
struct Pending {
    req: ReqId,
    server: u32,
    client: NodeId,
    sent_at: Micros,
}

/// A server's latency as peak-EWMA sees it: a slower answer than the estimate raises it
/// at once (the peak); faster ones pull it down with a weight that grows with the time
/// since the last answer.
#[derive(Clone, Copy, Default)]
struct PeakEwma {
    estimate_us: f64,
    stamp: Micros,
}

impl PeakEwma {
    fn observe(&mut self, now: Micros, rtt_us: f64) {
        if rtt_us > self.estimate_us {
            self.estimate_us = rtt_us;
        } else {
            let w = libm::exp(-((now - self.stamp) as f64) / PEAK_EWMA_DECAY_US);
            self.estimate_us = self.estimate_us * w + rtt_us * (1.0 - w);
        }
        self.stamp = now;
    }
}

pub struct Balancer {
    servers: Vec<NodeId>,
    policy: Policy,
    weights: Vec<f64>,
    /// Requests forwarded to each server and not yet answered.
    pub outstanding: Vec<u32>,
    healthy: Vec<bool>,
    awaiting_check: Vec<bool>,
    health_interval_us: Option<Micros>,
    timeout_us: Micros,
    rr_next: usize,
    wrr_current: Vec<f64>,
    /// The healthy servers, in order: what the policies choose among.
    candidates: Vec<u32>,
    latency: Vec<PeakEwma>,
    /// Its index travels in the forwarded message's tag and comes back in the answer.
    pending: Slab<Pending>,
    deadlines: Deadlines,
    pub forwarded: Vec<u64>,
    pub upstream_errors: u64,
}

impl Balancer {
    pub fn new(servers: Vec<NodeId>, policy: Policy, weights: Vec<f64>, health_interval_us: Option<Micros>, timeout_us: Micros) -> Self {
        let n = servers.len();
        Balancer {
            servers,
            policy,
            weights,
            outstanding: vec![0; n],
            healthy: vec![true; n],
            awaiting_check: vec![false; n],
            health_interval_us,
            timeout_us,
            rr_next: 0,
            wrr_current: vec![0.0; n],
            candidates: (0..n as u32).collect(),
            latency: vec![PeakEwma::default(); n],
            pending: Slab::default(),
            deadlines: Deadlines::new(DEADLINE),
            forwarded: vec![0; n],
            upstream_errors: 0,
        }
    }

    fn server_index(&self, node: NodeId) -> Option<usize> {
        self.servers.iter().position(|s| *s == node)
    }

    /// The server for a request with `key`, among the healthy ones; `None` if none is.
    fn pick(&mut self, ctx: &mut Ctx, key: u64) -> Option<usize> {
        let n = self.servers.len();
        let c = &self.candidates;
        if c.is_empty() {
            return None;
        }
        Some(match self.policy {
            Policy::RoundRobin => {
                let start = self.rr_next;
                let i = (0..n).map(|k| (start + k) % n).find(|i| self.healthy[*i]).expect("one is healthy");
                self.rr_next = (i + 1) % n;
                i
            }
            Policy::WeightedRoundRobin => {
                // Smooth weighted round robin: spreads a server's turns evenly over the cycle.
                let total: f64 = c.iter().map(|i| self.weights[*i as usize]).sum();
                let mut best = c[0] as usize;
                for &i in c {
                    let i = i as usize;
                    self.wrr_current[i] += self.weights[i];
                    if self.wrr_current[i] > self.wrr_current[best] {
                        best = i;
                    }
                }
                self.wrr_current[best] -= total;
                best
            }
            Policy::Random => c[ctx.rng.below(c.len() as u64) as usize] as usize,
            Policy::LeastConnections => {
                // Ties go round the ring, so that an idle cluster is not all sent to server 1.
                let start = self.rr_next;
                self.rr_next = (self.rr_next + 1) % n;
                let k = c.len();
                (0..k)
                    .map(|j| c[(start + j) % k] as usize)
                    .min_by_key(|i| self.outstanding[*i])
                    .expect("non-empty")
            }
            Policy::PowerOfTwo => {
                let k = c.len() as u64;
                let a = ctx.rng.below(k) as usize;
                let b = if k > 1 { (a + 1 + ctx.rng.below(k - 1) as usize) % k as usize } else { a };
                let (a, b) = (c[a] as usize, c[b] as usize);
                if self.outstanding[b] < self.outstanding[a] { b } else { a }
            }
            Policy::IpHash => c[(mix64(key) % c.len() as u64) as usize] as usize,
            Policy::PeakEwma => {
                let k = c.len() as u64;
                let a = ctx.rng.below(k) as usize;
                let b = if k > 1 { (a + 1 + ctx.rng.below(k - 1) as usize) % k as usize } else { a };
                let cost = |i: usize| self.latency[i].estimate_us * f64::from(self.outstanding[i] + 1);
                let (a, b) = (c[a] as usize, c[b] as usize);
                if cost(b) < cost(a) { b } else { a }
            }
        })
    }

    /// The server's answer (or the network's refusal) for the request forwarded as `msg`.
    fn answered(&mut self, ctx: &mut Ctx, msg: Msg, kind: Kind) {
        let Some((key, p)) = self.pending.live_at(msg.tag) else { return };
        if p.req == msg.req {
            // A refusal by the network says nothing of the server's speed.
            let heard = msg.kind != Kind::Request;
            self.settle(ctx, key, kind, heard);
        }
    }

    /// Ends the forwarded request `key`; `heard` when the server's answer (or its
    /// silence until the timeout) tells how long it takes.
    fn settle(&mut self, ctx: &mut Ctx, key: Key, kind: Kind, heard: bool) {
        let Some(Pending { req, server, client, sent_at }) = self.pending.remove(key) else { return };
        self.outstanding[server as usize] -= 1;
        // Only the latency-aware policy keeps estimates (switched to live, it learns from
        // the next answers).
        if heard && self.policy == Policy::PeakEwma {
            self.latency[server as usize].observe(ctx.now(), (ctx.now() - sent_at) as f64);
        }
        if kind != Kind::Response {
            self.upstream_errors += 1;
        }
        ctx.send(client, Msg::new(kind, req));
    }

    /// Marks server `i` healthy or not, keeping the candidates in step.
    fn set_healthy(&mut self, i: usize, healthy: bool) {
        if self.healthy[i] != healthy {
            self.healthy[i] = healthy;
            let healthy = &self.healthy;
            self.candidates.clear();
            self.candidates.extend((0..healthy.len() as u32).filter(|i| healthy[*i as usize]));
        }
    }

    fn health_round(&mut self, ctx: &mut Ctx) {
        for i in 0..self.servers.len() {
            if self.awaiting_check[i] {
                // No answer since the last round: the server is down or unreachable.
                self.set_healthy(i, false);
            }
            self.awaiting_check[i] = true;
            ctx.send(self.servers[i], Msg { kind: Kind::HealthCheck, req: NO_REQUEST, key: i as u64, tag: 0, value: 0 });
        }
    }
}

impl Component for Balancer {
    fn on_start(&mut self, ctx: &mut Ctx) {
        if let Some(interval) = self.health_interval_us {
            self.health_round(ctx);
            ctx.set_timer(interval, HEALTH_TICK);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg.kind {
            Kind::Request => {
                let Some(i) = self.pick(ctx, msg.key) else {
                    ctx.send(from, msg.reply(Kind::Error));
                    return;
                };
                let key = self.pending.insert(Pending { req: msg.req, server: i as u32, client: from, sent_at: ctx.now() });
                self.outstanding[i] += 1;
                self.forwarded[i] += 1;
                ctx.send(self.servers[i], msg.with_tag(index_of(key)));
                self.deadlines.add(ctx, self.timeout_us, key);
            }
            Kind::Response | Kind::Error | Kind::Reject => self.answered(ctx, msg, msg.kind),
            Kind::HealthReply => {
                if let Some(i) = self.server_index(from) {
                    self.awaiting_check[i] = false;
                    self.set_healthy(i, true);
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        if token == HEALTH_TICK {
            self.health_round(ctx);
            ctx.set_timer(self.health_interval_us.expect("health timer only when checking"), HEALTH_TICK);
            return;
        }
        let pending = &self.pending;
        let expired = self.deadlines.fire(ctx, |_, key| pending.contains(key));
        for &key in &expired {
            self.settle(ctx, key, Kind::Error, true); // 504 Gateway Timeout
        }
        self.deadlines.recycle(expired);
    }

    fn on_bounce(&mut self, ctx: &mut Ctx, to: NodeId, msg: Msg) {
        match msg.kind {
            Kind::HealthCheck => {
                if let Some(i) = self.server_index(to) {
                    self.set_healthy(i, false);
                    self.awaiting_check[i] = false;
                }
            }
            Kind::Request => self.answered(ctx, msg, Kind::Error),
            _ => {}
        }
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        self.pending.drain(|p| held.push((p.client, Msg::new(Kind::Request, p.req))));
        self.outstanding.fill(0);
        self.deadlines.clear();
    }

    fn view(&self) -> NodeView {
        let busy = self.outstanding.iter().sum();
        let down = self.healthy.iter().any(|h| !h);
        NodeView { busy, state: if down { "some servers down" } else { "" }, tone: Tone::Warn, ..NodeView::default() }
    }

    fn on_set(&mut self, _ctx: &mut Ctx, knob: &str, value: &Value) {
        if let ("policy", Value::Choice(name)) = (knob, value) {
            self.policy = Policy::from_name(name).expect("choices are policy names");
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

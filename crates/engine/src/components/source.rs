//! The clients: an open-loop Poisson source of requests to one target, with a timeout.
//! Its rate follows a traffic shape (a non-homogeneous Poisson process, drawn by
//! thinning) and can change while the run plays (`set arrival_rate=...`).

use super::deadlines::Deadlines;
use crate::series::tally;
use crate::component::{Component, Ctx, NodeView, Tone};
use crate::keys::KeyDist;
use crate::knob::{Params, Value};
use crate::traffic::Shape;
use crate::ledger::Outcome;
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::rng::Rng;
use crate::time::Micros;
use std::any::Any;

/// The tag of a request that writes (see `Source::writing`); reads have tag 0.
pub const WRITE_TAG: u32 = 1;

/// Timer tokens: odd is the deadline, even an arrival of generation `token >> 1`; a rate
/// change starts a new generation, and the arrival already scheduled is then ignored.
const DEADLINE: u64 = 1;

pub struct Source {
    target: NodeId,
    rate_per_s: f64,
    /// The knob that sets `rate_per_s` during a run; only the clients of `arrival_rate`
    /// follow the traffic shape knobs too.
    rate_knob: &'static str,
    /// Whether the traffic shape knobs steer it (`shaped`), as they do the clients of
    /// `arrival_rate` anyway.
    shaped: bool,
    shape: Shape,
    period_us: Micros,
    /// A spike's height (the `spike` shape), as a multiple of the rate.
    spike: f64,
    /// The mean gap between candidate arrivals at the shape's peak rate, in microseconds:
    /// worked out when the rate or the shape changes, not at every arrival.
    peak_gap_us: f64,
    generation: u64,
    timeout_us: Micros,
    /// Requests carry a key (a user, a client address, a record id), uniform over
    /// `0..keys` unless the scene gives a distribution (`keyed`).
    keys: KeyDist,
    /// The Zipf exponent, kept for a live switch to `key_dist=zipf`.
    zipf_s: f64,
    /// The share of requests that are writes (`WRITE_TAG` in their tag).
    write_ratio: f64,
    /// Sessions: each request comes from a user (its `value`), one per key, who writes
    /// only their own key and reads it this share of the time.
    own_reads: Option<f64>,
    /// The next arrival, kept fractional so rounding to microseconds never drifts the rate.
    next_arrival_us: f64,
    deadlines: Deadlines,
    running: bool,
    /// Requests sent and not yet ended: clients holding a connection open, waiting.
    pub waiting: u32,
    pub waiting_max: u32,
    /// With `split_keys(k)`: requests sent and completions, in each second of virtual
    /// time, of requests with keys below `k` (`[0]`) and of the rest (`[1]`).
    split: Option<u64>,
    pub sent_by_split: [Vec<u32>; 2],
    pub completed_by_split: [Vec<u32>; 2],
    /// The workload's own stream (`World::stream("workload")`): arrivals and keys do not
    /// depend on what the rest of the model draws.
    rng: Rng,
}

impl Source {
    pub fn new(target: NodeId, rate_per_s: f64, timeout_us: Micros, keys: u64, rng: Rng) -> Self {
        let mut source = Source {
            target,
            rate_per_s,
            rate_knob: "arrival_rate",
            shaped: false,
            shape: Shape::Steady,
            period_us: 1,
            spike: crate::traffic::SPIKE,
            peak_gap_us: 0.0,
            generation: 0,
            timeout_us,
            keys: KeyDist::uniform(keys),
            zipf_s: 1.0,
            write_ratio: 0.0,
            own_reads: None,
            next_arrival_us: 0.0,
            deadlines: Deadlines::new(DEADLINE),
            running: false,
            waiting: 0,
            waiting_max: 0,
            split: None,
            sent_by_split: [Vec::new(), Vec::new()],
            completed_by_split: [Vec::new(), Vec::new()],
            rng,
        };
        source.set_peak_gap();
        source
    }

    /// Works out `peak_gap_us` for the rate and shape now.
    fn set_peak_gap(&mut self) {
        self.peak_gap_us = 1e6 / (self.rate_per_s * self.shape.max_factor_with(self.spike));
    }

    /// The traffic shape of the common knobs (`traffic`, `traffic_period`).
    pub fn shaped(mut self, p: &Params) -> Self {
        self.shape = Shape::from_name(p.choice("traffic")).expect("choices are shape names");
        self.period_us = p.duration("traffic_period");
        self.shaped = true;
        self.set_peak_gap();
        self
    }

    /// Spikes `height` times the rate (the `spike` shape), instead of 4.
    pub fn spike(mut self, height: f64) -> Self {
        self.spike = height;
        self.set_peak_gap();
        self
    }

    /// A source whose rate a knob of its own sets (`rate`, which may be 0: it then sends
    /// nothing until the knob rises): a second source beside the clients (one abusive
    /// user, say), steady whatever the traffic shape of the clients, or, `shaped`, the
    /// scene's one source under a name of its own (chat messages, `message_rate`).
    pub fn rate_knob(mut self, knob: &'static str) -> Self {
        self.rate_knob = knob;
        self
    }

    /// Keys drawn from the key knobs (`keys`, `key_dist`, `zipf_s`), which then also
    /// change live.
    pub fn keyed(mut self, p: &Params) -> Self {
        self.keys = KeyDist::from_params(p);
        self.zipf_s = p.float("zipf_s");
        self
    }

    /// A share of the requests are writes, marked `WRITE_TAG` (the `write_ratio` knob,
    /// which then also changes live).
    pub fn writing(mut self, p: &Params) -> Self {
        self.write_ratio = p.float("write_ratio");
        self
    }

    /// Requests come from users, one per key (the user's id travels in the request's
    /// `value`): a user writes only their own key, and reads it `own_reads` of the time,
    /// another key from the key distribution otherwise.
    pub fn sessions(mut self, own_reads: f64) -> Self {
        self.own_reads = Some(own_reads);
        self
    }

    /// Counts requests sent and completed second by second, apart for those with keys
    /// below `below` and for the rest: two kinds of request in one stream.
    pub fn split_keys(mut self, below: u64) -> Self {
        self.split = Some(below);
        self
    }

    /// The next candidate arrival, drawn at the shape's peak rate; `on_timer` thins it.
    fn schedule_next(&mut self, ctx: &mut Ctx) {
        if self.rate_per_s <= 0.0 {
            return; // silent until a rate is set
        }
        self.next_arrival_us += self.rng.exp(self.peak_gap_us);
        let at = crate::num::round_micros(self.next_arrival_us);
        ctx.set_timer(at.saturating_sub(ctx.now()), self.generation << 1);
    }

    /// Thinning: a candidate at `t` is a request with probability rate(t) / peak rate.
    /// A steady shape accepts every one without a draw, so its traffic is a plain
    /// Poisson stream.
    fn accept(&mut self, t: Micros) -> bool {
        self.shape == Shape::Steady || self.rng.unit() * self.shape.max_factor_with(self.spike) < self.shape.factor_with(t, self.period_us, self.spike)
    }

    /// The rate offered at `t`, in requests per second.
    pub fn rate_at(&self, t: Micros) -> f64 {
        self.rate_per_s * self.shape.factor_with(t, self.period_us, self.spike)
    }

    fn end(&mut self, ctx: &mut Ctx, req: ReqId, outcome: Outcome) {
        if ctx.is_open(req) {
            ctx.end_request(req, outcome);
            self.waiting -= 1;
        }
    }
}

impl Component for Source {
    fn on_start(&mut self, ctx: &mut Ctx) {
        self.running = true;
        self.next_arrival_us = ctx.now() as f64;
        self.schedule_next(ctx);
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        if token & 1 == DEADLINE {
            let expired = self.deadlines.fire(ctx, |ctx, t| ctx.is_open(ReqId(t)));
            for &t in &expired {
                self.end(ctx, ReqId(t), Outcome::TimedOut);
            }
            self.deadlines.recycle(expired);
            return;
        }
        if token >> 1 != self.generation || !self.running {
            return;
        }
        if !self.accept(ctx.now()) {
            self.schedule_next(ctx);
            return;
        }
        let Some(req) = ctx.open_request() else {
            self.running = false;
            return;
        };
        // A write is marked in the tag, drawn only where writes are asked for, so that
        // read-only workloads draw exactly what they always did.
        let (key, user, write) = match self.own_reads {
            None => {
                let key = self.keys.draw(&mut self.rng);
                (key, 0, self.write_ratio > 0.0 && self.rng.unit() < self.write_ratio)
            }
            Some(own) => {
                let user = self.rng.below(self.keys.len());
                let write = self.write_ratio > 0.0 && self.rng.unit() < self.write_ratio;
                let key = if write || self.rng.unit() < own { user } else { self.keys.draw(&mut self.rng) };
                (key, user as u32, write)
            }
        };
        ctx.send(self.target, Msg { kind: Kind::Request, req, key, tag: u32::from(write), value: user });
        self.waiting += 1;
        self.waiting_max = self.waiting_max.max(self.waiting);
        if let Some(below) = self.split {
            tally(&mut self.sent_by_split[usize::from(key >= below)], ctx.now());
        }
        self.deadlines.add(ctx, self.timeout_us, req.0);
        self.schedule_next(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx, _from: NodeId, msg: Msg) {
        let outcome = match msg.kind {
            Kind::Response => Outcome::Completed,
            Kind::Reject => Outcome::Rejected,
            _ => Outcome::Failed,
        };
        if let Some(below) = self.split
            && outcome == Outcome::Completed
            && ctx.is_open(msg.req)
        {
            tally(&mut self.completed_by_split[usize::from(msg.key >= below)], ctx.now());
        }
        self.end(ctx, msg.req, outcome);
    }

    fn on_bounce(&mut self, ctx: &mut Ctx, _to: NodeId, msg: Msg) {
        self.end(ctx, msg.req, Outcome::Failed);
    }

    fn on_set(&mut self, ctx: &mut Ctx, knob: &str, value: &Value) {
        match (knob, value) {
            (k, Value::Float(r)) if k == self.rate_knob => self.rate_per_s = *r,
            ("arrival_rate", _) if self.rate_knob != "arrival_rate" => return,
            ("traffic" | "traffic_period", _) if self.rate_knob != "arrival_rate" && !self.shaped => return,
            ("traffic", Value::Choice(name)) => self.shape = Shape::from_name(name).expect("choices are shape names"),
            ("traffic_period", Value::Duration(us)) => self.period_us = *us,
            ("key_dist", Value::Choice(name)) => {
                self.keys = self.keys.with(name, self.zipf_s);
                return;
            }
            ("write_ratio", Value::Float(r)) => {
                self.write_ratio = *r;
                return;
            }
            ("zipf_s", Value::Float(s)) => {
                if let KeyDist::Zipf { n, .. } = self.keys {
                    self.keys = KeyDist::named("zipf", n, *s);
                }
                self.zipf_s = *s;
                return;
            }
            _ => return,
        }
        self.set_peak_gap();
        // Arrivals are memoryless: drawing the next one afresh from now, at the new
        // rate, is exact.
        if self.running {
            self.generation += 1;
            self.next_arrival_us = ctx.now() as f64;
            self.schedule_next(ctx);
        }
    }

    fn view(&self) -> NodeView {
        let state = match (self.running, self.rate_per_s > 0.0) {
            (false, _) => "done",
            (true, true) => "sending",
            (true, false) => "quiet",
        };
        NodeView { state, tone: Tone::Good, busy: self.waiting, ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}


//! The clients: an open-loop Poisson source of requests to one target, with a timeout.

use super::deadlines::Deadlines;
use crate::component::{Component, Ctx, NodeView};
use crate::ledger::Outcome;
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::rng::Rng;
use crate::time::Micros;
use std::any::Any;

const ARRIVAL: u64 = 0;
const DEADLINE: u64 = 1;

pub struct Source {
    target: NodeId,
    rate_per_s: f64,
    timeout_us: Micros,
    /// Requests carry a key drawn uniformly from `0..keys` (a user, a client address).
    keys: u64,
    /// The next arrival, kept fractional so rounding to microseconds never drifts the rate.
    next_arrival_us: f64,
    deadlines: Deadlines,
    expired: Vec<u64>,
    running: bool,
    /// The workload's own stream (`World::stream("workload")`): arrivals and keys do not
    /// depend on what the rest of the model draws.
    rng: Rng,
}

impl Source {
    pub fn new(target: NodeId, rate_per_s: f64, timeout_us: Micros, keys: u64, rng: Rng) -> Self {
        Source {
            target,
            rate_per_s,
            timeout_us,
            keys: keys.max(1),
            next_arrival_us: 0.0,
            deadlines: Deadlines::new(DEADLINE),
            expired: Vec::new(),
            running: false,
            rng,
        }
    }

    fn schedule_next(&mut self, ctx: &mut Ctx) {
        self.next_arrival_us += self.rng.exp(1e6 / self.rate_per_s);
        let at = self.next_arrival_us.round() as Micros;
        ctx.set_timer(at.saturating_sub(ctx.now()), ARRIVAL);
    }

    fn end(ctx: &mut Ctx, req: ReqId, outcome: Outcome) {
        if ctx.is_open(req) {
            ctx.end_request(req, outcome);
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
        if token == DEADLINE {
            let mut expired = std::mem::take(&mut self.expired);
            self.deadlines.fire(ctx, |ctx, t| ctx.is_open(ReqId(t)), &mut expired);
            for t in expired.drain(..) {
                Self::end(ctx, ReqId(t), Outcome::TimedOut);
            }
            self.expired = expired;
            return;
        }
        let Some(req) = ctx.open_request() else {
            self.running = false;
            return;
        };
        let key = self.rng.below(self.keys);
        ctx.send(self.target, Msg { kind: Kind::Request, req, key, tag: 0 });
        self.deadlines.add(ctx, self.timeout_us, req.0);
        self.schedule_next(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx, _from: NodeId, msg: Msg) {
        let outcome = match msg.kind {
            Kind::Response => Outcome::Completed,
            Kind::Reject => Outcome::Rejected,
            _ => Outcome::Failed,
        };
        Self::end(ctx, msg.req, outcome);
    }

    fn on_bounce(&mut self, ctx: &mut Ctx, _to: NodeId, msg: Msg) {
        Self::end(ctx, msg.req, Outcome::Failed);
    }

    fn view(&self) -> NodeView {
        NodeView { state: if self.running { "sending" } else { "done" }, ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}


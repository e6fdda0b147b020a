//! The checkout of the idempotency scene: pays through the API, retrying on a timeout,
//! an error or a 409, with exponential backoff and optional jitter.

use super::{BACKOFF_CAP, KEYED, RETRY};
use crate::component::{Component, Ctx, NodeView};
use crate::components::slab::{Key, Slab, index_of};
use crate::knob::Params;
use crate::msg::{Kind, Msg, NodeId};
use crate::time::Micros;
use std::any::Any;
use std::cell::RefCell;
use std::collections::VecDeque;

/// A payment at the checkout.
struct Payment {
    from: NodeId,
    msg: Msg,
    id: u64,
    attempts: u32,
    /// When the pending timer is for (a stale timer of an earlier attempt finds another).
    timer_at: Micros,
    /// Waiting for an attempt's answer (else for a backoff to end).
    in_flight: bool,
}

/// The checkout: pays through the API, retrying on a timeout, an error or a 409.
pub struct Checkout {
    api: NodeId,
    keyed: bool,
    retries: u32,
    backoff: Micros,
    jitter: bool,
    attempt_timeout: Micros,
    payments: Slab<Payment>,
    /// Payments begun so far (the next one's id).
    pub next_id: u64,
    pub retries_sent: u64,
    pub paid: u64,
    pub failed: u64,
    /// Payment ids the user was told failed, until the probe has looked them up at the
    /// processor (`failed_but_charged`).
    pub failed_ids: RefCell<VecDeque<(Micros, u64)>>,
}

impl Checkout {
    pub fn new(api: NodeId, keyed: bool, p: &Params) -> Checkout {
        Checkout {
            api,
            keyed,
            retries: p.int("retries") as u32,
            backoff: p.duration("backoff"),
            jitter: p.flag("jitter"),
            attempt_timeout: p.duration("attempt_timeout"),
            payments: Slab::default(),
            next_id: 0,
            retries_sent: 0,
            paid: 0,
            failed: 0,
            failed_ids: RefCell::new(VecDeque::new()),
        }
    }

    fn attempt(&mut self, ctx: &mut Ctx, k: Key) {
        let Some(p) = self.payments.get_mut(k) else { return };
        p.attempts += 1;
        p.in_flight = true;
        p.timer_at = ctx.now() + self.attempt_timeout;
        let tag = index_of(k) | if self.keyed { KEYED } else { 0 };
        ctx.send(self.api, Msg { kind: Kind::Request, req: p.msg.req, key: p.id, tag, value: p.attempts });
        ctx.set_timer(self.attempt_timeout, k);
    }

    /// An attempt failed (no answer in time, an error, a 409): wait and retry, or give up.
    fn retry(&mut self, ctx: &mut Ctx, k: Key) {
        let Some(p) = self.payments.get_mut(k) else { return };
        if p.attempts > self.retries {
            let p = self.payments.remove(k).expect("found");
            self.failed += 1;
            self.failed_ids.get_mut().push_back((ctx.now(), p.id));
            ctx.send(p.from, p.msg.reply(Kind::Error));
            return;
        }
        let full = self.backoff * Micros::from((1u32 << (p.attempts - 1).min(5)).min(BACKOFF_CAP));
        let wait = if self.jitter { (ctx.rng.unit() * full as f64) as Micros } else { full };
        p.in_flight = false;
        p.timer_at = ctx.now() + wait;
        ctx.set_timer(wait, RETRY | k);
    }
}

impl Component for Checkout {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if from != self.api {
            if msg.kind == Kind::Request {
                let id = self.next_id;
                self.next_id += 1;
                let k = self.payments.insert(Payment { from, msg, id, attempts: 0, timer_at: 0, in_flight: false });
                self.attempt(ctx, k);
            }
            return;
        }
        let Some(k) = self.payments.key_at(msg.tag & !KEYED).filter(|k| self.payments.get(*k).is_some_and(|p| p.id == msg.key)) else { return };
        if msg.kind == Kind::Response {
            let p = self.payments.remove(k).expect("found");
            self.paid += 1;
            ctx.send(p.from, p.msg.reply(Kind::Response));
        } else if self.payments.get(k).is_some_and(|p| p.in_flight && p.attempts == msg.value) {
            // The current attempt's error or 409; an earlier attempt's is old news.
            self.retry(ctx, k);
        }
    }

    fn on_bounce(&mut self, ctx: &mut Ctx, _to: NodeId, msg: Msg) {
        let reply = msg.reply(Kind::Error);
        self.on_message(ctx, self.api, reply);
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        let k = token & !RETRY;
        let Some(p) = self.payments.get(k).filter(|p| p.timer_at == ctx.now()) else { return };
        match (token & RETRY != 0, p.in_flight) {
            (true, false) => {
                self.retries_sent += 1;
                self.attempt(ctx, k);
            }
            (false, true) => self.retry(ctx, k),
            _ => {}
        }
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        self.payments.drain(|p| held.push((p.from, p.msg)));
    }

    fn view(&self) -> NodeView {
        let retrying = self.payments.len() as u32;
        NodeView { busy: retrying, note: format!("{retrying} paying"), ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}


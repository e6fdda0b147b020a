//! Scene `idempotency` (patterns.md row 8): users pay at a checkout, which calls a
//! payments API with retries (exponential backoff, optional jitter), which charges a card
//! processor. Responses get lost on their way back and the API can crash mid-charge, so
//! the checkout retries payments that may already have been charged. With idempotency
//! keys the API remembers each payment's key (durably, surviving a crash): it locks the
//! key before charging, replays the stored result to a retry, and answers 409 to a retry
//! that arrives while the first attempt is still under way.

mod checkout;

use super::measure::measures;
use checkout::Checkout;
use crate::check::Checker;
use crate::component::{Component, Ctx, NodeView, Tone};
use crate::components::slab::{Slab, index_of};
use crate::components::source::Source as Users;
use crate::dist::Dist;
use crate::error::{Error, Result};
use crate::knob::{KnobKind, KnobSpec, Params, Value, common_knobs_with_latency};
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::scene::{Preset, Probe, Scene, SceneInfo};
use crate::time::{Micros, US_PER_S};
use crate::trace::Record;
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView, LATENCY_CHART};
use crate::world::World;
use serde_json::{Map, Value as Json};
use std::any::Any;
use std::cell::RefCell;
use crate::idmap::IdMap;
use std::collections::VecDeque;
use std::sync::LazyLock;

pub struct Idempotency;

/// A request's tag: it carries an idempotency key (the payment's id, in `key`).
const KEYED: u32 = 1 << 31;
/// The processor is asked to charge, or whether a payment was charged (after a crash).
const CHARGE: u32 = 0;
const LOOKUP: u32 = 1;
/// A checkout timer: an attempt's answer is overdue, or a retry's backoff is over.
const RETRY: u64 = 1 << 63;
const INVARIANT: &str = "with keys: duplicate_charges = 0";
/// The most one backoff grows to, in multiples of the first.
const BACKOFF_CAP: u32 = 32;

static INFO: LazyLock<SceneInfo> = LazyLock::new(|| {
    let mut knobs = common_knobs_with_latency("50", 10_000.0, "const:1ms");
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "idempotency_keys", kind: KnobKind::Bool, default: "on", unit: "", live: false, help: "Whether the checkout sends each payment's key with every attempt, and the API remembers keys to charge each payment once." },
        KnobSpec { name: "key_lock", kind: KnobKind::Bool, default: "on", unit: "", live: false, help: "Whether the API locks a key before charging. Off, it only checks for a stored result and stores it after the charge: a retry that arrives meanwhile is charged too." },
        KnobSpec { name: "retries", kind: KnobKind::Int { min: 0, max: 10 }, default: "3", unit: "", live: false, help: "Attempts the checkout makes after the first, on a timeout, an error or a 409." },
        KnobSpec { name: "backoff", kind: KnobKind::Duration { min_us: 1_000, max_us: 60 * US_PER_S }, default: "200ms", unit: "", live: false, help: "The wait before the first retry, doubling for each next one (up to 32 times)." },
        KnobSpec { name: "jitter", kind: KnobKind::Bool, default: "on", unit: "", live: false, help: "Whether each wait is drawn at random between 0 and the backoff (full jitter), so that retries of many payments spread out." },
        KnobSpec { name: "attempt_timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 60 * US_PER_S }, default: "1s", unit: "", live: false, help: "How long the checkout waits for an attempt's answer before it retries." },
        KnobSpec { name: "response_loss", kind: KnobKind::Float { min: 0.0, max: 1.0 }, default: "0.1", unit: "fraction", live: true, help: "The share of the API's answers lost on their way back to the checkout (the charge itself went through)." },
        KnobSpec { name: "key_ttl", kind: KnobKind::Duration { min_us: 1_000, max_us: 7 * 86_400 * US_PER_S }, default: "600s", unit: "", live: false, help: "How long the API remembers a finished payment's key. It must outlast the checkout's retries, or a late retry is charged again." },
        KnobSpec { name: "charge_time", kind: KnobKind::Dist, default: "exp:300ms", unit: "", live: false, help: "How long the processor takes to charge a card." },
        KnobSpec { name: "timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 3600 * US_PER_S }, default: "60s", unit: "", live: false, help: "How long a user waits for the checkout to say paid or failed." },
    ] });
    SceneInfo {
        id: "idempotency",
        title: "Idempotency",
        knobs,
        actions: &[],
        view: SceneView {
            stage: StageView { columns: &[&["client"], &["checkout"], &["api"], &["processor"]], links: &[("client", "checkout"), ("checkout", "api"), ("api", "processor")], paired: &[] },
            charts: const { &[
                Chart {
                    title: "Charges per second",
                    unit: "charges/s",
                    lines: &[
                        Line::measured("charges/s", "charges_rps", Colour::Green).compared(),
                        Line::measured("duplicate charges/s", "duplicates_rps", Colour::Red).compared(),
                        Line::measured("retries/s", "retries_rps", Colour::Orange),
                    ],
                },
                Chart { title: "Duplicate charges, so far", unit: "payments", lines: &[Line::measured("duplicate charges", "duplicates", Colour::Red).compared()] },
                LATENCY_CHART,
            ] },
            compare: &[
                Row { label: "payments", metric: "payments" },
                Row { label: "charges at the processor", metric: "charges" },
                Row { label: "duplicate charges", metric: "duplicate_charges" },
                Row { label: "retries sent", metric: "retries_sent" },
                Row { label: "answered from the key store", metric: "replayed" },
                Row { label: "409: still under way", metric: "conflicts" },
                Row { label: "paid, as the user was told", metric: "paid" },
                Row { label: "payments the user was told failed", metric: "failed" },
                Row { label: "... of which charged anyway", metric: "failed_but_charged" },
            ],
            tables: &[],
        },
        narrative: &crate::narratives::idempotency::NARRATIVE,
        presets: const { &[
            Preset {
                name: "no-keys",
                title: "Lost responses and retries, no keys: customers charged twice",
                about: "A tenth of the API's answers are lost on the way back; the checkout retries after a second. Every retry of a payment that went through charges the card again.",
                set: &[("idempotency_keys", "off")],
                faults: &[],
            },
            Preset {
                name: "keys",
                title: "The same with keys: one charge per payment",
                about: "The same losses and retries. The API finds each retry's key in its store and answers with the first charge's result: no card is charged twice.",
                set: &[],
                faults: &[],
            },
            Preset {
                name: "crash-mid-charge",
                title: "The API crashes mid-charge",
                about: "At 20 s the API crashes with charges under way, and comes back at 22 s. Its key store survives: retries of those payments get 409 until it has asked the processor what went through.",
                set: &[("response_loss", "0")],
                faults: &["20s kill api", "22s revive api"],
            },
            Preset {
                name: "check-then-charge",
                title: "Keys without a lock: a slow charge is charged twice",
                about: "Keys, but checked before the charge and stored after it. Charges take 1.5 s on average and the checkout retries after 1 s (up to six times): the retry finds no key yet and is charged too.",
                set: &[("key_lock", "off"), ("charge_time", "exp:1500ms"), ("response_loss", "0"), ("retries", "6")],
                faults: &[],
            },
        ] },
    }
});

/// The longest a checkout keeps retrying one payment: every attempt's timeout and every
/// backoff at its longest. A key must be remembered at least this long.
fn retry_span(p: &Params) -> Micros {
    let retries = p.int("retries") as u32;
    let backoff: Micros = (0..retries).map(|i| p.duration("backoff") * Micros::from((1u32 << i.min(5)).min(BACKOFF_CAP))).sum();
    p.duration("attempt_timeout") * Micros::from(retries + 1) + backoff
}

#[derive(Clone, Copy, PartialEq)]
enum Entry {
    /// Locked: a charge is under way (or its outcome unknown since a crash).
    Charging,
    Done,
}

/// The payments API and its key store (durable: a crash loses what is under way, not
/// the store).
pub struct Api {
    processor: NodeId,
    lock: bool,
    ttl_us: Micros,
    response_loss: f64,
    store: IdMap<Entry>,
    /// Finished keys in the order they expire.
    expiry: VecDeque<(Micros, u64)>,
    /// Charges under way: who to answer.
    charging: Slab<(NodeId, Msg)>,
    pub replayed: u64,
    pub conflicts: u64,
    pub lost: u64,
}

/// How long the API waits for the processor before it asks what became of a charge.
const CHARGE_WAIT_US: Micros = 10 * US_PER_S;

impl Api {
    fn answer(&mut self, ctx: &mut Ctx, to: NodeId, reply: Msg) {
        if reply.kind == Kind::Response && self.response_loss > 0.0 && ctx.rng.chance(self.response_loss) {
            self.lost += 1;
            ctx.lose(to, reply);
        } else {
            ctx.send(to, reply);
        }
    }

    fn expire(&mut self, now: Micros) {
        while self.expiry.front().is_some_and(|(t, _)| *t <= now) {
            let (_, key) = self.expiry.pop_front().expect("checked");
            self.store.remove(&key);
        }
    }

    fn finish(&mut self, ctx: &mut Ctx, key: u64) {
        if self.store.insert(key, Entry::Done) != Some(Entry::Done) {
            self.expiry.push_back((ctx.now() + self.ttl_us, key));
        }
    }
}

impl Component for Api {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if from == self.processor {
            match msg.tag {
                LOOKUP => {
                    // After a crash: a payment found charged is done; one not found stays
                    // locked (its charge may still be on the way), its retries refused.
                    if msg.kind == Kind::Response {
                        self.finish(ctx, msg.key);
                    }
                }
                _ => {
                    let Some(k) = self.charging.key_at(msg.value).filter(|k| self.charging.get(*k).is_some_and(|(_, m)| m.key == msg.key)) else { return };
                    let (to, request) = self.charging.remove(k).expect("found");
                    if request.tag & KEYED != 0 {
                        self.finish(ctx, request.key);
                    }
                    self.answer(ctx, to, request.reply(Kind::Response));
                }
            }
            return;
        }
        if msg.kind != Kind::Request {
            return;
        }
        let keyed = msg.tag & KEYED != 0;
        if keyed {
            self.expire(ctx.now());
            match self.store.get(&msg.key) {
                Some(Entry::Done) => {
                    self.replayed += 1;
                    return self.answer(ctx, from, msg.reply(Kind::Response));
                }
                Some(Entry::Charging) => {
                    self.conflicts += 1;
                    return ctx.send(from, msg.reply(Kind::Reject));
                }
                None if self.lock => {
                    self.store.insert(msg.key, Entry::Charging);
                }
                None => {}
            }
        }
        let k = self.charging.insert((from, msg));
        ctx.send(self.processor, Msg { kind: Kind::Call, req: msg.req, key: msg.key, tag: CHARGE, value: index_of(k) });
        ctx.set_timer(CHARGE_WAIT_US, k);
    }

    /// No word from the processor: the attempt fails, and a locked key stays locked until
    /// the processor says the payment went through (its charge may still be on the way).
    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        if let Some((to, request)) = self.charging.remove(token) {
            ctx.send(to, request.reply(Kind::Error));
            if request.tag & KEYED != 0 {
                ctx.send(self.processor, Msg { kind: Kind::Call, req: ReqId(0), key: request.key, tag: LOOKUP, value: 0 });
            }
        }
    }

    fn on_bounce(&mut self, ctx: &mut Ctx, _to: NodeId, msg: Msg) {
        if msg.tag != CHARGE {
            return;
        }
        // The processor was down and the charge never reached it: the key is free again.
        let Some(k) = self.charging.key_at(msg.value).filter(|k| self.charging.get(*k).is_some_and(|(_, m)| m.key == msg.key)) else { return };
        let (to, request) = self.charging.remove(k).expect("found");
        if self.store.get(&request.key) == Some(&Entry::Charging) {
            self.store.remove(&request.key);
        }
        ctx.send(to, request.reply(Kind::Error));
    }

    fn on_set(&mut self, _ctx: &mut Ctx, knob: &str, value: &Value) {
        if let ("response_loss", Value::Float(x)) = (knob, value) {
            self.response_loss = *x;
        }
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        // Charges under way are forgotten (their keys stay locked in the store).
        self.charging.drain(|(to, m)| held.push((to, m)));
    }

    fn on_revive(&mut self, ctx: &mut Ctx) {
        // Recovery: ask the processor what became of every payment left locked.
        let mut locked: Vec<u64> = self.store.iter().filter(|(_, e)| **e == Entry::Charging).map(|(k, _)| *k).collect();
        crate::sort::sort(&mut locked);
        for key in locked {
            ctx.send(self.processor, Msg { kind: Kind::Call, req: ReqId(0), key, tag: LOOKUP, value: 0 });
        }
    }

    fn view(&self) -> NodeView {
        let locked = self.store.values().filter(|e| **e == Entry::Charging).count();
        NodeView {
            busy: self.charging.len() as u32,
            note: format!("{} keys · {locked} locked", self.store.len()),
            ..NodeView::default()
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The card processor: charges every charge it is asked for (it knows nothing of keys),
/// and tells whether a payment was charged. It keeps each payment's charges for as long
/// as a retry of it could come.
pub struct Processor {
    charge_time: Dist,
    charged: IdMap<u32>,
    recent: VecDeque<(Micros, u64)>,
    keep_us: Micros,
    working: Slab<(NodeId, Msg)>,
    pub charges: u64,
    pub duplicates: u64,
}

impl Processor {
    fn forget_old(&mut self, now: Micros) {
        while self.recent.front().is_some_and(|(t, _)| *t + self.keep_us <= now) {
            let (_, id) = self.recent.pop_front().expect("checked");
            self.charged.remove(&id);
        }
    }
}

impl Component for Processor {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        self.forget_old(ctx.now());
        if msg.tag == LOOKUP {
            let found = self.charged.contains_key(&msg.key);
            return ctx.send(from, msg.reply(if found { Kind::Response } else { Kind::Error }));
        }
        let n = self.charged.entry(msg.key).or_insert(0);
        *n += 1;
        self.charges += 1;
        if *n == 1 {
            self.recent.push_back((ctx.now(), msg.key));
        } else {
            self.duplicates += 1;
        }
        let raw = self.charge_time.sample(ctx.rng);
        let us = ctx.work(raw);
        let k = self.working.insert((from, msg));
        ctx.set_timer(us, k);
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        if let Some((to, msg)) = self.working.remove(token) {
            ctx.send(to, msg.reply(Kind::Response));
        }
    }

    /// The charges under way went through; only their answers are lost.
    fn on_crash(&mut self, _held: &mut Vec<(NodeId, Msg)>) {
        self.working.drain(|_| {});
    }

    fn view(&self) -> NodeView {
        NodeView { busy: self.working.len() as u32, note: format!("{} charged twice", self.duplicates), tone: if self.duplicates > 0 { Tone::Bad } else { Tone::Good }, state: if self.duplicates > 0 { "duplicates" } else { "" }, ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The invariant, from the trace: with keys (and the lock), the API never asks the
/// processor to charge a payment it has asked to charge before. Payments are forgotten
/// once no retry of theirs can come.
struct ChargedOnce {
    api: NodeId,
    processor: NodeId,
    keep_us: Micros,
    seen: IdMap<Micros>,
    order: VecDeque<(Micros, u64)>,
}

impl Checker for ChargedOnce {
    fn name(&self) -> &'static str {
        INVARIANT
    }

    fn on_record(&mut self, r: &Record, violations: &mut Vec<String>) {
        // A charge the network brought back (its processor dead) never happened.
        if let Record::Bounce { from, to, msg, .. } = *r
            && from == self.processor
            && to == self.api
            && msg.tag == CHARGE
        {
            self.seen.remove(&msg.key);
            return;
        }
        let Record::Send { t0, from, to, msg, .. } = *r else { return };
        if from != self.api || to != self.processor || msg.tag != CHARGE {
            return;
        }
        while self.order.front().is_some_and(|(t, _)| *t + self.keep_us <= t0) {
            let (_, id) = self.order.pop_front().expect("checked");
            self.seen.remove(&id);
        }
        if let Some(first) = self.seen.get(&msg.key) {
            violations.push(format!("payment {} charged again, first charged at {}s", msg.key, crate::num::Fixed(*first as f64 / 1e6, 3)));
        } else {
            self.seen.insert(msg.key, t0);
            self.order.push_back((t0, msg.key));
        }
    }
}

struct PayProbe {
    checkout: NodeId,
    api: NodeId,
    processor: NodeId,
    /// At the last sample: time, charges, duplicates, retries.
    last: RefCell<(Micros, u64, u64, u64)>,
    /// Payments the user was told failed and the processor charged, among those settled.
    failed_charged: std::cell::Cell<u64>,
}

/// A payment the checkout gave up on may still be charged by an attempt on its way; ten
/// seconds on, it is settled.
const SETTLE_US: Micros = 10 * US_PER_S;

impl Scene for Idempotency {
    fn info(&self) -> &'static SceneInfo {
        &INFO
    }

    fn check(&self, p: &Params) -> Result<()> {
        let span = retry_span(p);
        if p.flag("idempotency_keys") && p.duration("key_ttl") < span {
            return Err(Error::new(format!(
                "key_ttl={} is shorter than the checkout's retries can last ({} s with retries={}, backoff={}, attempt_timeout={}): a late retry would be charged again",
                p.get("key_ttl").to_text(),
                crate::num::Fixed(span as f64 / 1e6, 1),
                p.int("retries"),
                p.get("backoff").to_text(),
                p.get("attempt_timeout").to_text()
            )));
        }
        Ok(())
    }

    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe> {
        // A payment's charges are kept (and checked) for as long as its retries can come,
        // with room for the answers on the way.
        let keep_us = retry_span(p) + p.duration("timeout") + 2 * SETTLE_US;
        let processor = w.add_node("processor", "processor", Box::new(Processor { charge_time: p.dist("charge_time"), charged: IdMap::default(), recent: VecDeque::new(), keep_us, working: Slab::default(), charges: 0, duplicates: 0 }));
        let keyed = p.flag("idempotency_keys");
        let api = Api {
            processor,
            lock: p.flag("key_lock"),
            ttl_us: p.duration("key_ttl"),
            response_loss: p.float("response_loss"),
            store: IdMap::default(),
            expiry: VecDeque::new(),
            charging: Slab::default(),
            replayed: 0,
            conflicts: 0,
            lost: 0,
        };
        let api = w.add_node("api", "api", Box::new(api));
        let checkout = Checkout::new(api, keyed, p);
        let checkout = w.add_node("checkout", "checkout", Box::new(checkout));
        let users = Users::new(checkout, p.float("arrival_rate"), p.duration("timeout"), 1, w.stream("workload")).shaped(p);
        w.add_node("client", "client", Box::new(users));
        if keyed && p.flag("key_lock") {
            w.add_checker(Box::new(ChargedOnce { api, processor, keep_us, seen: IdMap::default(), order: VecDeque::new() }));
        }
        Box::new(PayProbe { checkout, api, processor, last: RefCell::new((0, 0, 0, 0)), failed_charged: std::cell::Cell::new(0) })
    }
}

impl Probe for PayProbe {
    fn metrics(&self, w: &World) -> Map<String, Json> {
        let c = w.component::<Checkout>(self.checkout);
        let api = w.component::<Api>(self.api);
        let pr = w.component::<Processor>(self.processor);
        let failed_but_charged = self.failed_charged.get() + c.failed_ids.borrow().iter().filter(|(_, id)| pr.charged.contains_key(id)).count() as u64;
        measures!{
            "payments": c.next_id,
            "charges": pr.charges,
            "duplicate_charges": pr.duplicates,
            "retries_sent": c.retries_sent,
            "replayed": api.replayed,
            "conflicts": api.conflicts,
            "responses_lost": api.lost,
            "paid": c.paid,
            "failed": c.failed,
            "failed_but_charged": failed_but_charged,
            "keys_stored": api.store.len(),
        }
    }

    fn series_names(&self, _w: &World) -> Vec<String> {
        vec!["charges_rps".into(), "duplicates_rps".into(), "retries_rps".into(), "duplicates".into()]
    }

    fn sample(&self, w: &World, out: &mut Vec<f64>) {
        let (c, pr) = (w.component::<Checkout>(self.checkout), w.component::<Processor>(self.processor));
        let mut last = self.last.borrow_mut();
        let dt = (w.now() - last.0) as f64 / 1e6;
        let rate = |now: u64, then: u64| if dt > 0.0 { (now - then) as f64 / dt } else { 0.0 };
        out.push(rate(pr.charges, last.1));
        out.push(rate(pr.duplicates, last.2));
        out.push(rate(c.retries_sent, last.3));
        out.push(pr.duplicates as f64);
        *last = (w.now(), pr.charges, pr.duplicates, c.retries_sent);
        // Settled failures are counted and let go (the processor still remembers them).
        let mut failed = c.failed_ids.borrow_mut();
        while failed.front().is_some_and(|(t, _)| *t + SETTLE_US <= w.now()) {
            let (_, id) = failed.pop_front().expect("checked");
            self.failed_charged.set(self.failed_charged.get() + u64::from(pr.charged.contains_key(&id)));
        }
    }
}

//! The world: one owner of time (the event queue), of randomness (the seeded generator),
//! of the network between the nodes (latency, loss, partitions, dead, hung and slowed
//! nodes) and of the request ledger. It runs the components and feeds the trace to the
//! checkers and the sinks.

use crate::check::{Checker, RunEnd, Violation};
use crate::component::{Component, Ctx, NodeView};
use crate::error::{Error, Result};
use crate::fault::ScheduledFault;
use crate::histogram::Histogram;
use crate::knob::Params;
use crate::ledger::Counts;
use crate::msg::{Msg, NodeId};
use crate::queue::EventKind;
use crate::rng::Rng;
use crate::scene::{ActionSpec, Probe};
use crate::time::Micros;
use crate::trace::{DropReason, HashSink, Record, RingSink};
use crate::world_core::Core;

mod faults;

/// When the workload stops opening new requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    Requests(u64),
    Until(Micros),
    Forever,
}

/// What happened during one time-series interval.
pub struct Window {
    pub p50_us: f64,
    pub p95_us: f64,
    pub p99_us: f64,
    /// Latency of the requests that ended otherwise (refused, failed, timed out): how
    /// long a failure took. NaN when none ended so.
    pub fail_p50_us: f64,
    pub fail_p99_us: f64,
    /// Counts by `Outcome` (completed, rejected, failed, timed out).
    pub outcomes: [u64; 4],
}

/// Reaches every partition group.
pub const NO_SIDE: u8 = u8::MAX;

/// Whether a partition separates nodes on these sides (`NO_SIDE` reaches every side).
pub fn split(a: u8, b: u8) -> bool {
    a != NO_SIDE && b != NO_SIDE && a != b
}

pub struct Node {
    pub name: String,
    /// What the node is for (`client`, `balancer`, `server`, `service`, `dependency`): renderers lay nodes out by it.
    pub role: &'static str,
    pub alive: bool,
    pub hung: bool,
    pub slow: f64,
    epoch: u32,
    comp: Box<dyn Component>,
}

impl Node {
    /// Alive and not hung: it takes messages and its timers fire.
    #[inline(always)]
    pub fn up(&self) -> bool {
        self.alive && !self.hung
    }
    pub fn view(&self) -> NodeView {
        self.comp.view()
    }
    /// The state announced as `code`, in words.
    pub fn describe_state(&self, code: u8) -> String {
        self.comp.describe_state(code)
    }
}

pub struct World {
    pub seed: u64,
    core: Core,
    /// The handlers' randomness (`Ctx::rng`).
    rng: Rng,
    nodes: Vec<Node>,
    held: Vec<(NodeId, Msg)>,
    faults: Vec<ScheduledFault>,
    limit: Limit,
    events: u64,
    /// The knobs' values now: the run's settings with every `set` entry applied so far.
    params: Params,
    actions: &'static [ActionSpec],
    /// The scene's view of this world (measures, actions); set once the scene is built.
    probe: Option<Box<dyn Probe>>,
    started: bool,
}

impl World {
    pub fn new(seed: u64, params: Params, actions: &'static [ActionSpec], limit: Limit) -> World {
        World {
            seed,
            core: Core::new(seed, &params, limit),
            rng: Rng::new(seed, "world"),
            nodes: Vec::new(),
            held: Vec::new(),
            faults: Vec::new(),
            limit,
            events: 0,
            params,
            actions,
            probe: None,
            started: false,
        }
    }

    /// Latency of every completed request.
    pub fn latency(&self) -> &Histogram {
        &self.core.latency
    }
    /// Latency of every request that ended otherwise than completed (refused, failed,
    /// timed out): how long a failure took.
    pub fn failure_latency(&self) -> &Histogram {
        &self.core.fail_latency
    }
    /// The sink that hashes the trace, if one is attached.
    pub fn hash(&self) -> Option<&HashSink> {
        self.core.hash.as_ref()
    }
    pub fn hash_mut(&mut self) -> &mut Option<HashSink> {
        self.core.flush();
        &mut self.core.hash
    }
    /// The renderer's sink, if one is attached.
    pub fn ring_mut(&mut self) -> &mut Option<RingSink> {
        self.core.flush();
        &mut self.core.ring
    }

    /// The knobs' current values (the run's settings, then each `set` entry so far).
    pub fn params(&self) -> &Params {
        &self.params
    }

    pub fn set_probe(&mut self, probe: Box<dyn Probe>) {
        self.probe = Some(probe);
    }

    pub fn probe(&self) -> &dyn Probe {
        self.probe.as_deref().expect("the scene is built")
    }

    /// Adds a node; one added while the run plays (a scene's action, such as adding a
    /// shard) starts at once.
    pub fn add_node(&mut self, name: impl Into<String>, role: &'static str, comp: Box<dyn Component>) -> NodeId {
        self.nodes.push(Node { name: name.into(), role, alive: true, hung: false, slow: 1.0, epoch: 0, comp });
        self.core.sides.push(NO_SIDE);
        let id = (self.nodes.len() - 1) as NodeId;
        if self.started {
            self.dispatch(id, |c, ctx| c.on_start(ctx));
            self.core.flush();
        }
        id
    }

    /// A generator of its own for one part of the model, derived from the world's seed and
    /// `name`. The workload draws from one, so that the same seed offers the very same
    /// traffic whatever the policies downstream do with their randomness.
    pub fn stream(&self, name: &str) -> Rng {
        Rng::new(self.seed, name)
    }

    pub fn add_checker<C: Checker + 'static>(&mut self, c: Box<C>) {
        self.core.checkers.push(c);
    }

    pub fn checker_names(&self) -> Vec<&'static str> {
        let mut names = vec!["accounting"];
        names.extend(self.core.checkers.iter().map(|c| c.name()));
        names
    }

    /// Renderers get one in `every` requests' messages (node and fault records always).
    pub fn set_sampling(&mut self, every: u32) {
        self.core.flush();
        self.core.sample_every = every.max(1);
    }

    pub fn now(&self) -> Micros {
        self.core.now
    }
    pub fn events(&self) -> u64 {
        self.events
    }
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }
    pub fn counts(&self) -> Counts {
        self.core.ledger.counts()
    }
    pub fn ledger_slots(&self) -> usize {
        self.core.ledger.slots()
    }
    pub fn queue_len(&self) -> usize {
        self.core.queue.len()
    }
    pub fn faults(&self) -> &[ScheduledFault] {
        &self.faults
    }
    pub fn violations(&self) -> (&[Violation], u64, u64) {
        (&self.core.violations, self.core.violation_count, self.core.checks)
    }
    pub fn violations_of(&self, invariant: &str) -> u64 {
        self.core.violations_by_name.get(invariant).copied().unwrap_or(0)
    }
    /// Requests that ended other than completed after the first node was killed.
    pub fn errors_after_kill(&self) -> u64 {
        self.core.errors_after_kill
    }
    /// When the workload stopped opening requests, if it has.
    pub fn arrivals_closed_at(&self) -> Option<Micros> {
        match self.limit {
            // Closed by the clock, whether or not a request was attempted since.
            Limit::Until(t) if self.core.now >= t => Some(self.core.arrivals_closed_at.map_or(t, |c| c.min(t))),
            _ => self.core.arrivals_closed_at,
        }
    }

    pub fn node_id(&self, name: &str) -> Result<NodeId> {
        self.nodes.iter().position(|n| n.name == name).map(|i| i as NodeId).ok_or_else(|| {
            let names: Vec<&str> = self.nodes.iter().map(|n| n.name.as_str()).collect();
            Error::new(format!("no node named '{name}' (nodes: {})", names.join(", ")))
        })
    }

    /// The component of node `id` as its concrete type, for a scene's measures.
    pub fn component<T: 'static>(&self, id: NodeId) -> &T {
        self.node_any(id).downcast_ref::<T>().unwrap_or_else(|| not_its_type())
    }

    /// `component`'s part that is the same for every type: one copy, not one per type.
    #[inline(never)]
    fn node_any(&self, id: NodeId) -> &dyn std::any::Any {
        self.nodes[id as usize].comp.as_any()
    }

    /// Runs `f` on node `id`'s component as its concrete type, with a `Ctx` as a handler
    /// has: how a scene's action reaches into its own nodes.
    pub fn with_component<T: 'static>(&mut self, id: NodeId, f: impl FnOnce(&mut T, &mut Ctx)) {
        self.dispatch(id, |c, ctx| {
            let any: &mut dyn std::any::Any = c;
            f(any.downcast_mut::<T>().expect("a scene knows its own components"), ctx)
        });
        self.core.flush();
    }

    /// Whether a partition separates nodes `a` and `b` now.
    pub fn partitioned(&self, a: NodeId, b: NodeId) -> bool {
        split(self.core.sides[a as usize], self.core.sides[b as usize])
    }

    /// Whether nodes `a` and `b` can talk now: both up, on the same side of any partition.
    pub fn reachable(&self, a: NodeId, b: NodeId) -> bool {
        let (x, y) = (&self.nodes[a as usize], &self.nodes[b as usize]);
        x.up() && y.up() && !self.partitioned(a, b)
    }

    #[inline]
    pub fn arrivals_open(&self) -> bool {
        self.core.arrivals_open()
    }

    /// Every request that will ever be sent has ended.
    pub fn quiescent(&self) -> bool {
        !self.arrivals_open() && self.core.ledger.counts().in_flight == 0
    }

    pub fn start(&mut self) {
        self.started = true;
        for id in 0..self.nodes.len() as NodeId {
            self.dispatch(id, |c, ctx| c.on_start(ctx));
        }
        self.core.flush();
    }

    pub fn peek_time(&self) -> Option<Micros> {
        self.core.queue.peek_time()
    }

    /// Runs every event up to and including `t`, then sets the clock to `t`.
    pub fn run_until(&mut self, t: Micros) {
        self.run(t, u64::MAX, false);
        self.core.now = self.core.now.max(t);
    }

    /// Runs events due up to `t` while arrivals stay open and fewer than `stop` events
    /// have run in all (a run's hot loop).
    pub fn run_open_until(&mut self, t: Micros, stop: u64) {
        self.run(t, stop, true);
    }

    /// Processes the next event; false when there is none.
    pub fn step(&mut self) -> bool {
        let before = self.events;
        self.run(Micros::MAX, before + 1, false);
        self.events > before
    }

    /// The one loop every way of running goes through: events due by `until` while
    /// fewer than `stop` have run in all (and, if `while_open`, while arrivals are open);
    /// then the trace goes to the checkers and sinks. Each event's handling is inlined
    /// here, once.
    #[inline(never)]
    fn run(&mut self, until: Micros, stop: u64, while_open: bool) {
        while self.events < stop && (!while_open || self.arrivals_open()) && self.advance(until) {}
        self.core.flush();
    }

    /// Processes the next event if it is due by `until`; false when there is none so soon.
    /// (Nodes are reached through a slice: a `Vec`'s index is a call in the wasm built
    /// for size, and there were four on the path of every event.)
    #[inline(always)]
    fn advance(&mut self, until: Micros) -> bool {
        let Some((t, event)) = self.core.queue.pop_ref(until) else { return false };
        self.core.now = t;
        self.events += 1;
        // The event is read where it waits, its fields straight into the handler's
        // arguments, before the handler can push over its slot.
        match *event {
            EventKind::Deliver { from, to, ref msg } => {
                if self.nodes.as_slice()[to as usize].up() {
                    // Most often written just before, a field at a time: read the same
                    // way, here where it is handed on, so that the wasm too writes it
                    // straight where the handler's argument goes. (Read before the
                    // branch, it went to a copy shared with `undeliverable`, and was
                    // copied again whole: in chunks over its fields, which stalled.)
                    let msg = msg.fieldwise();
                    self.dispatch(to, |c, ctx| c.on_message(ctx, from, msg));
                } else {
                    let msg = *msg;
                    self.undeliverable(from, to, msg);
                }
            }
            EventKind::Timer { node, epoch, token } => {
                let n = &self.nodes.as_slice()[node as usize];
                if n.up() && n.epoch == epoch {
                    self.dispatch(node, |c, ctx| c.on_timer(ctx, token));
                }
            }
            EventKind::Bounce { dead, to, msg } => {
                if self.nodes.as_slice()[to as usize].up() {
                    self.dispatch(to, |c, ctx| c.on_bounce(ctx, dead, msg));
                }
            }
            EventKind::Fault(i) => self.apply_fault(i as usize),
        }
        true
    }

    /// A message for a node that is dead or hung.
    #[inline(never)]
    fn undeliverable(&mut self, from: NodeId, to: NodeId, msg: Msg) {
        let now = self.core.now;
        if !self.nodes[to as usize].alive {
            // Connection refused: the sender learns of it one hop later, if it is alive to.
            if self.nodes[from as usize].alive {
                self.core.bounce(to, from, msg);
            } else {
                self.core.emit_rare(Record::Drop { t: now, from, to, msg, why: DropReason::Dead });
            }
        } else {
            self.core.emit_rare(Record::Drop { t: now, from, to, msg, why: DropReason::Hung });
        }
    }

    #[inline]
    fn dispatch(&mut self, id: NodeId, f: impl FnOnce(&mut dyn Component, &mut Ctx)) {
        let node = &mut self.nodes.as_mut_slice()[id as usize];
        let mut ctx = Ctx { me: id, slow: node.slow, epoch: node.epoch, rng: &mut self.rng, core: &mut self.core };
        f(node.comp.as_mut(), &mut ctx);
    }

    /// Runs the end-of-run checks; `drained` says whether every request ended.
    pub fn finish_checks(&mut self, drained: bool) {
        let up = self.nodes.iter().map(Node::up).collect();
        let end = RunEnd { now: self.core.now, counts: self.core.ledger.counts(), drained, up, sides: self.core.sides.clone() };
        self.core.finish_checks(&end);
    }

    /// Latency percentiles of completions and counts of outcomes since the last call.
    pub fn take_window(&mut self) -> Window {
        let core = &mut self.core;
        let [p50_us, p95_us, p99_us] = core.window_latency.quantiles([0.5, 0.95, 0.99]);
        let failed = &core.window_fail_latency;
        let [fail_p50_us, fail_p99_us] = if failed.count() == 0 { [f64::NAN; 2] } else { failed.quantiles([0.5, 0.99]) };
        let w = Window { p50_us, p95_us, p99_us, fail_p50_us, fail_p99_us, outcomes: std::mem::take(&mut core.window_outcomes) };
        core.window_latency.clear();
        core.window_fail_latency.clear();
        w
    }
}

#[cold]
#[inline(never)]
fn not_its_type() -> ! {
    panic!("a scene knows its own components")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Outcome;
    use crate::msg::Kind;
    use std::any::Any;

    const TICKS: u64 = 3000;

    /// Sends itself a message every microsecond, two at some instants; at tick 1500 it
    /// ends a request twice (an accounting violation, recorded apart from the checkers').
    struct Ticker;
    impl Component for Ticker {
        fn on_start(&mut self, ctx: &mut Ctx) {
            ctx.set_timer(1, 0);
        }
        fn on_message(&mut self, _ctx: &mut Ctx, _from: NodeId, _msg: Msg) {}
        fn on_timer(&mut self, ctx: &mut Ctx, tick: u64) {
            let me = ctx.me();
            for copy in 0..1 + u32::from(tick % 5 == 0) {
                ctx.send(me, Msg::new(Kind::Request, crate::msg::ReqId(0)).with_tag(tick as u32).with_value(copy));
            }
            if tick == 1500 {
                let req = ctx.open_request().expect("arrivals are open");
                ctx.end_request(req, Outcome::Completed);
                ctx.end_request(req, Outcome::Failed);
            }
            if tick < TICKS {
                ctx.set_timer(1, tick + 1);
            }
        }
        fn as_any(&self) -> &dyn Any {
            self
        }
    }

    /// Flags the messages whose tag is a multiple of `every`, with `per` details each.
    struct Multiples {
        name: &'static str,
        every: u32,
        per: u32,
    }
    impl Checker for Multiples {
        fn name(&self) -> &'static str {
            self.name
        }
        fn on_record(&mut self, r: &Record, violations: &mut Vec<String>) {
            if let Record::Send { msg, .. } = r
                && msg.tag % self.every == 0
            {
                for k in 0..self.per {
                    violations.push(format!("{} {} {} {k}", self.name, msg.tag, msg.value));
                }
            }
        }
    }

    /// The checkers see the trace in batches; the violations they find are recorded as a
    /// record-by-record pass would: by record, then by checker in the order added (a
    /// checker's own for one record last found first), at the record's instant, and the
    /// accounting's own in their place among them.
    #[test]
    fn batched_checkers_record_violations_in_trace_order() {
        let specs: &'static [crate::knob::KnobSpec] = Box::leak(crate::knob::common_knobs("10", 100.0).into_boxed_slice());
        let mut w = World::new(1, Params::defaults(specs), &[], Limit::Forever);
        w.add_node("ticker", "server", Box::new(Ticker));
        w.add_checker(Box::new(Multiples { name: "a", every: 400, per: 2 }));
        w.add_checker(Box::new(Multiples { name: "b", every: 600, per: 1 }));
        *w.ring_mut() = Some(RingSink::new(1 << 16));
        w.start();
        w.run_until(TICKS + 10);

        let records: Vec<Record> = w.ring_mut().as_mut().expect("attached").iter().copied().collect();
        assert!(records.len() > 10 * 256, "the trace spans several batches: {}", records.len());
        let mut want = Vec::new();
        for r in &records {
            if let Record::Send { t0, msg, .. } = r {
                for (name, every, per) in [("a", 400, 2), ("b", 600, 1)] {
                    if msg.tag % every == 0 {
                        for k in (0..per).rev() {
                            want.push((name, *t0, format!("{name} {} {} {k}", msg.tag, msg.value)));
                        }
                    }
                }
            }
            // The double end comes right after the tick's sends (it records no End).
            if let Record::End { t, .. } = r {
                want.push(("accounting", *t, String::new()));
            }
        }
        let (kept, count, checks) = w.violations();
        let got: Vec<(&str, Micros, String)> =
            kept.iter().map(|v| (v.invariant, v.at_us, if v.invariant == "accounting" { String::new() } else { v.detail.clone() })).collect();
        assert_eq!(got, want[..got.len()]);
        assert_eq!((got.len(), count as usize), (crate::check::VIOLATIONS_KEPT, want.len()));
        let of = |name: &str| want.iter().filter(|v| v.0 == name).count() as u64;
        assert_eq!((w.violations_of("a"), w.violations_of("b"), w.violations_of("accounting")), (of("a"), of("b"), 1));
        // Each checker counted once per record, and the accounting once per end.
        assert_eq!(checks, 2 * records.len() as u64 + 2);
    }
}

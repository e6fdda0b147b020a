//! A service with a bounded worker pool. Some requests need its dependency: it calls it
//! through a circuit breaker, with a call timeout and retries. The others it answers from
//! its own work. A worker is held for the whole call, so a dependency that hangs pins the
//! pool, and the requests that never needed the dependency fail too: the cascade is real.

use super::breaker::{Breaker, BreakerConfig, BreakerState, Permit};
use super::deadlines::Deadlines;
use super::slab::{Key, Slab, index_of};
use crate::component::{Component, Ctx, NodeView, Tone};
use crate::knob::Value;
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::time::Micros;
use std::any::Any;
use std::collections::VecDeque;

/// Timer tokens: the call deadlines' timer, or (odd) the end of a job's own work, the
/// job's index above the lowest bit.
const DEADLINE: u64 = 0;
const LOCAL_WORK: u64 = 1;
pub const TIMELINE_KEPT: usize = 256;
/// A call's tag: the job's index above bit 16, the attempt number, and in the lowest bit
/// whether it is a half-open probe.
pub const PROBE_BIT: u32 = 1;

struct Job {
    req: ReqId,
    client: NodeId,
    key: u64,
    attempt: u32,
    probe: bool,
    /// Which call of this service the current attempt is: deadlines name it.
    call: u64,
}

pub struct ServiceConfig {
    pub workers: u32,
    pub queue_limit: u32,
    pub call_timeout_us: Micros,
    pub retries: u32,
    pub breaker: BreakerConfig,
    /// Requests with keys below this need the dependency; the others A serves itself.
    pub dependent_below: u64,
    /// A's own work on a request that does not need the dependency.
    pub local_time: crate::dist::Dist,
}

pub struct Service {
    dependency: NodeId,
    cfg: ServiceConfig,
    breaker: Breaker,
    queue: VecDeque<(NodeId, Msg)>,
    /// One per busy worker.
    jobs: Slab<Job>,
    calls: u64,
    deadlines: Deadlines,
    pub busy_max: u32,
    /// Breaker transitions `(time, state)`, the first `TIMELINE_KEPT` of them.
    pub timeline: Vec<(Micros, BreakerState)>,
    pub transitions: u64,
    pub dependency_calls: u64,
    pub fast_failures: u64,
    /// Calls the dependency never answered within the call timeout.
    pub dependency_timeouts: u64,
    pub rejected: u64,
}

/// A deadline's token: the job's index and the call it guards.
fn deadline_token(job: Key, call: u64) -> u64 {
    u64::from(index_of(job)) << 40 | (call & 0xFF_FFFF_FFFF)
}

impl Service {
    pub fn new(dependency: NodeId, cfg: ServiceConfig) -> Self {
        let breaker = Breaker::new(cfg.breaker.clone());
        Service {
            dependency,
            cfg,
            breaker,
            queue: VecDeque::new(),
            jobs: Slab::default(),
            calls: 0,
            deadlines: Deadlines::new(DEADLINE),
            busy_max: 0,
            timeline: vec![(0, BreakerState::Closed)],
            transitions: 0,
            dependency_calls: 0,
            fast_failures: 0,
            dependency_timeouts: 0,
            rejected: 0,
        }
    }

    pub fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    pub fn busy(&self) -> u32 {
        self.jobs.len() as u32
    }

    fn begin(&mut self, ctx: &mut Ctx, client: NodeId, msg: Msg) {
        let local = msg.key >= self.cfg.dependent_below;
        let job = self.jobs.insert(Job { req: msg.req, client, key: msg.key, attempt: 0, probe: false, call: 0 });
        self.busy_max = self.busy_max.max(self.busy());
        if local {
            let raw = self.cfg.local_time.sample(ctx.rng);
            let work = ctx.work(raw);
            ctx.set_timer(work, LOCAL_WORK | u64::from(index_of(job)) << 1);
        } else {
            self.call(ctx, job);
        }
    }

    fn announce(&mut self, ctx: &mut Ctx, change: Option<BreakerState>) {
        if let Some(s) = change {
            ctx.set_state(s as u8);
            self.transitions += 1;
            if self.timeline.len() < TIMELINE_KEPT {
                self.timeline.push((ctx.now(), s));
            }
        }
    }

    fn call(&mut self, ctx: &mut Ctx, key: Key) {
        let (permit, change) = self.breaker.permit(ctx.now());
        self.announce(ctx, change);
        if permit == Permit::Refused {
            self.fast_failures += 1;
            self.finish(ctx, key, Kind::Error);
            return;
        }
        self.calls += 1;
        let call = self.calls;
        let job = self.jobs.get_mut(key).expect("calls are made for live jobs");
        job.attempt += 1;
        job.probe = permit == Permit::Probe;
        job.call = call;
        let tag = index_of(key) << 16 | (job.attempt & 0x7FFF) << 1 | u32::from(job.probe);
        let kind = if job.probe { Kind::Probe } else { Kind::Call };
        let msg = Msg { kind, req: job.req, key: job.key, tag, value: 0 };
        self.dependency_calls += 1;
        ctx.send(self.dependency, msg);
        self.deadlines.add(ctx, self.cfg.call_timeout_us, deadline_token(key, call));
    }

    /// The current attempt of job `key` ended well or badly.
    fn outcome(&mut self, ctx: &mut Ctx, key: Key, ok: bool) {
        let Some(job) = self.jobs.get(key) else { return };
        let (attempt, probe) = (job.attempt, job.probe);
        let change = self.breaker.record(ctx.now(), ok, probe);
        self.announce(ctx, change);
        if ok {
            self.finish(ctx, key, Kind::Response);
        } else if attempt <= self.cfg.retries {
            self.call(ctx, key);
        } else {
            self.finish(ctx, key, Kind::Error);
        }
    }

    fn finish(&mut self, ctx: &mut Ctx, key: Key, kind: Kind) {
        let job = self.jobs.remove(key).expect("finish is for live jobs");
        ctx.send(job.client, Msg { key: job.key, ..Msg::new(kind, job.req) });
    }

    /// Starts queued requests on free workers. A loop, not recursion: a refused call
    /// frees its worker at once, and a long queue must not deepen the stack.
    fn pump(&mut self, ctx: &mut Ctx) {
        while self.busy() < self.cfg.workers {
            let Some((client, next)) = self.queue.pop_front() else { break };
            self.begin(ctx, client, next);
        }
    }

    /// B's answer to the call tagged `msg.tag`, if that call is still the job's current one.
    fn answer(&mut self, ctx: &mut Ctx, msg: Msg, ok: bool) {
        let Some((key, j)) = self.jobs.live_at(msg.tag >> 16) else { return };
        if j.req == msg.req && j.attempt & 0x7FFF == (msg.tag >> 1) & 0x7FFF {
            self.outcome(ctx, key, ok);
        }
    }
}

impl Component for Service {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg.kind {
            Kind::Request => {
                if self.busy() < self.cfg.workers {
                    self.begin(ctx, from, msg);
                } else if (self.queue.len() as u32) < self.cfg.queue_limit {
                    self.queue.push_back((from, msg));
                } else {
                    self.rejected += 1;
                    ctx.send(from, msg.reply(Kind::Reject));
                }
            }
            Kind::Response => self.answer(ctx, msg, true),
            Kind::Error | Kind::Reject => self.answer(ctx, msg, false),
            _ => {}
        }
        self.pump(ctx);
    }

    fn on_bounce(&mut self, ctx: &mut Ctx, _to: NodeId, msg: Msg) {
        match msg.kind {
            Kind::Call | Kind::Probe => self.answer(ctx, msg, false),
            // A client we answered has gone; nothing to do.
            _ => {}
        }
        self.pump(ctx);
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        if token & 1 == LOCAL_WORK {
            // A's own work on a job is done (the job lives until then: only a crash ends
            // it sooner, and a crash cancels this node's timers).
            if let Some(key) = self.jobs.key_at((token >> 1) as u32) {
                self.finish(ctx, key, Kind::Response);
            }
            self.pump(ctx);
            return;
        }
        let jobs = &self.jobs;
        let live = |t: u64| jobs.live_at((t >> 40) as u32).filter(|(k, j)| deadline_token(*k, j.call) == t).map(|(k, _)| k);
        let expired = self.deadlines.fire(ctx, |_, t| live(t).is_some());
        let keys: Vec<Key> = expired.iter().filter_map(|t| live(*t)).collect();
        self.deadlines.recycle(expired);
        for key in keys {
            self.dependency_timeouts += 1;
            self.outcome(ctx, key, false);
        }
        self.pump(ctx);
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        self.jobs.drain(|j| held.push((j.client, Msg::new(Kind::Request, j.req))));
        held.extend(self.queue.drain(..));
        self.deadlines.clear();
        self.breaker = Breaker::new(self.cfg.breaker.clone());
    }

    fn on_revive(&mut self, ctx: &mut Ctx) {
        self.announce(ctx, Some(BreakerState::Closed));
    }

    /// The breaker switched on or off mid-run starts closed, with an empty window.
    fn on_set(&mut self, ctx: &mut Ctx, knob: &str, value: &Value) {
        if let ("breaker", Value::Bool(on)) = (knob, value) {
            self.cfg.breaker.enabled = *on;
            self.breaker = Breaker::new(self.cfg.breaker.clone());
            self.announce(ctx, Some(BreakerState::Closed));
        }
    }

    fn view(&self) -> NodeView {
        let state = self.breaker.state();
        let tone = match state {
            BreakerState::Closed => Tone::Good,
            BreakerState::HalfOpen => Tone::Warn,
            BreakerState::Open => Tone::Bad,
        };
        let enabled = self.cfg.breaker.enabled;
        NodeView {
            queue: self.queue.len() as u32,
            busy: self.busy(),
            workers: self.cfg.workers,
            state: if enabled { state.name() } else { "" },
            tone: if enabled { tone } else { Tone::Neutral },
            ..NodeView::default()
        }
    }

    fn describe_state(&self, code: u8) -> String {
        format!("breaker {}", BreakerState::from_code(code).name())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

//! The saga's coordinator and its four services. A message's `key` is the saga's id, its
//! `tag` the operation and the step (`op << 4 | step`); `value` is 1 on an undone that
//! undid something. In orchestration the coordinator asks each service in turn and
//! compensates in reverse; in choreography the services pass the saga along themselves
//! (a done step is the next one's cue, a failure or an undone the previous one's cue to
//! undo), and the coordinator only starts sagas and hears how they ended.

use crate::component::{Component, Ctx, NodeView, Tone};
use crate::components::slab::Slab;
use crate::dist::Dist;
use crate::idmap::IdWindow;
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::time::Micros;
use std::any::Any;
use std::collections::VecDeque;

/// Sagas remembered as the latest to end.
const RECENT: usize = 6;
/// A saga with no outcome this long after it began counts as stuck.
pub const STUCK_AFTER: Micros = 10 * crate::time::US_PER_S;

pub const STEPS: usize = 4;
pub const DO: u32 = 1;
pub const DONE: u32 = 2;
pub const FAILED: u32 = 3;
pub const UNDO: u32 = 4;
pub const UNDONE: u32 = 5;
pub const UNDO_FAILED: u32 = 6;

pub fn tag(op: u32, step: usize) -> u32 {
    op << 4 | step as u32
}

pub fn op_of(tag: u32) -> (u32, usize) {
    (tag >> 4, (tag & 15) as usize)
}

/// A saga as the orchestrator's log holds it.
#[derive(Default)]
pub struct Saga {
    req: Option<(ReqId, NodeId)>,
    /// The step under way (forward, or being compensated).
    step: usize,
    attempts: u32,
    /// Steps done, steps that may have run (done, or timed out), steps undone, by bit.
    done: u8,
    ran: u8,
    undone: u8,
    compensating: bool,
    finished: bool,
    /// When the step under way is overdue (orchestration).
    due: Micros,
    began: Micros,
}

pub struct Coordinator {
    services: Vec<NodeId>,
    choreography: bool,
    retries: u32,
    step_timeout: Micros,
    backoff: Micros,
    /// The log (durable): sagas by id, let go once finished.
    pub log: IdWindow<Saga>,
    next: u64,
    pub completed: u64,
    pub compensated: u64,
    pub step_failures: u64,
    pub timeouts: u64,
    pub resumed: u64,
    /// Choreography: sagas given up on after `keep` with no outcome heard.
    pub stuck: u64,
    keep: Micros,
    /// Sagas begun and not yet ended (nor given up on).
    pub open: u64,
    /// The latest sagas to end, with whether they booked in full.
    pub recent: VecDeque<(u64, bool)>,
}

/// The orchestrator looks over its sagas this often: a timeout or a backoff is acted on
/// up to one sweep after it falls due.
const SWEEP: u64 = 1;

impl Coordinator {
    pub fn new(services: Vec<NodeId>, choreography: bool, retries: u32, step_timeout: Micros, backoff: Micros, keep: Micros) -> Self {
        Coordinator { services, choreography, retries, step_timeout, backoff, log: IdWindow::default(), next: 0, completed: 0, compensated: 0, step_failures: 0, timeouts: 0, resumed: 0, stuck: 0, keep, open: 0, recent: VecDeque::new() }
    }

    /// Sagas with no outcome `STUCK_AFTER` after they began, or given up on.
    pub fn stuck_at(&self, now: Micros) -> u64 {
        self.stuck + self.log.iter().filter(|(_, s)| !s.finished && s.req.is_some() && s.began + STUCK_AFTER <= now).count() as u64
    }

    fn sweep_every(&self) -> Micros {
        (self.step_timeout.min(self.backoff) / 2).max(1_000)
    }

    fn ask(&self, ctx: &mut Ctx, id: u64, s: &Saga, op: u32) {
        let req = s.req.map_or(ReqId(0), |(r, _)| r);
        ctx.send(self.services[s.step], Msg { kind: Kind::Call, req, key: id, tag: tag(op, s.step), value: 0 });
    }

    /// Asks for what the saga waits on now: the step under way, or its compensation.
    fn act(&mut self, ctx: &mut Ctx, id: u64, wait: Micros) {
        let Some(s) = self.log.get_mut(id) else { return };
        s.due = ctx.now() + wait;
        let op = if s.compensating { UNDO } else { DO };
        let s = self.log.get(id).expect("just seen");
        self.ask(ctx, id, s, op);
    }

    fn finish(&mut self, ctx: &mut Ctx, id: u64, all_done: bool) {
        let Some(s) = self.log.get_mut(id) else { return };
        s.finished = true;
        if all_done { self.completed += 1 } else { self.compensated += 1 }
        self.open -= 1;
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back((id, all_done));
        if let Some((req, client)) = s.req {
            let kind = if all_done { Kind::Response } else { Kind::Error };
            ctx.send(client, Msg { kind, req, key: id, tag: 0, value: 0 });
        }
        // In choreography nobody owns a saga: one open past `keep` is given up as stuck.
        if self.choreography {
            let given_up = self.log.trim(ctx.now().saturating_sub(self.keep), |s| s.finished) as u64;
            self.stuck += given_up;
            self.open -= given_up;
        }
    }

    /// The next step to compensate: the highest that may have run and is not undone yet.
    fn compensate(&mut self, ctx: &mut Ctx, id: u64) {
        let Some(s) = self.log.get_mut(id) else { return };
        s.compensating = true;
        let left = s.ran & !s.undone;
        if left == 0 {
            return self.finish(ctx, id, false);
        }
        s.step = 7 - left.leading_zeros() as usize;
        s.attempts = 0;
        self.act(ctx, id, self.step_timeout);
    }

    /// The step under way failed, for sure (`ran` false) or perhaps (timed out).
    fn step_failed(&mut self, ctx: &mut Ctx, id: u64, ran: bool) {
        let retries = self.retries;
        let Some(s) = self.log.get_mut(id) else { return };
        if ran {
            s.ran |= 1 << s.step;
        }
        s.attempts += 1;
        if s.attempts <= retries {
            self.act(ctx, id, self.step_timeout);
        } else {
            self.compensate(ctx, id);
        }
    }

    fn on_answer(&mut self, ctx: &mut Ctx, id: u64, op: u32, step: usize) {
        let Some(s) = self.log.get_mut(id) else { return };
        if s.finished {
            return;
        }
        if self.choreography {
            // The services' own chain ends here: done at the last step, or undone (or
            // failed with nothing to undo) at the first.
            match (op, step) {
                (DONE, 3) => self.finish(ctx, id, true),
                (FAILED | UNDONE, 0) => self.finish(ctx, id, false),
                _ => {}
            }
            return;
        }
        if op == DONE {
            // A done that comes late still counts: the step ran, and must be undone.
            s.done |= 1 << step;
            s.ran |= 1 << step;
        }
        if step != s.step {
            return;
        }
        match (op, s.compensating) {
            (DONE, false) => {
                if step + 1 == STEPS {
                    return self.finish(ctx, id, true);
                }
                s.step += 1;
                s.attempts = 0;
                self.act(ctx, id, self.step_timeout);
            }
            (FAILED, false) => {
                self.step_failures += 1;
                self.step_failed(ctx, id, false);
            }
            (UNDONE, true) => {
                s.undone |= 1 << step;
                self.compensate(ctx, id);
            }
            // A compensation that failed is retried after the backoff, for as long as it takes.
            (UNDO_FAILED, true) => s.due = ctx.now() + self.backoff,
            _ => {}
        }
    }

    fn sweep(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        let due: Vec<u64> = self.log.iter().filter(|(_, s)| !s.finished && s.req.is_some() && s.due <= now).map(|(id, _)| id).collect();
        for id in due {
            let s = self.log.get(id).expect("kept");
            if s.compensating {
                self.act(ctx, id, self.step_timeout);
            } else {
                self.timeouts += 1;
                self.step_failed(ctx, id, true);
            }
        }
        let _ = self.log.trim(0, |s| s.finished);
    }
}

impl Component for Coordinator {
    fn on_start(&mut self, ctx: &mut Ctx) {
        if !self.choreography {
            ctx.set_timer(self.sweep_every(), SWEEP);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if msg.kind == Kind::Request {
            let id = self.next;
            self.next += 1;
            let s = self.log.entry(id, ctx.now()).expect("a new id");
            s.req = Some((msg.req, from));
            s.began = ctx.now();
            self.open += 1;
            self.act(ctx, id, self.step_timeout);
            return;
        }
        let (op, step) = op_of(msg.tag);
        self.on_answer(ctx, msg.key, op, step);
    }

    fn on_timer(&mut self, ctx: &mut Ctx, _token: u64) {
        ctx.set_timer(self.sweep_every(), SWEEP);
        self.sweep(ctx);
    }

    /// A service is down: a step it cannot receive failed and did nothing; a compensation
    /// waits for it (the sweep asks again).
    fn on_bounce(&mut self, ctx: &mut Ctx, _to: NodeId, msg: Msg) {
        let (op, step) = op_of(msg.tag);
        if self.choreography {
            // The first service is down: the saga never began.
            if op == DO && step == 0 {
                self.on_answer(ctx, msg.key, FAILED, 0);
            }
            return;
        }
        let Some(s) = self.log.get_mut(msg.key) else { return };
        if op == DO && !s.compensating && s.step == step && !s.finished {
            self.step_failures += 1;
            self.step_failed(ctx, msg.key, false);
        } else if op == UNDO {
            s.due = s.due.min(ctx.now() + self.backoff);
        }
    }

    /// The log survives a crash; only the sweep's timer is lost.
    fn on_crash(&mut self, _held: &mut Vec<(NodeId, Msg)>) {}

    /// Back from a crash: every saga in the log is resumed where it was.
    fn on_revive(&mut self, ctx: &mut Ctx) {
        self.on_start(ctx);
        if self.choreography {
            return;
        }
        let open: Vec<u64> = self.log.iter().filter(|(_, s)| !s.finished && s.req.is_some()).map(|(id, _)| id).collect();
        self.resumed += open.len() as u64;
        for id in open {
            self.act(ctx, id, self.step_timeout);
        }
    }

    fn view(&self) -> NodeView {
        let open = self.open;
        NodeView {
            busy: open as u32,
            note: format!("{open} sagas open"),
            completed: self.completed + self.compensated,
            ..NodeView::default()
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// What a service holds of one saga: its step done, failed, undone; attempts so far.
pub const S_DONE: u8 = 1;
pub const S_FAILED: u8 = 2;
pub const S_UNDONE: u8 = 4;

#[derive(Default, Clone, Copy)]
pub struct Held {
    pub state: u8,
    attempts: u8,
}

pub struct Service {
    step: usize,
    coordinator: NodeId,
    /// Choreography: the services before and after this one.
    prev: Option<NodeId>,
    next: Option<NodeId>,
    choreography: bool,
    work: Dist,
    failure_rate: f64,
    compensation_failure_rate: f64,
    retries: u32,
    backoff: Micros,
    keep: Micros,
    working: Slab<(NodeId, Msg)>,
    /// Choreography: outcomes the previous service was down for, to tell it again.
    resend: Slab<(NodeId, Msg)>,
    /// Its database (durable): what it did for each saga, kept for `keep`.
    pub held: IdWindow<Held>,
    pub done: u64,
    pub failed: u64,
    pub compensations_run: u64,
    pub compensation_failures: u64,
}

/// Timer tokens above the work slab's keys: a choreography retry of saga `id`'s step or
/// compensation (`RETRY | id << 1 | undo`), or an outcome to tell again (`RESEND | key`).
const RETRY: u64 = 1 << 62;
const RESEND: u64 = 1 << 61;

impl Service {
    #[allow(clippy::too_many_arguments)]
    pub fn new(step: usize, coordinator: NodeId, prev: Option<NodeId>, next: Option<NodeId>, choreography: bool, work: Dist, failure_rate: f64, compensation_failure_rate: f64, retries: u32, backoff: Micros, keep: Micros) -> Self {
        Service {
            step,
            coordinator,
            prev,
            next,
            choreography,
            work,
            failure_rate,
            compensation_failure_rate,
            retries,
            backoff,
            keep,
            working: Slab::default(),
            resend: Slab::default(),
            held: IdWindow::default(),
            done: 0,
            failed: 0,
            compensations_run: 0,
            compensation_failures: 0,
        }
    }

    fn start(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        let raw = self.work.sample(ctx.rng);
        let us = ctx.work(raw);
        let k = self.working.insert((from, msg));
        ctx.set_timer(us, k);
    }

    /// Where the outcome of this step goes: the orchestrator, or the chain's next link.
    fn tell(&self, ctx: &mut Ctx, to: Option<NodeId>, req: ReqId, id: u64, op: u32, value: u32) {
        let kind = match op {
            DONE | UNDONE => Kind::Response,
            _ => Kind::Error,
        };
        let to = if self.choreography { to.unwrap_or(self.coordinator) } else { self.coordinator };
        ctx.send(to, Msg { kind, req, key: id, tag: tag(op, self.step), value });
    }

    /// The step, or its compensation, once its work time is over.
    fn finish(&mut self, ctx: &mut Ctx, msg: Msg, undo: bool) {
        let id = msg.key;
        let now = ctx.now();
        let Some(h) = self.held.entry(id, now) else { return };
        if !undo {
            // A step asked again after it was compensated is refused: it must not run now.
            if h.state & S_UNDONE != 0 {
                return self.tell(ctx, self.prev, msg.req, id, FAILED, 0);
            }
            if h.state & S_DONE != 0 || ctx.rng.unit() >= self.failure_rate {
                if h.state & S_DONE == 0 {
                    h.state |= S_DONE;
                    self.done += 1;
                }
                return self.tell(ctx, self.next, msg.req, id, DONE, 0);
            }
            h.state |= S_FAILED;
            self.failed += 1;
            h.attempts += 1;
            if self.choreography && u32::from(h.attempts) <= self.retries {
                return ctx.set_timer(self.backoff, RETRY | id << 1);
            }
            // Choreography: nothing was done here; the previous steps are undone.
            return self.tell(ctx, self.prev, msg.req, id, FAILED, 0);
        }
        if ctx.rng.unit() < self.compensation_failure_rate {
            self.compensation_failures += 1;
            if self.choreography {
                return ctx.set_timer(self.backoff, RETRY | id << 1 | 1);
            }
            return self.tell(ctx, None, msg.req, id, UNDO_FAILED, 0);
        }
        let undid = h.state & S_DONE != 0 && h.state & S_UNDONE == 0;
        h.state |= S_UNDONE;
        if undid {
            self.compensations_run += 1;
        }
        self.tell(ctx, self.prev, msg.req, id, UNDONE, u32::from(undid));
    }
}

impl Component for Service {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        let (op, step) = op_of(msg.tag);
        // In choreography a neighbour's outcome is this service's cue.
        let undo = match op {
            DO | DONE => false,
            UNDO | FAILED | UNDONE => true,
            _ => return,
        };
        if self.choreography && op != DO && step == self.step {
            return;
        }
        self.start(ctx, from, msg.with_tag(tag(if undo { UNDO } else { DO }, self.step)));
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        if token & RESEND != 0 {
            if let Some((to, msg)) = self.resend.remove(token & !RESEND) {
                ctx.send(to, msg);
            }
            return;
        }
        if token & RETRY != 0 {
            let id = (token & !RETRY) >> 1;
            let undo = token & 1 == 1;
            let msg = Msg { kind: Kind::Call, req: ReqId(0), key: id, tag: tag(if undo { UNDO } else { DO }, self.step), value: 0 };
            return self.start(ctx, self.coordinator, msg);
        }
        let Some((_, msg)) = self.working.remove(token) else { return };
        let undo = op_of(msg.tag).0 == UNDO;
        self.finish(ctx, msg, undo);
        self.held.trim(ctx.now().saturating_sub(self.keep), |_| false);
    }

    /// Choreography: the next service is down, so its step did not run: undo this one.
    fn on_bounce(&mut self, ctx: &mut Ctx, to: NodeId, msg: Msg) {
        if !self.choreography {
            return;
        }
        let (op, _) = op_of(msg.tag);
        if Some(to) == self.next && op == DONE {
            self.start(ctx, to, msg.with_tag(tag(UNDO, self.step)));
        } else if Some(to) == self.prev && matches!(op, FAILED | UNDONE) {
            // The previous service is down: tell it again after the backoff.
            let k = self.resend.insert((to, msg));
            ctx.set_timer(self.backoff, RESEND | k);
        }
    }

    fn on_set(&mut self, _ctx: &mut Ctx, knob: &str, value: &crate::knob::Value) {
        match (knob, value) {
            ("step_failure_rate", crate::knob::Value::Float(p)) => self.failure_rate = *p,
            ("compensation_failure_rate", crate::knob::Value::Float(p)) => self.compensation_failure_rate = *p,
            _ => {}
        }
    }

    /// Work under way is lost; the database (what was done and undone) is not. The
    /// orchestrator hears of it (connection reset) and acts; in choreography the cue
    /// that started the work was fire-and-forget, and nobody hears: the saga is stuck.
    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        let orchestrated = !self.choreography;
        self.working.drain(|w| {
            if orchestrated {
                held.push(w);
            }
        });
        self.resend.drain(|_| {});
    }

    fn view(&self) -> NodeView {
        NodeView {
            busy: self.working.len() as u32,
            note: format!("{} undone", self.compensations_run),
            tone: Tone::Neutral,
            completed: self.done,
            ..NodeView::default()
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

//! The web handler, the job queue, its workers, the SMTP server and the dead-letter
//! queue. A job's id travels in `key`; between the handler and the queue or the SMTP
//! server, `tag` is the handler's call slot; between the queue and a worker, the attempt.
//! Kinds say what a message is: `Write` enqueues (or dead-letters), `Call` asks for work
//! (a delivery, an e-mail), `Response` and `Error` answer, `HealthReply` is a worker
//! saying it is free.

use crate::component::{Component, Ctx, NodeView, Tone};
use crate::components::slab::{Slab, index_of};
use crate::dist::Dist;
use crate::histogram::Histogram;
use crate::idmap::{IdMap, IdWindow};
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::time::Micros;
use std::any::Any;
use std::collections::VecDeque;

/// The longest a retry's backoff grows to, in multiples of the first.
const BACKOFF_CAP: u32 = 64;

pub fn backoff_for(first: Micros, attempt: u32) -> Micros {
    first * u64::from(1u32 << attempt.saturating_sub(1).min(6)).min(u64::from(BACKOFF_CAP))
}

/// One request on one of the handler's threads.
struct Call {
    client: NodeId,
    req: ReqId,
    job: u64,
    attempts: u32,
    arrived: Micros,
}

/// Timer kinds of the handler, in the low two bits; then the attempt (6 bits), and the
/// call's slab key (24 bits of index, 32 of generation), so that a timer of a call that
/// ended never touches the call that took its slot.
const HANDLED: u64 = 0;
const CALL_TIMEOUT: u64 = 1;
const RETRY: u64 = 2;

fn call_token(kind: u64, attempt: u32, key: u64) -> u64 {
    kind | u64::from(attempt & 0x3f) << 2 | (key & 0xff_ffff) << 8 | (key >> 32) << 32
}

fn call_of(token: u64) -> (u64, u32, u64) {
    (token & 3, (token >> 2 & 0x3f) as u32, (token >> 32) << 32 | (token >> 8 & 0xff_ffff))
}

pub struct Web {
    sync: bool,
    threads: usize,
    handle: Dist,
    queue: NodeId,
    smtp: NodeId,
    retries: u32,
    backoff: Micros,
    smtp_timeout: Micros,
    waiting: VecDeque<(NodeId, Msg, Micros)>,
    calls: Slab<Call>,
    next_job: u64,
    busy_area: f64,
    last_change: Micros,
    pub busy_max: usize,
    /// Sync: e-mails sent, by time from the request's arrival.
    pub sent_latency: Histogram,
    pub enqueued: u64,
}

impl Web {
    #[allow(clippy::too_many_arguments)]
    pub fn new(sync: bool, threads: usize, handle: Dist, queue: NodeId, smtp: NodeId, retries: u32, backoff: Micros, smtp_timeout: Micros) -> Self {
        Web { sync, threads, handle, queue, smtp, retries, backoff, smtp_timeout, waiting: VecDeque::new(), calls: Slab::default(), next_job: 0, busy_area: 0.0, last_change: 0, busy_max: 0, sent_latency: Histogram::new(), enqueued: 0 }
    }

    pub fn busy(&self) -> usize {
        self.calls.len()
    }

    /// Thread-microseconds busy so far.
    pub fn busy_area(&self, now: Micros) -> f64 {
        self.busy_area + self.busy() as f64 * (now - self.last_change) as f64
    }

    fn account(&mut self, now: Micros) {
        self.busy_area = self.busy_area(now);
        self.last_change = now;
    }

    fn start(&mut self, ctx: &mut Ctx, client: NodeId, msg: Msg, arrived: Micros) {
        self.account(ctx.now());
        let job = self.next_job;
        self.next_job += 1;
        let k = self.calls.insert(Call { client, req: msg.req, job, attempts: 0, arrived });
        self.busy_max = self.busy_max.max(self.calls.len());
        let raw = self.handle.sample(ctx.rng);
        let us = ctx.work(raw);
        ctx.set_timer(us, call_token(HANDLED, 0, k));
    }

    /// Asks the queue to take the job, or (sync) the SMTP server to send the e-mail.
    fn ask(&mut self, ctx: &mut Ctx, key: u64) {
        let Some(c) = self.calls.get(key) else { return };
        let (to, kind) = if self.sync { (self.smtp, Kind::Call) } else { (self.queue, Kind::Write) };
        ctx.send(to, Msg { kind, req: c.req, key: c.job, tag: index_of(key), value: 0 });
        if self.sync {
            ctx.set_timer(self.smtp_timeout, call_token(CALL_TIMEOUT, c.attempts, key));
        }
    }

    /// Answers the user and frees the thread for the next request waiting.
    fn answer(&mut self, ctx: &mut Ctx, index: u32, ok: bool) {
        let Some(k) = self.calls.key_at(index) else { return };
        self.account(ctx.now());
        let c = self.calls.remove(k).expect("live");
        if ok && self.sync {
            self.sent_latency.record(ctx.now() - c.arrived);
        }
        ctx.send(c.client, Msg { kind: if ok { Kind::Response } else { Kind::Error }, req: c.req, key: c.job, tag: 0, value: 0 });
        if let Some((client, msg, arrived)) = self.waiting.pop_front() {
            self.start(ctx, client, msg, arrived);
        }
    }

    /// The attempt under way failed: again after the backoff, or the user hears so.
    fn failed(&mut self, ctx: &mut Ctx, index: u32) {
        let Some(c) = self.calls.key_at(index).and_then(|k| self.calls.get_mut(k)) else { return };
        c.attempts += 1;
        if self.sync && c.attempts <= self.retries {
            let attempt = c.attempts;
            let key = self.calls.key_at(index).expect("live");
            ctx.set_timer(backoff_for(self.backoff, attempt), call_token(RETRY, attempt, key));
        } else {
            self.answer(ctx, index, false);
        }
    }

    /// The call in slot `index` is the one `msg` answers (same job, same attempt or later).
    fn current(&self, index: u32, job: u64) -> bool {
        self.calls.key_at(index).and_then(|k| self.calls.get(k)).is_some_and(|c| c.job == job)
    }
}

impl Component for Web {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg.kind {
            Kind::Request if self.calls.len() < self.threads => self.start(ctx, from, msg, ctx.now()),
            Kind::Request => self.waiting.push_back((from, msg, ctx.now())),
            // The queue took the job, or the e-mail was sent (even after a timeout).
            Kind::Response if self.current(msg.tag, msg.key) => {
                self.enqueued += u64::from(!self.sync);
                self.answer(ctx, msg.tag, true);
            }
            Kind::Error if self.current(msg.tag, msg.key) => self.failed(ctx, msg.tag),
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        let (kind, attempt, key) = call_of(token);
        match kind {
            HANDLED | RETRY => self.ask(ctx, key),
            // A timeout counts only for the attempt still under way.
            _ if self.calls.get(key).is_some_and(|c| c.attempts == attempt) => self.failed(ctx, index_of(key)),
            _ => {}
        }
    }

    /// The queue or the SMTP server is down.
    fn on_bounce(&mut self, ctx: &mut Ctx, _to: NodeId, msg: Msg) {
        if self.current(msg.tag, msg.key) {
            self.failed(ctx, msg.tag);
        }
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        self.calls.drain(|c| held.push((c.client, Msg::new(Kind::Request, c.req))));
        held.extend(self.waiting.drain(..).map(|(c, m, _)| (c, m)));
    }

    fn view(&self) -> NodeView {
        let full = self.calls.len() >= self.threads;
        NodeView {
            queue: self.waiting.len() as u32,
            busy: self.calls.len() as u32,
            workers: self.threads as u32,
            state: if full { "all threads busy" } else { "" },
            tone: if full { Tone::Warn } else { Tone::Good },
            ..NodeView::default()
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A job as the queue holds it.
#[derive(Clone, Copy)]
struct Job {
    id: u64,
    req: ReqId,
    attempts: u32,
    enqueued: Micros,
}

/// Timer tokens of the queue: the lease sweep, or a retry's backoff over (job id above).
const SWEEP: u64 = 0;
const BACKOFF: u64 = 1;

pub struct Queue {
    workers: Vec<NodeId>,
    dlq: Option<NodeId>,
    retries: u32,
    backoff: Micros,
    lease: Micros,
    ready: VecDeque<Job>,
    /// Jobs waiting out a retry's backoff.
    delayed: IdMap<Job>,
    /// Jobs delivered and not yet acknowledged: to whom, until when.
    leased: IdMap<(NodeId, Micros, Job)>,
    idle: Vec<NodeId>,
    pub accepted: u64,
    pub completed: u64,
    pub retried: u64,
    pub dead_lettered: u64,
    pub discarded: u64,
    pub redelivered: u64,
    pub depth_max: usize,
    pub job_latency: Histogram,
}

impl Queue {
    pub fn new(workers: Vec<NodeId>, dlq: Option<NodeId>, retries: u32, backoff: Micros, lease: Micros) -> Self {
        Queue {
            workers,
            dlq,
            retries,
            backoff,
            lease,
            ready: VecDeque::new(),
            delayed: IdMap::default(),
            leased: IdMap::default(),
            idle: Vec::new(),
            accepted: 0,
            completed: 0,
            retried: 0,
            dead_lettered: 0,
            discarded: 0,
            redelivered: 0,
            depth_max: 0,
            job_latency: Histogram::new(),
        }
    }

    /// Jobs waiting: ready for a worker, or waiting out a backoff.
    pub fn depth(&self) -> usize {
        self.ready.len() + self.delayed.len()
    }

    pub fn leased(&self) -> usize {
        self.leased.len()
    }

    fn dispatch(&mut self, ctx: &mut Ctx) {
        while !self.idle.is_empty() && !self.ready.is_empty() {
            let worker = self.idle.pop().expect("checked");
            let job = self.ready.pop_front().expect("checked");
            self.leased.insert(job.id, (worker, ctx.now() + self.lease, job));
            ctx.send(worker, Msg { kind: Kind::Call, req: job.req, key: job.id, tag: job.attempts, value: 0 });
        }
    }

    fn free(&mut self, worker: NodeId) {
        if !self.idle.contains(&worker) {
            self.idle.push(worker);
        }
    }

    /// A worker said the job failed (or could not take it).
    fn fail(&mut self, ctx: &mut Ctx, mut job: Job) {
        job.attempts += 1;
        if job.attempts <= self.retries {
            self.retried += 1;
            self.delayed.insert(job.id, job);
            ctx.set_timer(backoff_for(self.backoff, job.attempts), job.id << 1 | BACKOFF);
        } else if let Some(dlq) = self.dlq {
            self.dead_lettered += 1;
            ctx.send(dlq, Msg { kind: Kind::Write, req: job.req, key: job.id, tag: job.attempts, value: 0 });
        } else {
            self.discarded += 1;
        }
    }
}

impl Component for Queue {
    fn on_start(&mut self, ctx: &mut Ctx) {
        ctx.set_timer(self.lease / 4, SWEEP);
    }

    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg.kind {
            Kind::Write => {
                self.accepted += 1;
                self.ready.push_back(Job { id: msg.key, req: msg.req, attempts: 0, enqueued: ctx.now() });
                self.depth_max = self.depth_max.max(self.depth());
                ctx.send(from, msg.reply(Kind::Response));
            }
            Kind::HealthReply => self.free(from),
            Kind::Response | Kind::Error => {
                self.free(from);
                // An answer from a worker whose lease was revoked (the job went out again) is late.
                if self.leased.get(&msg.key).is_some_and(|l| l.0 == from)
                    && let Some((_, _, job)) = self.leased.remove(&msg.key)
                {
                    if msg.kind == Kind::Response {
                        self.completed += 1;
                        self.job_latency.record(ctx.now() - job.enqueued);
                    } else {
                        self.fail(ctx, job);
                    }
                }
            }
            _ => return,
        }
        self.dispatch(ctx);
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        if token & 1 == BACKOFF {
            if let Some(job) = self.delayed.remove(&(token >> 1)) {
                self.ready.push_back(job);
            }
        } else {
            ctx.set_timer(self.lease / 4, SWEEP);
            // Leases run out: the worker is presumed gone, and the job goes out again.
            let now = ctx.now();
            let mut out: Vec<u64> = self.leased.iter().filter(|(_, l)| l.1 <= now).map(|(&id, _)| id).collect();
            crate::sort::sort(&mut out);
            for id in out {
                let (worker, _, job) = self.leased.remove(&id).expect("listed");
                // The worker is told its lease is revoked, should it still be there.
                ctx.send(worker, Msg { kind: Kind::Reject, req: job.req, key: job.id, tag: job.attempts, value: 0 });
                self.redelivered += 1;
                self.ready.push_front(job);
            }
        }
        self.dispatch(ctx);
    }

    /// A worker is dead: the job it was handed goes back to the front of the line.
    fn on_bounce(&mut self, ctx: &mut Ctx, to: NodeId, msg: Msg) {
        self.idle.retain(|w| *w != to);
        if msg.kind == Kind::Call
            && let Some((_, _, job)) = self.leased.remove(&msg.key)
        {
            self.redelivered += 1;
            self.ready.push_front(job);
            self.dispatch(ctx);
        }
    }

    /// The queue is durable: jobs survive; timers and who is idle do not.
    fn on_crash(&mut self, _held: &mut Vec<(NodeId, Msg)>) {
        self.idle.clear();
    }

    /// Back: backoffs cut short, every worker taken as free (a busy one answers first).
    fn on_revive(&mut self, ctx: &mut Ctx) {
        let mut waiting: Vec<Job> = self.delayed.drain().map(|(_, j)| j).collect();
        crate::sort::sort_by_key(&mut waiting, |j| j.id);
        self.ready.extend(waiting);
        self.idle = self.workers.clone();
        self.on_start(ctx);
        self.dispatch(ctx);
    }

    fn view(&self) -> NodeView {
        NodeView {
            queue: self.depth() as u32,
            busy: self.leased.len() as u32,
            note: format!("{} retrying", self.delayed.len()),
            fill: Some((self.depth() as f64 / 1000.0).min(1.0)),
            completed: self.completed,
            ..NodeView::default()
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A worker: takes jobs from the queue and sends each e-mail, one call per job.
pub struct Worker {
    queue: NodeId,
    smtp: NodeId,
    smtp_timeout: Micros,
    /// Jobs under way: the queue's delivery, and the attempt's number for its timeout.
    jobs: IdMap<Msg>,
    pub done: u64,
}

impl Worker {
    pub fn new(queue: NodeId, smtp: NodeId, smtp_timeout: Micros) -> Self {
        Worker { queue, smtp, smtp_timeout, jobs: IdMap::default(), done: 0 }
    }

    fn finish(&mut self, ctx: &mut Ctx, id: u64, ok: bool) {
        if let Some(d) = self.jobs.remove(&id) {
            self.done += u64::from(ok);
            ctx.send(self.queue, d.reply(if ok { Kind::Response } else { Kind::Error }));
        }
    }
}

impl Component for Worker {
    fn on_start(&mut self, ctx: &mut Ctx) {
        ctx.send(self.queue, Msg::new(Kind::HealthReply, ReqId(0)));
    }

    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if from == self.queue && msg.kind == Kind::Call {
            self.jobs.insert(msg.key, msg);
            ctx.send(self.smtp, Msg { kind: Kind::Call, req: msg.req, key: msg.key, tag: msg.tag, value: 0 });
            ctx.set_timer(self.smtp_timeout, msg.key << 8 | u64::from(msg.tag & 0xff));
        } else if from == self.queue && msg.kind == Kind::Reject {
            // Its lease revoked: the job went to another worker; this one lets it go.
            self.jobs.remove(&msg.key);
        } else if from == self.smtp && self.jobs.get(&msg.key).is_some_and(|d| d.tag == msg.tag) {
            self.finish(ctx, msg.key, msg.kind == Kind::Response);
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        let (id, attempt) = (token >> 8, (token & 0xff) as u32);
        if self.jobs.get(&id).is_some_and(|d| d.tag & 0xff == attempt) {
            self.finish(ctx, id, false);
        }
    }

    fn on_bounce(&mut self, ctx: &mut Ctx, to: NodeId, msg: Msg) {
        if to == self.smtp {
            self.finish(ctx, msg.key, false);
        }
    }

    /// The jobs under way die with it; the queue hears (connection reset) and sends them out again.
    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        let mut jobs: Vec<Msg> = self.jobs.drain().map(|(_, m)| m).collect();
        crate::sort::sort_by_key(&mut jobs, |m| m.key);
        held.extend(jobs.into_iter().map(|m| (self.queue, m)));
    }

    fn view(&self) -> NodeView {
        NodeView { busy: self.jobs.len() as u32, workers: 1, completed: self.done, ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The SMTP server: slow, and now and then failing; every e-mail it accepts is sent.
pub struct Smtp {
    time: Dist,
    failure_rate: f64,
    working: Slab<(NodeId, Msg)>,
    /// Jobs' e-mails sent, by job id, to count those sent twice.
    sent_ids: IdWindow<bool>,
    pub sent: u64,
    pub duplicates: u64,
    pub failures: u64,
}

impl Smtp {
    pub fn new(time: Dist, failure_rate: f64) -> Self {
        Smtp { time, failure_rate, working: Slab::default(), sent_ids: IdWindow::default(), sent: 0, duplicates: 0, failures: 0 }
    }
}

impl Component for Smtp {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if msg.kind != Kind::Call {
            return;
        }
        let raw = self.time.sample(ctx.rng);
        let us = ctx.work(raw);
        let k = self.working.insert((from, msg));
        ctx.set_timer(us, k);
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        let Some((to, msg)) = self.working.remove(token) else { return };
        if ctx.rng.unit() < self.failure_rate {
            self.failures += 1;
            return ctx.send(to, msg.reply(Kind::Error));
        }
        self.sent += 1;
        let now = ctx.now();
        if let Some(seen) = self.sent_ids.entry(msg.key, now) {
            self.duplicates += u64::from(*seen);
            *seen = true;
        }
        // Jobs are handed out in order: what is a minute old is done with.
        let _ = self.sent_ids.trim(now.saturating_sub(600 * crate::time::US_PER_S), |_| false);
        ctx.send(to, msg.reply(Kind::Response));
    }

    fn on_set(&mut self, _ctx: &mut Ctx, knob: &str, value: &crate::knob::Value) {
        if let ("task_failure_rate", crate::knob::Value::Float(p)) = (knob, value) {
            self.failure_rate = *p;
        }
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        self.working.drain(|w| held.push(w));
    }

    fn view(&self) -> NodeView {
        NodeView { busy: self.working.len() as u32, note: format!("{} sent", self.sent), completed: self.sent, ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The dead-letter queue: jobs that failed every attempt, kept for a person to look at.
#[derive(Default)]
pub struct DeadLetters {
    pub held: u64,
}

impl Component for DeadLetters {
    fn on_message(&mut self, _ctx: &mut Ctx, _from: NodeId, msg: Msg) {
        self.held += u64::from(msg.kind == Kind::Write);
    }

    fn view(&self) -> NodeView {
        NodeView { note: format!("{} jobs", self.held), tone: if self.held > 0 { Tone::Warn } else { Tone::Neutral }, state: if self.held > 0 { "holding" } else { "" }, ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

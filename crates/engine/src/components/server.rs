//! A server: `workers` identical workers in front of a FIFO waiting room of bounded
//! size. With one worker, exponential service and Poisson arrivals it is an M/M/1 queue.
//! Given a store (`with_store`), it is a database: a write sets a key's value as its
//! work completes, unless the key already holds a newer one, and a read returns it.

use crate::component::{Component, Ctx, NodeView};
use crate::dist::Dist;
use crate::msg::{Kind, Msg, NodeId};
use crate::time::Micros;
use std::any::Any;
use std::collections::VecDeque;

/// A request at the server and who sent it. The message first: copied whole, it moves
/// in the aligned chunks it was written in (as a `(NodeId, Msg)` tuple it was copied from
/// the middle of its padding, and reading it back stalled the CPU on every job).
#[derive(Clone, Copy)]
#[repr(C)]
struct Job {
    msg: Msg,
    from: NodeId,
}

pub struct Server {
    workers: u32,
    queue_limit: u32,
    service: Dist,
    /// Relative speed: service times are divided by it.
    speed: f64,
    in_service: Vec<Option<Job>>,
    idle: Vec<u32>,
    queue: VecDeque<Job>,
    pub completed: u64,
    pub rejected: u64,
    pub queue_max: u32,
    /// A line the scene gives the server to show (the keys a shard holds).
    pub note: String,
    /// As a database: each key's value (a version number; 0 before any write).
    store: Option<Vec<u32>>,
    pub reads: u64,
    pub writes: u64,
    /// Requests that reached it (served, refused, queued or lost in a crash).
    pub arrived: u64,
    /// Integral over time of the number in the system (waiting + served), for its mean.
    area: f64,
    last_change_us: Micros,
}

impl Server {
    pub fn new(workers: u32, queue_limit: u32, service: Dist, speed: f64) -> Self {
        let workers = workers.max(1);
        Server {
            workers,
            queue_limit,
            service,
            speed,
            in_service: vec![None; workers as usize],
            idle: (0..workers).rev().collect(),
            queue: VecDeque::new(),
            completed: 0,
            rejected: 0,
            queue_max: 0,
            note: String::new(),
            store: None,
            reads: 0,
            writes: 0,
            arrived: 0,
            area: 0.0,
            last_change_us: 0,
        }
    }

    /// Keeps a value per key, as a database does.
    pub fn with_store(mut self) -> Self {
        self.store = Some(Vec::new());
        self
    }

    /// What a database's reply to `msg` carries: the value it wrote, or the one it holds.
    fn apply(&mut self, msg: Msg) -> Msg {
        let Some(store) = &mut self.store else { return msg.reply(Kind::Response) };
        let k = msg.key as usize;
        if store.len() <= k {
            store.resize(k + 1, 0);
        }
        if msg.kind == Kind::Write {
            self.writes += 1;
            // The newest value wins, whatever order writes arrive in (a version check).
            store[k] = store[k].max(msg.value);
            msg.reply(Kind::Response)
        } else {
            self.reads += 1;
            msg.reply(Kind::Response).with_value(store[k])
        }
    }

    pub fn in_system(&self) -> u32 {
        self.workers - self.idle.len() as u32 + self.queue.len() as u32
    }

    /// Time-average number in the system from time 0 to `now`.
    pub fn mean_in_system(&self, now: Micros) -> f64 {
        let area = self.area + f64::from(self.in_system()) * (now - self.last_change_us) as f64;
        if now == 0 { 0.0 } else { area / now as f64 }
    }

    fn account(&mut self, now: Micros) {
        self.area += f64::from(self.in_system()) * (now - self.last_change_us) as f64;
        self.last_change_us = now;
    }

    /// (Inlined natively where it is called: passed to a function, the job the caller
    /// has just put together is read back whole, in other chunks than were written. Out
    /// of line in the wasm, for size.)
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn begin(&mut self, ctx: &mut Ctx, worker: u32, job: Job) {
        self.in_service[worker as usize] = Some(job);
        let raw = self.service.sample(ctx.rng);
        let us = if self.speed == 1.0 { raw } else { (raw as f64 / self.speed).round() as Micros };
        ctx.set_timer(ctx.work(us), u64::from(worker));
    }
}

impl Component for Server {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg.kind {
            Kind::Request | Kind::Call | Kind::Probe | Kind::Write => {
                // Kept whole in a job: read field by field, as the world has just written
                // it (`Msg::fieldwise`).
                let msg = msg.fieldwise();
                self.arrived += 1;
                self.account(ctx.now());
                if let Some(worker) = self.idle.pop() {
                    self.begin(ctx, worker, Job { msg, from });
                } else if (self.queue.len() as u32) < self.queue_limit {
                    self.queue.push_back(Job { msg, from });
                    self.queue_max = self.queue_max.max(self.queue.len() as u32);
                } else {
                    self.rejected += 1;
                    ctx.send(from, msg.reply(Kind::Reject));
                }
            }
            Kind::HealthCheck => ctx.send(from, msg.reply(Kind::HealthReply)),
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        let worker = token as u32;
        let Some(Job { msg, from }) = self.in_service[worker as usize].take() else { return };
        self.account(ctx.now());
        self.completed += 1;
        let reply = self.apply(msg);
        ctx.send(from, reply);
        match self.queue.pop_front() {
            Some(next) => self.begin(ctx, worker, next),
            None => self.idle.push(worker),
        }
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        for job in self.in_service.iter_mut().filter_map(Option::take) {
            held.push((job.from, job.msg));
        }
        while let Some(job) = self.queue.pop_front() {
            held.push((job.from, job.msg));
        }
        self.idle = (0..self.workers).rev().collect();
    }

    fn on_revive(&mut self, ctx: &mut Ctx) {
        self.account(ctx.now());
    }

    fn view(&self) -> NodeView {
        NodeView {
            queue: self.queue.len() as u32,
            busy: self.workers - self.idle.len() as u32,
            workers: self.workers,
            completed: self.completed,
            note: self.note.clone(),
            ..NodeView::default()
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

//! The origin server that numbers the events and keeps the latest for replay, the proxy in
//! front of it that holds the streams and cuts the idle ones, and the messages between
//! them and the browsers (`browsers.rs`).
//!
//! Messages, by kind and tag:
//! - `Request` publisher → server: an event happens; the server numbers it, streams it
//!   and answers `Response`.
//! - `Call CONNECT` browser → proxy → server: open a stream (`key` the connection), with
//!   a Last-Event-ID or not (`value`, see `cursor_value`). The server answers `Call
//!   ACCEPT`: `value` its latest event id, and the events it replays go down with the
//!   answer (how many: the tag above its low byte, see `answer_tag`), up to the latest.
//! - `Write` server → proxy → browsers: an event on every open stream (`tag` its id,
//!   `value` when it happened, in microseconds modulo 2^32), or with `tag` 0 a keep-alive
//!   comment. Down to the browsers, `key` says how many streams the proxy wrote it to.
//! - `Call CLOSE` proxy → browsers: the proxy cut the connection (`key`) after
//!   `proxy_timeout` without a byte; `value` the last event id it wrote to the streams.
//!   Browser → proxy: the reader left. `Call RESET` is what the browsers hear when the
//!   proxy dies (its connections reset).
//! - `Call POLL` browser → proxy → server (polling and long polling; `key` the poll,
//!   `value` the cursor), answered `Call POLLED` like an accept. A long poll with nothing
//!   new waits at the server for an event, or `hold`.
//!
//! No message of this protocol belongs to a request of the ledger: their `req` is 0 (the
//! publisher's events are its requests).

use crate::component::{Component, Ctx, NodeView, Tone};
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::scenes::clients::slot_of;
use crate::time::Micros;
use std::any::Any;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

pub const CONNECT: u32 = 1;
pub const ACCEPT: u32 = 2;
pub const CLOSE: u32 = 3;
pub const POLL: u32 = 4;
pub const POLLED: u32 = 5;
pub const RESET: u32 = 6;
/// The browsers' state announcement: every tab was opened anew (after the node's kill).
pub const FRESH: u8 = 1;

/// A request's cursor on the wire: the last event id it has, plus one; 0 for none.
pub fn cursor_value(cursor: Option<u32>) -> u32 {
    cursor.map_or(0, |c| c.saturating_add(1))
}

pub fn cursor_of(value: u32) -> Option<u32> {
    value.checked_sub(1)
}

/// An answer's tag: its code in the low byte, above it how many events come with it (at
/// most `history`, a million).
pub fn answer_tag(code: u32, sent: u32) -> u32 {
    code | sent << 8
}

pub fn code(tag: u32) -> u32 {
    tag & 0xff
}

/// The first event id an answer brings (`latest + 1` for none).
pub fn first_sent(tag: u32, latest: u32) -> u32 {
    (latest + 1).saturating_sub(tag >> 8)
}


/// When each event the server still keeps happened: its replay buffer. The browsers read
/// it too, to measure how late a replayed or polled event arrives.
#[derive(Default)]
pub struct EventLog {
    /// The latest event id (ids start at 1).
    pub head: u32,
    /// When events `head + 1 - times.len() ..= head` happened.
    times: VecDeque<Micros>,
}

impl EventLog {
    /// The oldest id kept (`head + 1` if none is).
    pub fn oldest(&self) -> u32 {
        self.head + 1 - self.times.len() as u32
    }

    pub fn happened(&self, id: u32) -> Option<Micros> {
        self.times.get(id.checked_sub(self.oldest())? as usize).copied()
    }

    /// The first id to send a reader whose last seen id is `cursor` (`None`: new).
    pub fn first_for(&self, cursor: Option<u32>) -> u32 {
        cursor.map_or(self.head + 1, |c| (c + 1).max(self.oldest()))
    }
}

/// The origin: numbers events, keeps the latest `history` for replay, answers streams
/// and polls; with `keepalive`, writes a comment on the streams that often.
pub struct Server {
    proxy: NodeId,
    pub log: Rc<RefCell<EventLog>>,
    history: usize,
    keepalive: Option<Micros>,
    /// Long polling: how long a poll may wait for an event.
    hold: Option<Micros>,
    parked: Vec<(u64, u32)>,
    pub requests: u64,
    pub comments: u64,
    /// Test only: resumes streams this many events too late (the checker must notice).
    pub skip_on_resume: u32,
}

const KEEPALIVE: u64 = u64::MAX;

/// The answer (`code`) to a browser whose last event is `cursor`; `skip` events too late.
fn answer(code: u32, key: u64, log: &EventLog, cursor: Option<u32>, skip: u32) -> Msg {
    let first = log.first_for(cursor).saturating_add(skip);
    Msg { kind: Kind::Call, req: ReqId(0), key, tag: answer_tag(code, (log.head + 1).saturating_sub(first)), value: log.head }
}

impl Server {
    pub fn new(proxy: NodeId, history: usize, keepalive: Option<Micros>, hold: Option<Micros>) -> Self {
        Server { proxy, log: Rc::default(), history, keepalive, hold, parked: Vec::new(), requests: 0, comments: 0, skip_on_resume: 0 }
    }
}

impl Component for Server {
    fn on_start(&mut self, ctx: &mut Ctx) {
        if let Some(k) = self.keepalive {
            ctx.set_timer(k, KEEPALIVE);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        let now = ctx.now();
        let mut log = self.log.borrow_mut();
        match msg.kind {
            Kind::Request => {
                log.head += 1;
                log.times.push_back(now);
                if log.times.len() > self.history {
                    log.times.pop_front();
                }
                ctx.send(self.proxy, Msg { kind: Kind::Write, req: ReqId(0), key: 0, tag: log.head, value: now as u32 });
                ctx.send(from, msg.reply(Kind::Response));
                for (key, cursor) in self.parked.drain(..) {
                    ctx.send(self.proxy, answer(POLLED, key, &log, Some(cursor), 0));
                }
            }
            Kind::Call if msg.tag == CONNECT || msg.tag == POLL => {
                self.requests += 1;
                let cursor = cursor_of(msg.value);
                match (msg.tag, self.hold, cursor) {
                    (CONNECT, _, _) => {
                        let skip = if cursor.is_some() { self.skip_on_resume } else { 0 };
                        ctx.send(from, answer(ACCEPT, msg.key, &log, cursor, skip));
                    }
                    (_, Some(hold), Some(c)) if c >= log.head => {
                        self.parked.push((msg.key, c));
                        ctx.set_timer(hold, msg.key);
                    }
                    _ => ctx.send(from, answer(POLLED, msg.key, &log, cursor, 0)),
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        if token == KEEPALIVE {
            self.comments += 1;
            ctx.set_timer(self.keepalive.expect("keep-alive on"), KEEPALIVE);
            ctx.send(self.proxy, Msg { kind: Kind::Write, req: ReqId(0), key: 0, tag: 0, value: ctx.now() as u32 });
        } else if let Some(at) = self.parked.iter().position(|p| p.0 == token) {
            // Held long enough: answered with nothing new, the browser asks again.
            let (key, cursor) = self.parked.swap_remove(at);
            ctx.send(self.proxy, answer(POLLED, key, &self.log.borrow(), Some(cursor), 0));
        }
    }

    /// The log is durable (a broker, a database); the waiting polls are lost with the
    /// process, and their browsers ask again after a while.
    fn on_crash(&mut self, _held: &mut Vec<(NodeId, Msg)>) {
        self.parked.clear();
    }

    fn view(&self) -> NodeView {
        let head = self.log.borrow().head;
        NodeView { queue: self.parked.len() as u32, completed: u64::from(head), note: format!("event {head}"), ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The reverse proxy (nginx, a load balancer) between the browsers and the server: holds
/// every stream, and cuts one when no byte has crossed it for `timeout`.
pub struct Proxy {
    browsers: NodeId,
    server: NodeId,
    timeout: Micros,
    /// Each browser slot's open stream: (connection, when it opened); connection 0: none.
    open: Vec<(u64, Micros)>,
    pub streams: usize,
    /// Streams in the order they opened, some since closed (checked against `open`).
    order: VecDeque<(Micros, u64)>,
    last_write: Micros,
    /// The latest event id written to the streams.
    head: u32,
    armed: bool,
    pub cuts: u64,
}

const IDLE_CHECK: u64 = 0;

impl Proxy {
    pub fn new(browsers: NodeId, server: NodeId, timeout: Micros, clients: usize) -> Self {
        Proxy { browsers, server, timeout, open: vec![(0, 0); clients], streams: 0, order: VecDeque::new(), last_write: 0, head: 0, armed: false, cuts: 0 }
    }

    /// Starts out with every browser's first stream open (made before the run).
    pub fn holding(mut self, conn: impl Fn(usize) -> u64) -> Self {
        for i in 0..self.open.len() {
            self.open[i] = (conn(i), 0);
            self.order.push_back((0, conn(i)));
        }
        self.streams = self.open.len();
        self
    }

    fn is_open(&self, opened: Micros, conn: u64) -> bool {
        self.open.get(slot_of(conn)) == Some(&(conn, opened))
    }

    fn close(&mut self, conn: u64) -> bool {
        let Some(slot) = self.open.get_mut(slot_of(conn)) else { return false };
        let was = slot.0 == conn && conn != 0;
        if was {
            *slot = (0, 0);
            self.streams -= 1;
        }
        was
    }

    /// Cuts every stream opened at or before `before`, oldest first.
    pub fn cut(&mut self, ctx: &mut Ctx, before: Micros) {
        while let Some(&(opened, conn)) = self.order.front() {
            if opened > before {
                break;
            }
            self.order.pop_front();
            if self.is_open(opened, conn) && self.close(conn) {
                self.cuts += 1;
                ctx.send(self.browsers, Msg { kind: Kind::Call, req: ReqId(0), key: conn, tag: CLOSE, value: self.head });
            }
        }
    }

    fn forget_streams(&mut self) {
        self.open.fill((0, 0));
        self.streams = 0;
        self.order.clear();
    }

    /// The next idle check: when the oldest open stream will have been idle `timeout`.
    fn arm(&mut self, ctx: &mut Ctx) {
        while let Some(&(opened, conn)) = self.order.front() {
            if self.is_open(opened, conn) {
                let at = opened.max(self.last_write) + self.timeout;
                ctx.set_timer(at.saturating_sub(ctx.now()), IDLE_CHECK);
                self.armed = true;
                return;
            }
            self.order.pop_front();
        }
    }
}

impl Component for Proxy {
    fn on_start(&mut self, ctx: &mut Ctx) {
        self.arm(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if from != self.server {
            if msg.kind == Kind::Call && msg.tag == CLOSE {
                self.close(msg.key);
            } else {
                ctx.send(self.server, msg);
            }
            return;
        }
        match msg.kind {
            Kind::Write => {
                self.last_write = ctx.now();
                self.head = self.head.max(msg.tag);
                if self.streams > 0 {
                    ctx.send(self.browsers, Msg { key: self.streams as u64, ..msg });
                }
            }
            Kind::Call => {
                if code(msg.tag) == ACCEPT {
                    let slot = slot_of(msg.key).min(self.open.len() - 1);
                    if self.open[slot].0 != 0 {
                        self.streams -= 1;
                    }
                    self.open[slot] = (msg.key, ctx.now());
                    self.streams += 1;
                    self.order.push_back((ctx.now(), msg.key));
                    if self.order.len() > 2 * self.open.len() + 64 {
                        let open = std::mem::take(&mut self.open);
                        self.order.retain(|&(at, c)| open.get(slot_of(c)) == Some(&(c, at)));
                        self.open = open;
                    }
                    if !self.armed {
                        self.arm(ctx);
                    }
                }
                ctx.send(self.browsers, msg);
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, _token: u64) {
        self.armed = false;
        let now = ctx.now();
        if now >= self.last_write + self.timeout {
            self.cut(ctx, now - self.timeout);
        }
        self.arm(ctx);
    }

    /// The server is down: a browser's attempt is refused, a poll fails. The browsers are
    /// gone (their node was killed): so are their streams.
    fn on_bounce(&mut self, ctx: &mut Ctx, to: NodeId, msg: Msg) {
        if to == self.server {
            let kind = if msg.tag == CONNECT { Kind::Reject } else { Kind::Error };
            ctx.send(self.browsers, Msg { kind, ..msg });
        } else {
            self.forget_streams();
        }
    }

    /// Every stream is reset: the browsers hear at once.
    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        for &(conn, _) in self.open.iter().filter(|s| s.0 != 0) {
            held.push((self.browsers, Msg { kind: Kind::Call, req: ReqId(0), key: conn, tag: RESET, value: self.head }));
        }
        self.forget_streams();
        self.armed = false;
    }

    fn view(&self) -> NodeView {
        let tone = if self.streams == self.open.len() { Tone::Good } else { Tone::Warn };
        NodeView { tone, fill: Some(self.streams as f64 / self.open.len().max(1) as f64), completed: self.cuts, note: format!("{} streams, {} cut", self.streams, self.cuts), ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

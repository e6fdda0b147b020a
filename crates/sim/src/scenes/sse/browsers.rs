//! Every reader's browser as one node: its stream (or its polls), the events it gets, and
//! what it does when the proxy cuts the stream: wait `retry`, then reconnect, saying the
//! last event id it saw if Last-Event-ID is on.

use super::nodes::{ACCEPT, CLOSE, CONNECT, EventLog, FRESH, POLL, POLLED, RESET, code, cursor_value, first_sent};
use crate::scenes::clients::{churn_wait, first_conn, next_conn, slot_of};
use crate::component::{Component, Ctx, NodeView, Tone};
use crate::histogram::Histogram;
use crate::knob::Value;
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::rng::Rng;
use crate::series::tally;
use crate::time::{Micros, US_PER_S};
use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Sse,
    Polling,
    LongPolling,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Streaming (SSE), or polling.
    Online,
    Connecting,
    /// Waiting `retry` before reconnecting.
    Waiting,
    /// The node was killed: every tab is gone until it comes back.
    Gone,
}

struct Tab {
    /// The current connection or poll.
    conn: u64,
    state: State,
    /// The last event id it has (with a stream open: at least; the stream brings more).
    seen: u32,
    /// A page just opened: it has no event id to resume from.
    fresh: bool,
    /// Its stream was cut and it has not reconnected yet.
    dropped: bool,
}

/// Timer tokens: the kind in the low three bits, a slot (or a connection) above.
const CHURN: u64 = 0;
const RETRY: u64 = 1;
const POLL_TIMER: u64 = 2;
const GIVE_UP: u64 = 3;
/// How long a browser waits for an answer to a connection attempt or a long poll (beyond
/// the hold) before it counts it failed: a hung server never answers.
pub(super) const ANSWER_TIMEOUT_US: Micros = 10 * US_PER_S;

pub struct BrowserConfig {
    pub transport: Transport,
    pub retry_us: Micros,
    pub last_event_id: bool,
    pub poll_us: Micros,
    pub hold_us: Micros,
    pub churn_per_s: f64,
}

/// Every browser, each with at most one stream through the proxy, as one node.
pub struct Browsers {
    cfg: BrowserConfig,
    proxy: NodeId,
    tabs: Vec<Tab>,
    online: u32,
    log: Rc<RefCell<EventLog>>,
    rng: Rng,
    pub delivered: u64,
    pub missed: u64,
    pub replayed: u64,
    pub reconnects: u64,
    /// Reconnections in each second of virtual time.
    pub per_second: Vec<u32>,
    pub latency: Histogram,
}

impl Browsers {
    pub fn new(cfg: BrowserConfig, clients: usize, proxy: NodeId, log: Rc<RefCell<EventLog>>, rng: Rng) -> Self {
        let tabs = (0..clients).map(|i| Tab { conn: first_conn(i), state: State::Online, seen: 0, fresh: false, dropped: false }).collect();
        let online = if cfg.transport == Transport::Sse { clients as u32 } else { 0 };
        Browsers { cfg, proxy, tabs, online, log, rng, delivered: 0, missed: 0, replayed: 0, reconnects: 0, per_second: Vec::new(), latency: Histogram::new() }
    }

    pub fn online(&self) -> u32 {
        self.online
    }

    fn next_conn(&mut self, i: usize) -> u64 {
        let t = &mut self.tabs[i];
        t.conn = next_conn(t.conn, i);
        t.conn
    }

    /// The cursor a browser sends: its last event id, unless it has none to give.
    fn cursor(&self, i: usize) -> u32 {
        let t = &self.tabs[i];
        let says = !t.fresh && (self.cfg.last_event_id || self.cfg.transport != Transport::Sse);
        cursor_value(says.then_some(t.seen))
    }

    fn connect(&mut self, ctx: &mut Ctx, i: usize) {
        let conn = self.next_conn(i);
        let value = self.cursor(i);
        self.tabs[i].state = State::Connecting;
        ctx.send(self.proxy, Msg { kind: Kind::Call, req: ReqId(0), key: conn, tag: CONNECT, value });
        ctx.set_timer(ANSWER_TIMEOUT_US, GIVE_UP | conn << 3);
    }

    fn poll(&mut self, ctx: &mut Ctx, i: usize) {
        let conn = self.next_conn(i);
        let value = self.cursor(i);
        ctx.send(self.proxy, Msg { kind: Kind::Call, req: ReqId(0), key: conn, tag: POLL, value });
        if self.cfg.transport == Transport::LongPolling {
            ctx.set_timer(self.cfg.hold_us + ANSWER_TIMEOUT_US, GIVE_UP | conn << 3);
        }
    }

    fn wait(&mut self, ctx: &mut Ctx, i: usize) {
        self.tabs[i].state = State::Waiting;
        ctx.set_timer(self.cfg.retry_us, RETRY | (i as u64) << 3);
    }

    /// The stream ended without the reader closing it; `head` is the last event id the
    /// proxy wrote to it.
    fn cut(&mut self, ctx: &mut Ctx, i: usize, head: u32) {
        let t = &mut self.tabs[i];
        t.seen = t.seen.max(head);
        t.dropped = true;
        self.online -= 1;
        self.wait(ctx, i);
    }

    /// Events `first..=last` arrive now (with an accept or a poll's answer): those the
    /// browser had not seen count, and those it skipped past are missed.
    fn receive(&mut self, now: Micros, i: usize, first: u32, last: u32) {
        let t = &mut self.tabs[i];
        if !t.fresh {
            self.missed += u64::from(first.saturating_sub(t.seen + 1));
        }
        let from = first.max(t.seen + 1);
        if last >= from {
            self.delivered += u64::from(last - from + 1);
            let log = self.log.borrow();
            for id in from..=last {
                if let Some(at) = log.happened(id) {
                    self.latency.record(now.saturating_sub(at));
                }
            }
        }
        t.seen = t.seen.max(last);
        t.fresh = false;
    }

    fn on_answer(&mut self, ctx: &mut Ctx, msg: Msg) {
        let i = slot_of(msg.key);
        let Some(t) = self.tabs.get(i) else { return };
        if t.conn != msg.key || t.state == State::Gone {
            return;
        }
        let first = first_sent(msg.tag, msg.value);
        let now = ctx.now();
        if code(msg.tag) == ACCEPT {
            if t.state != State::Connecting {
                return;
            }
            let replayed = msg.value.saturating_sub(first.max(t.seen + 1) - 1);
            self.replayed += u64::from(if t.fresh { 0 } else { replayed });
            if t.dropped {
                self.reconnects += 1;
                tally(&mut self.per_second, now);
            }
            self.receive(now, i, first, msg.value);
            let t = &mut self.tabs[i];
            t.state = State::Online;
            t.dropped = false;
            self.online += 1;
        } else if t.state == State::Online {
            // (A long poll given up on, its browser waiting to ask again, is answered late:
            // the browser has moved on.)
            self.receive(now, i, first, msg.value);
            if self.cfg.transport == Transport::LongPolling {
                self.poll(ctx, i);
            }
        }
    }

    /// A stream or a poll failed (the proxy refused or is down).
    fn failed(&mut self, ctx: &mut Ctx, msg: Msg) {
        let i = slot_of(msg.key);
        let Some(t) = self.tabs.get(i) else { return };
        if t.conn != msg.key || t.state == State::Gone {
            return;
        }
        match (msg.tag, t.state) {
            (CONNECT, State::Connecting) => self.wait(ctx, i),
            (CLOSE | RESET, State::Online) if self.cfg.transport == Transport::Sse => self.cut(ctx, i, msg.value),
            (POLL, _) if self.cfg.transport == Transport::LongPolling => self.wait(ctx, i),
            _ => {}
        }
    }

    /// A reader leaves and a new one opens the page (with no event id of its own).
    fn churn(&mut self, ctx: &mut Ctx) {
        let i = self.rng.below(self.tabs.len() as u64) as usize;
        let t = &mut self.tabs[i];
        if t.state == State::Gone {
            return;
        }
        if t.state == State::Online && self.cfg.transport == Transport::Sse {
            self.online -= 1;
            ctx.send(self.proxy, Msg { kind: Kind::Call, req: ReqId(0), key: t.conn, tag: CLOSE, value: 0 });
        }
        t.fresh = true;
        t.dropped = false;
        t.seen = 0;
        // (A long-polling tab waiting to ask again is not any more: its retry is passed over.)
        t.state = State::Online;
        match self.cfg.transport {
            Transport::Sse => self.connect(ctx, i),
            Transport::LongPolling => self.poll(ctx, i),
            // Its poll timer goes on: the next poll is the new reader's first.
            Transport::Polling => {
                self.next_conn(i);
            }
        }
    }

    fn schedule_churn(&mut self, ctx: &mut Ctx) {
        if let Some(wait) = churn_wait(&mut self.rng, self.cfg.churn_per_s) {
            ctx.set_timer(wait, CHURN);
        }
    }
}

impl Component for Browsers {
    fn on_start(&mut self, ctx: &mut Ctx) {
        for i in 0..self.tabs.len() {
            match self.cfg.transport {
                Transport::Sse => {}
                Transport::Polling => {
                    let first = (self.rng.unit() * self.cfg.poll_us as f64) as Micros;
                    ctx.set_timer(first, POLL_TIMER | (i as u64) << 3);
                }
                Transport::LongPolling => self.poll(ctx, i),
            }
        }
        self.schedule_churn(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx, _from: NodeId, msg: Msg) {
        match msg.kind {
            Kind::Write if msg.tag > 0 => {
                // An event on the streams: every browser streaming gets it.
                let k = u64::from(self.online);
                self.delivered += k;
                if k > 0 {
                    self.latency.record_n(u64::from((ctx.now() as u32).wrapping_sub(msg.value)), k);
                }
            }
            Kind::Call if code(msg.tag) == ACCEPT || code(msg.tag) == POLLED => self.on_answer(ctx, msg),
            Kind::Call if msg.tag == CLOSE => self.failed(ctx, msg),
            Kind::Reject | Kind::Error => self.failed(ctx, Msg { kind: Kind::Call, ..msg }),
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        let i = (token >> 3) as usize;
        match token & 7 {
            CHURN => {
                self.churn(ctx);
                self.schedule_churn(ctx);
            }
            RETRY if self.tabs[i].state == State::Waiting => match self.cfg.transport {
                Transport::Sse => self.connect(ctx, i),
                _ => {
                    self.tabs[i].state = State::Online;
                    self.poll(ctx, i);
                }
            },
            POLL_TIMER => {
                ctx.set_timer(self.cfg.poll_us, token);
                if self.tabs[i].state != State::Gone {
                    self.poll(ctx, i);
                }
            }
            GIVE_UP => {
                let conn = token >> 3;
                let i = slot_of(conn);
                if self.tabs[i].conn == conn {
                    let tag = if self.tabs[i].state == State::Connecting { CONNECT } else { POLL };
                    self.failed(ctx, Msg { kind: Kind::Call, req: ReqId(0), key: conn, tag, value: 0 });
                }
            }
            _ => {}
        }
    }

    /// The proxy is down: an attempt or a poll fails; its kill resets the streams.
    fn on_bounce(&mut self, ctx: &mut Ctx, _to: NodeId, msg: Msg) {
        if msg.tag != CLOSE {
            self.failed(ctx, msg);
        }
    }

    fn on_crash(&mut self, _held: &mut Vec<(NodeId, Msg)>) {
        for t in &mut self.tabs {
            t.state = State::Gone;
        }
        self.online = 0;
    }

    /// Every page is opened anew: no event id to resume from.
    fn on_revive(&mut self, ctx: &mut Ctx) {
        ctx.set_state(FRESH);
        for i in 0..self.tabs.len() {
            let t = &mut self.tabs[i];
            t.state = State::Online;
            t.fresh = true;
            t.dropped = false;
            if self.cfg.transport == Transport::Sse {
                self.connect(ctx, i);
            }
        }
        self.on_start(ctx);
    }

    fn on_set(&mut self, _ctx: &mut Ctx, knob: &str, value: &Value) {
        if let ("arrival_rate", Value::Float(r)) = (knob, value) {
            self.cfg.churn_per_s = *r;
        }
    }

    fn describe_state(&self, _code: u8) -> String {
        "every page opened anew".into()
    }

    fn view(&self) -> NodeView {
        let n = self.tabs.len();
        let online = self.online as usize;
        let (state, online) = match self.cfg.transport {
            Transport::Sse => ("streaming", online),
            _ => ("polling", self.tabs.iter().filter(|t| t.state != State::Gone).count()),
        };
        let tone = if online == n { Tone::Good } else if online * 10 >= n * 9 { Tone::Warn } else { Tone::Bad };
        NodeView { state, tone, fill: Some(online as f64 / n.max(1) as f64), note: format!("{online} of {n} connected"), ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

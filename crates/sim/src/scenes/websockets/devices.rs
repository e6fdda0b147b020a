//! Every client of the chat as one node: its connection (or its polling), the messages
//! it sends and receives, heartbeats answered, and what it does when a connection drops.

use super::nodes::{ACCEPT, CLOSE, CONNECT, POLL, POLLED};
use crate::scenes::clients::{churn_wait, first_conn, next_conn, slot_of};
use crate::component::{Component, Ctx, NodeView, Tone};
use crate::histogram::Histogram;
use crate::idmap::IdMap;
use crate::knob::Value;
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::rng::Rng;
use crate::series::tally;
use crate::time::{Micros, US_PER_S};
use std::any::Any;
use std::collections::VecDeque;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Reconnect {
    Never,
    Immediate,
    Backoff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Online,
    Connecting,
    /// Waiting out a backoff before the next attempt.
    Waiting,
    /// Gave up (`reconnect=none`): offline until the reader does something.
    Offline,
}

struct Slot {
    conn: u64,
    gateway: u32,
    state: State,
    attempts: u32,
    /// The connection was lost, not closed by its user: what the room sends meanwhile is
    /// lost to it.
    dropped: bool,
    last_ping: Micros,
    /// When the connection was lost (while `dropped`).
    dropped_at: Micros,
    /// Polling: the room's last sequence number seen.
    last_seq: u32,
}

/// Timer tokens of the devices: the kind in the low three bits, a slot (or for a
/// handshake's timeout, the connection) above.
const CHURN: u64 = 0;
const SWEEP: u64 = 1;
const RETRY: u64 = 2;
const POLL_TIMER: u64 = 3;
const GIVE_UP: u64 = 4;
/// How long a device waits for a handshake before it counts the attempt failed (a hung
/// gateway accepts the connection and never answers).
pub const CONNECT_TIMEOUT_US: Micros = 10 * US_PER_S;

pub struct DeviceConfig {
    pub rooms: u32,
    pub reconnect: Reconnect,
    pub base_us: Micros,
    pub cap_us: Micros,
    pub heartbeat_us: Option<Micros>,
    /// Polling: every this long; `None` for WebSockets.
    pub poll_us: Option<Micros>,
    pub churn_per_s: f64,
    pub vanish_share: f64,
}

/// Every client device, each with at most one connection to a gateway, as one node:
/// people type messages (the requests of the `source`), devices send them over their
/// connection, receive the room's messages, answer heartbeats, and reconnect as told
/// when a connection is lost. Clients leave and are replaced at the churn rate, some
/// without closing their connection (a phone losing signal).
pub struct Devices {
    cfg: DeviceConfig,
    source: NodeId,
    gateways: Vec<NodeId>,
    slots: Vec<Slot>,
    /// Slots online, for a random pick, and each slot's place in it.
    online: Vec<u32>,
    place: Vec<u32>,
    /// Online devices per gateway and room (`gateway * rooms + room`).
    live: Vec<u32>,
    /// Devices that lost their connection and are not back, per room.
    dropped_in_room: Vec<u32>,
    /// Polling: when each room's messages were sent, from sequence `seq_base[room]` on.
    sent_at: Vec<VecDeque<Micros>>,
    seq_base: Vec<u32>,
    /// Polling: when each message under way was sent, by request.
    sending: IdMap<Micros>,
    rng: Rng,
    pub delivered: u64,
    pub wasted: u64,
    pub lost: u64,
    pub latency: Histogram,
    pub reconnects: u64,
    pub refused: u64,
    /// Connection attempts in each second of virtual time.
    pub attempts: Vec<u32>,
    pub vanished: u64,
    /// The longest a client that lost its connection took to get one again.
    pub offline_max: Micros,
}

impl Devices {
    pub fn new(cfg: DeviceConfig, clients: usize, source: NodeId, gateways: Vec<NodeId>, rng: Rng) -> Self {
        let rooms = cfg.rooms as usize;
        let n = gateways.len();
        Devices {
            slots: (0..clients).map(|_| Slot { conn: 0, gateway: 0, state: State::Offline, attempts: 0, dropped: false, last_ping: 0, dropped_at: 0, last_seq: 0 }).collect(),
            online: Vec::with_capacity(clients),
            place: vec![u32::MAX; clients],
            live: vec![0; n * rooms],
            dropped_in_room: vec![0; rooms],
            sent_at: (0..rooms).map(|_| VecDeque::new()).collect(),
            seq_base: vec![1; rooms],
            sending: IdMap::default(),
            cfg,
            source,
            gateways,
            rng,
            delivered: 0,
            wasted: 0,
            lost: 0,
            latency: Histogram::new(),
            reconnects: 0,
            refused: 0,
            attempts: Vec::new(),
            vanished: 0,
            offline_max: 0,
        }
    }

    pub fn room_of(&self, slot: usize) -> u32 {
        slot as u32 % self.cfg.rooms
    }

    /// Whether `conn` is a live device's connection now (not a leaked one).
    pub fn is_current(&self, conn: u64) -> bool {
        self.slots.get(slot_of(conn)).is_some_and(|s| s.conn == conn && s.state == State::Online)
    }

    pub fn online_count(&self) -> usize {
        self.online.len()
    }

    fn gateway_index(&self, node: NodeId) -> Option<u32> {
        self.gateways.iter().position(|g| *g == node).map(|i| i as u32)
    }

    fn go_online(&mut self, i: usize, gateway: u32, now: Micros) {
        let room = self.room_of(i) as usize;
        let rooms = self.cfg.rooms as usize;
        let s = &mut self.slots[i];
        if s.dropped {
            s.dropped = false;
            self.dropped_in_room[room] -= 1;
            self.reconnects += 1;
            self.offline_max = self.offline_max.max(now - s.dropped_at);
        }
        s.state = State::Online;
        s.gateway = gateway;
        s.attempts = 0;
        s.last_ping = now;
        self.place[i] = self.online.len() as u32;
        self.online.push(i as u32);
        self.live[gateway as usize * rooms + room] += 1;
    }

    /// Leaves the online list (a no-op for a device that is not online).
    fn go_offline(&mut self, i: usize) {
        if self.slots[i].state != State::Online {
            return;
        }
        let room = self.room_of(i) as usize;
        let g = self.slots[i].gateway as usize;
        self.live[g * self.cfg.rooms as usize + room] -= 1;
        let at = self.place[i] as usize;
        let last = *self.online.last().expect("online");
        self.online.swap_remove(at);
        if last as usize != i {
            self.place[last as usize] = at as u32;
        }
        self.place[i] = u32::MAX;
        self.slots[i].state = State::Offline;
    }

    /// A new connection attempt, to a gateway picked at random (the load balancer in
    /// front of them does not know which are alive).
    fn connect(&mut self, ctx: &mut Ctx, i: usize) {
        let g = self.rng.below(self.gateways.len() as u64) as u32;
        let s = &mut self.slots[i];
        s.conn = next_conn(s.conn, i);
        s.state = State::Connecting;
        s.gateway = g;
        tally(&mut self.attempts, ctx.now());
        let room = self.room_of(i);
        let conn = self.slots[i].conn;
        ctx.send(self.gateways[g as usize], Msg { kind: Kind::Call, req: ReqId(0), key: conn, tag: CONNECT, value: room });
        ctx.set_timer(CONNECT_TIMEOUT_US, GIVE_UP | conn << 3);
    }

    /// What the device does after a failed attempt (`failed`) or a lost connection.
    fn try_again(&mut self, ctx: &mut Ctx, i: usize, failed: bool) {
        if failed {
            self.slots[i].attempts += 1;
        }
        match self.cfg.reconnect {
            Reconnect::Never => self.slots[i].state = State::Offline,
            Reconnect::Immediate => self.connect(ctx, i),
            Reconnect::Backoff => {
                // Full jitter: anywhere from now to the capped exponential bound.
                let bound = self.cfg.base_us.saturating_mul(1 << self.slots[i].attempts.min(20)).min(self.cfg.cap_us);
                let wait = (self.rng.unit() * bound as f64) as Micros;
                self.slots[i].state = State::Waiting;
                ctx.set_timer(wait, RETRY | (i as u64) << 3);
            }
        }
    }

    /// The device's connection is gone without its user closing it.
    fn lost(&mut self, ctx: &mut Ctx, i: usize) {
        self.go_offline(i);
        if !self.slots[i].dropped {
            self.slots[i].dropped = true;
            self.slots[i].dropped_at = ctx.now();
            let room = self.room_of(i) as usize;
            self.dropped_in_room[room] += 1;
        }
        self.try_again(ctx, i, false);
    }

    /// One client leaves (closing, or vanishing with the connection left open) and a new
    /// one takes its place and connects.
    fn churn(&mut self, ctx: &mut Ctx) {
        if self.cfg.poll_us.is_some() {
            // Polling holds nothing open: a client leaving leaves nothing behind.
            return;
        }
        let i = self.rng.below(self.slots.len() as u64) as usize;
        let vanish = self.rng.chance(self.cfg.vanish_share);
        if self.slots[i].state == State::Online {
            if vanish {
                self.vanished += 1;
            } else {
                let g = self.gateways[self.slots[i].gateway as usize];
                ctx.send(g, Msg { kind: Kind::Call, req: ReqId(0), key: self.slots[i].conn, tag: CLOSE, value: 0 });
            }
        }
        self.go_offline(i);
        if self.slots[i].dropped {
            self.slots[i].dropped = false;
            let room = self.room_of(i) as usize;
            self.dropped_in_room[room] -= 1;
        }
        self.slots[i].attempts = 0;
        self.connect(ctx, i);
    }

    fn publish(&mut self, ctx: &mut Ctx, msg: Msg) {
        if self.online.is_empty() {
            ctx.send(self.source, msg.reply(Kind::Error));
            return;
        }
        let i = self.online[self.rng.below(self.online.len() as u64) as usize] as usize;
        // Polling: each request goes to any gateway; a WebSocket, to the one it is on.
        let g = if self.cfg.poll_us.is_some() {
            self.sending.insert(msg.req.0, ctx.now());
            self.rng.below(self.gateways.len() as u64) as usize
        } else {
            self.slots[i].gateway as usize
        };
        let out = Msg { kind: Kind::Request, req: msg.req, key: self.slots[i].conn, tag: self.room_of(i), value: ctx.now() as u32 };
        ctx.send(self.gateways[g], out);
    }

    fn answered(&mut self, ctx: &mut Ctx, msg: Msg) {
        let ok = msg.kind == Kind::Response;
        if ok && let Some(sent) = self.sending.remove(&msg.req.0) {
            // Kept for the polls still to see it; every member may have seen it already (a
            // poll's answer can overtake the publisher's), and then it is forgotten.
            let room = msg.tag as usize;
            let at = msg.value.wrapping_sub(self.seq_base[room]);
            if at < u32::MAX / 2 {
                let (q, at) = (&mut self.sent_at[room], at as usize);
                if q.len() <= at {
                    q.resize(at + 1, Micros::MAX);
                }
                q[at] = sent;
            }
        } else if ok {
            // WebSockets: whoever in the room has lost their connection misses it.
            self.lost += u64::from(self.dropped_in_room[msg.tag as usize]);
        }
        if !ok {
            self.sending.remove(&msg.req.0);
            let i = slot_of(msg.key);
            if self.cfg.poll_us.is_none()
                && self.slots.get(i).is_some_and(|s| s.conn == msg.key && s.state == State::Online) {
                self.lost(ctx, i);
            }
        }
        ctx.send(self.source, Msg { kind: if ok { Kind::Response } else { Kind::Error }, req: msg.req, key: 0, tag: 0, value: 0 });
    }

    /// Polling: what the room sent since the device's last poll is delivered now.
    fn polled(&mut self, ctx: &mut Ctx, msg: Msg) {
        let i = slot_of(msg.key);
        let room = self.room_of(i) as usize;
        let now = ctx.now();
        let (from, to) = (self.slots[i].last_seq, msg.value);
        if to > from {
            let base = self.seq_base[room];
            for seq in from + 1..=to {
                if let Some(&sent) = self.sent_at[room].get(seq.wrapping_sub(base) as usize)
                    && sent != Micros::MAX
                {
                    self.latency.record(now.saturating_sub(sent));
                }
            }
            self.delivered += u64::from(to - from);
            self.slots[i].last_seq = to;
        }
        // Forget what every device of the room has seen.
        if self.slots.len() as u32 / self.cfg.rooms < 64 || ctx.rng.chance(1.0 / 64.0) {
            self.trim_room(room);
        }
    }

    fn trim_room(&mut self, room: usize) {
        let rooms = self.cfg.rooms as usize;
        let oldest = (room..self.slots.len()).step_by(rooms).map(|i| self.slots[i].last_seq).min().unwrap_or(0);
        while self.seq_base[room] <= oldest && self.sent_at[room].pop_front().is_some() {
            self.seq_base[room] += 1;
        }
    }

    fn poll(&mut self, ctx: &mut Ctx, i: usize) {
        let g = self.rng.below(self.gateways.len() as u64) as usize;
        ctx.send(self.gateways[g], Msg { kind: Kind::Call, req: ReqId(0), key: i as u64, tag: POLL, value: self.room_of(i) });
        ctx.set_timer(self.cfg.poll_us.expect("polling"), POLL_TIMER | (i as u64) << 3);
    }

    fn schedule_churn(&mut self, ctx: &mut Ctx) {
        if let Some(wait) = churn_wait(&mut self.rng, self.cfg.churn_per_s) {
            ctx.set_timer(wait, CHURN);
        }
    }
}

impl Component for Devices {
    fn on_start(&mut self, ctx: &mut Ctx) {
        let n = self.gateways.len();
        for i in 0..self.slots.len() {
            // Polling holds no connection: every client is present, and polls.
            if let Some(every) = self.cfg.poll_us {
                let first = (self.rng.unit() * every as f64) as Micros;
                ctx.set_timer(first, POLL_TIMER | (i as u64) << 3);
            }
            // Every device is already connected: slot `i` to gateway `i mod n` (the
            // gateways are built holding the same).
            self.slots[i].conn = first_conn(i);
            self.go_online(i, (i % n) as u32, 0);
        }
        self.schedule_churn(ctx);
        if let (Some(hb), None) = (self.cfg.heartbeat_us, self.cfg.poll_us) {
            ctx.set_timer(hb, SWEEP);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg.kind {
            Kind::Request => self.publish(ctx, msg),
            Kind::Response | Kind::Error => self.answered(ctx, msg),
            Kind::Write => {
                // A gateway's frames to the room: those of its connections that are live
                // devices get the message; the rest were written to dead sockets.
                let Some(g) = self.gateway_index(from) else { return };
                let k = self.live[g as usize * self.cfg.rooms as usize + msg.tag as usize];
                self.delivered += u64::from(k);
                self.wasted += msg.key.saturating_sub(u64::from(k));
                if k > 0 {
                    self.latency.record_n(u64::from((ctx.now() as u32).wrapping_sub(msg.value)), u64::from(k));
                }
            }
            Kind::HealthCheck => {
                let i = slot_of(msg.key);
                let g = self.gateway_index(from);
                if let Some(s) = self.slots.get_mut(i)
                    && s.conn == msg.key
                    && s.state == State::Online
                    && Some(s.gateway) == g
                {
                    s.last_ping = ctx.now();
                    ctx.send(from, Msg { kind: Kind::HealthReply, ..msg });
                }
            }
            Kind::Reject => {
                let i = slot_of(msg.key);
                if self.slots.get(i).is_some_and(|s| s.conn == msg.key && s.state == State::Connecting) {
                    self.refused += 1;
                    self.try_again(ctx, i, true);
                }
            }
            Kind::Call if msg.tag == POLLED => self.polled(ctx, msg),
            Kind::Call => {
                let i = slot_of(msg.key);
                let Some(s) = self.slots.get(i) else { return };
                let current = s.conn == msg.key;
                match msg.tag {
                    ACCEPT if current && s.state == State::Connecting => {
                        let g = self.gateway_index(from).expect("a gateway");
                        self.go_online(i, g, ctx.now());
                    }
                    // A connection the device no longer wants (it moved on): closed.
                    ACCEPT => ctx.send(from, Msg { tag: CLOSE, ..msg }),
                    CLOSE if current && s.state == State::Online => self.lost(ctx, i),
                    _ => {}
                }
            }
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
            SWEEP => {
                // No heartbeat for two and a half intervals: the gateway is gone (hung, or
                // the network between is): reconnect elsewhere.
                let hb = self.cfg.heartbeat_us.expect("heartbeats on");
                ctx.set_timer(hb, SWEEP);
                let now = ctx.now();
                let silent: Vec<u32> = self.online.iter().copied().filter(|&i| now - self.slots[i as usize].last_ping > hb * 5 / 2).collect();
                for i in silent {
                    self.lost(ctx, i as usize);
                }
            }
            RETRY if self.slots[i].state == State::Waiting => self.connect(ctx, i),
            POLL_TIMER => self.poll(ctx, i),
            GIVE_UP => {
                let conn = token >> 3;
                let i = slot_of(conn);
                if self.slots[i].conn == conn && self.slots[i].state == State::Connecting {
                    self.try_again(ctx, i, true);
                }
            }
            _ => {}
        }
    }

    /// The network refused a message: its gateway is dead. A publish fails and the
    /// connection is lost; an attempt to connect failed; a reset (the gateway's kill)
    /// loses the connection.
    fn on_bounce(&mut self, ctx: &mut Ctx, _to: NodeId, msg: Msg) {
        match msg.kind {
            Kind::Request => self.answered(ctx, msg.reply(Kind::Error)),
            Kind::Call if msg.tag == POLL => {}
            _ => {
                let i = slot_of(msg.key);
                let Some(s) = self.slots.get(i) else { return };
                if s.conn != msg.key {
                    return;
                }
                match s.state {
                    State::Online => self.lost(ctx, i),
                    State::Connecting => self.try_again(ctx, i, true),
                    _ => {}
                }
            }
        }
    }

    fn on_set(&mut self, _ctx: &mut Ctx, knob: &str, value: &Value) {
        match (knob, value) {
            ("arrival_rate", Value::Float(r)) => self.cfg.churn_per_s = *r,
            ("vanish_share", Value::Float(v)) => self.cfg.vanish_share = *v,
            _ => {}
        }
    }

    fn view(&self) -> NodeView {
        let n = self.slots.len();
        let online = self.online.len();
        let tone = if online == n { Tone::Good } else if online * 10 >= n * 9 { Tone::Warn } else { Tone::Bad };
        let state = if self.cfg.poll_us.is_some() { "polling" } else { "connected" };
        NodeView { state, tone, fill: Some(online as f64 / n.max(1) as f64), note: format!("{online} of {n} online"), ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

//! The gateway servers that hold the connections, the pub/sub backplane between them,
//! and the messages all three nodes (devices included, in `devices.rs`) exchange.
//!
//! Messages, by kind and tag:
//! - `Call CONNECT` device → gateway (`key` the connection, `value` its room); the
//!   gateway answers `Call ACCEPT` after the handshake's work, or `Reject` when its accept
//!   queue is full. `Call CLOSE` either way closes one.
//! - `Request` device → gateway: a chat message (`key` the connection, `tag` the room,
//!   `value` when it was sent, in microseconds modulo 2^32); the gateway hands it to the
//!   backplane as a `Write` and answers `Response` once the backplane has it (`value` its
//!   sequence number in the room), `Error` for a connection it does not hold.
//! - `Write` backplane → every gateway (WebSockets): the message; each gateway pushes one
//!   `Write` to the devices standing for its frames to that room's members (`key` how
//!   many connections it wrote to).
//! - `HealthCheck` gateway → device and `HealthReply` back: a heartbeat (`key` the
//!   connection).
//! - `Call POLL` device → gateway → backplane and `Call POLLED` back (polling): the
//!   room's latest sequence number, which tells a device what it has not seen yet.

use crate::component::{Component, Ctx, NodeView};
use crate::components::slab::Slab;
use crate::dist::Dist;
use crate::idmap::IdMap;
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::time::Micros;
use std::any::Any;
use std::collections::VecDeque;

pub const CONNECT: u32 = 1;
pub const ACCEPT: u32 = 2;
pub const CLOSE: u32 = 3;
pub const POLL: u32 = 4;
pub const POLLED: u32 = 5;
/// A gateway's state announcement: it came back with no connection at all.
pub const FRESH: u8 = 1;

/// A gateway server: holds WebSocket connections (each costs a handshake's work on one
/// of its cores), relays messages to and from the backplane, pings its connections
/// every `heartbeat` and closes those silent for two intervals. Polling, it answers polls
/// from the backplane's sequence numbers.
pub struct Gateway {
    devices: NodeId,
    backplane: NodeId,
    rooms: u32,
    /// Connection to its room and when it was last heard from.
    conns: IdMap<(u32, Micros)>,
    in_room: Vec<u32>,
    cores: u32,
    handshaking: Slab<(u64, u32)>,
    queue: VecDeque<(u64, u32)>,
    queue_limit: usize,
    handshake: Dist,
    heartbeat_us: Option<Micros>,
    /// Polling: messages come in on plain requests, with no connection.
    polling: bool,
    pub requests: u64,
    pub pings: u64,
    /// Test only: forgets to close silent connections (the checker must catch it).
    pub keeps_silent: bool,
}

const GATEWAY_SWEEP: u64 = u64::MAX;

impl Gateway {
    #[allow(clippy::too_many_arguments)]
    pub fn new(devices: NodeId, backplane: NodeId, rooms: u32, cores: u32, queue_limit: usize, handshake: Dist, heartbeat_us: Option<Micros>, polling: bool) -> Self {
        Gateway { devices, backplane, rooms, conns: IdMap::default(), in_room: vec![0; rooms as usize], cores, handshaking: Slab::default(), queue: VecDeque::new(), queue_limit, handshake, heartbeat_us, polling, requests: 0, pings: 0, keeps_silent: false }
    }

    /// Open connections whose client is gone (`current` says which are not) and that
    /// have been silent longer than `silent_us`.
    pub fn leaked(&self, now: Micros, silent_us: Micros, current: impl Fn(u64) -> bool) -> usize {
        self.conns.iter().filter(|(c, (_, heard))| now - heard > silent_us && !current(**c)).count()
    }

    /// Starts out holding `conns` (connection, room), made before the run.
    pub fn holding(mut self, conns: impl Iterator<Item = (u64, u32)>) -> Self {
        for (c, room) in conns {
            self.conns.insert(c, (room, 0));
            self.in_room[room as usize] += 1;
        }
        self
    }

    pub fn open(&self) -> usize {
        self.conns.len()
    }

    fn remove(&mut self, conn: u64) -> bool {
        match self.conns.remove(&conn) {
            Some((room, _)) => {
                self.in_room[room as usize] -= 1;
                true
            }
            None => false,
        }
    }

    fn start_handshake(&mut self, ctx: &mut Ctx, conn: u64, room: u32) {
        let sampled = self.handshake.sample(ctx.rng);
        let us = ctx.work(sampled);
        let k = self.handshaking.insert((conn, room));
        ctx.set_timer(us, k);
    }
}

impl Component for Gateway {
    fn on_start(&mut self, ctx: &mut Ctx) {
        if let Some(hb) = self.heartbeat_us {
            ctx.set_timer(hb, GATEWAY_SWEEP);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if from == self.backplane {
            match msg.kind {
                Kind::Write => {
                    let room = msg.tag.min(self.rooms - 1);
                    let count = self.in_room[room as usize];
                    if count > 0 {
                        ctx.send(self.devices, Msg { key: u64::from(count), ..msg });
                    }
                }
                _ => ctx.send(self.devices, msg),
            }
            return;
        }
        match msg.kind {
            Kind::Request => {
                self.requests += 1;
                match self.conns.get_mut(&msg.key) {
                    Some(c) => {
                        c.1 = ctx.now();
                        ctx.send(self.backplane, Msg { kind: Kind::Write, ..msg });
                    }
                    None if self.polling => ctx.send(self.backplane, Msg { kind: Kind::Write, ..msg }),
                    None => ctx.send(from, msg.reply(Kind::Error)),
                }
            }
            Kind::HealthReply => {
                if let Some(c) = self.conns.get_mut(&msg.key) {
                    c.1 = ctx.now();
                }
            }
            Kind::Call => match msg.tag {
                CONNECT => {
                    self.requests += 1;
                    if (self.handshaking.len() as u32) < self.cores {
                        self.start_handshake(ctx, msg.key, msg.value);
                    } else if self.queue.len() < self.queue_limit {
                        self.queue.push_back((msg.key, msg.value));
                    } else {
                        ctx.send(from, msg.reply(Kind::Reject));
                    }
                }
                CLOSE => {
                    self.remove(msg.key);
                }
                POLL => {
                    self.requests += 1;
                    ctx.send(self.backplane, msg);
                }
                _ => {}
            },
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        if token == GATEWAY_SWEEP {
            let hb = self.heartbeat_us.expect("heartbeats on");
            ctx.set_timer(hb, GATEWAY_SWEEP);
            let now = ctx.now();
            // Silent for two intervals: closed, all of them before the first ping goes out.
            let mut ids: Vec<u64> = self.conns.keys().copied().collect();
            crate::sort::sort(&mut ids);
            for &conn in &ids {
                if now - self.conns[&conn].1 > 2 * hb && !self.keeps_silent {
                    self.remove(conn);
                    ctx.send(self.devices, Msg { kind: Kind::Call, req: ReqId(0), key: conn, tag: CLOSE, value: 0 });
                }
            }
            for conn in ids.into_iter().filter(|c| self.conns.contains_key(c)) {
                self.pings += 1;
                ctx.send(self.devices, Msg { kind: Kind::HealthCheck, req: ReqId(0), key: conn, tag: 0, value: 0 });
            }
            return;
        }
        let Some((conn, room)) = self.handshaking.remove(token) else { return };
        self.conns.insert(conn, (room, ctx.now()));
        self.in_room[room as usize] += 1;
        ctx.send(self.devices, Msg { kind: Kind::Call, req: ReqId(0), key: conn, tag: ACCEPT, value: room });
        if let Some((conn, room)) = self.queue.pop_front() {
            self.start_handshake(ctx, conn, room);
        }
    }

    /// Every connection is reset: the devices hear at once (the kernel answers for the
    /// dead process), and so do those waiting for a handshake.
    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        let mut ids: Vec<u64> = self.conns.keys().copied().collect();
        crate::sort::sort(&mut ids);
        let reset = |conn: u64| Msg { kind: Kind::Call, req: ReqId(0), key: conn, tag: CONNECT, value: 0 };
        held.extend(ids.into_iter().map(|c| (self.devices, reset(c))));
        self.handshaking.drain(|(c, _)| held.push((self.devices, reset(c))));
        held.extend(self.queue.drain(..).map(|(c, _)| (self.devices, reset(c))));
        self.conns.clear();
        self.in_room.fill(0);
    }

    fn on_revive(&mut self, ctx: &mut Ctx) {
        ctx.set_state(FRESH);
        self.on_start(ctx);
    }

    fn describe_state(&self, _code: u8) -> String {
        "back with no connection".into()
    }

    fn view(&self) -> NodeView {
        NodeView {
            busy: self.handshaking.len() as u32,
            queue: self.queue.len() as u32,
            workers: self.cores,
            note: format!("{} connections", self.conns.len()),
            ..NodeView::default()
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The pub/sub backplane (Redis, say): numbers each room's messages, and with
/// WebSockets publishes every message to every gateway.
pub struct Backplane {
    gateways: Vec<NodeId>,
    seq: Vec<u32>,
    broadcast: bool,
    pub published: u64,
}

impl Backplane {
    pub fn new(gateways: Vec<NodeId>, rooms: u32, broadcast: bool) -> Self {
        Backplane { gateways, seq: vec![0; rooms as usize], broadcast, published: 0 }
    }
}

impl Component for Backplane {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        let rooms = self.seq.len() as u32;
        match msg.kind {
            Kind::Write => {
                let room = msg.tag.min(rooms - 1) as usize;
                self.published += 1;
                self.seq[room] = self.seq[room].wrapping_add(1);
                ctx.send(from, Msg { kind: Kind::Response, value: self.seq[room], ..msg });
                if self.broadcast {
                    for i in 0..self.gateways.len() {
                        ctx.send(self.gateways[i], Msg { key: 0, ..msg });
                    }
                }
            }
            Kind::Call if msg.tag == POLL => {
                let room = msg.value.min(rooms - 1) as usize;
                ctx.send(from, Msg { tag: POLLED, value: self.seq[room], ..msg });
            }
            _ => {}
        }
    }

    fn view(&self) -> NodeView {
        NodeView { completed: self.published, note: format!("{} published", self.published), ..NodeView::default() }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

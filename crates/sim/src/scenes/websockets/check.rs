//! The invariant, from the trace: with heartbeats on, no connection outlives its client.
//! A connection is open from the gateway's `ACCEPT` (or from the start, for those made
//! before the run) until the gateway closes it (`CLOSE`), the device closes it, or the
//! gateway dies (its connections are reset) or comes back empty (`FRESH`). It is alive
//! while its device is heard on it: a heartbeat answer, a message, the handshake. A
//! gateway that pings with a heartbeat proves it is running its sweep; by then every
//! connection of its own silent for more than two intervals must be closed.

use super::nodes::{ACCEPT, CLOSE, FRESH};
use crate::check::Checker;
use crate::idmap::IdMap;
use crate::msg::{Kind, NodeId};
use crate::time::{Micros, format_duration};
use crate::trace::Record;
use std::collections::VecDeque;

pub struct NoLeaks {
    name: &'static str,
    devices: NodeId,
    gateways: Vec<NodeId>,
    heartbeat_us: Micros,
    /// Open connections: their gateway's index and when the device was last heard.
    open: IdMap<(usize, Micros)>,
    /// Per gateway, signs of life in the order seen: (when, connection).
    heard: Vec<VecDeque<(Micros, u64)>>,
}

/// What the sweep may lag behind: network delay of the last answer and a ping's own.
const SLACK_US: Micros = 1_000;

impl NoLeaks {
    pub fn new(name: &'static str, devices: NodeId, gateways: Vec<NodeId>, heartbeat_us: Micros, initial: impl Iterator<Item = (usize, u64)>) -> Self {
        let mut c = NoLeaks { name, devices, heartbeat_us, open: IdMap::default(), heard: vec![VecDeque::new(); gateways.len()], gateways };
        for (g, conn) in initial {
            c.alive(g, conn, 0);
        }
        c
    }

    fn alive(&mut self, g: usize, conn: u64, at: Micros) {
        self.open.insert(conn, (g, at));
        self.heard[g].push_back((at, conn));
    }

    fn heard_from(&mut self, conn: u64, at: Micros) {
        if let Some(&(g, last)) = self.open.get(&conn)
            && at > last
        {
            self.alive(g, conn, at);
        }
    }

    fn close(&mut self, conn: u64) {
        self.open.remove(&conn);
    }

    fn close_all(&mut self, g: usize) {
        self.open.retain(|_, (gateway, _)| *gateway != g);
        self.heard[g].clear();
    }
}

impl Checker for NoLeaks {
    fn name(&self) -> &'static str {
        self.name
    }

    fn on_record(&mut self, r: &Record, violations: &mut Vec<String>) {
        match *r {
            Record::State { node, state, .. } if state == FRESH => {
                if let Some(g) = self.gateways.iter().position(|x| *x == node) {
                    self.close_all(g);
                }
            }
            // The gateway died: the kernel resets its connections.
            Record::Bounce { from, msg, .. } if msg.kind == Kind::Call && from != self.devices => {
                self.close(msg.key);
            }
            // What the device says counts once it arrives: then the gateway has heard it.
            Record::Send { t1, from, to, msg, .. } if from == self.devices => {
                if !self.gateways.contains(&to) {
                    return;
                }
                match msg.kind {
                    Kind::HealthReply | Kind::Request => self.heard_from(msg.key, t1),
                    Kind::Call if msg.tag == CLOSE => self.close(msg.key),
                    _ => {}
                }
            }
            // What the gateway does counts when it sends, arrived or lost on the way.
            _ => {
                let Some((t0, from, to, msg, _)) = r.message() else { return };
                let Some(g) = self.gateways.iter().position(|x| *x == from) else { return };
                if to != self.devices || matches!(r, Record::Bounce { .. }) {
                    return;
                }
                match msg.kind {
                    Kind::Call if msg.tag == ACCEPT => self.alive(g, msg.key, t0),
                    Kind::Call if msg.tag == CLOSE => self.close(msg.key),
                    Kind::HealthCheck => {
                        // The gateway sweeps: what was silent too long must be gone.
                        let limit = 2 * self.heartbeat_us + SLACK_US;
                        while let Some(&(at, conn)) = self.heard[g].front() {
                            if t0 <= at + limit {
                                break;
                            }
                            self.heard[g].pop_front();
                            if self.open.get(&conn) == Some(&(g, at)) {
                                self.open.remove(&conn);
                                violations.push(format!(
                                    "connection {conn} on gateway-{} outlived its client: last heard at {}, still open at {} (heartbeat {})",
                                    g + 1,
                                    format_duration(at),
                                    format_duration(t0),
                                    format_duration(self.heartbeat_us)
                                ));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{Msg, ReqId};
    use crate::time::US_PER_S;

    const D: NodeId = 0;
    const G: NodeId = 1;
    const HB: Micros = 10 * US_PER_S;

    fn send(t: Micros, from: NodeId, to: NodeId, kind: Kind, tag: u32, conn: u64) -> Record {
        Record::Send { t0: t, t1: t + 1_000, from, to, msg: Msg { kind, req: ReqId(0), key: conn, tag, value: 0 } }
    }
    fn ping(t: Micros, conn: u64) -> Record {
        send(t, G, D, Kind::HealthCheck, 0, conn)
    }
    fn pong(t: Micros, conn: u64) -> Record {
        send(t, D, G, Kind::HealthReply, 0, conn)
    }

    fn check(history: &[Record]) -> Vec<String> {
        let mut c = NoLeaks::new("leaks", D, vec![G], HB, [(0, 7)].into_iter());
        let mut v = Vec::new();
        history.iter().for_each(|r| c.on_record(r, &mut v));
        v
    }

    #[test]
    fn answered_or_closed_connections_are_not_leaks() {
        let s = US_PER_S;
        // Connection 7 answers every ping; 8 is accepted, goes silent, and is closed in time.
        let good = [
            send(s, G, D, Kind::Call, ACCEPT, 8),
            ping(10 * s, 7),
            pong(10 * s, 7),
            ping(10 * s, 8),
            ping(20 * s, 7),
            pong(20 * s, 7),
            ping(20 * s, 8),
            send(30 * s, G, D, Kind::Call, CLOSE, 8),
            ping(30 * s, 7),
            pong(30 * s, 7),
            ping(40 * s, 7),
        ];
        assert!(check(&good).is_empty(), "{:?}", check(&good));
        // The device closed 7 itself; the gateway died (its resets bounce); it came back empty.
        assert!(check(&[send(s, D, G, Kind::Call, CLOSE, 7), ping(60 * s, 99)]).is_empty());
        let reset = Record::Bounce { t0: s, t1: s, from: G, to: D, msg: Msg { kind: Kind::Call, req: ReqId(0), key: 7, tag: 1, value: 0 } };
        assert!(check(&[reset, ping(60 * s, 99)]).is_empty());
        assert!(check(&[Record::State { t: s, node: G, state: FRESH }, ping(60 * s, 99)]).is_empty());
    }

    #[test]
    fn a_silent_connection_still_open_at_a_later_sweep_is_a_leak() {
        let s = US_PER_S;
        // 7 was last heard at 0 (made before the run); the gateway sweeps at 30 s and keeps it.
        let v = check(&[ping(10 * s, 7), ping(20 * s, 7), ping(30 * s, 7)]);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].contains("connection 7 on gateway-1 outlived its client: last heard at 0"), "{v:?}");
        // A lost answer is no sign of life: the same.
        let lost = Record::Drop { t: 10 * s, from: D, to: G, msg: Msg { kind: Kind::HealthReply, req: ReqId(0), key: 7, tag: 0, value: 0 }, why: crate::trace::DropReason::Loss };
        assert_eq!(check(&[ping(10 * s, 7), lost, ping(20 * s, 7), ping(30 * s, 7)]).len(), 1);
        // Silent for exactly two intervals is not yet overdue.
        assert!(check(&[ping(10 * s, 7), ping(20 * s, 7)]).is_empty());
    }
}

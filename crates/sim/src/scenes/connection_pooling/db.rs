//! The database of the connection-pooling scene: a connection limit, a cost to open a
//! connection, and queries run on the connections it knows (a restart forgets them all).

use super::{CLOSE, CONNECT, OP, PING, QUERY};
use crate::component::{Component, Ctx, NodeView};
use crate::components::slab::Slab;
use crate::dist::Dist;
use crate::idmap::IdSet;
use crate::msg::{Kind, Msg, NodeId};
use std::any::Any;

/// The database: accepts up to `max` connections (a connection takes a slot from the
/// moment it is asked for), runs each connection's query, and forgets them all when it
/// restarts.
pub struct Db {
    pub(super) max: usize,
    pub(super) connect_cost: Dist,
    pub(super) query_time: Dist,
    /// Connections it holds, as (app << 32 | connection).
    pub(super) open: IdSet,
    /// Connections being opened and queries under way, answered when their timer fires.
    pub(super) ops: Slab<(NodeId, Msg)>,
    pub open_max: usize,
    pub refusals: u64,
    pub restarts: u64,
}

impl Db {
    /// The `restart-db` action: what is under way is aborted; every connection is forgotten.
    pub fn restart(&mut self, ctx: &mut Ctx) {
        self.ops.drain(|(to, m)| ctx.send(to, m.reply(Kind::Reject)));
        self.open.clear();
        self.restarts += 1;
    }
}

impl Component for Db {
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        let id = u64::from(from) << 32 | (msg.key & 0xFFFF_FFFF);
        match msg.key & OP {
            CONNECT if self.open.len() >= self.max => {
                self.refusals += 1;
                ctx.send(from, msg.reply(Kind::Reject));
            }
            CONNECT => {
                self.open.insert(id);
                self.open_max = self.open_max.max(self.open.len());
                let us = self.connect_cost.sample(ctx.rng);
                let op = self.ops.insert((from, msg));
                ctx.set_timer(us, op);
            }
            PING => ctx.send(from, msg.reply(if self.open.contains(&id) { Kind::Response } else { Kind::Error })),
            QUERY if self.open.contains(&id) => {
                let raw = self.query_time.sample(ctx.rng);
                let us = ctx.work(raw);
                let op = self.ops.insert((from, msg));
                ctx.set_timer(us, op);
            }
            QUERY => ctx.send(from, msg.reply(Kind::Error)),
            CLOSE => {
                self.open.remove(&id);
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, token: u64) {
        if let Some((to, msg)) = self.ops.remove(token) {
            // A connection closed while it was being opened is not answered.
            let id = u64::from(to) << 32 | (msg.key & 0xFFFF_FFFF);
            if msg.key & OP != CONNECT || self.open.contains(&id) {
                ctx.send(to, msg.reply(Kind::Response));
            }
        }
    }

    fn on_crash(&mut self, held: &mut Vec<(NodeId, Msg)>) {
        self.ops.drain(|x| held.push(x));
        self.open.clear();
    }

    fn view(&self) -> NodeView {
        NodeView {
            fill: Some(self.open.len() as f64 / self.max as f64),
            note: format!("{}/{} open", self.open.len(), self.max),
            busy: self.ops.len() as u32,
            ..NodeView::default()
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}


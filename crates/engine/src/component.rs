//! The interface every node implements: a sans-IO state machine. A handler gets the
//! event and a `Ctx`, through which it sends and sets timers; it performs no IO
//! and reads no clock but `ctx.now()`.

use crate::knob::Value;
use crate::ledger::Outcome;
use crate::msg::{Msg, NodeId, ReqId};
use crate::rng::Rng;
use crate::time::Micros;
use crate::world_core::Core;
use std::any::Any;

/// What a handler may do. Owned by the world; lent to one handler at a time. What it
/// asks for takes effect at once, in the order asked: a message is on the wire, a timer
/// set, a request ended, when the call returns.
pub struct Ctx<'a> {
    pub(crate) me: NodeId,
    pub(crate) slow: f64,
    pub(crate) epoch: u32,
    pub rng: &'a mut Rng,
    pub(crate) core: &'a mut Core,
}

impl Ctx<'_> {
    #[inline]
    pub fn now(&self) -> Micros {
        self.core.now
    }
    #[inline]
    pub fn me(&self) -> NodeId {
        self.me
    }
    /// (Inlined into every handler, in the wasm too: called, the message went through
    /// memory, written a field at a time and read back in wider chunks, which stalled;
    /// inlined, it goes to `send_fields` in registers, and the wasm is smaller.)
    #[inline(always)]
    pub fn send(&mut self, to: NodeId, msg: Msg) {
        self.core.send(self.me, to, msg);
    }
    /// `msg` leaves for `to` and is lost on the way: a component that models a lossy link
    /// of its own (responses lost on their way back, say) decides the loss, and the trace
    /// records it as the network's.
    pub fn lose(&mut self, to: NodeId, msg: Msg) {
        let now = self.core.now;
        self.core.emit_rare(crate::trace::Record::Drop { t: now, from: self.me, to, msg, why: crate::trace::DropReason::Loss });
    }
    /// Calls `on_timer(token)` after `delay_us`, unless this node dies first.
    #[inline]
    pub fn set_timer(&mut self, delay_us: Micros, token: u64) {
        self.core.set_timer(self.me, self.epoch, delay_us, token);
    }
    /// A duration of work on this node, stretched by its `slow` fault.
    #[inline]
    pub fn work(&self, us: Micros) -> Micros {
        if self.slow == 1.0 { us } else { (us as f64 * self.slow).round() as Micros }
    }
    /// A new request, or `None` once the workload's limit is reached.
    pub fn open_request(&mut self) -> Option<ReqId> {
        self.core.open_request()
    }
    #[inline(always)]
    pub fn is_open(&self, req: ReqId) -> bool {
        self.core.ledger.is_open(req)
    }
    /// Ends `req` one way; ending a request twice is recorded as an accounting violation.
    pub fn end_request(&mut self, req: ReqId, outcome: Outcome) {
        self.core.end_request(req, outcome);
    }
    /// Announces this node's own state (e.g. a breaker opening) to the trace.
    pub fn set_state(&mut self, state: u8) {
        self.core.emit_rare(crate::trace::Record::State { t: self.core.now, node: self.me, state });
    }
}

/// What a renderer shows of a node, and what hovering it tells.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeView {
    /// Requests waiting.
    pub queue: u32,
    /// Requests being worked on.
    pub busy: u32,
    /// Workers (0 when the idea does not apply).
    pub workers: u32,
    /// A word for the node's own state: `closed`, `open`, `half-open`, ...; empty if none.
    pub state: &'static str,
    /// How the state word reads: good, a warning, bad, or neutral.
    pub tone: Tone,
    /// A fill level from 0 to 1 (a cache's fill, a bucket's tokens), drawn as a gauge.
    pub fill: Option<f64>,
    /// A short line of the node's own (a key range, a version held); empty if none.
    pub note: String,
    /// The key space drawn as a ring around the node (a router's placement of keys):
    /// equal arcs in order round the ring, each with the node that holds it and whether
    /// it moved at the last resize. Empty for nodes that place no keys.
    pub ring: Vec<(NodeId, bool)>,
    pub completed: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tone {
    #[default]
    Neutral,
    Good,
    Warn,
    Bad,
}

pub trait Component: Any {
    fn on_start(&mut self, _ctx: &mut Ctx) {}
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg);
    fn on_timer(&mut self, _ctx: &mut Ctx, _token: u64) {}
    /// The network refused `msg`, sent to `to` (its process is dead): connection refused.
    fn on_bounce(&mut self, _ctx: &mut Ctx, _to: NodeId, _msg: Msg) {}
    /// The process dies (or freezes): forget all state. Push into `held` what peers sent
    /// and are waiting on, so that a kill can reset their connections.
    fn on_crash(&mut self, _held: &mut Vec<(NodeId, Msg)>) {}
    fn on_revive(&mut self, ctx: &mut Ctx) {
        self.on_start(ctx);
    }
    /// A live knob changed (a schedule entry `set KNOB=VALUE`); every node hears it, and
    /// a component takes the knobs it owns. The value is valid for the knob.
    fn on_set(&mut self, _ctx: &mut Ctx, _knob: &str, _value: &Value) {}
    fn view(&self) -> NodeView {
        NodeView::default()
    }
    /// In words, the state this component announced as `code` (`Ctx::set_state`), for
    /// the event log: "breaker open", "keys placed anew".
    fn describe_state(&self, code: u8) -> String {
        format!("state {code}")
    }
    fn as_any(&self) -> &dyn Any;
}

//! The schedule's side of the world: entries (faults, knob changes, the scene's actions)
//! are checked when scheduled, and played at their instant as events of the queue.

use super::{NO_SIDE, World};
use crate::error::{Error, Result};
use crate::fault::{Fault, ScheduledFault};
use crate::knob::Value;
use crate::msg::NodeId;
use crate::queue::EventKind;
use crate::trace::Record;

impl World {
    /// Adds an entry to the schedule; one in the past happens now. A fault's nodes must
    /// exist, and the clients are the workload, not part of the cluster: they can be
    /// partitioned off, not killed. A `set` must name a live knob and a valid value; an
    /// action must be one of the scene's.
    pub fn schedule_fault(&mut self, f: ScheduledFault) -> Result<()> {
        crate::scene::check_entry(&f, self.params.specs(), self.actions)?;
        if let (Fault::Action(name, arg), Some(p)) = (&f.fault, &self.probe) {
            p.check_action(self, name, arg.as_deref()).map_err(|e| Error::new(format!("'{f}': {}", e.0)))?;
        }
        for name in f.fault.nodes() {
            let id = self.node_id(name).map_err(|e| Error::new(format!("fault '{f}': {e}")))?;
            let on_node = !matches!(f.fault, Fault::Partition(_) | Fault::Heal);
            if on_node && self.nodes[id as usize].role == "client" {
                return Err(Error::new(format!("fault '{f}': '{name}' is the workload, not a node that can fail")));
            }
        }
        let at = f.at_us.max(self.core.now);
        self.core.queue.push_rare(at, EventKind::Fault(self.faults.len() as u32));
        self.faults.push(f);
        Ok(())
    }

    /// Plays scheduled entry `i` at its instant.
    pub(super) fn apply_fault(&mut self, i: usize) {
        let fault = self.faults[i].fault.clone();
        let id = |w: &World, name: &str| w.node_id(name).expect("validated when scheduled") as usize;
        match &fault {
            Fault::Kill(name) | Fault::Hang(name) => {
                let n = id(self, name);
                if self.nodes[n].up() {
                    let node = &mut self.nodes[n];
                    node.epoch += 1;
                    self.held.clear();
                    node.comp.on_crash(&mut self.held);
                    if matches!(fault, Fault::Kill(_)) {
                        node.alive = false;
                        self.core.first_kill_at.get_or_insert(self.core.now);
                        for (peer, msg) in std::mem::take(&mut self.held) {
                            if self.nodes[peer as usize].alive {
                                self.core.bounce(n as NodeId, peer, msg);
                            }
                        }
                    } else {
                        node.hung = true;
                    }
                }
            }
            Fault::Revive(name) => {
                let n = id(self, name);
                let node = &mut self.nodes[n];
                node.slow = 1.0;
                if !node.up() {
                    node.alive = true;
                    node.hung = false;
                    self.dispatch(n as NodeId, |c, ctx| c.on_revive(ctx));
                }
            }
            Fault::Slow(name, factor) => {
                let n = id(self, name);
                self.nodes[n].slow = *factor;
            }
            Fault::Partition(groups) => {
                self.core.sides.fill(NO_SIDE);
                self.core.partitioned = true;
                for (g, names) in groups.iter().enumerate() {
                    for name in names {
                        let n = id(self, name);
                        self.core.sides[n] = g as u8;
                    }
                }
            }
            Fault::Heal => {
                self.core.sides.fill(NO_SIDE);
                self.core.partitioned = false;
            }
            Fault::Set(knob, text) => self.set_knob(knob, text),
            Fault::Action(name, arg) => {
                // Checked again at its instant: entries scheduled earlier may have changed
                // the world since (the shard to remove was removed already); such an
                // action does nothing.
                let mut probe = self.probe.take().expect("the scene is built");
                if probe.check_action(self, name, arg.as_deref()).is_ok() {
                    probe.on_action(self, name, arg.as_deref());
                }
                self.probe = Some(probe);
            }
        }
        self.core.emit_rare(Record::Fault { t: self.core.now, index: i as u32 });
    }

    /// A live knob's new value: the network's own knobs change here, and every node
    /// hears the change (each component takes the knobs it owns).
    fn set_knob(&mut self, knob: &str, text: &str) {
        self.params.set(knob, text).expect("validated when scheduled");
        let value: Value = self.params.get(knob).clone();
        match knob {
            "net_latency" => self.core.hop_latency = self.params.dist("net_latency"),
            "loss" => self.core.loss = self.params.float("loss"),
            _ => {}
        }
        for id in 0..self.nodes.len() as NodeId {
            self.dispatch(id, |c, ctx| c.on_set(ctx, knob, &value));
        }
    }
}

//! The event log: what happens in a run, in words, as it happens: faults, knob changes and
//! actions as they take effect, components' state changes (a breaker opening, keys placed
//! anew), invariant violations. The page lists it beside the stage and announces it to
//! screen readers; the CLI prints it (`--log`). Bounded: it keeps the newest entries and
//! counts the ones it let go.

use crate::fault::Fault;
use crate::msg::NodeId;
use crate::trace::Record;
use crate::world::World;
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogKind {
    /// A node killed, hung, slowed or revived; a partition or its healing.
    Fault,
    /// A knob changed while the run plays.
    Knob,
    /// One of the scene's own actions (a shard added, a cache flushed).
    Action,
    /// A component's own state changed.
    State,
    /// An invariant failed.
    Violation,
}

impl LogKind {
    pub const ALL: [LogKind; 5] = [LogKind::Fault, LogKind::Knob, LogKind::Action, LogKind::State, LogKind::Violation];
    pub fn name(self) -> &'static str {
        match self {
            LogKind::Fault => "fault",
            LogKind::Knob => "knob",
            LogKind::Action => "action",
            LogKind::State => "state",
            LogKind::Violation => "violation",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct LogEntry {
    pub t_us: u64,
    /// The node it is about, when it is about one.
    pub node: Option<NodeId>,
    pub kind: LogKind,
    pub text: String,
}

impl LogEntry {
    /// One line: virtual time, kind, words.
    pub fn line(&self) -> String {
        format!("{:>9}s  {:<9}  {}", crate::num::Fixed(self.t_us as f64 / 1e6, 3), self.kind.name(), self.text)
    }
}

pub struct EventLog {
    entries: VecDeque<LogEntry>,
    capacity: usize,
    /// Entries let go to stay within `capacity`.
    pub dropped: u64,
    /// Violations already logged (of the world's count).
    violations_seen: u64,
}

impl EventLog {
    pub fn new(capacity: usize) -> Self {
        EventLog { entries: VecDeque::new(), capacity: capacity.max(1), dropped: 0, violations_seen: 0 }
    }

    pub fn entries(&self) -> impl DoubleEndedIterator<Item = &LogEntry> {
        self.entries.iter()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn push(&mut self, e: LogEntry) {
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(e);
    }

    /// Logs what trace record `r` of `world` says in words, if it says anything a reader
    /// follows (messages are the stage's, not the log's).
    pub fn record(&mut self, world: &World, r: &Record) {
        let entry = match *r {
            Record::Fault { t, index } => {
                let fault = &world.faults()[index as usize].fault;
                let kind = match fault {
                    Fault::Set(..) => LogKind::Knob,
                    Fault::Action(..) => LogKind::Action,
                    _ => LogKind::Fault,
                };
                let node = fault.nodes().first().and_then(|n| world.node_id(n).ok());
                LogEntry { t_us: t, node, kind, text: fault.to_string() }
            }
            Record::State { t, node, state } => {
                let n = &world.nodes()[node as usize];
                LogEntry { t_us: t, node: Some(node), kind: LogKind::State, text: format!("{}: {}", n.name, n.describe_state(state)) }
            }
            _ => return,
        };
        let cause = entry.kind != LogKind::State;
        self.push(entry);
        // The trace records a fault once it has taken effect, after the state changes it
        // caused at the same instant: the log tells the cause first.
        if cause {
            let n = self.entries.len();
            let t = self.entries[n - 1].t_us;
            let mut at = n - 1;
            while at > 0 && self.entries[at - 1].t_us == t && self.entries[at - 1].kind == LogKind::State {
                self.entries.swap(at - 1, at);
                at -= 1;
            }
        }
    }

    /// Logs the invariant violations found since the last call.
    pub fn check_violations(&mut self, world: &World) {
        let (kept, count, _) = world.violations();
        let seen = self.violations_seen;
        for v in kept.iter().skip(seen as usize) {
            self.push(LogEntry { t_us: v.at_us, node: None, kind: LogKind::Violation, text: format!("invariant violated: {}: {}", v.invariant, v.detail) });
        }
        let beyond = count.saturating_sub(seen.max(kept.len() as u64));
        if beyond > 0 {
            self.push(LogEntry { t_us: world.now(), node: None, kind: LogKind::Violation, text: format!("{beyond} more violations (only the first {} are kept)", kept.len()) });
        }
        self.violations_seen = count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::RingSink;
    use crate::{Limit, RunSpec, Sim};

    fn logged(spec: &RunSpec, capacity: usize) -> EventLog {
        let mut sim = Sim::new(spec).unwrap();
        *sim.world.ring_mut() = Some(RingSink::new(1 << 20));
        sim.run();
        let mut log = EventLog::new(capacity);
        let records: Vec<Record> = sim.world.ring_mut().as_mut().unwrap().iter().copied().collect();
        for r in &records {
            log.record(&sim.world, r);
        }
        log.check_violations(&sim.world);
        log
    }

    #[test]
    fn faults_knobs_and_state_changes_read_as_words() {
        let spec = RunSpec::new("circuit-breaker").fault("2s hang b").fault("9s revive b").fault("4s set arrival_rate=300").limit(Limit::Until(20_000_000));
        let log = logged(&spec, 100);
        let lines: Vec<String> = log.entries().map(LogEntry::line).collect();
        let has = |kind: LogKind, text: &str| log.entries().any(|e| e.kind == kind && e.text.contains(text));
        assert!(has(LogKind::Fault, "hang b") && has(LogKind::Fault, "revive b"), "{lines:#?}");
        assert!(has(LogKind::Knob, "set arrival_rate=300"), "{lines:#?}");
        assert!(has(LogKind::State, "a: breaker open") && has(LogKind::State, "a: breaker half-open") && has(LogKind::State, "a: breaker closed"), "{lines:#?}");
        let hang = log.entries().find(|e| e.text == "hang b").unwrap();
        assert_eq!((hang.t_us, hang.node.is_some()), (2_000_000, true));
        assert!(log.entries().zip(log.entries().skip(1)).all(|(a, b)| a.t_us <= b.t_us), "in time order");
    }

    /// An action that changes a component's state at its instant is told before the change.
    #[test]
    fn the_cause_comes_before_its_effect() {
        let log = logged(&RunSpec::new("sharding").fault("5s add-shard").limit(Limit::Until(10_000_000)), 100);
        let lines: Vec<String> = log.entries().map(LogEntry::line).collect();
        let action = log.entries().position(|e| e.kind == LogKind::Action).expect("logged");
        let state = log.entries().position(|e| e.kind == LogKind::State && e.text.contains("placed anew over 5")).expect("logged");
        assert!(action < state, "{lines:#?}");
    }

    #[test]
    fn it_keeps_the_newest_and_counts_what_it_let_go() {
        let spec = RunSpec::new("circuit-breaker").fault("2s hang b").limit(Limit::Until(60_000_000));
        let all = logged(&spec, 10_000);
        let few = logged(&spec, 3);
        assert!(all.len() > 5);
        assert_eq!(few.len(), 3);
        assert_eq!(few.dropped as usize, all.len() - 3);
        assert_eq!(few.entries().last(), all.entries().last());
    }
}

//! The world's Core: the part of the world a handler acts on through its `Ctx` (the clock,
//! the event queue, the network, the ledger, the trace with its checkers and sinks), and
//! what an action does to it: a send, a timer, a request's end, a trace record.

use crate::check::{RunEnd, VIOLATIONS_KEPT, Violation, Watch};
use crate::dist::Dist;
use crate::histogram::Histogram;
use crate::knob::Params;
use crate::ledger::{Ledger, Outcome};
use crate::msg::{Msg, NodeId, ReqId};
use crate::queue::{EventKind, EventQueue};
use crate::rng::Rng;
use crate::time::Micros;
use crate::trace::{DropReason, HashSink, Record, RingSink, TraceSink, sampled};
use crate::world::{Limit, split};

/// The part of the world a handler's actions reach: the clock, the event queue, the
/// network, the request ledger and the trace with its checkers and sinks. Everything
/// but the components, so that a handler can act through it while its node is borrowed.
pub struct Core {
    pub(crate) now: Micros,
    pub(crate) queue: EventQueue,
    pub(crate) ledger: Ledger,
    pub(crate) hop_latency: Dist,
    pub(crate) loss: f64,
    /// The network's own randomness (delays, losses): a handler's draws and the
    /// network's never depend on which comes first.
    pub(crate) net_rng: Rng,
    /// By node: its partition side (`NO_SIDE` when no partition separates it).
    pub(crate) sides: Vec<u8>,
    /// Whether a partition is in force: without one, a send looks up no sides.
    pub(crate) partitioned: bool,
    /// Arrivals are open while fewer requests than `.0` were sent and the clock is below
    /// `.1`: the limit as two bounds, one of them always out of reach.
    pub(crate) open_below: (u64, Micros),
    /// When the last request the limit allows was opened.
    pub(crate) arrivals_closed_at: Option<Micros>,
    pub(crate) checkers: Vec<Box<dyn Watch>>,
    /// Records not yet seen by the checkers and the sinks (`flush`): the first `traced`
    /// of `trace`, whose `TRACE_BATCH` slots are there to be written over.
    pub(crate) trace: Vec<Record>,
    pub(crate) traced: usize,
    pub(crate) found: Vec<String>,
    pub(crate) violations: Vec<Violation>,
    pub(crate) violation_count: u64,
    pub(crate) violations_by_name: std::collections::BTreeMap<&'static str, u64>,
    pub(crate) checks: u64,
    pub(crate) first_kill_at: Option<Micros>,
    pub(crate) errors_after_kill: u64,
    /// Latency of every completed request.
    pub(crate) latency: Histogram,
    /// Latency of every request that ended otherwise than completed.
    pub(crate) fail_latency: Histogram,
    /// Latency and outcomes since the last `take_window`, for time series.
    pub(crate) window_latency: Histogram,
    pub(crate) window_fail_latency: Histogram,
    pub(crate) window_outcomes: [u64; 4],
    pub(crate) hash: Option<HashSink>,
    pub(crate) ring: Option<RingSink>,
    pub(crate) sample_every: u32,
}

impl Core {
    pub(crate) fn new(seed: u64, params: &Params, limit: Limit) -> Core {
        Core {
            now: 0,
            queue: EventQueue::default(),
            ledger: Ledger::default(),
            hop_latency: params.dist("net_latency"),
            loss: params.float("loss"),
            net_rng: Rng::new(seed, "network"),
            open_below: match limit {
                Limit::Requests(n) => (n, Micros::MAX),
                Limit::Until(t) => (u64::MAX, t),
                Limit::Forever => (u64::MAX, Micros::MAX),
            },
            arrivals_closed_at: None,
            sides: Vec::new(),
            partitioned: false,
            checkers: Vec::new(),
            trace: vec![SLOT_FILLER; TRACE_BATCH],
            traced: 0,
            found: Vec::new(),
            violations: Vec::new(),
            violation_count: 0,
            violations_by_name: Default::default(),
            checks: 0,
            first_kill_at: None,
            errors_after_kill: 0,
            latency: Histogram::new(),
            fail_latency: Histogram::new(),
            window_latency: Histogram::new(),
            window_fail_latency: Histogram::new(),
            window_outcomes: [0; 4],
            hash: None,
            ring: None,
            sample_every: 1,
        }
    }

    /// A message leaves `from` for `to` now: lost to a partition or to chance, or on the
    /// wire until the network's delay has passed.
    #[inline(always)]
    pub(crate) fn send(&mut self, from: NodeId, to: NodeId, msg: Msg) {
        let Msg { kind, req, key, tag, value } = msg;
        self.send_fields(from, to, kind, req, key, u64::from(tag) | u64::from(value) << 32);
    }

    /// `send` with the message in registers, field by field. A handler has just written
    /// the message it sends, a field at a time; read back whole from memory, in other
    /// chunks than were written, it stalled the CPU on every send. (Inlined natively;
    /// out of line in the wasm, for size.)
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn send_fields(&mut self, from: NodeId, to: NodeId, kind: crate::msg::Kind, req: ReqId, key: u64, tag_value: u64) {
        let msg = Msg { kind, req, key, tag: tag_value as u32, value: (tag_value >> 32) as u32 };
        let now = self.now;
        if self.partitioned && split(self.sides[from as usize], self.sides[to as usize]) {
            self.emit_rare(Record::Drop { t: now, from, to, msg, why: DropReason::Partition });
        } else if self.loss > 0.0 && self.net_rng.chance(self.loss) {
            self.emit_rare(Record::Drop { t: now, from, to, msg, why: DropReason::Loss });
        } else {
            let t1 = now + self.hop_latency.sample(&mut self.net_rng);
            self.queue.push_in_order(t1, EventKind::Deliver { from, to, msg });
            self.emit(Record::Send { t0: now, t1, from, to, msg });
        }
    }

    #[inline]
    pub(crate) fn arrivals_open(&self) -> bool {
        self.ledger.sent() < self.open_below.0 && self.now < self.open_below.1
    }

    /// A new request, or `None` once the workload's limit is reached.
    pub(crate) fn open_request(&mut self) -> Option<ReqId> {
        if !self.arrivals_open() {
            return None;
        }
        let req = self.ledger.open(self.now);
        if !self.arrivals_open() {
            self.arrivals_closed_at = Some(self.now);
        }
        Some(req)
    }

    /// `msg` was sent to `dead`, whose process is gone: `to` hears so one hop later.
    pub(crate) fn bounce(&mut self, dead: NodeId, to: NodeId, msg: Msg) {
        let t1 = self.now + self.hop_latency.sample(&mut self.net_rng);
        self.queue.push_rare(t1, EventKind::Bounce { dead, to, msg });
        self.emit_rare(Record::Bounce { t0: self.now, t1, from: dead, to, msg });
    }

    #[inline]
    pub(crate) fn set_timer(&mut self, node: NodeId, epoch: u32, delay_us: Micros, token: u64) {
        self.queue.push(self.now + delay_us, EventKind::Timer { node, epoch, token });
    }

    pub(crate) fn end_request(&mut self, req: ReqId, outcome: Outcome) {
        self.checks += 1;
        let Some((latency_us, balanced)) = self.ledger.end(req, outcome, self.now) else {
            let detail = format!("request {:?} ended twice (second end: {})", req, outcome.name());
            self.flush();
            self.violation("accounting", self.now, detail);
            return;
        };
        if !balanced {
            self.flush();
            self.violation("accounting", self.now, format!("sent != ended + in flight: {:?}", self.ledger.counts()));
        }
        if outcome == Outcome::Completed {
            self.latency.record(latency_us);
            self.window_latency.record(latency_us);
        } else {
            self.fail_latency.record(latency_us);
            self.window_fail_latency.record(latency_us);
        }
        self.window_outcomes[outcome as usize] += 1;
        if outcome != Outcome::Completed && self.first_kill_at.is_some() {
            self.errors_after_kill += 1;
        }
        self.emit(Record::End { t: self.now, req, outcome, latency_us });
    }

    pub(crate) fn violation(&mut self, invariant: &'static str, at_us: Micros, detail: String) {
        self.violation_count += 1;
        *self.violations_by_name.entry(invariant).or_default() += 1;
        if self.violations.len() < VIOLATIONS_KEPT {
            self.violations.push(Violation { invariant, at_us, detail });
        }
    }

    /// `emit` for the records of rare events (drops, bounces, states, faults): the
    /// record's fields are copied, once, but the code that writes them is not repeated at
    /// every place one is made.
    #[inline(never)]
    pub(crate) fn emit_rare(&mut self, r: Record) {
        self.emit(r);
    }

    /// A record of what happened now. The checkers and sinks see it at the next `flush`,
    /// in a batch: the world flushes before anyone outside it can look.
    #[inline(always)]
    pub(crate) fn emit(&mut self, r: Record) {
        // Written in its slot, in place. Pushed, it was put together on the stack and
        // copied from there in other chunks than were written, which stalls the CPU; the
        // wasm built for size did so on every record.
        let i = self.traced;
        self.trace.as_mut_slice()[i] = r;
        self.traced = i + 1;
        if self.traced == TRACE_BATCH {
            self.flush();
        }
    }

    /// Hands the records emitted since the last flush to the checkers, then to the sinks.
    /// Violations are recorded in the order a record-by-record pass would find them: by
    /// record, then by checker.
    pub(crate) fn flush(&mut self) {
        if self.traced == 0 {
            return;
        }
        let mut records = std::mem::take(&mut self.trace);
        let n = std::mem::take(&mut self.traced);
        let mut found = std::mem::take(&mut self.found);
        // (record, checker, order found, detail), only when something was found.
        let mut all: Vec<(usize, usize, usize, String)> = Vec::new();
        for i in 0..self.checkers.len() {
            self.checks += n as u64;
            let mut seen = 0;
            while seen < n {
                seen += self.checkers[i].on_records(&records[seen..n], &mut found);
                while let Some(detail) = found.pop() {
                    all.push((seen - 1, i, all.len(), detail));
                }
            }
        }
        self.found = found;
        crate::sort::sort_by_key(&mut all, |(r, i, k, _)| (*r, *i, *k));
        for (r, i, _, detail) in all {
            let name = self.checkers[i].name();
            self.violation(name, records[r].time(), detail);
        }
        if let Some(h) = &mut self.hash {
            for r in &records[..n] {
                h.record(r);
            }
        }
        if let Some(ring) = &mut self.ring {
            let every = self.sample_every;
            if every <= 1 {
                records = ring.take_batch(records, n);
            } else {
                for r in records[..n].iter().filter(|r| r.thread().is_none_or(|t| sampled(crate::msg::ReqId(t), every))) {
                    ring.record(r);
                }
            }
        }
        // The next records are written over these slots (the ones just seen, or those the
        // ring let go), so all TRACE_BATCH must exist: only a batch the ring has just
        // allocated lacks them, and gets them once.
        if records.len() < TRACE_BATCH {
            records.resize(TRACE_BATCH, SLOT_FILLER);
        }
        self.trace = records;
    }

    /// The end-of-run checks, once every record is seen.
    pub(crate) fn finish_checks(&mut self, end: &RunEnd) {
        self.flush();
        let mut found = Vec::new();
        for i in 0..self.checkers.len() {
            self.checks += 1;
            self.checkers[i].finish(end, &mut found);
            while let Some(detail) = found.pop() {
                let name = self.checkers[i].name();
                self.violation(name, self.now, detail);
            }
        }
    }
}

/// How many records wait for the checkers and sinks at most.
const TRACE_BATCH: usize = 256;
/// What a batch's slots hold before their first record.
const SLOT_FILLER: Record = Record::Fault { t: 0, index: 0 };

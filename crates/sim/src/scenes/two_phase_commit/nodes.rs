//! The coordinator and the participants of two-phase commit. A message's `key` is the
//! transaction's id, its `tag` the protocol step (below), its `value` the participant's
//! index where one speaks. Logs are durable: a crash loses timers and work under way,
//! never what a log holds.

use crate::component::{Component, Ctx, NodeView, Tone};
use crate::dist::Dist;
use crate::idmap::IdMap;
use crate::knob::Value;
use crate::msg::{Kind, Msg, NodeId, ReqId};
use crate::time::Micros;
use std::any::Any;
use std::collections::VecDeque;

pub const PREPARE: u32 = 1;
pub const YES: u32 = 2;
pub const NO: u32 = 3;
pub const COMMIT: u32 = 4;
pub const ABORT: u32 = 5;
/// A participant has applied the decision: committed, or aborted.
pub const DONE_COMMIT: u32 = 6;
pub const DONE_ABORT: u32 = 7;
/// A participant in doubt asks for the decision.
pub const STATUS: u32 = 8;
/// The coordinator's answer to a client: the transaction committed (a `Response`).
pub const COMMITTED: u32 = 9;

/// Timer tokens: the kind in the low two bits, a slab key above for work. Overdue votes,
/// unacknowledged commits and decisions in doubt are found by one sweep each `timeout`,
/// not a timer per transaction: a transaction is then overdue after one to two timeouts.
const SWEEP: u64 = 1;
const RECOVER: u64 = 2;
const WORK: u64 = 0;

fn token(kind: u64, id: u64) -> u64 {
    id << 2 | kind
}

/// A transaction in the coordinator's log.
struct Txn {
    req: ReqId,
    client: NodeId,
    /// Participants that voted yes, and (after a commit) that acknowledged it, by bit.
    yes: u32,
    acked: u32,
    commit: bool,
    /// When it began, or when its commit was last sent.
    since: Micros,
}

pub struct Coordinator {
    participants: Vec<NodeId>,
    all: u32,
    timeout: Micros,
    crash_point: usize,
    crash_at: Micros,
    crashed: bool,
    recovery: Micros,
    down: bool,
    /// The log: transactions begun and not yet finished (presumed abort: an abort is
    /// forgotten at once, a commit once every participant has acknowledged it).
    log: IdMap<Txn>,
    next: u64,
    pub committed: u64,
    pub aborted: u64,
    pub recoveries: u64,
}

impl Coordinator {
    pub fn new(participants: Vec<NodeId>, timeout: Micros, crash_point: usize, crash_at: Micros, recovery: Micros) -> Self {
        let all = (1u32 << participants.len()) - 1;
        Coordinator { participants, all, timeout, crash_point, crash_at, crashed: false, recovery, down: false, log: IdMap::default(), next: 0, committed: 0, aborted: 0, recoveries: 0 }
    }

    /// Whether to crash here, at crash point `point` (once).
    fn crash_here(&mut self, ctx: &mut Ctx, point: usize) -> bool {
        if self.crash_point != point || self.crashed || ctx.now() < self.crash_at {
            return false;
        }
        self.crashed = true;
        self.down = true;
        ctx.set_state(1);
        ctx.set_timer(self.recovery, token(RECOVER, 0));
        true
    }

    fn tell(&self, ctx: &mut Ctx, id: u64, txn: &Txn, to: usize, step: u32) {
        ctx.send(self.participants[to], Msg { kind: Kind::Call, req: txn.req, key: id, tag: step, value: to as u32 });
    }

    fn answer(ctx: &mut Ctx, id: u64, txn: &Txn) {
        if ctx.is_open(txn.req) {
            let kind = if txn.commit { Kind::Response } else { Kind::Error };
            ctx.send(txn.client, Msg { kind, req: txn.req, key: id, tag: if txn.commit { COMMITTED } else { ABORT }, value: 0 });
        }
    }

    /// Decides `id`: commit is written to the log before anyone hears it; an abort is
    /// told to everyone and forgotten.
    fn decide(&mut self, ctx: &mut Ctx, id: u64, commit: bool) {
        let Some(mut txn) = self.log.remove(&id) else { return };
        txn.commit = commit;
        if !commit {
            self.aborted += 1;
            for i in 0..self.participants.len() {
                self.tell(ctx, id, &txn, i, ABORT);
            }
            return Self::answer(ctx, id, &txn);
        }
        self.committed += 1;
        for i in 0..self.participants.len() {
            self.tell(ctx, id, &txn, i, COMMIT);
            if i == 0 && self.crash_here(ctx, 3) {
                self.log.insert(id, txn);
                return;
            }
        }
        Self::answer(ctx, id, &txn);
        txn.since = ctx.now();
        self.log.insert(id, txn);
    }

    /// Back from a crash: commits in the log are resent, the rest aborted (presumed abort).
    fn recover(&mut self, ctx: &mut Ctx) {
        let mut ids: Vec<u64> = self.log.keys().copied().collect();
        crate::sort::sort(&mut ids);
        for id in ids {
            if self.log[&id].commit {
                self.resend(ctx, id);
                Self::answer(ctx, id, &self.log[&id]);
            } else {
                self.decide(ctx, id, false);
            }
        }
    }

    fn resend(&mut self, ctx: &mut Ctx, id: u64) {
        let txn = &self.log[&id];
        for i in (0..self.participants.len()).filter(|i| txn.acked & (1 << i) == 0) {
            self.tell(ctx, id, txn, i, COMMIT);
        }
        self.log.get_mut(&id).expect("in the log").since = ctx.now();
    }

    /// Aborts what waited a timeout for its votes; resends commits a timeout unacknowledged.
    fn sweep(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        let mut due: Vec<u64> = self.log.iter().filter(|(_, t)| now - t.since >= self.timeout).map(|(&id, _)| id).collect();
        crate::sort::sort(&mut due);
        for id in due {
            if self.log[&id].commit { self.resend(ctx, id) } else { self.decide(ctx, id, false) }
        }
    }
}

impl Component for Coordinator {
    fn on_start(&mut self, ctx: &mut Ctx) {
        ctx.set_timer(self.timeout, token(SWEEP, 0));
        self.recover(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        if self.down {
            // A client's connection is refused; a participant's message is lost with the process.
            if msg.kind == Kind::Request {
                ctx.send(from, msg.reply(Kind::Error).with_tag(0));
            }
            return;
        }
        let id = msg.key;
        match msg.tag {
            _ if msg.kind == Kind::Request => {
                let id = self.next;
                self.next += 1;
                let txn = Txn { req: msg.req, client: from, yes: 0, acked: 0, commit: false, since: ctx.now() };
                if self.crash_here(ctx, 1) {
                    // It crashed with the transaction begun in its log: recovery aborts it.
                    self.log.insert(id, txn);
                    return;
                }
                for i in 0..self.participants.len() {
                    self.tell(ctx, id, &txn, i, PREPARE);
                }
                self.log.insert(id, txn);
                self.crash_here(ctx, 2);
            }
            YES => {
                let Some(txn) = self.log.get_mut(&id) else {
                    // Decided already: aborted (forgotten) tells the voter so.
                    return ctx.send(from, msg.reply(Kind::Call).with_tag(ABORT));
                };
                if txn.commit {
                    return ctx.send(from, msg.reply(Kind::Call).with_tag(COMMIT));
                }
                txn.yes |= 1 << msg.value;
                if txn.yes == self.all {
                    self.decide(ctx, id, true);
                }
            }
            NO if self.log.get(&id).is_some_and(|t| !t.commit) => self.decide(ctx, id, false),
            DONE_COMMIT | DONE_ABORT => {
                if let Some(txn) = self.log.get_mut(&id) {
                    txn.acked |= 1 << msg.value;
                    if txn.commit && txn.acked == self.all {
                        self.log.remove(&id);
                    }
                }
            }
            STATUS => match self.log.get(&id) {
                Some(txn) if txn.commit => ctx.send(from, msg.reply(Kind::Call).with_tag(COMMIT)),
                // Still collecting votes: the answer comes when it decides.
                Some(_) => {}
                // Not in the log: aborted (presumed abort).
                None => ctx.send(from, msg.reply(Kind::Call).with_tag(ABORT)),
            },
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, t: u64) {
        if t & 3 == RECOVER {
            self.down = false;
            self.recoveries += 1;
            ctx.set_state(2);
            return self.recover(ctx);
        }
        // The sweep goes on through a crash of its own, doing nothing while down.
        ctx.set_timer(self.timeout, token(SWEEP, 0));
        if !self.down {
            self.sweep(ctx);
        }
    }

    /// A participant is dead: a prepare it cannot receive is a no.
    fn on_bounce(&mut self, ctx: &mut Ctx, _to: NodeId, msg: Msg) {
        if !self.down && msg.tag == PREPARE && self.log.get(&msg.key).is_some_and(|t| !t.commit) {
            self.decide(ctx, msg.key, false);
        }
    }

    /// The log survives; so does the crash point's having fired.
    fn on_crash(&mut self, _held: &mut Vec<(NodeId, Msg)>) {}

    fn on_revive(&mut self, ctx: &mut Ctx) {
        self.down = false;
        self.recoveries += 1;
        self.on_start(ctx);
    }

    fn describe_state(&self, code: u8) -> String {
        if code == 1 { "coordinator crashed".into() } else { "coordinator recovered from its log".into() }
    }

    fn view(&self) -> NodeView {
        let committing = self.log.values().filter(|t| t.commit).count();
        NodeView {
            busy: self.log.len() as u32,
            state: if self.down { "crashed" } else { "" },
            tone: if self.down { Tone::Bad } else { Tone::Good },
            note: if committing > 0 { format!("{} in flight, {committing} committing", self.log.len()) } else { format!("{} in flight", self.log.len()) },
            completed: self.committed + self.aborted,
            ..NodeView::default()
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

pub struct Participant {
    index: u32,
    coordinator: NodeId,
    work: Dist,
    vote_no: f64,
    timeout: Micros,
    in_doubt: usize,
    crash_point: usize,
    crash_at: Micros,
    crashed: bool,
    recovery: Micros,
    down: bool,
    /// Prepares being worked on, by transaction (lost in a crash).
    working: IdMap<Msg>,
    /// The log: transactions voted yes and not yet decided, each holding a lock since
    /// then, with the request it serves and whether its decision is overdue.
    prepared: IdMap<(Micros, ReqId, bool)>,
    /// Aborts applied, kept a few timeouts to vote no on a prepare they overtook. Commits
    /// need no record: only a participant that voted yes hears commit, and one that voted
    /// yes and holds nothing any more has applied it.
    aborted: IdMap<()>,
    aborted_order: VecDeque<(Micros, u64)>,
    keep: Micros,
    /// Decisions taken alone, kept for good: they may contradict the coordinator's.
    alone: IdMap<bool>,
    pub locks_max: usize,
    /// The most locks held at once a timeout or more, waiting for a decision.
    pub blocked_locks_max: usize,
    pub blocked_max: Micros,
    pub in_doubt_us: f64,
    pub heuristic: u64,
}

impl Participant {
    #[allow(clippy::too_many_arguments)]
    pub fn new(index: u32, coordinator: NodeId, work: Dist, vote_no: f64, timeout: Micros, in_doubt: usize, crash_point: usize, crash_at: Micros, recovery: Micros) -> Self {
        Participant {
            index,
            coordinator,
            work,
            vote_no,
            timeout,
            in_doubt,
            crash_point,
            crash_at,
            crashed: false,
            recovery,
            down: false,
            working: IdMap::default(),
            prepared: IdMap::default(),
            aborted: IdMap::default(),
            aborted_order: VecDeque::new(),
            keep: 4 * timeout,
            alone: IdMap::default(),
            locks_max: 0,
            blocked_locks_max: 0,
            blocked_max: 0,
            in_doubt_us: 0.0,
            heuristic: 0,
        }
    }

    pub fn locks(&self) -> usize {
        self.prepared.len()
    }

    pub fn locks_older_than(&self, now: Micros, age: Micros) -> usize {
        self.prepared.values().filter(|(since, ..)| now - since > age).count()
    }

    pub fn oldest_wait(&self, now: Micros) -> Micros {
        self.prepared.values().map(|(since, ..)| now - since).max().unwrap_or(0)
    }

    fn crash_here(&mut self, ctx: &mut Ctx, point: usize) -> bool {
        if self.crash_point != point || self.crashed || ctx.now() < self.crash_at {
            return false;
        }
        self.crashed = true;
        self.down = true;
        self.working.clear();
        ctx.set_state(1);
        ctx.set_timer(self.recovery, token(RECOVER, 0));
        true
    }

    fn send(&self, ctx: &mut Ctx, req: ReqId, id: u64, step: u32) {
        ctx.send(self.coordinator, Msg { kind: Kind::Response, req, key: id, tag: step, value: self.index });
    }

    fn remember_abort(&mut self, now: Micros, id: u64) {
        while self.aborted_order.front().is_some_and(|(t, _)| *t + self.keep <= now) {
            let (_, old) = self.aborted_order.pop_front().expect("checked");
            self.aborted.remove(&old);
        }
        self.aborted.insert(id, ());
        self.aborted_order.push_back((now, id));
    }

    /// What this participant applied to `id`, as far as it remembers.
    fn outcome(&self, id: u64) -> Option<bool> {
        self.alone.get(&id).copied().or_else(|| self.aborted.contains_key(&id).then_some(false))
    }

    /// Applies a decision to a transaction this participant holds prepared.
    fn apply(&mut self, ctx: &mut Ctx, req: ReqId, id: u64, commit: bool) {
        if let Some((since, ..)) = self.prepared.remove(&id) {
            let waited = ctx.now() - since;
            self.blocked_max = self.blocked_max.max(waited);
            self.in_doubt_us += waited as f64;
        }
        if !commit {
            self.remember_abort(ctx.now(), id);
        }
        self.send(ctx, req, id, if commit { DONE_COMMIT } else { DONE_ABORT });
    }

    fn ask_all(&mut self, ctx: &mut Ctx) {
        let mut ids: Vec<(u64, ReqId)> = self.prepared.iter().map(|(&id, &(_, req, _))| (id, req)).collect();
        crate::sort::sort(&mut ids);
        for (id, req) in ids {
            self.send(ctx, req, id, STATUS);
        }
    }

    /// Decisions a timeout overdue: asked for again, or taken alone (heuristic).
    fn sweep(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        let mut due: Vec<(u64, ReqId)> = self.prepared.iter_mut().filter(|(_, e)| now - e.0 >= self.timeout).map(|(&id, e)| {
            e.2 = true;
            (id, e.1)
        }).collect();
        crate::sort::sort(&mut due);
        self.blocked_locks_max = self.blocked_locks_max.max(due.len());
        for (id, req) in due {
            if self.in_doubt == 0 {
                self.send(ctx, req, id, STATUS);
            } else {
                self.heuristic += 1;
                self.alone.insert(id, self.in_doubt == 1);
                self.apply(ctx, req, id, self.in_doubt == 1);
            }
        }
    }
}

impl Component for Participant {
    fn on_message(&mut self, ctx: &mut Ctx, _from: NodeId, msg: Msg) {
        if self.down {
            return;
        }
        let id = msg.key;
        match msg.tag {
            PREPARE => {
                match self.outcome(id) {
                    Some(false) => return self.send(ctx, msg.req, id, NO),
                    Some(true) => return,
                    None if self.prepared.contains_key(&id) => return self.send(ctx, msg.req, id, YES),
                    None => {}
                }
                if self.crash_here(ctx, 1) {
                    return;
                }
                let raw = self.work.sample(ctx.rng);
                let us = ctx.work(raw);
                self.working.insert(id, msg);
                ctx.set_timer(us, token(WORK, id));
            }
            COMMIT | ABORT => match self.outcome(id) {
                // A repeat: the answer is what was applied, whatever this message says.
                Some(done) => self.send(ctx, msg.req, id, if done { DONE_COMMIT } else { DONE_ABORT }),
                None if self.prepared.contains_key(&id) => self.apply(ctx, msg.req, id, msg.tag == COMMIT),
                // An abort that overtook the vote under way: the vote will be no.
                None if msg.tag == ABORT && self.working.contains_key(&id) => self.apply(ctx, msg.req, id, false),
                // Any other abort of a transaction not held is stale: the answer to a
                // question asked before the commit arrived, or to a prepare never received
                // (one that comes late is voted yes and asked about: aborted then).
                None if msg.tag == ABORT => {}
                // A repeated commit, after it was applied (its acknowledgement was lost).
                None => self.send(ctx, msg.req, id, DONE_COMMIT),
            },
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, t: u64) {
        let (kind, id) = (t & 3, t >> 2);
        if kind == RECOVER {
            self.down = false;
            ctx.set_state(2);
            return self.ask_all(ctx);
        }
        if kind == SWEEP {
            ctx.set_timer(self.timeout, token(SWEEP, 0));
        }
        if self.down {
            return;
        }
        match kind {
            SWEEP => self.sweep(ctx),
            WORK => {
                let Some(msg) = self.working.remove(&id) else { return };
                let id = msg.key;
                if self.aborted.contains_key(&id) {
                    return self.send(ctx, msg.req, id, NO);
                }
                if ctx.rng.unit() < self.vote_no {
                    self.remember_abort(ctx.now(), id);
                    return self.send(ctx, msg.req, id, NO);
                }
                self.prepared.insert(id, (ctx.now(), msg.req, false));
                self.locks_max = self.locks_max.max(self.prepared.len());
                self.send(ctx, msg.req, id, YES);
                self.crash_here(ctx, 2);
            }
            _ => {}
        }
    }

    /// Prepares under way are lost; the log (prepared and decided) is not.
    fn on_crash(&mut self, _held: &mut Vec<(NodeId, Msg)>) {
        self.working.clear();
    }

    fn on_start(&mut self, ctx: &mut Ctx) {
        ctx.set_timer(self.timeout, token(SWEEP, 0));
    }

    fn on_revive(&mut self, ctx: &mut Ctx) {
        self.down = false;
        self.on_start(ctx);
        self.ask_all(ctx);
    }

    fn on_set(&mut self, _ctx: &mut Ctx, knob: &str, value: &Value) {
        if let ("vote_no_rate", Value::Float(p)) = (knob, value) {
            self.vote_no = *p;
        }
    }

    fn describe_state(&self, code: u8) -> String {
        if code == 1 { "participant crashed".into() } else { "participant recovered: asks about what it holds in doubt".into() }
    }

    fn view(&self) -> NodeView {
        let locks = self.prepared.len();
        let blocked = self.prepared.values().any(|e| e.2);
        NodeView {
            busy: self.working.len() as u32,
            queue: locks as u32,
            state: if self.down { "crashed" } else if blocked { "blocked in doubt" } else { "" },
            tone: if self.down || self.heuristic > 0 { Tone::Bad } else if blocked { Tone::Warn } else { Tone::Neutral },
            note: format!("{locks} locks held"),
            ..NodeView::default()
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

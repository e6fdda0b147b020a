//! Scene `two-phase-commit` (patterns.md row 19): clients ask a coordinator for
//! transactions that span every participant (a database each). The coordinator asks
//! each participant to prepare; a participant that can commits its part to its log,
//! takes its lock and votes yes, or votes no. All yes: the coordinator writes commit to
//! its log and tells everyone; any no or a missing vote: abort. A participant that voted
//! yes may not decide alone: if the coordinator crashes before telling it, it waits, in
//! doubt, holding its lock, until the coordinator recovers from its log (presumed abort:
//! what the log holds no decision for is aborted).

mod atomicity;
mod nodes;

use super::measure::{measures, round3, share};
use atomicity::Atomicity;
use nodes::{Coordinator, Participant};
use crate::knob::{KnobKind, KnobSpec, Params, common_knobs_with_latency};
use crate::scene::{Preset, Probe, Scene, SceneInfo};
use crate::time::{Micros, US_PER_S};
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView, LATENCY_CHART};
use crate::world::World;
use crate::msg::NodeId;
use serde_json::{Map, Value as Json};
use std::cell::RefCell;
use std::sync::LazyLock;

pub struct TwoPhaseCommit;

pub const COORDINATOR_CRASH: &[&str] = &["never", "before-prepare", "after-prepare", "during-commit"];
pub const PARTICIPANT_CRASH: &[&str] = &["never", "before-vote", "after-vote"];
pub const IN_DOUBT: &[&str] = &["wait", "heuristic-commit", "heuristic-abort"];
const INVARIANT: &str = "atomicity_violations = 0";

static INFO: LazyLock<SceneInfo> = LazyLock::new(|| {
    let mut knobs = common_knobs_with_latency("300", 50_000.0, "const:1ms");
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "participants", kind: KnobKind::Int { min: 2, max: 16 }, default: "2", unit: "", live: false, help: "Databases every transaction writes to; each must vote yes for it to commit." },
        KnobSpec { name: "vote_no_rate", kind: KnobKind::Float { min: 0.0, max: 1.0 }, default: "0.05", unit: "fraction", live: true, help: "The chance that a participant votes no (a constraint fails, a deadlock); one no aborts the transaction everywhere." },
        KnobSpec { name: "coordinator_crash", kind: KnobKind::Choice(COORDINATOR_CRASH), default: "never", unit: "", live: false, help: "Where the coordinator crashes, once, on the first transaction after crash_at: before-prepare (nobody has voted), after-prepare (votes on their way, no decision logged), during-commit (commit logged and sent to the first participant only)." },
        KnobSpec { name: "participant_crash", kind: KnobKind::Choice(PARTICIPANT_CRASH), default: "never", unit: "", live: false, help: "Where participant-1 crashes, once, on the first transaction after crash_at: before-vote (its prepare is lost with it) or after-vote (it voted yes and its log holds the lock)." },
        KnobSpec { name: "crash_at", kind: KnobKind::Duration { min_us: 0, max_us: 3600 * US_PER_S }, default: "20s", unit: "", live: false, help: "From when the crash points above are armed." },
        KnobSpec { name: "recovery_time", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "10s", unit: "", live: false, help: "How long a crashed coordinator or participant takes to come back and read its log." },
        KnobSpec { name: "timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 60 * US_PER_S }, default: "1s", unit: "", live: false, help: "How long the coordinator waits for votes before it aborts, how often it resends a commit not yet acknowledged, and how long a participant in doubt waits before it asks again." },
        KnobSpec { name: "in_doubt", kind: KnobKind::Choice(IN_DOUBT), default: "wait", unit: "", live: false, help: "What a participant that voted yes does when the decision is overdue: wait (and ask the coordinator again), or decide alone after one timeout (a heuristic decision: commit or abort), which frees its lock and can break atomicity." },
        KnobSpec { name: "work_time", kind: KnobKind::Dist, default: "exp:10ms", unit: "", live: false, help: "How long a participant takes to prepare its part (write it to its log)." },
        KnobSpec { name: "client_timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "30s", unit: "", live: false, help: "How long a client waits for committed or aborted." },
    ] });
    SceneInfo {
        id: "two-phase-commit",
        title: "Two-phase commit",
        knobs,
        actions: &[],
        view: SceneView {
            stage: StageView { columns: &[&["client"], &["coordinator"], &["participant"]], links: &[("client", "coordinator"), ("coordinator", "participant")], paired: &[] },
            charts: const { &[
                Chart {
                    title: "Transactions per second",
                    unit: "txn/s",
                    lines: &[Line::measured("committed/s", "committed_rps", Colour::Green).compared(), Line::measured("aborted/s", "aborted_rps", Colour::Red).compared()],
                },
                Chart {
                    title: "Commit ratio",
                    unit: "fraction",
                    lines: &[Line::measured("committed / decided", "commit_ratio", Colour::Green).compared(), Line::theory("(1 - vote_no_rate)^participants", "commit_ratio", 1.0, Colour::White)],
                },
                Chart {
                    title: "Locks held",
                    unit: "locks",
                    lines: &[Line::measured("locks held", "locks", Colour::Purple).compared(), Line::measured("held over a timeout", "locks_blocked", Colour::Red).compared()],
                },
                LATENCY_CHART,
            ] },
            compare: &[
                Row { label: "committed", metric: "committed" },
                Row { label: "aborted", metric: "aborted" },
                Row { label: "commit ratio", metric: "commit_ratio" },
                Row { label: "longest a participant waited in doubt (s)", metric: "blocked_time" },
                Row { label: "most locks one participant held", metric: "locks_held_max" },
                Row { label: "... of them held over a timeout, in doubt", metric: "locks_blocked_max" },
                Row { label: "decided alone (heuristic)", metric: "heuristic_decisions" },
                Row { label: "atomicity violations", metric: "atomicity_violations" },
            ],
            tables: &[],
        },
        narrative: &crate::narratives::two_phase_commit::NARRATIVE,
        presets: const { &[
            Preset {
                name: "all-or-nothing",
                title: "Every participant votes: all commit or none",
                about: "Each of two participants votes no 5% of the time; one no aborts the transaction everywhere, so 0.95² ≈ 90% commit, and no participant ever commits what another aborted.",
                set: &[],
                faults: &[],
            },
            Preset {
                name: "coordinator-crash",
                title: "The coordinator crashes after prepare: participants blocked",
                about: "At 20 s the coordinator crashes with votes on their way and no decision in its log. The participants that voted yes may not decide alone: they hold their locks, in doubt, for the 10 s until it recovers and aborts.",
                set: &[("coordinator_crash", "after-prepare")],
                faults: &[],
            },
            Preset {
                name: "crash-during-commit",
                title: "A crash mid-commit: recovery finishes the commit",
                about: "At 20 s the coordinator logs commit, tells participant-1 and crashes. participant-2 waits in doubt; on recovery the coordinator reads commit in its log and resends it: both commit, late but together.",
                set: &[("coordinator_crash", "during-commit")],
                faults: &[],
            },
            Preset {
                name: "heuristic-commit",
                title: "Participants that decide alone break atomicity",
                about: "The crash after prepare again, but participants tired of waiting commit on their own after 1 s. Their locks are freed; then the coordinator recovers and aborts: the transaction is committed in some databases and aborted in others.",
                set: &[("coordinator_crash", "after-prepare"), ("in_doubt", "heuristic-commit")],
                faults: &[],
            },
        ] },
    }
});

/// The share of transactions that commit when each of `n` participants votes no with
/// chance `p`, independently: all must vote yes.
pub fn commit_ratio(p: f64, n: i64) -> f64 {
    (1.0 - p).powi(n as i32)
}

fn choice_index(list: &[&str], name: &str) -> usize {
    list.iter().position(|c| *c == name).expect("a valid choice")
}

struct TpcProbe {
    coordinator: NodeId,
    participants: Vec<NodeId>,
    timeout: Micros,
    /// At the last sample: time, committed, aborted.
    last: RefCell<(Micros, u64, u64)>,
}

impl Scene for TwoPhaseCommit {
    fn info(&self) -> &'static SceneInfo {
        &INFO
    }

    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe> {
        let n = p.int("participants") as u32;
        let timeout = p.duration("timeout");
        let (crash_at, recovery) = (p.duration("crash_at"), p.duration("recovery_time"));
        // The coordinator is node 0 and the participants follow, so each knows the other's id.
        let coordinator_id: NodeId = 0;
        let participants: Vec<NodeId> = (1..=n).collect();
        let coordinator = Coordinator::new(participants.clone(), timeout, choice_index(COORDINATOR_CRASH, p.choice("coordinator_crash")), crash_at, recovery);
        assert!(w.add_node("coordinator", "coordinator", Box::new(coordinator)) == coordinator_id, "nodes added in id order");
        let crash = choice_index(PARTICIPANT_CRASH, p.choice("participant_crash"));
        let in_doubt = choice_index(IN_DOUBT, p.choice("in_doubt"));
        for i in 0..n {
            let part = Participant::new(i, coordinator_id, p.dist("work_time"), p.float("vote_no_rate"), timeout, in_doubt, if i == 0 { crash } else { 0 }, crash_at, recovery);
            assert!(w.add_node(format!("participant-{}", i + 1), "participant", Box::new(part)) == i + 1, "nodes added in id order");
        }
        let clients = crate::components::source::Source::new(coordinator_id, p.float("arrival_rate"), p.duration("client_timeout"), 1 << 40, w.stream("workload")).shaped(p);
        let client = w.add_node("client", "client", Box::new(clients));
        // Watched as long as participants remember their decisions.
        w.add_checker(Box::new(Atomicity::new(coordinator_id, client, n, 60 * timeout + 2 * recovery)));
        Box::new(TpcProbe { coordinator: coordinator_id, participants, timeout, last: RefCell::new((0, 0, 0)) })
    }
}

impl TpcProbe {
    /// Locks held now, and those held longer than a timeout (blocked), over all participants.
    fn locks(&self, w: &World) -> (usize, usize) {
        self.participants.iter().fold((0, 0), |(all, blocked), &id| {
            let part = w.component::<Participant>(id);
            (all + part.locks(), blocked + part.locks_older_than(w.now(), self.timeout))
        })
    }
}

impl Probe for TpcProbe {
    fn metrics(&self, w: &World) -> Map<String, Json> {
        let c = w.component::<Coordinator>(self.coordinator);
        let parts: Vec<&Participant> = self.participants.iter().map(|&id| w.component::<Participant>(id)).collect();
        // Waits still going on count as far as they have gone.
        let blocked = parts.iter().map(|p| p.blocked_max.max(p.oldest_wait(w.now()))).max().unwrap_or(0);
        let (locks, _) = self.locks(w);
        measures!{
            "committed": c.committed,
            "aborted": c.aborted,
            "commit_ratio": share(c.committed, c.committed + c.aborted),
            "blocked_time": round3(blocked as f64 / 1e6),
            "locks_held_max": parts.iter().map(|p| p.locks_max).max().unwrap_or(0),
            "locks_held": locks,
            "locks_blocked_max": parts.iter().map(|p| p.blocked_locks_max).max().unwrap_or(0),
            "heuristic_decisions": parts.iter().map(|p| p.heuristic).sum::<u64>(),
            "atomicity_violations": w.violations_of(INVARIANT),
            "coordinator_recoveries": c.recoveries,
            "in_doubt_time": round3(parts.iter().map(|p| p.in_doubt_us).sum::<f64>() / 1e6),
        }
    }

    fn series_names(&self, _w: &World) -> Vec<String> {
        ["committed_rps", "aborted_rps", "commit_ratio", "locks", "locks_blocked"].map(String::from).to_vec()
    }

    fn sample(&self, w: &World, out: &mut Vec<f64>) {
        let c = w.component::<Coordinator>(self.coordinator);
        let mut last = self.last.borrow_mut();
        let dt = (w.now() - last.0) as f64 / 1e6;
        let rate = |now: u64, then: u64| if dt > 0.0 { (now - then) as f64 / dt } else { 0.0 };
        out.push(rate(c.committed, last.1));
        out.push(rate(c.aborted, last.2));
        let decided = (c.committed - last.1) + (c.aborted - last.2);
        out.push(if decided > 0 { (c.committed - last.1) as f64 / decided as f64 } else { f64::NAN });
        let (locks, blocked) = self.locks(w);
        out.push(locks as f64);
        out.push(blocked as f64);
        *last = (w.now(), c.committed, c.aborted);
    }

    fn theory(&self, p: &Params) -> Vec<(&'static str, f64)> {
        vec![("commit_ratio", commit_ratio(p.float("vote_no_rate"), p.int("participants")))]
    }
}

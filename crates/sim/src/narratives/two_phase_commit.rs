//! The story of two-phase commit, in our own words.

use crate::narrative::{Goal, Narrative, Step};

pub static NARRATIVE: Narrative = Narrative {
    what: "One transaction writes to several databases, and must land in all of them or in none. Two-phase commit asks first \
           and decides after: the coordinator sends prepare, each participant makes its part durable, takes its locks and \
           votes; only if every vote is yes does the coordinator log commit and tell them. The price is in the middle: a \
           participant that voted yes has given up its right to decide, and if the coordinator vanishes it can only wait, \
           holding its locks, until the coordinator comes back and reads its log.",
    analogy: "A wedding. The officiant asks each partner, and only after both have said yes pronounces them married. Once you \
              have said yes you cannot walk out on your own; if the officiant faints before the last words, everyone stands \
              at the altar until they come round.",
    when: "Transactions across a few databases or queues that you run yourself, on a reliable network, where a short block is \
           acceptable (XA in application servers, inside distributed databases between their own shards). Across services \
           owned by different teams, or where locks must never be held for long, prefer a saga.",
    mistakes: &[
        "Letting a participant decide alone after a timeout (a heuristic commit or abort): its lock is freed, and the transaction \
         can end committed in one database and aborted in another.",
        "A coordinator without a durable log: after a crash it cannot tell committed from aborted, and must guess.",
        "Ignoring that the chance of committing falls with every participant: with a 5% chance of a no each, ten participants \
         commit only 60% of the time.",
        "Long timeouts in the prepare phase: every lock taken waits for the slowest voter.",
    ],
    try_this: &[
        Step { text: "Two participants each vote no 5% of the time: about 90% commit (0.95²), and both agree on every transaction. Compare with six participants: 0.95⁶ ≈ 74%.", preset: Some("all-or-nothing"), compare: Some("participants:6") },
        Step { text: "The coordinator crashes after prepare at 20 s: the participants that voted yes hold their locks, in doubt, for 10 s, until it recovers and aborts.", preset: Some("coordinator-crash"), compare: Some("coordinator_crash:never") },
        Step { text: "A crash mid-commit: participant-1 has committed, participant-2 waits; on recovery the coordinator reads commit in its log and finishes it. Atomicity holds.", preset: Some("crash-during-commit"), compare: None },
        Step { text: "Participants that give up waiting and commit alone: their locks are freed, and the coordinator's recovery aborts what they committed. Compare with waiting.", preset: Some("heuristic-commit"), compare: Some("in_doubt:wait") },
    ],
    goals: &[
        Goal { step: 2, text: "Recover from a crash mid-commit with no atomicity violation.", measure: "atomicity_violations", at_most: true, value: 0.0, opposite: Some("in_doubt:heuristic-abort") },
        Goal { step: 3, text: "No transaction committed in one database and aborted in another.", measure: "atomicity_violations", at_most: true, value: 0.0, opposite: None },
    ],
};

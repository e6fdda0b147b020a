//! The story of eventual consistency, in our own words.

use crate::narrative::{Goal, Narrative, Step};

pub static NARRATIVE: Narrative = Narrative {
    what: "One primary takes the writes and copies them to replicas, which serve reads. When the primary says 'done' decides the trade: \
           after every replica has the write (sync), the reader can never see old data but every write waits for the slowest copy; \
           at once (async), writes are quick but a read on a replica that has not caught up returns the previous version. \
           Eventually, once writes pause, every replica holds the same data.",
    analogy: "A company announcement sent to branch offices by post. Each branch reads it out on the day it arrives, so for a few days \
              different branches tell customers different things; nobody is wrong for long, and by next week they all agree.",
    when: "When reads far outnumber writes and a read a moment out of date is harmless: timelines, product listings, view counters, profiles of others. \
           Not for a balance that must never be read old, or a stock count you sell from; there, read from the primary or replicate synchronously.",
    mistakes: &[
        "Reading your own write from a replica: the user saves their profile, reloads, and sees the old one. Read-your-writes fixes exactly that case.",
        "Assuming 'eventually' means 'soon': a replica cut off by a partition falls further behind for as long as the partition lasts.",
        "Synchronous replication to every replica: one slow or unreachable replica makes every write slow, or fail.",
        "Forgetting that replicas can disagree with each other: two reads in a row can go back in time when they hit different replicas.",
    ],
    try_this: &[
        Step { text: "Asynchronous replication, reads from replicas: writes take a few ms, and a share of reads are stale by about the replication lag.", preset: Some("async-stale-reads"), compare: None },
        Step { text: "Asynchronous against synchronous: stale reads fall to zero, and write latency rises to the slowest replica's lag.", preset: Some("async-stale-reads"), compare: Some("replication:sync") },
        Step { text: "Read-your-writes on against off: users who missed their own write fall to zero; reads of other users' profiles stay as stale.", preset: Some("async-stale-reads"), compare: Some("read_your_writes:on") },
        Step { text: "Partition replica-2 from the primary for 20 s: its backlog climbs, then drains within a second of the heal.", preset: Some("partitioned-replica"), compare: None },
    ],
    goals: &[Goal {
        step: 1,
        text: "Serve no stale read at all.",
        measure: "stale_read_ratio",
        at_most: true,
        value: 0.0,
        opposite: None,
    }],
};

//! The story of sharding, in our own words.

use crate::narrative::{Goal, Narrative, Step};

pub static NARRATIVE: Narrative = Narrative {
    what: "One database cannot hold every row or take every write, so the data is split into shards, each a database of its own. \
           A router finds the shard of each key. How it decides (the strategy) settles two things: whether the load spreads evenly, \
           and how much data has to move when a shard is added or removed.",
    analogy: "A library that outgrew its building and opened branches. Filing books by the first letter of the title keeps series together but \
              sends every new 'The ...' to one branch; filing by a code scattered at random spreads them, but change the number of branches and \
              almost every book must be carried somewhere else, unless each branch owns fixed stretches of a circular catalogue.",
    when: "When one machine's disk, memory or write rate is the ceiling and reads alone (replicas, caches) no longer help. \
           Shard late: queries across shards, transactions across shards and resharding are all harder than on one database.",
    mistakes: &[
        "Range sharding on a key that only grows (a timestamp, an auto-increment id): all new writes hit the last shard.",
        "hash mod N: adding one shard re-homes almost every key, so a resize means migrating nearly all the data.",
        "Consistent hashing with one point per shard: the arcs between random points are very unequal, so one shard holds several times its share.",
        "Ignoring hot keys: one celebrity key lives on one shard, whatever the strategy.",
        "Queries that need many keys: hash sharding scatters neighbours, so a range scan asks every shard and waits for the slowest.",
    ],
    try_this: &[
        Step {
            text: "Sequential keys on range sharding: one shard's queue fills and refuses while the other three idle; busiest/mean reaches 4.",
            preset: Some("hot-shard-sequential-range"),
            compare: None,
        },
        Step {
            text: "The same timestamps, hashed: compare range with consistent hashing and watch the imbalance fall to about 1.",
            preset: Some("hot-shard-sequential-range"),
            compare: Some("strategy:consistent-hash"),
        },
        Step {
            text: "Add a fifth shard at 20 s under hash mod N: keys moved jumps to 0.8, matching the dashed n/(n+1).",
            preset: Some("resize-modulo"),
            compare: None,
        },
        Step {
            text: "The same resize, modulo against a hash ring: 0.8 of the keys move against about 0.2 (1/(n+1)).",
            preset: Some("resize-modulo"),
            compare: Some("strategy:consistent-hash"),
        },
        Step {
            text: "A hash ring with one point per shard against one hundred: the largest key share over the mean falls toward 1.",
            preset: Some("resize-consistent-hash"),
            compare: Some("vnodes:1"),
        },
    ],
    goals: &[Goal {
        step: 1,
        text: "Keep the busiest shard within 1.3 times the mean, on the same timestamps.",
        measure: "load_imbalance",
        at_most: true,
        value: 1.3,
        opposite: None,
    }],
};

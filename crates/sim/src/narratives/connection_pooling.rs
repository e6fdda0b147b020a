//! The story of connection pooling, in our own words.

use crate::narrative::{Goal, Narrative, Step};

pub static NARRATIVE: Narrative = Narrative {
    what: "Opening a database connection is slow (a network handshake, encryption, logging in, often a new process on the server) and \
           the database can only hold so many. A pool opens connections once and lends them to queries one after another: a query \
           borrows one, runs, and gives it back. When all are out, the next query waits for one to come back, up to a timeout.",
    analogy: "A company car park instead of buying a car for every errand: borrowing the keys takes a minute, buying takes a day. \
              Too few cars and people queue at the key box; too many and the car park next door runs out of spaces.",
    when: "Whenever an application talks to a database (or any server with costly connections) more than now and then: web apps, \
           APIs, workers. Size each pool for the queries in flight at busy times, and keep the sum over every app instance \
           below what the database accepts.",
    mistakes: &[
        "No pool: every request pays the connection's setup cost and the database spends its time opening and closing connections.",
        "Pools sized per instance without adding them up: ten instances with pools of 20 need a database that takes 200.",
        "Raising the pool size when the database is slow: more connections in flight make a slow database slower, and then it refuses them.",
        "No acquire timeout: requests wait for a connection forever instead of failing fast.",
        "Keeping connections across a database restart or failover without checking them: the first query on each fails.",
    ],
    try_this: &[
        Step { text: "No pool: each query opens its own connection. Latency is the 50 ms handshake plus the work, and the database opens 400 connections a second.", preset: Some("no-pool"), compare: Some("pooling:on") },
        Step { text: "A pool of two at 90% load: requests wait for a connection, as the M/M/c queue predicts (dashed line). Compare with a pool of four.", preset: Some("pool-too-small"), compare: Some("pool_size:4") },
        Step { text: "The database slows at 20 s: big pools open connections until the database refuses them. Smaller pools (20 + 5 each, 100 in all) queue instead of being refused.", preset: Some("pools-exhaust-db"), compare: Some("pool_size:20") },
        Step { text: "A restart at 20 s: without pre_ping, the first query on each pooled connection fails; with it, the pool replaces them quietly.", preset: Some("db-restart"), compare: Some("pre_ping:on") },
    ],
    goals: &[Goal {
        step: 0,
        text: "Serve at least 99% of queries on a connection already open.",
        measure: "reuse_ratio",
        at_most: false,
        value: 0.99,
        opposite: None,
    }],
};

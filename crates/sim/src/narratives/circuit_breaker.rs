//! The story of the circuit breaker, in our own words.

use crate::narrative::{Goal, Narrative, Step};

pub static NARRATIVE: Narrative = Narrative {
    what: "Service A answers half of its requests from its own work and needs a dependency B for the other half, with one pool \
           of 20 workers for both. A breaker in A counts B's failures; past a threshold it opens and A fails the calls that need \
           B at once instead of making them. After a pause it lets a few probe calls through (half-open) and closes again if \
           they succeed.",
    analogy: "The fuse box in a house: when a circuit misbehaves the fuse cuts it off, so one faulty appliance cannot burn the \
              house down, and the lights stay on in every other room while you wait to try the switch again.",
    when: "Whenever one service calls another that can fail or, worse, hang. A hung dependency does not just fail its own calls: \
           it holds the caller's workers, and the caller then fails even the requests that never needed the dependency. That \
           cascade, not the failed calls, is what the breaker prevents.",
    mistakes: &[
        "No timeout on calls: with a hung dependency each worker waits forever, and the breaker never even sees a failure.",
        "A threshold over a long window that is full of old successes: the breaker notices the outage late.",
        "Retrying every failed call: retries multiply the load on a dependency that is already struggling.",
        "Forgetting half-open: without probes the service cannot tell when the dependency has recovered.",
        "Judging the breaker by its error count: it fails calls that would have failed anyway; what it buys is everything else.",
    ],
    try_this: &[
        Step {
            text: "B hangs at 10 s with no breaker. Calls to B pin all 20 of A's workers, A's queue fills and refuses, and clients pile up \
                   waiting: the requests that never needed B fall to almost nothing too (see the first chart).",
            preset: Some("hung-dependency-no-breaker"),
            compare: None,
        },
        Step {
            text: "Same outage with the breaker: it opens within two seconds, calls that need B fail at once, and the requests that do \
                   not need B keep completing at nearly their old rate. After B returns at 40 s it closes through half-open.",
            preset: Some("hung-dependency-with-breaker"),
            compare: None,
        },
        Step { text: "B refuses connections instead of hanging: calls fail fast anyway, and the breaker stops A from even trying.", preset: Some("erroring-dependency"), compare: None },
        Step {
            text: "The hang without and with the breaker, on the same traffic. The table tells it: with the breaker the requests not \
                   needing B still succeed during the outage at over 95% of their rate before (under 10% without), a failure takes \
                   tens of milliseconds on average instead of hundreds, clients stop piling up, and B is spared the calls it cannot \
                   answer. The price: \
                   after B is back, up to open_timeout (5 s) more before calls reach it again.",
            preset: Some("hung-dependency-no-breaker"),
            compare: Some("breaker:on"),
        },
        Step {
            text: "Set retries to 3 with the breaker off during the hang: a request that needs B now holds a worker for four timeouts, \
                   A's capacity (the dashed line) falls from about 40 requests a second to 10, and its clients give up before A even \
                   answers them.",
            preset: None,
            compare: None,
        },
    ],
    goals: &[Goal {
        step: 1,
        text: "Keep the requests that never needed B succeeding during the outage at 95% of their rate before it, or better.",
        measure: "independent_outage_pct",
        at_most: false,
        value: 95.0,
        opposite: Some("breaker:off"),
    }],
};

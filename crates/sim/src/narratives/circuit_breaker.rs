//! The story of the circuit breaker, in our own words.

use crate::narrative::{Narrative, Step};

pub static NARRATIVE: Narrative = Narrative {
    what: "Service A calls a dependency B for every request. A breaker in A counts B's failures; past a threshold it opens and A \
           answers at once with an error instead of calling B. After a pause it lets a few probe calls through (half-open) \
           and closes again if they succeed.",
    analogy: "The fuse box in a house: when a circuit misbehaves the fuse cuts it off, so one faulty appliance cannot burn the \
              house down, and you try the switch again once the fault is gone.",
    when: "Whenever one service calls another that can fail or, worse, hang. A hung dependency does not just fail its own calls: \
           it holds the caller's threads, and the caller fails for everybody.",
    mistakes: &[
        "No timeout on calls: with a hung dependency each worker waits forever, and the breaker never even sees a failure.",
        "A threshold over a long window that is full of old successes: the breaker notices the outage late.",
        "Retrying every failed call: retries multiply the load on a dependency that is already struggling.",
        "Forgetting half-open: without probes the service cannot tell when the dependency has recovered.",
    ],
    try_this: &[
        Step { text: "B hangs at 10 s with no breaker: A's 20 workers are all pinned waiting, clients time out, A is down too.", preset: Some("hung-dependency-no-breaker"), compare: None },
        Step { text: "Same outage with the breaker: it opens within two seconds, A fails fast with its workers free, and closes again after B returns at 40 s.", preset: Some("hung-dependency-with-breaker"), compare: None },
        Step { text: "B refuses connections instead of hanging: calls fail fast anyway, and the breaker stops A from even trying.", preset: Some("erroring-dependency"), compare: None },
        Step {
            text: "Run the hang with and without the breaker side by side, on the same traffic.",
            preset: Some("hung-dependency-no-breaker"),
            compare: Some("breaker:on"),
        },
        Step { text: "Set retries to 3 with the breaker off during the hang: each request now holds a worker four times as long.", preset: None, compare: None },
    ],
};

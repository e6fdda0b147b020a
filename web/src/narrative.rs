//! Each scene's story, in our own words: what it is, an analogy, when to use it, the
//! common mistakes, and "try this" steps that set up the experiment with one click.

pub struct Step {
    pub text: &'static str,
    /// A preset of the scene to load, if the step sets something up.
    pub preset: Option<&'static str>,
    /// A comparison to show beside it (`knob:value`), if any.
    pub compare: Option<&'static str>,
}

pub struct Narrative {
    pub what: &'static str,
    pub analogy: &'static str,
    pub when: &'static str,
    pub mistakes: &'static [&'static str],
    pub try_this: &'static [Step],
}

pub fn of(scene: &str) -> Option<&'static Narrative> {
    match scene {
        "load-balancing" => Some(&LOAD_BALANCING),
        "circuit-breaker" => Some(&CIRCUIT_BREAKER),
        _ => None,
    }
}

static LOAD_BALANCING: Narrative = Narrative {
    what: "A balancer stands in front of several identical servers and decides, request by request, which one does the work. \
           The decision rule is the policy, and under uneven load it matters far more than it seems.",
    analogy: "Checkout lanes at a supermarket. Sending shoppers to lanes in strict turn ignores the lane whose cashier is slow; \
              glancing at two lanes and joining the shorter one avoids almost every long wait.",
    when: "As soon as one machine is not enough, or one machine failing must not take the service down. \
           The balancer also becomes the place to notice dead servers and stop sending them work.",
    mistakes: &[
        "Assuming servers are equal: round robin hands a slow or noisy server the same share as a fast one.",
        "Running without health checks, so a dead server keeps receiving (and failing) its share of requests.",
        "Health checks far apart: every request routed to a dead server before the next check is lost.",
        "Sticky routing (ip-hash) without thinking about hot clients: one heavy client pins one server.",
    ],
    try_this: &[
        Step { text: "Slow one server to quarter speed under round robin: watch its queue grow until it refuses requests (p99 explodes).", preset: Some("slow-server-round-robin"), compare: None },
        Step { text: "Same slow server, power-of-two choices: it simply gets less work, and p99 stays low.", preset: Some("slow-server-power-of-two"), compare: None },
        Step { text: "Kill server-2 without health checks: a quarter of all requests fail from then on.", preset: Some("dead-server-no-health-checks"), compare: None },
        Step { text: "Same kill with health checks every second: a few failures, then traffic flows around the dead server.", preset: Some("dead-server-health-checks"), compare: None },
        Step {
            text: "Watch both policies take the very same traffic side by side: the same seed sends the same requests at the same instants.",
            preset: Some("slow-server-round-robin"),
            compare: Some("policy:power-of-two"),
        },
        Step { text: "Set the policy to random and compare the measured mean latency with the dashed M/M/1 line: each server is an independent M/M/1 queue.", preset: None, compare: None },
    ],
};

static CIRCUIT_BREAKER: Narrative = Narrative {
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

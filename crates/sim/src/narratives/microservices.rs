//! The story of microservices, in our own words.

use crate::narrative::{Goal, Narrative, Step};

pub static NARRATIVE: Narrative = Narrative {
    what: "Splitting an application into services that each own one job lets teams ship, scale and fail apart. The price is \
           paid on every request that needs many of them: it waits for the slowest, and it fails if any fails. A call that \
           is slow one time in a hundred is harmless alone; a request that makes ten such calls hits one almost one time in \
           ten, and ten services at 99% availability make a product at 90%.",
    analogy: "A meal that needs ten ingredients from ten shops. Each shop is out of stock only rarely, and each queue is usually \
              short; but the chance that one of the ten is out, or that one queue is long, is ten times as large, and dinner \
              waits for the last shop.",
    when: "When teams and parts of the system need to change, deploy and scale independently, and the organisation can pay \
           for the operations (tracing, deployment, on-call per service). Keep the fan-out of a request small; hedge, cache \
           or degrade where it is not; start with a well-modularised monolith until the split is clearly needed.",
    mistakes: &[
        "Reading each service's p99 and expecting the product to match: a request's latency is the maximum over its calls.",
        "Counting on each service's availability: a request that needs all of them multiplies them down.",
        "Chains of synchronous calls: each hop adds its latency and its failures; prefer parallel calls, or events.",
        "No timeouts, fallbacks or partial answers: one slow or failed leaf takes the whole request with it.",
    ],
    try_this: &[
        Step { text: "Ten services, each slow 1% of the time: about one request in ten touches a slow call, and the p99 is the slow call's 300 ms. Compare with one service.", preset: Some("fan-out-tail"), compare: Some("fan_out:1") },
        Step { text: "Ten services at 99% each: about 90% of requests succeed. Compare with the same ten modules in one process: 99%.", preset: Some("availability-multiplies"), compare: Some("architecture:monolith") },
        Step { text: "Both replicas of the order service die at 20 s: every request needs it, and all fail until they are back.", preset: Some("one-service-down"), compare: None },
    ],
    goals: &[Goal { step: 1, text: "Answer at least 98% of requests.", measure: "availability", at_most: false, value: 0.98, opposite: None }],
};

//! The story of load balancing, in our own words.

use crate::narrative::{Goal, Narrative, Step};

pub static NARRATIVE: Narrative = Narrative {
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
        "Counting connections alone when servers slow down under you: a slow server looks idle until requests pile up on it.",
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
        Step {
            text: "A server slows to a tenth of its speed, then recovers while another slows. Least connections against peak-EWMA (as in \
                   Finagle and Linkerd), which weighs each server's recent latency: its p99 is about a third of least connections'.",
            preset: Some("slowness-moves-least-connections"),
            compare: Some("policy:peak-ewma"),
        },
        Step {
            text: "Requests whose cost varies widely (service_cv 3, the same mean): round robin's p99 is more than twice least connections'. \
                   Slide service_cv down to 0 and both policies give the very same latencies: when every request costs the same, \
                   taking turns is enough.",
            preset: Some("costly-requests-round-robin"),
            compare: Some("policy:least-connections"),
        },
    ],
    goals: &[Goal {
        step: 3,
        text: "Lose fewer than 1,000 requests to the dead server.",
        measure: "errors_after_kill",
        at_most: true,
        value: 1000.0,
        opposite: Some("health_checks:off"),
    }],
};

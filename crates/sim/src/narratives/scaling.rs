//! The story of scaling, in our own words.

use crate::narrative::{Goal, Narrative, Step};

pub static NARRATIVE: Narrative = Narrative {
    what: "When load outgrows a server there are two ways up: a bigger machine (vertical: more cores, more memory) or more \
           machines behind a balancer (horizontal). Neither grows for free. Cores and nodes contend for what they share \
           (locks, a database, the network) and spend time agreeing with one another; the Universal Scalability Law puts \
           numbers on both, and says when one more costs more than it gives. A vertical machine also stops at the biggest \
           one on sale, and is a single point of failure.",
    analogy: "One chef with more and more hands against more cooks in a kitchen: hands get in each other's way, cooks queue at \
              the one oven, and past some point the kitchen serves fewer meals, not more.",
    when: "Scale up while it is cheap and simple (a bigger database server is often the right first step); scale out what is \
           stateless (web and app servers) behind a balancer with an autoscaler; and find what every node still shares \
           (the database) before it finds you.",
    mistakes: &[
        "Expecting n nodes to serve n times as much: contention and coherency take their share first.",
        "One big machine for everything: when it dies, everything stops.",
        "Autoscaling the app servers while the shared database is the bottleneck: more nodes, more cost, no more throughput.",
        "Forgetting the warm-up: nodes added at the peak arrive after it.",
    ],
    try_this: &[
        Step { text: "Vertical: 64 cores under a ramp to 3000 a second. The USL caps it near 1300 (see the table); then kill it: everything stops.", preset: Some("vertical-ceiling"), compare: None },
        Step { text: "Horizontal with an autoscaler: nodes follow the ramp, each 20 s late, and throughput with them. Without it, two nodes stay two.", preset: Some("horizontal-autoscale"), compare: None },
        Step { text: "Past the database: nodes keep coming, throughput stops at the database's 3200 a second; only the cost grows.", preset: Some("database-ceiling"), compare: None },
    ],
    goals: &[Goal {
        step: 1,
        text: "Keep up with the ramp's first minute: at least 1100 requests completed in one second.",
        measure: "peak_rps",
        at_most: false,
        value: 1100.0,
        opposite: Some("autoscale:off"),
    }],
};

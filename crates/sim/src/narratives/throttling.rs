//! The story of throttling, in our own words.

use crate::narrative::{Goal, Narrative, Step};

pub static NARRATIVE: Narrative = Narrative {
    what: "A server under more load than it can serve must decide what not to do. Left alone it queues everything, and once the \
           queue is longer than callers are willing to wait, it spends its whole capacity on answers nobody is waiting for: \
           goodput (answers that arrive in time) collapses, or the queue fills its memory and it crashes. Throttling keeps the \
           work it takes on within what it can finish in time: refuse early and cheaply (load shedding), or drop work that has \
           already waited too long (adaptive delay).",
    analogy: "A restaurant kitchen on a Saturday night. Taking every order means cooking meals for tables that walked out an hour \
              ago. Telling people at the door that there is a wait, or binning tickets older than the patience of any diner, \
              keeps the food that comes out going to someone who is still there.",
    when: "Every service that can receive more than it can serve: spikes from a launch, a retry storm, a slow dependency that \
           holds work longer. Throttle at the edge of each service, before the expensive work, and tell callers (503, Retry-After).",
    mistakes: &[
        "Unbounded queues: they turn a short overload into minutes of serving nobody, and into out-of-memory crashes.",
        "Counting throughput instead of goodput: a server busy on answers for callers who left looks healthy on a CPU graph.",
        "Shedding after the expensive part of the work instead of before it.",
        "Limits far above capacity: a queue of 100,000 at 800 a second is two minutes of waiting.",
    ],
    try_this: &[
        Step { text: "A spike to three times the load from 20 s to 30 s with no throttling: goodput collapses and stays down after the spike. Compare with load shedding.", preset: Some("spike-no-throttling"), compare: Some("mode:load-shedding") },
        Step { text: "Adaptive delay: requests that waited more than 100 ms are dropped while the CPU is hot; goodput holds near capacity.", preset: Some("spike-adaptive-delay"), compare: Some("mode:none") },
        Step { text: "Little memory: the spike's queue exhausts it and the host crashes for 5 s. Shedding keeps it up.", preset: Some("spike-out-of-memory"), compare: Some("mode:load-shedding") },
    ],
    goals: &[Goal {
        step: 0,
        text: "Keep goodput during the spike above 700 requests a second (the host serves 800).",
        measure: "goodput",
        at_most: false,
        value: 700.0,
        opposite: None,
    }],
};

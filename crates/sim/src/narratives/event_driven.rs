//! The story of event-driven architecture, in our own words.

use crate::narrative::{Goal, Narrative, Step};

pub static NARRATIVE: Narrative = Narrative {
    what: "Instead of calling each service that cares, a service publishes an event (a user signed up) to a broker, and \
           whoever cares consumes it, now or later. The broker keeps each topic as a few partitioned logs; a consumer group \
           shares the partitions, each read by one member at a time, who records (commits) how far it got. When a member \
           dies, the group deals its partitions to the others, who resume from the last commit: what was done and not yet \
           committed is done again, and what was committed and not yet done is lost. When to commit is the delivery \
           guarantee.",
    analogy: "A newspaper's subscription desk. Each clerk handles a few delivery routes and ticks off each address in the route \
              book after the paper goes out. A clerk who goes home sick hands over the book: the replacement starts after the \
              last tick, so a paper delivered but not ticked goes out twice; ticking before delivering loses papers instead.",
    when: "When producers should not know or wait for their consumers: notifications, audit and analytics, updating search \
           indexes and caches, feeding other teams. Order matters only per key: choose the key (user, order) whose events \
           must stay in order, and make consumers idempotent.",
    mistakes: &[
        "Assuming exactly-once from the broker alone: delivery is at least once; make the effect idempotent (or store the \
         offset with the effect) to apply it once.",
        "Committing before the work is done: a crash loses the event without a trace.",
        "Expecting order across partitions: only a partition is ordered; put what must stay in order under one key.",
        "More consumers than partitions: the extra ones do nothing. Partitions cap the parallelism.",
        "Not watching consumer lag: a growing lag is a consumer falling behind, long before anyone notices the effects.",
    ],
    try_this: &[
        Step { text: "At-least-once, consumer-2 dies at 20 s: its partitions move (a rebalance), and what it had written but not committed is written again. Compare with at-most-once: nothing repeats, and events are lost.", preset: Some("crash-at-least-once"), compare: Some("delivery:at-most-once") },
        Step { text: "Consumers crash on 0.1% of events: at-least-once writes again what each had written since its last commit. Compare with services that skip repeats (effectively-once): no loss, no duplicate.", preset: Some("consumer-crashes"), compare: Some("delivery:effectively-once") },
        Step { text: "Eight consumers for six partitions: two sit idle. Compare with six.", preset: Some("more-consumers-than-partitions"), compare: Some("consumers:6") },
        Step { text: "Without an ordering key a user's events land on different partitions and are applied out of order. Compare with one.", preset: Some("no-ordering-key"), compare: Some("ordering_key:on") },
    ],
    goals: &[
        Goal { step: 1, text: "Apply no event twice while consumers crash.", measure: "duplicates", at_most: true, value: 0.0, opposite: None },
        Goal { step: 3, text: "Apply every user's events in order.", measure: "out_of_order", at_most: true, value: 0.0, opposite: None },
    ],
};

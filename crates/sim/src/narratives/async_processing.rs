//! The story of async processing, in our own words.

use crate::narrative::{Goal, Narrative, Step};

pub static NARRATIVE: Narrative = Narrative {
    what: "Some work does not need to be finished before the user gets an answer: a welcome e-mail, a thumbnail, a report. \
           Done inside the request, it makes the user wait for the slowest thing the server talks to, and holds one of a few \
           request threads all that time. Put on a queue instead, it is a job: the request answers at once, workers do the \
           job soon after, a failed job is tried again later, and one that keeps failing is set aside in a dead-letter \
           queue for a person to look at. The queue absorbs bursts and outages as a backlog instead of as errors.",
    analogy: "A dry cleaner's counter. The clerk takes your coat, gives you a ticket and serves the next customer; the cleaning \
              happens in the back. If the clerk cleaned each coat while you stood there, the line would run out of the door.",
    when: "Any slow, failure-prone or bursty work whose result the user does not need in the response: e-mail and \
           notifications, media processing, calls to third-party APIs, exports. Keep in the request what the answer \
           depends on.",
    mistakes: &[
        "Retrying at once and forever: a struggling server gets hammered. Back off, exponentially, with a limit.",
        "No dead-letter queue: a job that can never succeed is retried forever, or silently dropped.",
        "Acknowledging a job before doing it: a worker that dies mid-job loses it. Acknowledge after, and make the job \
         idempotent, since a worker that dies after the work and before the acknowledgement does it twice.",
        "A lease (visibility timeout) shorter than the job: a healthy worker's job is handed to another, and done twice.",
        "Not watching the backlog: a queue that only grows is an outage in slow motion.",
    ],
    try_this: &[
        Step { text: "12 sign-ups a second, the e-mail sent inside the request: 8 threads can serve 10 a second, users wait seconds and give up. Compare with a queue: answers in milliseconds.", preset: Some("sync-saturates"), compare: Some("mode:async") },
        Step { text: "The SMTP server is down for 30 s: users are still answered at once; jobs back off, retry, and the ones that fail every attempt go to the dead-letter queue. Compare without one: they are dropped.", preset: Some("smtp-outage"), compare: Some("dlq:off") },
        Step { text: "Three workers die or freeze holding jobs: the queue sends each job out again (at once for a reset connection, after the lease for a frozen one); none vanish, a few e-mails go out twice.", preset: Some("worker-crash"), compare: None },
    ],
    goals: &[
        Goal { step: 0, text: "Answer users in under 100 ms at the 99th percentile.", measure: "response_latency.1", at_most: true, value: 100.0, opposite: None },
    ],
};

//! The story of rate limiting, in our own words.

use crate::narrative::{Goal, Narrative, Step};

pub static NARRATIVE: Narrative = Narrative {
    what: "A limiter in front of an API counts each caller's requests and answers 429 (too many requests) to those over their allowance, \
           so that one caller cannot use up capacity the others need. What it counts by (a user, an address, everyone) and how it counts \
           (a bucket of tokens, a queue that drips, a counter per window, a log of recent requests) decide who is refused and when.",
    analogy: "A turnstile that lets each ticket holder through so many times an hour. A season ticket (premium) gets more turns; \
              and if the turnstile counted by the car people arrived in, a whole carpool would be stopped for one passenger's laps.",
    when: "Every public API, and every internal one whose callers you do not control: to keep one client's bug or abuse from becoming \
           everyone's outage, to share capacity fairly between tiers, and to turn overload into quick refusals instead of slow timeouts.",
    mistakes: &[
        "Calling a counter that expires after a minute a token bucket: it is a fixed window, and it lets twice the limit through across the minute's edge.",
        "Keying by IP address: everyone behind one office router or mobile carrier shares the abuser's allowance.",
        "One limit for every caller: a paying customer's batch job is refused like a scraper's.",
        "Answering over the limit with 500 or a slow timeout instead of 429 (with a Retry-After): clients cannot tell they should back off.",
        "Limiting in each server's memory behind a balancer: with N servers a caller gets N times the limit.",
    ],
    try_this: &[
        Step { text: "One user floods from 10 s. The token bucket lets through their burst, then their rate, and refuses the rest: everyone else is still served.", preset: Some("abusive-user"), compare: None },
        Step { text: "The same flood with no limit: the API saturates and every user waits or is refused, not only the abuser.", preset: Some("abusive-user"), compare: Some("algorithm:none") },
        Step { text: "A fixed window across a boundary: the flood starts mid-window and gets the limit twice within one second. The sliding log never does.", preset: Some("fixed-window-boundary"), compare: Some("algorithm:sliding-log") },
        Step { text: "Keyed by IP: the four users behind the abuser's router are refused with them; keyed by user, only the abuser is.", preset: Some("keyed-by-ip"), compare: Some("key:user") },
    ],
    goals: &[Goal {
        step: 0,
        text: "Serve at least 99% of the other users' requests while user-0 floods.",
        measure: "others_served_pct",
        at_most: false,
        value: 99.0,
        opposite: Some("algorithm:none"),
    }],
};

//! The story of caching, in our own words.

use crate::narrative::{Goal, Narrative, Step};

pub static NARRATIVE: Narrative = Narrative {
    what: "A cache keeps recently read data in memory, in front of a database that is slower and costlier to ask. \
           Most traffic goes to a few popular keys, so a cache far smaller than the data answers most reads. \
           The hard parts are what to drop when it is full, how writes reach it, and what happens the moment it is empty.",
    analogy: "The spices on the counter by the stove. Fetching each one from the cellar would make every dish slow; the ones used daily sit within reach. \
              Throw them all back into the cellar at dinner time and every cook runs downstairs at once.",
    when: "When the same data is read far more often than it changes, and reading it from its home is slow or expensive: \
           sessions, profiles, product pages, the results of heavy queries. Serving a value that is slightly old must be acceptable, for a bounded time.",
    mistakes: &[
        "A cold start (a flush, a restart, a deploy): every read misses at once and the database drowns (a stampede). Single-flight, warming and staggered expiry prevent it.",
        "Forgetting to invalidate on write: the cache serves the old value until it expires, and with no TTL, forever.",
        "No TTL at all: a missed invalidation (a lost message, a race between a read and a write) is never repaired.",
        "Write-behind without thinking about crashes: a write acknowledged to the user lives only in the cache's memory until it is flushed.",
        "Caching what is rarely read twice: the cache churns and the hit ratio stays low while memory is spent.",
    ],
    try_this: &[
        Step { text: "Flush a warm cache at 20 s: misses jump, the database queue explodes and p99 with it, until the cache fills again.", preset: Some("cold-cache-stampede"), compare: None },
        Step { text: "The same flush with and without single-flight: compare the database's peak second and its longest queue.", preset: Some("cold-cache-stampede"), compare: Some("coalesce:on") },
        Step { text: "Writes without invalidation against writes with it: stale reads appear only on the side that forgot.", preset: Some("forgotten-invalidation"), compare: Some("invalidation:on") },
        Step { text: "Compare LRU with random eviction on the same Zipf traffic: LRU keeps the hot keys and hits more; its dashed line is Che's approximation.", preset: None, compare: Some("eviction:random") },
    ],
    goals: &[Goal {
        step: 1,
        text: "Keep the database's busiest second after the flush under 1,300 queries.",
        measure: "stampede_peak",
        at_most: true,
        value: 1300.0,
        opposite: None,
    }],
};

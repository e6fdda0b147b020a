//! The catalogue of patterns (patterns.md): every scene the product will have, grouped,
//! with a line each. Those that `scene::SCENES` builds are playable.

pub struct Entry {
    pub number: u8,
    pub id: &'static str,
    pub title: &'static str,
    pub group: &'static str,
    pub summary: &'static str,
}

pub const GROUPS: [&str; 5] = ["Traffic", "Resilience", "Data", "Messaging", "Architecture"];

pub const CATALOGUE: [Entry; 21] = [
    Entry { number: 1, id: "sharding", title: "Sharding", group: "Data", summary: "Split data across databases by a key; watch a bad key make one shard hot." },
    Entry { number: 2, id: "caching", title: "Caching", group: "Data", summary: "Keep hot reads in memory; see hit ratios, stampedes and stale reads." },
    Entry { number: 3, id: "event-driven", title: "Event-driven architecture", group: "Messaging", summary: "Producers publish, consumers react; delivery guarantees decide duplicates and losses." },
    Entry { number: 4, id: "rate-limiting", title: "Rate limiting", group: "Traffic", summary: "Admit at most so many requests per window; algorithms differ at the edges." },
    Entry { number: 5, id: "load-balancing", title: "Load balancing", group: "Traffic", summary: "Spread requests over servers; the policy decides who drowns when one is slow." },
    Entry { number: 6, id: "circuit-breaker", title: "Circuit breaker", group: "Resilience", summary: "Stop calling a failing dependency, fail fast, and probe until it recovers." },
    Entry { number: 7, id: "connection-pooling", title: "Connection pooling", group: "Traffic", summary: "Reuse database connections; too few queue, too many exhaust the database." },
    Entry { number: 8, id: "idempotency", title: "Idempotency", group: "Resilience", summary: "Retries over a lossy network double-charge, unless requests carry keys." },
    Entry { number: 9, id: "async-processing", title: "Async processing", group: "Messaging", summary: "Answer now, do the slow work later from a queue of jobs." },
    Entry { number: 10, id: "monitoring", title: "Monitoring", group: "Architecture", summary: "Golden signals and alerts: averages hide what percentiles show." },
    Entry { number: 11, id: "scaling", title: "Scaling", group: "Traffic", summary: "Bigger machine or more machines: ceilings, single points of failure, shared bottlenecks." },
    Entry { number: 12, id: "microservices", title: "Microservices", group: "Architecture", summary: "Fan-out makes the slowest leaf everyone's latency." },
    Entry { number: 13, id: "saga", title: "Saga", group: "Resilience", summary: "A long transaction as steps with compensations, undone in reverse on failure." },
    Entry { number: 14, id: "eventual-consistency", title: "Eventual consistency", group: "Data", summary: "Replicas catch up later: fast writes, stale reads." },
    Entry { number: 15, id: "cap", title: "CAP under a partition", group: "Data", summary: "When the network splits, refuse one side or let both diverge." },
    Entry { number: 16, id: "partitioning", title: "Data partitioning", group: "Data", summary: "Split a table by range, hash or list; queries prune or scan." },
    Entry { number: 17, id: "websockets", title: "WebSockets", group: "Messaging", summary: "Long-lived connections, and the reconnect storm when a gateway dies." },
    Entry { number: 18, id: "sse", title: "Server-sent events", group: "Messaging", summary: "One-way streams through proxies that cut them; resume where you left off." },
    Entry { number: 19, id: "two-phase-commit", title: "Two-phase commit", group: "Resilience", summary: "All commit or none; a coordinator crash leaves everyone waiting." },
    Entry { number: 20, id: "throttling", title: "Throttling", group: "Traffic", summary: "Shed or slow work under overload so goodput does not collapse." },
    Entry { number: 21, id: "architecture", title: "The whole architecture", group: "Architecture", summary: "Every pattern as a switch under a million transactions: p99, throughput, cost." },
];

pub fn playable(id: &str) -> bool {
    crate::scene::find(id).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scene_is_in_the_catalogue_and_ids_are_unique() {
        for s in crate::scene::SCENES {
            assert!(CATALOGUE.iter().any(|e| e.id == s.info().id), "{}", s.info().id);
        }
        let mut ids: Vec<&str> = CATALOGUE.iter().map(|e| e.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), CATALOGUE.len());
        assert!(CATALOGUE.iter().all(|e| GROUPS.contains(&e.group)));
    }
}

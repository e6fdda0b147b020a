//! The experiments patterns.md says each scene must make obvious, as assertions on
//! seeded runs of the scenes' own presets (the messaging and transaction scenes are in
//! `experiments_messaging.rs`).

mod common;
use common::*;

#[test]
fn round_robin_drowns_the_slow_server_power_of_two_keeps_up() {
    let limit = Limit::Until(60_000_000);
    let rr = run(preset("load-balancing", "slow-server-round-robin").limit(limit));
    let p2 = run(preset("load-balancing", "slow-server-power-of-two").limit(limit));
    let slow_queue = |r: &Report| r.metrics["per_server_queue_max"][3].as_f64().unwrap();
    assert!(slow_queue(&rr) >= 1000.0, "round robin fills the slow server's queue: {}", slow_queue(&rr));
    assert!(rr.requests.rejected > 1000, "and it refuses requests: {:?}", rr.requests);
    assert!(slow_queue(&p2) < 50.0, "power of two keeps it short: {}", slow_queue(&p2));
    assert_eq!(p2.requests.rejected, 0);
    assert!(p2.latency_us.p99 * 20.0 < rr.latency_us.p99, "p99 {} vs {}", p2.latency_us.p99, rr.latency_us.p99);
}

#[test]
fn power_of_two_is_nearly_as_good_as_least_connections() {
    let spec = |policy: &str| RunSpec::new("load-balancing").set("policy", policy).set("arrival_rate", "3600").limit(Limit::Requests(300_000));
    let p2 = run(spec("power-of-two"));
    let lc = run(spec("least-connections"));
    let random = run(spec("random"));
    assert!(p2.latency_us.p99 < 1.5 * lc.latency_us.p99, "p2c {} lc {}", p2.latency_us.p99, lc.latency_us.p99);
    assert!(p2.latency_us.p99 * 2.0 < random.latency_us.p99, "p2c {} random {}", p2.latency_us.p99, random.latency_us.p99);
}

#[test]
fn without_health_checks_a_dead_server_eats_requests() {
    let limit = Limit::Until(30_000_000);
    let blind = run(preset("load-balancing", "dead-server-no-health-checks").limit(limit));
    let checked = run(preset("load-balancing", "dead-server-health-checks").limit(limit));
    // Round robin sends a quarter of 20 s x 3000 req/s to the dead server.
    let blind_errors = metric(&blind, "errors_after_kill");
    assert!((blind_errors / 15_000.0 - 1.0).abs() < 0.05, "errors after kill without checks: {blind_errors}");
    let checked_errors = metric(&checked, "errors_after_kill");
    assert!(checked_errors < 1000.0, "at most about one health interval of errors: {checked_errors}");
    assert!(checked_errors > 0.0, "the kill is noticed only at the next check");
}

#[test]
fn ip_hash_keeps_a_client_on_one_server_and_weights_follow_speeds() {
    let r = run(RunSpec::new("load-balancing").set("policy", "weighted-round-robin").set("server_speeds", "1,1,2,4").limit(Limit::Requests(80_000)));
    let fwd: Vec<f64> = r.metrics["per_server_forwarded"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(fwd, vec![10_000.0, 10_000.0, 20_000.0, 40_000.0]);
}

#[test]
fn hung_dependency_cascades_without_breaker_and_fails_fast_with_it() {
    let limit = Limit::Until(60_000_000);
    let (off_sim, off) = run_sim(preset("circuit-breaker", "hung-dependency-no-breaker").limit(limit));
    let (on_sim, on) = run_sim(preset("circuit-breaker", "hung-dependency-with-breaker").limit(limit));
    // B hangs from 10 s to 40 s; look at A's busy workers, sampled each second, from 15 s to 38 s.
    let busy_mean = |s: &Sim| {
        let col = s.series.column("a_workers_busy").unwrap();
        col[15..38].iter().sum::<f64>() / 23.0
    };
    assert_eq!(metric(&off, "a_workers_busy_max"), 20.0, "every worker pinned");
    assert!(busy_mean(&off_sim) > 19.0, "without a breaker A's pool stays pinned: {}", busy_mean(&off_sim));
    assert!(busy_mean(&on_sim) < 2.0, "with it the pool is free: {}", busy_mean(&on_sim));
    assert!(metric(&on, "fast_failures") > 2000.0, "{}", metric(&on, "fast_failures"));
    assert_eq!(metric(&off, "fast_failures"), 0.0);
    // The lesson: the requests that never needed B. Without the breaker the pinned pool
    // fails them too; with it they keep completing at nearly their rate before the outage.
    assert!(metric(&on, "independent_outage_pct") >= 95.0, "with the breaker: {}", metric(&on, "independent_outage_pct"));
    assert!(metric(&off, "independent_outage_pct") < 10.0, "without: {}", metric(&off, "independent_outage_pct"));
    assert!(metric(&on, "independent_completed") > 1.5 * metric(&off, "independent_completed"));
    // Failures come fast with the breaker, after a wait without it; clients stop piling up.
    let (on_fail, off_fail) = (numbers(&on, "failure_ms")[0], numbers(&off, "failure_ms")[0]);
    assert!(on_fail * 4.0 < off_fail, "mean failure: {on_fail} ms with, {off_fail} ms without");
    assert!(metric(&on, "clients_waiting_mean") * 4.0 < metric(&off, "clients_waiting_mean"));
    assert!(metric(&on, "dependency_timeouts") * 4.0 < metric(&off, "dependency_timeouts"));
    // The price: after B is back the breaker may wait out its open_timeout (5 s) first.
    assert!(metric(&on, "recovery_s") <= 6.0 && metric(&off, "recovery_s") <= 2.0, "{} / {}", metric(&on, "recovery_s"), metric(&off, "recovery_s"));
    // Clients time out against a pinned A; with the breaker they get a fast error instead.
    assert!(off.requests.timed_out + off.requests.rejected > 4000, "{:?}", off.requests);
    assert!(on.requests.timed_out < 100, "{:?}", on.requests);
    // And it recovers: open, then half-open probes, then closed again once B is back.
    let states: Vec<String> = on.metrics["state_timeline"].as_array().unwrap().iter().map(|e| e[1].as_str().unwrap().to_string()).collect();
    assert_eq!(states.first().map(String::as_str), Some("closed"));
    assert!(states.iter().any(|s| s == "open") && states.iter().any(|s| s == "half-open"));
    assert_eq!(states.last().map(String::as_str), Some("closed"), "{states:?}");
    assert_eq!(metric(&on, "calls_while_open"), 0.0);
}

#[test]
fn refused_connections_open_the_breaker_too() {
    let r = run(preset("circuit-breaker", "erroring-dependency").limit(Limit::Until(45_000_000)));
    assert!(metric(&r, "fast_failures") > 1000.0);
    assert!(metric(&r, "dependency_calls") < r.requests.sent as f64 * 0.8);
}

fn numbers(r: &Report, name: &str) -> Vec<f64> {
    r.metrics[name]
        .as_array()
        .unwrap_or_else(|| panic!("metric {name}"))
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[test]
fn timestamps_on_range_sharding_make_one_hot_shard_and_hashing_spreads_them() {
    let limit = Limit::Until(40_000_000);
    let range = run(preset("sharding", "hot-shard-sequential-range").limit(limit));
    let hashed = run(preset("sharding", "hot-shard-sequential-range")
        .set("strategy", "consistent-hash")
        .limit(limit));
    let load = numbers(&range, "per_shard_load");
    assert_eq!(
        load.iter().filter(|l| **l > 0.0).count(),
        1,
        "every timestamp on one shard: {load:?}"
    );
    assert!(
        metric(&range, "load_imbalance") > 3.9,
        "{}",
        metric(&range, "load_imbalance")
    );
    assert!(
        range.requests.rejected > 10_000,
        "the hot shard overflows: {:?}",
        range.requests
    );
    assert!(
        metric(&hashed, "load_imbalance") < 1.25,
        "{}",
        metric(&hashed, "load_imbalance")
    );
    assert_eq!(hashed.requests.rejected, 0);
    assert!(hashed.latency_us.p99 * 10.0 < range.latency_us.p99);
}

#[test]
fn adding_a_shard_moves_most_keys_under_modulo_and_a_fifth_on_a_ring() {
    let limit = Limit::Until(30_000_000);
    let modulo = run(preset("sharding", "resize-modulo").limit(limit));
    let ring = run(preset("sharding", "resize-consistent-hash").limit(limit));
    assert!(
        (metric(&modulo, "keys_moved_fraction") - 0.8).abs() < 0.01,
        "{}",
        metric(&modulo, "keys_moved_fraction")
    );
    assert!(
        (metric(&ring, "keys_moved_fraction") - 0.2).abs() < 0.06,
        "{}",
        metric(&ring, "keys_moved_fraction")
    );
    // The new shard takes work from the resize on, under both.
    for r in [&modulo, &ring] {
        assert_eq!(numbers(r, "per_shard_load").len(), 5);
        assert!(numbers(r, "per_shard_load")[4] > 4_000.0);
        assert_eq!(metric(r, "shards_now"), 5.0);
    }
}

#[test]
fn removing_a_shard_on_a_ring_moves_only_its_keys_and_killing_one_fails_only_its_keys() {
    let spec = RunSpec::new("sharding")
        .set("strategy", "consistent-hash")
        .limit(Limit::Until(20_000_000));
    let removed = run(spec.clone().fault("5s remove-shard shard-2"));
    let share_before = run(spec.clone().limit(Limit::Requests(10)));
    let shard2 = numbers(&share_before, "per_shard_keys")[1];
    assert!(
        (metric(&removed, "keys_moved_fraction") - shard2).abs() < 0.002,
        "moved {} vs its share {shard2}",
        metric(&removed, "keys_moved_fraction")
    );
    let load = numbers(&removed, "per_shard_load");
    assert!(
        load[1] < 0.3 * load[0],
        "shard-2 takes nothing after 5 s: {load:?}"
    );
    let killed = run(spec.fault("5s kill shard-3"));
    let failed = killed.requests.failed as f64 / (15.0 * 3000.0);
    let share3 = numbers(&share_before, "per_shard_keys")[2];
    assert!(
        (failed - share3).abs() < 0.03,
        "after the kill, requests fail in proportion to shard-3's keys: {failed} vs {share3}"
    );
}

#[test]
fn virtual_nodes_even_out_the_ring_and_range_keeps_scans_on_one_shard() {
    let spec = |vnodes: &str| {
        RunSpec::new("sharding")
            .seed(3)
            .set("shards", "8")
            .set("vnodes", vnodes)
            .limit(Limit::Requests(20_000))
    };
    let one = run(spec("1"));
    let many = run(spec("200"));
    assert!(
        metric(&one, "key_share_imbalance") > 1.8,
        "{}",
        metric(&one, "key_share_imbalance")
    );
    assert!(
        metric(&many, "key_share_imbalance") < 1.3,
        "{}",
        metric(&many, "key_share_imbalance")
    );
    let scan = |strategy: &str| {
        run(RunSpec::new("sharding")
            .set("strategy", strategy)
            .set("query_keys", "4")
            .limit(Limit::Requests(20_000)))
    };
    let (range, hashed) = (scan("range"), scan("consistent-hash"));
    assert!(
        metric(&range, "cross_shard_ratio") < 0.01,
        "{}",
        metric(&range, "cross_shard_ratio")
    );
    assert!(
        metric(&hashed, "cross_shard_ratio") > 0.8,
        "{}",
        metric(&hashed, "cross_shard_ratio")
    );
}

#[test]
fn a_flushed_cache_stampedes_the_database_and_single_flight_tames_it() {
    let limit = Limit::Until(40_000_000);
    let (plain_sim, plain) = run_sim(preset("caching", "cold-cache-stampede").limit(limit));
    let single = run(preset("caching", "cold-cache-single-flight").limit(limit));
    // Warm before the flush: the hit ratio of the seconds before 20 s is high.
    let hits = plain_sim.series.column("hit_ratio").unwrap();
    let dt = plain_sim.series.interval_us as f64 / 1e6;
    let at = |s: f64| hits[(s / dt) as usize - 1];
    assert!(at(19.0) > 0.9, "warm: {}", at(19.0));
    assert!(at(21.0) < 0.8, "in the second after the flush many reads miss: {}", at(21.0));
    assert!(metric(&plain, "db_queue_max") > 2.0 * metric(&single, "db_queue_max"), "{} vs {}", metric(&plain, "db_queue_max"), metric(&single, "db_queue_max"));
    assert!(plain.latency_us.p99 > 2.0 * single.latency_us.p99, "{} vs {}", plain.latency_us.p99, single.latency_us.p99);
    assert!(metric(&single, "coalesced_reads") > 100.0);
    assert_eq!(metric(&plain, "coalesced_reads"), 0.0);
}

#[test]
fn forgetting_invalidation_serves_stale_reads_and_write_behind_loses_writes_in_a_crash() {
    let limit = Limit::Until(30_000_000);
    let forgot = run(preset("caching", "forgotten-invalidation").limit(limit));
    let minded = run(preset("caching", "forgotten-invalidation").set("invalidation", "on").limit(limit));
    assert!(metric(&forgot, "stale_reads") > 5_000.0, "{}", metric(&forgot, "stale_reads"));
    assert_eq!(metric(&minded, "stale_reads"), 0.0);
    let spec = |strategy: &str| RunSpec::new("caching").set("strategy", strategy).set("write_ratio", "0.2").fault("10500ms kill cache").fault("11s revive cache").limit(limit);
    let behind = run(spec("write-behind"));
    let through = run(spec("write-through"));
    assert!(metric(&behind, "lost_writes") > 50.0, "{}", metric(&behind, "lost_writes"));
    assert!(metric(&behind, "stale_reads") > 0.0, "the lost versions are read back older");
    assert_eq!(metric(&through, "lost_writes"), 0.0);
    assert_eq!(metric(&through, "stale_reads"), 0.0);
}

#[test]
fn lru_keeps_hot_keys_better_than_random_and_no_cache_drowns_the_database() {
    let spec = |k: &str, v: &str| RunSpec::new("caching").set(k, v).limit(Limit::Requests(200_000));
    let lru = run(spec("eviction", "lru"));
    let random = run(spec("eviction", "random"));
    assert!(metric(&lru, "hit_ratio") > metric(&random, "hit_ratio") + 0.02, "{} vs {}", metric(&lru, "hit_ratio"), metric(&random, "hit_ratio"));
    let none = run(spec("strategy", "none"));
    assert!(none.requests.failed > 10_000, "{:?}", none.requests);
    assert_eq!(lru.requests.failed, 0);
}

fn pair(r: &Report, name: &str) -> (f64, f64) {
    let v = numbers(r, name);
    (v[0], v[1])
}

#[test]
fn async_replication_reads_stale_sync_waits_and_read_your_writes_fixes_the_users_own_view() {
    let limit = Limit::Until(30_000_000);
    let asynchronous = run(preset("eventual-consistency", "async-stale-reads").limit(limit));
    let synchronous = run(preset("eventual-consistency", "sync-slow-writes").limit(limit));
    let ryw = run(preset("eventual-consistency", "read-your-writes").limit(limit));
    assert!(metric(&asynchronous, "stale_read_ratio") > 0.02, "{}", metric(&asynchronous, "stale_read_ratio"));
    assert_eq!(metric(&synchronous, "stale_reads"), 0.0);
    let (async_p50, _) = pair(&asynchronous, "write_latency");
    let (sync_p50, _) = pair(&synchronous, "write_latency");
    assert!(async_p50 < 5.0 && sync_p50 > 100.0, "writes: async {async_p50} ms, sync {sync_p50} ms");
    assert!(metric(&asynchronous, "own_stale_reads") > 100.0);
    assert_eq!(metric(&ryw, "own_stale_reads"), 0.0, "nobody misses their own write");
    assert!(metric(&ryw, "stale_reads") > 100.0, "others' profiles are still read stale");
}

#[test]
fn a_partitioned_replica_falls_behind_and_converges_after_the_heal() {
    let (sim, r) = run_sim(preset("eventual-consistency", "partitioned-replica").limit(Limit::Until(40_000_000)));
    let behind = sim.series.column("behind:replica-2").unwrap();
    let dt = sim.series.interval_us as f64 / 1e6;
    let at = |s: f64| behind[(s / dt) as usize - 1];
    assert!(at(29.0) > 300.0, "backlog before the heal: {}", at(29.0));
    assert!(at(33.0) < 100.0, "drained after it: {}", at(33.0));
    assert!(metric(&r, "convergence_time") > 15_000.0, "the writes it missed took the partition's length to arrive");
    let (p50, _) = pair(&r, "staleness");
    assert!(p50 > 1_000.0, "reads it served were seconds stale: {p50} ms");
    // Synchronous replication cannot acknowledge while a replica is cut off: writes fail.
    let sync = run(preset("eventual-consistency", "partitioned-replica").set("replication", "sync").limit(Limit::Until(40_000_000)));
    assert!(metric(&sync, "writes_failed") > 1000.0);
    let semi = run(preset("eventual-consistency", "partitioned-replica").set("replication", "semi-sync").limit(Limit::Until(40_000_000)));
    assert_eq!(metric(&semi, "writes_failed"), 0.0);
}

#[test]
fn under_a_partition_cp_refuses_the_minority_and_ap_answers_diverges_and_reconciles() {
    let limit = Limit::Until(40_000_000);
    let cp = run(preset("cap", "cp-partition").limit(limit));
    let (a, b) = pair(&cp, "availability_by_side");
    assert!(a < 0.6 && b == 1.0, "CP: the cut-off region refuses, the others answer: {a} {b}");
    assert_eq!(metric(&cp, "linearizability_violations"), 0.0);
    assert_eq!(metric(&cp, "stale_reads"), 0.0);
    let lww = run(preset("cap", "ap-partition-lww").limit(limit));
    let siblings = run(preset("cap", "ap-partition-siblings").limit(limit));
    for ap in [&lww, &siblings] {
        assert_eq!(pair(ap, "availability_by_side"), (1.0, 1.0), "AP answers everywhere");
        assert!(metric(ap, "linearizability_violations") > 10.0, "the checker finds the divergence");
        assert!(metric(ap, "stale_reads") > 100.0);
        assert!(metric(ap, "conflicts") > 10.0);
    }
    assert!(metric(&lww, "lost_writes") > 10.0, "last writer wins drops the other side's writes");
    assert_eq!(metric(&siblings, "lost_writes"), 0.0, "siblings keep them");
}

#[test]
fn cp_quorums_must_intersect_and_bad_quorums_are_refused_by_name() {
    let e = Sim::new(&RunSpec::new("cap").set("r", "1").set("w", "1")).err().unwrap().0;
    assert!(e.contains("r + w > n") && e.contains("r = 1") && e.contains("n = 3"), "{e}");
    let e = Sim::new(&RunSpec::new("cap").set("r", "4")).err().unwrap().0;
    assert!(e.contains("at most n = 3"), "{e}");
    // AP with quorums that do not intersect: reads are stale even with no partition.
    let ap = run(RunSpec::new("cap").set("mode", "ap").limit(Limit::Until(20_000_000)));
    assert!(metric(&ap, "stale_reads") > 50.0, "{}", metric(&ap, "stale_reads"));
}

#[test]
fn range_by_date_prunes_recent_queries_hash_prunes_lookups_and_list_by_a_skewed_region_makes_one_huge_partition() {
    let limit = Limit::Until(100_000_000);
    let range = run(preset("partitioning", "range-by-date").limit(limit));
    let hash = run(preset("partitioning", "hash-by-id").limit(limit));
    let list = run(preset("partitioning", "list-by-region-skewed").limit(limit));
    let by_kind = |r: &Report| numbers(r, "scanned_by_kind");
    // [point lookup, last minutes, one region] of 8 partitions.
    assert!(by_kind(&range)[1] < 2.0 && by_kind(&range)[0] == 8.0, "{:?}", by_kind(&range));
    assert!(by_kind(&hash)[0] == 1.0 && by_kind(&hash)[1] == 8.0, "{:?}", by_kind(&hash));
    assert!(by_kind(&list)[2] == 1.0 && by_kind(&list)[1] == 8.0, "{:?}", by_kind(&list));
    assert!(metric(&range, "rows_dropped") > 1000.0, "old partitions dropped whole");
    assert_eq!(metric(&hash, "rows_dropped"), 0.0);
    assert!(metric(&list, "skew") > 3.0 && metric(&hash, "skew") < 1.1, "{} {}", metric(&list, "skew"), metric(&hash, "skew"));
    let sizes = numbers(&list, "partition_sizes");
    assert!(sizes[0] > 0.45 * sizes.iter().sum::<f64>(), "the first region's partition holds about half: {sizes:?}");
}

/// Servers whose speed changes under the balancer: a latency-aware policy (peak-EWMA)
/// steers away from a slow server from its first slow answers, where least connections
/// waits for requests to pile up on it. Over three seeds its p99 is at most 60% of least
/// connections'.
#[test]
fn peak_ewma_beats_least_connections_when_speeds_change() {
    for seed in [1, 2, 3] {
        let spec = preset("load-balancing", "slowness-moves-least-connections").seed(seed).limit(Limit::Until(50_000_000));
        let lc = run(spec.clone());
        let ewma = run(spec.set("policy", "peak-ewma"));
        assert!(ewma.latency_us.p99 < 0.6 * lc.latency_us.p99, "seed {seed}: p99 {} with peak-EWMA, {} with least connections", ewma.latency_us.p99, lc.latency_us.p99);
        assert_eq!(ewma.requests.completed, ewma.requests.sent, "nothing lost: {:?}", ewma.requests);
    }
}

/// Request cost variance (service_cv) decides how much looking at the servers pays: with
/// identical requests round robin and least connections give the very same latencies; at
/// a coefficient of variation of 3 round robin's p99 is more than twice least connections'.
#[test]
fn cost_variance_decides_what_round_robin_costs() {
    let limit = Limit::Until(30_000_000);
    let at = |policy: &str, cv: &str| run(RunSpec::new("load-balancing").set("policy", policy).set("service_cv", cv).limit(limit)).latency_us;
    let (rr0, lc0) = (at("round-robin", "0"), at("least-connections", "0"));
    assert_eq!((rr0.p50, rr0.p99), (lc0.p50, lc0.p99));
    let (rr3, lc3) = (at("round-robin", "3"), at("least-connections", "3"));
    assert!(rr3.p99 > 2.0 * lc3.p99, "p99 at cv 3: round robin {}, least connections {}", rr3.p99, lc3.p99);
    let rr1 = at("round-robin", "1");
    assert!(rr0.p99 < rr1.p99 && rr1.p99 < rr3.p99, "p99 grows with the spread: {} {} {}", rr0.p99, rr1.p99, rr3.p99);
}

/// The circuit breaker's last step: retries without a breaker during the hang. Each
/// request that needs B holds a worker for four call timeouts (4 s, past the clients' 2 s),
/// so A's capacity falls to a quarter and its answers to them come after the clients gave up.
#[test]
fn retries_without_a_breaker_hold_workers_four_times_as_long() {
    let limit = Limit::Until(60_000_000);
    let once = run(preset("circuit-breaker", "hung-dependency-no-breaker").limit(limit));
    let four = run(preset("circuit-breaker", "hung-dependency-no-breaker").set("retries", "3").limit(limit));
    let capacity = |r: &Report| r.theory["a_capacity_when_b_hangs_rps"].as_f64().unwrap();
    assert!((capacity(&once) - 39.8).abs() < 0.1 && (capacity(&four) - 10.0).abs() < 0.1, "{} {}", capacity(&once), capacity(&four));
    assert!(once.requests.failed > 0 && four.requests.failed == 0, "A's errors reach clients only without retries: {:?} / {:?}", once.requests, four.requests);
    assert!(four.requests.timed_out > 0);
}

/// One user floods: the token bucket holds them to their burst and rate, and everyone
/// else is served; with no limit the API saturates and every user suffers. The same
/// requests, fed to every algorithm: the fixed window lets twice the limit through
/// across a boundary, the exact ones never more than their bound. Keyed by IP, the
/// abuser's neighbours are refused with them.
#[test]
fn a_limiter_contains_an_abusive_user_and_the_fixed_window_doubles_at_its_edge() {
    let limit = Limit::Until(40_000_000);
    let bucket = run(preset("rate-limiting", "abusive-user").limit(limit));
    let open = run(preset("rate-limiting", "abusive-user").set("algorithm", "none").limit(limit));
    assert!(metric(&bucket, "others_served_pct") >= 99.5, "{}", metric(&bucket, "others_served_pct"));
    assert!(metric(&open, "others_served_pct") < 95.0, "{}", metric(&open, "others_served_pct"));
    assert!(open.latency_us.p99 > 10.0 * bucket.latency_us.p99, "p99 {} vs {}", open.latency_us.p99, bucket.latency_us.p99);
    assert!(metric(&bucket, "rejected_429") > 10_000.0 && metric(&bucket, "others_rejected_429") <= 5.0);
    // Token bucket: burst 5 + limit 5 at most, reached when the flood hits a full bucket.
    assert_eq!(metric(&bucket, "max_admitted_in_any_window"), 9.0);

    let edge = run(preset("rate-limiting", "fixed-window-boundary").limit(limit));
    let by = |name: &str| edge.metrics[name].as_array().unwrap().iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect::<Vec<f64>>();
    let max = by("max_in_window_by_algorithm");
    // token bucket, leaky bucket, fixed window, sliding log, sliding window counter, none
    assert_eq!(max[2], 10.0, "the fixed window: twice the limit of 5 in one second: {max:?}");
    assert_eq!((max[1], max[3]), (5.0, 5.0), "leaky bucket and sliding log: never over 5: {max:?}");
    assert!(max[0] <= 10.0 && max[4] < max[2] && max[5] > 300.0, "{max:?}");
    // Same traffic: in the long run every limiter admits about the same.
    let admitted = by("admitted_by_algorithm");
    assert!(admitted[..5].iter().all(|a| (a / admitted[0] - 1.0).abs() < 0.01), "{admitted:?}");

    let ip = run(preset("rate-limiting", "keyed-by-ip").limit(limit));
    let user = run(preset("rate-limiting", "keyed-by-ip").set("key", "user").limit(limit));
    assert!(metric(&ip, "others_rejected_429") > 50.0, "neighbours refused: {}", metric(&ip, "others_rejected_429"));
    assert_eq!(metric(&user, "others_rejected_429"), 0.0);
}

/// Without a pool every query pays for a connection; a pool reuses a handful. Pools that
/// together exceed the database's limit get refused when it slows; pools that fit queue
/// instead. A restart fails the first query on every pooled connection, unless pinged.
#[test]
fn a_pool_reuses_connections_queues_when_small_and_must_fit_the_database() {
    let limit = Limit::Until(40_000_000);
    let none = run(preset("connection-pooling", "no-pool").limit(limit));
    let pooled = run(preset("connection-pooling", "no-pool").set("pooling", "on").limit(limit));
    assert_eq!(metric(&none, "connections_opened"), none.requests.sent as f64);
    assert!(metric(&pooled, "connections_opened") < 100.0 && metric(&pooled, "reuse_ratio") > 0.99);
    assert!(none.latency_us.p50 > 5.0 * pooled.latency_us.p50, "p50 {} vs {}", none.latency_us.p50, pooled.latency_us.p50);

    let big = run(preset("connection-pooling", "pools-exhaust-db").limit(limit));
    let fit = run(preset("connection-pooling", "pools-exhaust-db").set("pool_size", "20").limit(limit));
    assert!(metric(&big, "db_refusals") > 1000.0, "{}", metric(&big, "db_refusals"));
    assert_eq!(metric(&big, "db_connections_max"), 100.0);
    assert_eq!(metric(&fit, "db_refusals"), 0.0);
    assert!(metric(&fit, "acquire_timeouts") > 0.0 && fit.requests.failed < big.requests.failed);

    let stale = run(preset("connection-pooling", "db-restart").limit(limit));
    let pinged = run(preset("connection-pooling", "db-restart").set("pre_ping", "on").limit(limit));
    assert!(metric(&stale, "stale_errors") >= 10.0, "{}", metric(&stale, "stale_errors"));
    assert_eq!(metric(&pinged, "stale_errors"), 0.0);
    // The same stale connections, found by a ping instead of a failed query (give or take
    // the ones a query held at the restart, aborted rather than stale).
    assert!((metric(&pinged, "stale_replaced") - metric(&stale, "stale_errors")).abs() <= 3.0);
}

/// Lost answers and retries charge payments twice without idempotency keys, never with
/// them; an API crash mid-charge too. Keys checked but not locked before a slow charge
/// let retries through; locked, they do not.
#[test]
fn keys_charge_each_payment_once_through_lost_answers_crashes_and_slow_charges() {
    let limit = Limit::Until(60_000_000);
    let no_keys = run(preset("idempotency", "no-keys").limit(limit));
    let keys = run(preset("idempotency", "keys").limit(limit));
    assert!(metric(&no_keys, "duplicate_charges") > 200.0, "{}", metric(&no_keys, "duplicate_charges"));
    assert_eq!(metric(&keys, "duplicate_charges"), 0.0);
    assert!(metric(&keys, "replayed") > 200.0, "retries answered from the store: {}", metric(&keys, "replayed"));

    let crash = run(preset("idempotency", "crash-mid-charge").limit(limit));
    let crash_no_keys = run(preset("idempotency", "crash-mid-charge").set("idempotency_keys", "off").limit(limit));
    assert_eq!(metric(&crash, "duplicate_charges"), 0.0);
    assert!(metric(&crash_no_keys, "duplicate_charges") > 10.0, "{}", metric(&crash_no_keys, "duplicate_charges"));

    let unlocked = run(preset("idempotency", "check-then-charge").limit(limit));
    let locked = run(preset("idempotency", "check-then-charge").set("key_lock", "on").limit(limit));
    assert!(metric(&unlocked, "duplicate_charges") > 500.0, "{}", metric(&unlocked, "duplicate_charges"));
    assert_eq!(metric(&locked, "duplicate_charges"), 0.0);
    assert!(metric(&locked, "conflicts") > 1000.0);
}

/// A spike past capacity with no throttling: the host serves answers nobody waits for
/// and goodput collapses; shedding or dropping stale work keeps it at capacity; with
/// little memory the unthrottled host crashes.
#[test]
fn throttling_keeps_goodput_at_capacity_through_a_spike() {
    let limit = Limit::Until(60_000_000);
    let none = run(preset("throttling", "spike-no-throttling").limit(limit));
    let shed = run(preset("throttling", "spike-load-shedding").limit(limit));
    let adaptive = run(preset("throttling", "spike-adaptive-delay").limit(limit));
    let capacity = metric(&none, "capacity");
    assert!(metric(&none, "goodput") < 0.4 * capacity, "{}", metric(&none, "goodput"));
    assert!(metric(&none, "wasted") > 10_000.0);
    for r in [&shed, &adaptive] {
        assert!(metric(r, "goodput") > 0.95 * capacity, "{}", metric(r, "goodput"));
        assert_eq!(metric(r, "wasted"), 0.0);
        assert!(metric(r, "shed") > 5_000.0);
    }
    let oom = run(preset("throttling", "spike-out-of-memory").limit(limit));
    let oom_shed = run(preset("throttling", "spike-out-of-memory").set("mode", "load-shedding").limit(limit));
    assert_eq!((metric(&oom, "crashed"), metric(&oom_shed, "crashed")), (1.0, 0.0));
}

/// Averages hide an incident on a few requests that the p99 shows; rare scrapes and a
/// long `for` make the alert late; no incident, no alert.
#[test]
fn a_p99_alert_catches_what_the_mean_hides_and_scrapes_set_the_delay() {
    let limit = Limit::Until(300_000_000);
    let p99 = run(preset("monitoring", "p99-alert").limit(limit));
    let mean = run(preset("monitoring", "mean-alert").limit(limit));
    assert_eq!((metric(&p99, "alerts_fired"), metric(&p99, "missed_incidents")), (1.0, 0.0));
    assert_eq!((metric(&mean, "alerts_fired"), metric(&mean, "missed_incidents")), (0.0, 1.0));
    let slow = run(preset("monitoring", "slow-scrapes").limit(limit));
    let fast = run(preset("monitoring", "slow-scrapes").set("scrape_interval", "10s").limit(limit));
    assert!(metric(&slow, "detection_delay") >= metric(&fast, "detection_delay") + 20.0, "{} vs {}", metric(&slow, "detection_delay"), metric(&fast, "detection_delay"));
    let quiet = run(RunSpec::new("monitoring").limit(limit));
    assert_eq!((metric(&quiet, "alerts_fired"), metric(&quiet, "false_alerts")), (0.0, 0.0));
}

/// Vertically one machine stops at its USL ceiling and dies whole; horizontally the
/// autoscaler follows the ramp until the shared database is the ceiling.
#[test]
fn vertical_stops_at_its_ceiling_horizontal_at_the_database() {
    let limit = Limit::Until(150_000_000);
    let vertical = run(preset("scaling", "vertical-ceiling").limit(limit));
    assert!(metric(&vertical, "peak_rps") < 1.15 * metric(&vertical, "capacity_rps") && vertical.requests.rejected > 50_000);
    let dead = run(preset("scaling", "vertical-ceiling").fault("30s kill app").limit(limit));
    assert!(dead.requests.failed + dead.requests.rejected > dead.requests.sent * 3 / 4, "{:?}", dead.requests);
    let auto = run(preset("scaling", "horizontal-autoscale").limit(limit));
    let fixed = run(preset("scaling", "horizontal-autoscale").set("autoscale", "off").limit(limit));
    assert!(metric(&auto, "nodes_max") >= 8.0 && metric(&auto, "peak_rps") > 3.0 * metric(&fixed, "peak_rps"));
    assert!(metric(&auto, "cost_per_hour") > metric(&fixed, "cost_per_hour"));
    let db = run(preset("scaling", "database-ceiling").limit(limit));
    assert!(metric(&db, "nodes_max") == 16.0 && metric(&db, "peak_rps") < 1.1 * 3200.0, "{}", metric(&db, "peak_rps"));
}

/// Every playable scene sets the reader at least one goal; each goal is met by its own
/// step's setup (on a comparison, the compared side) and missed by the opposite setup
/// (the other side, or the goal's own opposite knob), over the first 60 s.
#[test]
fn every_goal_is_met_by_its_step_and_missed_by_the_opposite() {
    use clusterlab_sim::narrative::GoalState;
    for scene in clusterlab_sim::scene::SCENES {
        let info = scene.info();
        assert!(!info.narrative.goals.is_empty(), "{} sets no goal", info.id);
        for goal in info.narrative.goals {
            let step = &info.narrative.try_this[goal.step];
            let base = preset(info.id, step.preset.expect("a goal's step sets something up")).limit(Limit::Until(60_000_000));
            let with = |kv: &str| {
                let (k, v) = kv.split_once(':').expect("knob:value");
                base.clone().set(k, v)
            };
            let (setup, opposite) = match (step.compare, goal.opposite) {
                (Some(b), _) => (with(b), base.clone()),
                (None, Some(o)) => (base.clone(), with(o)),
                (None, None) => panic!("{}: goal '{}' has nothing to miss it", info.id, goal.text),
            };
            let met = goal.check(&run(setup).metrics);
            assert_eq!(met, GoalState::Met, "{}: '{}' by its own step", info.id, goal.text);
            // The opposite may break the invariant itself (deciding alone in two-phase commit).
            let mut sim = Sim::new(&opposite).unwrap();
            sim.run();
            let missed = goal.check(&Report::of(&sim, 0.0).metrics);
            assert!(matches!(missed, GoalState::Missed(..)), "{}: '{}' by the opposite setup: {missed:?}", info.id, goal.text);
        }
    }
}

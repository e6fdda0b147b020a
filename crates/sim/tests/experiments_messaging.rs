//! The experiments of the messaging and transaction scenes (patterns.md rows 3, 9, 12,
//! 13, 19), as assertions on seeded runs of their own presets.

mod common;
use common::*;

/// Two-phase commit: all commit or none; a coordinator crash after prepare blocks the
/// participants that voted yes, holding their locks, until it recovers; a crash mid-commit
/// is finished by recovery; participants that decide alone break atomicity, and the
/// checker (from the trace) says so.
#[test]
fn two_phase_commit_blocks_on_a_coordinator_crash_and_heuristics_break_atomicity() {
    let limit = Limit::Until(40_000_000);
    let healthy = run(preset("two-phase-commit", "all-or-nothing").limit(limit));
    assert_eq!(metric(&healthy, "atomicity_violations"), 0.0);
    assert!(metric(&healthy, "blocked_time") < 0.5 && metric(&healthy, "locks_blocked_max") == 0.0);
    let crash = run(preset("two-phase-commit", "coordinator-crash").limit(limit));
    assert!(metric(&crash, "blocked_time") > 9.5, "blocked for the recovery time: {}", metric(&crash, "blocked_time"));
    assert!(metric(&crash, "locks_blocked_max") >= 2.0);
    assert_eq!(metric(&crash, "coordinator_recoveries"), 1.0);
    let mid_commit = run(preset("two-phase-commit", "crash-during-commit").limit(limit));
    assert!(metric(&mid_commit, "blocked_time") > 9.5);
    // A participant that crashes after voting yes asks for the decision when it is back.
    let part = run(RunSpec::new("two-phase-commit").set("participant_crash", "after-vote").limit(limit));
    assert!(metric(&part, "blocked_time") > 9.5, "{}", metric(&part, "blocked_time"));
    // Deciding alone: violations, caught from the trace (run_sim would refuse them).
    for (name, extra) in [("heuristic-commit", None), ("crash-during-commit", Some(("in_doubt", "heuristic-abort")))] {
        let mut spec = preset("two-phase-commit", name).limit(limit);
        if let Some((k, v)) = extra {
            spec = spec.set(k, v);
        }
        let mut sim = Sim::new(&spec).unwrap();
        sim.run();
        let r = Report::of(&sim, 0.0);
        assert!(metric(&r, "heuristic_decisions") > 0.0);
        assert!(metric(&r, "atomicity_violations") > 0.0 && r.invariants.violation_count > 0, "{name}: {:?}", r.invariants.violations);
        assert!(metric(&r, "blocked_time") < 2.5, "locks freed after one or two timeouts: {}", metric(&r, "blocked_time"));
    }
}

/// Saga: a failed step's predecessors are undone in reverse, and only those; the
/// orchestrator resumes its sagas after a crash; a hung service strands choreographed
/// sagas, which an orchestrator times out and cancels.
#[test]
fn sagas_end_booked_or_cancelled_and_choreography_strands_sagas_on_a_hung_service() {
    let limit = Limit::Until(60_000_000);
    let orchestrated = run(preset("saga", "orchestrated").limit(limit));
    let compensated = metric(&orchestrated, "compensated");
    assert!(compensated > 500.0 && metric(&orchestrated, "partial_left") == 0.0);
    // Fewer compensations run than sagas cancelled times steps: only what ran is undone.
    assert!(metric(&orchestrated, "compensations_run") < 3.0 * compensated);
    assert!(metric(&orchestrated, "compensation_failures") > 50.0, "failed compensations are retried until they succeed");
    let retried = run(preset("saga", "orchestrated").set("retries", "1").limit(limit));
    assert!(metric(&retried, "completed_share") > 0.9 && metric(&orchestrated, "completed_share") < 0.75);
    let crash = run(preset("saga", "orchestrator-crash").limit(limit));
    assert!(metric(&crash, "resumed") >= 1.0 && metric(&crash, "open") == 0.0 && metric(&crash, "partial_left") == 0.0);
    let hung = run(preset("saga", "hotel-hangs").limit(limit));
    let owned = run(preset("saga", "hotel-hangs").set("style", "orchestration").limit(limit));
    assert!(metric(&hung, "stuck") > 300.0, "{}", metric(&hung, "stuck"));
    assert_eq!((metric(&owned, "stuck"), metric(&owned, "open")), (0.0, 0.0));
    assert!(metric(&owned, "timeouts") > 300.0);
    // A slow hotel answers after its timeout: its step ran, and is undone with the rest.
    let slow = run(preset("saga", "orchestrated").fault("20s slow hotel x100").limit(limit));
    assert!(metric(&slow, "timeouts") > 100.0 && metric(&slow, "partial_left") == 0.0 && metric(&slow, "open") < 100.0);
}

/// Async processing: sending the e-mail inside the request saturates the web threads and
/// makes users wait seconds; a queue answers in milliseconds. An SMTP outage becomes a
/// backlog, retries and dead letters (or drops, without a DLQ); crashed workers' jobs go
/// out again and none vanish.
#[test]
fn a_queue_answers_at_once_absorbs_an_outage_and_loses_no_job() {
    let limit = Limit::Until(60_000_000);
    let sync = run(preset("async-processing", "sync-saturates").limit(limit));
    let queued = run(preset("async-processing", "sync-saturates").set("mode", "async").limit(limit));
    let p50 = |r: &Report| r.metrics["response_latency"][0].as_f64().unwrap();
    assert!(p50(&sync) > 2000.0 && metric(&sync, "web_busy") > 0.9, "{} {}", p50(&sync), metric(&sync, "web_busy"));
    assert!(p50(&queued) < 20.0 && metric(&queued, "web_busy") < 0.05);
    let outage = run(preset("async-processing", "smtp-outage").limit(Limit::Until(80_000_000)));
    let no_dlq = run(preset("async-processing", "smtp-outage").set("dlq", "off").limit(Limit::Until(80_000_000)));
    assert!(metric(&outage, "dead_lettered") > 100.0 && metric(&outage, "discarded") == 0.0);
    assert!(metric(&no_dlq, "discarded") > 100.0 && metric(&no_dlq, "dead_lettered") == 0.0);
    assert!(metric(&outage, "queue_depth_max") > 50.0 && metric(&outage, "retried") > 500.0);
    assert!(p50(&outage) < 20.0, "users are answered at once through the outage");
    let crash = run(preset("async-processing", "worker-crash").limit(limit));
    assert!(metric(&crash, "redelivered") >= 2.0 && metric(&crash, "vanished") == 0.0);
    for r in [&sync, &queued, &outage, &no_dlq, &crash] {
        assert_eq!(metric(r, "vanished"), 0.0);
    }
}

/// Microservices: fan-out makes the rare slow call common and the p99 the slow call's;
/// availability multiplies down; one service down fails every request.
#[test]
fn fan_out_makes_the_slowest_leaf_everyones_latency_and_multiplies_availability_down() {
    let limit = Limit::Until(40_000_000);
    let ten = run(preset("microservices", "fan-out-tail").limit(limit));
    let one = run(preset("microservices", "fan-out-tail").set("fan_out", "1").limit(limit));
    assert!(ten.latency_us.p95 > 250_000.0 && one.latency_us.p95 < 50_000.0, "p95 {} vs {}", ten.latency_us.p95, one.latency_us.p95);
    assert!(metric(&ten, "slow_share") > 5.0 * metric(&one, "slow_share"));
    let micro = run(preset("microservices", "availability-multiplies").limit(limit));
    let mono = run(preset("microservices", "availability-multiplies").set("architecture", "monolith").limit(limit));
    assert!(metric(&micro, "availability") < 0.93 && metric(&mono, "availability") > 0.98);
    let down = run(preset("microservices", "one-service-down").limit(limit));
    assert!(metric(&down, "availability") < 0.8 && down.requests.failed > 1500);
}

/// Event-driven: a consumer's death moves its partitions (a rebalance); at-least-once
/// repeats what was written since the last commit and loses nothing, at-most-once loses
/// what was in hand; services that skip repeats make crashes cost nothing; spare
/// consumers sit idle; without an ordering key a user's events are applied out of order.
#[test]
fn delivery_guarantees_decide_what_a_consumer_crash_costs() {
    let limit = Limit::Until(40_000_000);
    let least = run(preset("event-driven", "crash-at-least-once").limit(limit));
    let most = run(preset("event-driven", "crash-at-most-once").limit(limit));
    assert!(metric(&least, "duplicates") > 50.0 && metric(&least, "lost") == 0.0, "{} {}", metric(&least, "duplicates"), metric(&least, "lost"));
    assert!(metric(&most, "lost") >= 1.0 && metric(&most, "duplicates") < 10.0);
    assert!(metric(&least, "rebalances") >= 3.0, "the death and the return each deal the partitions again");
    let once = run(preset("event-driven", "consumer-crashes").set("delivery", "effectively-once").limit(limit));
    let plain = run(preset("event-driven", "consumer-crashes").limit(limit));
    assert!(metric(&once, "crashes") > 3.0 && metric(&once, "duplicates") == 0.0 && metric(&once, "lost") == 0.0);
    assert!(metric(&plain, "duplicates") > 100.0);
    let spare = run(preset("event-driven", "more-consumers-than-partitions").limit(limit));
    assert_eq!(metric(&spare, "idle_consumers"), 2.0);
    let unordered = run(preset("event-driven", "no-ordering-key").limit(limit));
    let ordered = run(preset("event-driven", "no-ordering-key").set("ordering_key", "on").limit(limit));
    assert!(metric(&unordered, "out_of_order") > 0.0 && metric(&ordered, "out_of_order") == 0.0);
}

/// WebSockets: a gateway's death makes immediate reconnects a storm of attempts, most
/// refused, that backoff with jitter flattens (at the price of clients waiting longer);
/// without heartbeats, connections of vanished clients stay open and are written every
/// message, and with them none is left past detection; a hung gateway is noticed by the
/// missing heartbeats; short polling costs a request per client per interval whether or
/// not anyone talks, and half an interval of latency.
#[test]
fn websockets_storms_leaks_and_polling() {
    let limit = Limit::Until(60_000_000);
    let storm = run(preset("websockets", "gateway-dies-immediate").limit(limit));
    let calm = run(preset("websockets", "gateway-dies-backoff").limit(limit));
    assert!(metric(&storm, "reconnect_peak") > 5_000.0, "{}", metric(&storm, "reconnect_peak"));
    assert!(metric(&calm, "reconnect_peak") < 1_000.0, "{}", metric(&calm, "reconnect_peak"));
    assert!(metric(&storm, "refused") > 1_000.0 && metric(&calm, "refused") < 0.1 * metric(&storm, "refused"));
    for r in [&storm, &calm] {
        assert_eq!(metric(r, "online"), 1000.0, "every client is back");
        assert!(metric(r, "reconnects") > 300.0, "gateway-1's third of the clients reconnected: {}", metric(r, "reconnects"));
        assert_eq!(r.invariants.violation_count, 0);
    }
    assert!(metric(&calm, "offline_max_s") > metric(&storm, "offline_max_s"), "backing off costs waiting");

    let leaky = run(preset("websockets", "no-heartbeats").limit(limit));
    let tidy = run(preset("websockets", "no-heartbeats").set("heartbeat", "10s").limit(limit));
    assert!(metric(&leaky, "leaked_connections") > 100.0, "{}", metric(&leaky, "leaked_connections"));
    assert!(metric(&leaky, "wasted_frames") > 10_000.0);
    assert_eq!(metric(&tidy, "leaked_connections"), 0.0);
    assert!(metric(&tidy, "dead_connections_open") < 0.5 * metric(&leaky, "dead_connections_open"));
    assert!(metric(&tidy, "heartbeats") > 5_000.0 && tidy.invariants.checked > 0 && tidy.invariants.violation_count == 0);

    // A hung gateway accepts and answers nothing: heartbeats tell its clients to move.
    let hang = |hb: &str| run(RunSpec::new("websockets").set("heartbeat", hb).fault("20s hang gateway-2").limit(limit));
    let (noticed, stuck) = (hang("10s"), hang("0"));
    assert!(metric(&noticed, "reconnects") > 250.0 && metric(&stuck, "reconnects") == 0.0);
    assert!(stuck.requests.timed_out > noticed.requests.timed_out + 500, "{} vs {}", stuck.requests.timed_out, noticed.requests.timed_out);

    let polling = run(preset("websockets", "polling").limit(limit));
    let pushing = run(preset("websockets", "polling").set("transport", "websocket").limit(limit));
    assert!(metric(&polling, "gateway_rps") > 3.0 * metric(&pushing, "gateway_rps"));
    let p99 = |r: &Report| r.metrics["message_latency"][1].as_f64().unwrap();
    assert!(p99(&polling) > 1_500.0 && p99(&pushing) < 20.0, "{} vs {}", p99(&polling), p99(&pushing));
    assert_eq!(metric(&polling, "open_connections"), 0.0);
}

/// Server-sent events: when the proxy drops every stream, browsers that resume without
/// Last-Event-ID miss what happened while they reconnected, and with it miss nothing
/// (the replayed events arrive late); a quiet stream behind an idle timeout is cut again
/// and again, and keep-alive comments stop it; polling costs requests and latency, long
/// polling costs even more requests.
#[test]
fn sse_resumes_with_last_event_id_and_keepalives_stop_idle_cuts() {
    let limit = Limit::Until(60_000_000);
    let lost = run(preset("sse", "proxy-reload-no-id").limit(limit));
    let resumed = run(preset("sse", "proxy-reload-last-event-id").limit(limit));
    assert!(metric(&lost, "events_missed") > 3_000.0, "{}", metric(&lost, "events_missed"));
    assert_eq!(metric(&resumed, "events_missed"), 0.0);
    assert_eq!(metric(&resumed, "replayed"), metric(&lost, "events_missed"), "the same events, replayed instead of lost");
    for r in [&lost, &resumed] {
        assert_eq!(metric(r, "proxy_cuts"), 1000.0);
        assert!(metric(r, "reconnects") > 990.0 && metric(r, "streaming") == 1000.0);
        assert_eq!(r.invariants.violation_count, 0);
    }
    assert!(resumed.invariants.checked > lost.invariants.checked, "the checker watches resumed streams");
    let p99 = |r: &Report| r.metrics["latency"][1].as_f64().unwrap();
    assert!(p99(&resumed) > 1_000.0 && p99(&lost) < 10.0, "{} vs {}", p99(&resumed), p99(&lost));

    let quiet = run(preset("sse", "idle-proxy-timeout").limit(limit));
    let kept = run(preset("sse", "idle-proxy-timeout").set("keepalive", "5s").limit(limit));
    assert!(metric(&quiet, "proxy_cuts") >= 1000.0 && metric(&quiet, "events_missed") > 100.0);
    assert_eq!(metric(&kept, "proxy_cuts"), 0.0);
    assert!(metric(&kept, "keepalives") >= 11.0 && metric(&kept, "events_missed") == 0.0);

    let polling = run(preset("sse", "polling").limit(limit));
    let streaming = run(preset("sse", "polling").set("transport", "sse").limit(limit));
    let long = run(preset("sse", "polling").set("transport", "long-polling").limit(limit));
    assert!(metric(&polling, "server_rps") > 20.0 * metric(&streaming, "server_rps"));
    assert!(metric(&long, "server_rps") > 5.0 * metric(&polling, "server_rps"));
    assert!(p99(&polling) > 1_500.0 && p99(&streaming) < 10.0 && p99(&long) < 10.0);
    assert_eq!(metric(&polling, "events_missed") + metric(&long, "events_missed"), 0.0);
}

//! Scene `async-processing` (patterns.md row 9): users sign up, and each sign-up sends an
//! e-mail through a slow SMTP server that now and then fails. Sync, the web handler sends
//! it on the request's own thread (retrying inline) while the user waits, and a handful
//! of threads saturate. Async, the handler puts a job on a durable queue and answers at
//! once; workers send the e-mails, failed jobs are retried after a growing backoff, and
//! a job that fails every attempt goes to a dead-letter queue. A worker that dies hands
//! its job back (connection reset) or lets its lease run out: it goes out again.

mod check;
mod nodes;

use super::measure::{measures, ms, round3};
use check::NoneVanish;
use crate::components::source::Source as Users;
use crate::error::{Error, Result};
use crate::knob::{KnobKind, KnobSpec, Params, common_knobs_with_latency};
use crate::msg::NodeId;
use crate::scene::{Preset, Probe, Scene, SceneInfo};
use crate::time::{Micros, US_PER_S};
use crate::view::{Chart, Colour, Line, Row, SceneView, StageView, LATENCY_CHART};
use crate::world::World;
use nodes::{DeadLetters, Queue, Smtp, Web, Worker};
use serde_json::{Map, Value as Json};
use std::cell::RefCell;
use std::sync::LazyLock;

pub struct AsyncProcessing;

pub const MODES: &[&str] = &["sync", "async"];
const INVARIANT: &str = "every job completes, is retried or is dead-lettered: none vanish";

static INFO: LazyLock<SceneInfo> = LazyLock::new(|| {
    let mut knobs = common_knobs_with_latency("12", 20_000.0, "const:1ms");
    knobs.extend_from_slice(const { &[
        KnobSpec { name: "mode", kind: KnobKind::Choice(MODES), default: "async", unit: "", live: false, help: "sync: the web handler sends the e-mail itself, retrying inline, while the user waits. async: it puts a job on the queue and answers at once; workers send the e-mails." },
        KnobSpec { name: "web_workers", kind: KnobKind::Int { min: 1, max: 256 }, default: "8", unit: "threads", live: false, help: "Requests the web handler works on at once; the rest wait for a thread." },
        KnobSpec { name: "workers", kind: KnobKind::Int { min: 1, max: 32 }, default: "12", unit: "", live: false, help: "Async: worker processes, each sending one e-mail at a time." },
        KnobSpec { name: "task_time", kind: KnobKind::Dist, default: "exp:800ms", unit: "", live: false, help: "How long the SMTP server takes to accept one e-mail." },
        KnobSpec { name: "task_failure_rate", kind: KnobKind::Float { min: 0.0, max: 1.0 }, default: "0.05", unit: "fraction", live: true, help: "The chance that the SMTP server refuses an e-mail for now (a 4xx): it is tried again." },
        KnobSpec { name: "retries", kind: KnobKind::Int { min: 0, max: 10 }, default: "3", unit: "", live: false, help: "Attempts after the first, for a job (async) or inside the request (sync)." },
        KnobSpec { name: "backoff", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "1s", unit: "", live: false, help: "The wait before the first retry, doubling for each next one (up to 64 times)." },
        KnobSpec { name: "dlq", kind: KnobKind::Bool, default: "on", unit: "", live: false, help: "Async: whether a job that failed every attempt goes to a dead-letter queue, to be looked at and replayed; off, it is dropped." },
        KnobSpec { name: "smtp_timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "10s", unit: "", live: false, help: "How long a sender waits for the SMTP server before it counts the attempt failed." },
        KnobSpec { name: "visibility_timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 3600 * US_PER_S }, default: "30s", unit: "", live: false, help: "Async: how long a delivered job stays leased to its worker; unacknowledged by then, it goes out again. Must exceed smtp_timeout." },
        KnobSpec { name: "handle_time", kind: KnobKind::Dist, default: "const:2ms", unit: "", live: false, help: "The web handler's own work per request." },
        KnobSpec { name: "client_timeout", kind: KnobKind::Duration { min_us: 1_000, max_us: 600 * US_PER_S }, default: "30s", unit: "", live: false, help: "How long a user waits for the page to answer." },
    ] });
    SceneInfo {
        id: "async-processing",
        title: "Async processing",
        knobs,
        actions: &[],
        view: SceneView {
            stage: StageView {
                columns: &[&["client"], &["web"], &["queue"], &["worker"], &["smtp", "dlq"]],
                links: &[("client", "web"), ("web", "queue"), ("web", "smtp"), ("queue", "worker"), ("worker", "smtp"), ("queue", "dlq")],
                paired: &[],
            },
            charts: const { &[
                Chart { title: "Web threads busy", unit: "fraction", lines: &[Line::measured("busy", "web_busy", Colour::Orange).compared()] },
                Chart { title: "Jobs waiting in the queue", unit: "jobs", lines: &[Line::measured("queue depth", "queue_depth", Colour::Purple).compared()] },
                Chart {
                    title: "E-mails per second",
                    unit: "e-mails/s",
                    lines: &[Line::measured("sent/s", "sent_rps", Colour::Green).compared(), Line::measured("dead-lettered/s", "dead_rps", Colour::Red).compared()],
                },
                LATENCY_CHART,
            ] },
            compare: &[
                Row { label: "user's answer, p50 · p99 (ms)", metric: "response_latency" },
                Row { label: "e-mail sent after, p50 · p99 (ms)", metric: "job_latency" },
                Row { label: "web threads busy, mean", metric: "web_busy" },
                Row { label: "longest queue (jobs)", metric: "queue_depth_max" },
                Row { label: "e-mails sent", metric: "sent" },
                Row { label: "jobs retried", metric: "retried" },
                Row { label: "jobs dead-lettered", metric: "dead_lettered" },
                Row { label: "jobs dropped (no DLQ)", metric: "discarded" },
                Row { label: "e-mails sent twice", metric: "duplicates" },
                Row { label: "jobs vanished", metric: "vanished" },
            ],
            tables: &[],
        },
        narrative: &crate::narratives::async_processing::NARRATIVE,
        presets: const { &[
            Preset {
                name: "sync-saturates",
                title: "Sending the e-mail inside the request: threads saturate",
                about: "12 sign-ups a second, each holding one of 8 web threads for the 0.8 s the SMTP server takes: the threads can serve 10 a second. Requests queue for a thread, users wait seconds, then give up.",
                set: &[("mode", "sync")],
                faults: &[],
            },
            Preset {
                name: "async-absorbs",
                title: "A queue and workers: answers in milliseconds",
                about: "The same sign-ups: the handler enqueues a job and answers in a few milliseconds; 12 workers send the e-mails a second or so later. Failed sends are retried in the background.",
                set: &[],
                faults: &[],
            },
            Preset {
                name: "smtp-outage",
                title: "The SMTP server is down for 30 s: backlog, retries, dead letters",
                about: "From 20 s to 50 s the SMTP server is gone. Users are still answered at once; jobs fail and are retried after 1, 2, 4 and 8 s, then go to the dead-letter queue. When the server is back, the backlog drains.",
                set: &[],
                faults: &["20s kill smtp", "50s revive smtp"],
            },
            Preset {
                name: "worker-crash",
                title: "Workers crash mid-job: their jobs go out again",
                about: "At 20 s three workers die holding jobs, at 25 s they come back. The queue hears their connections reset and hands the jobs to other workers: none vanish.",
                set: &[],
                faults: &["20s kill worker-1", "20s kill worker-2", "20s hang worker-3", "25s revive worker-1", "25s revive worker-2", "25s revive worker-3"],
            },
        ] },
    }
});

struct AsyncProbe {
    web: NodeId,
    queue: NodeId,
    smtp: NodeId,
    dlq: NodeId,
    sync: bool,
    threads: usize,
    /// At the last sample: time, busy area, sent, dead-lettered.
    last: RefCell<(Micros, f64, u64, u64)>,
}

impl Scene for AsyncProcessing {
    fn info(&self) -> &'static SceneInfo {
        &INFO
    }

    fn check(&self, p: &Params) -> Result<()> {
        if p.choice("mode") == "async" && p.duration("visibility_timeout") <= p.duration("smtp_timeout") {
            return Err(Error::new(format!(
                "visibility_timeout={} must exceed smtp_timeout={}: a job would go out again while its worker still waits for the SMTP server",
                p.get("visibility_timeout").to_text(),
                p.get("smtp_timeout").to_text()
            )));
        }
        Ok(())
    }

    fn build(&self, p: &Params, w: &mut World) -> Box<dyn Probe> {
        let sync = p.choice("mode") == "sync";
        let n = p.int("workers") as usize;
        let (retries, backoff) = (p.int("retries") as u32, p.duration("backoff"));
        let (smtp_timeout, lease) = (p.duration("smtp_timeout"), p.duration("visibility_timeout"));
        // Ids in order: web 0, queue 1, smtp 2, dlq 3, workers after.
        let (web_id, queue_id, smtp_id, dlq_id): (NodeId, NodeId, NodeId, NodeId) = (0, 1, 2, 3);
        let workers: Vec<NodeId> = (4..4 + n as NodeId).collect();
        let threads = p.int("web_workers") as usize;
        let web = Web::new(sync, threads, p.dist("handle_time"), queue_id, smtp_id, retries, backoff, smtp_timeout);
        assert!(w.add_node("web", "web", Box::new(web)) == web_id, "nodes added in id order");
        let dlq = p.flag("dlq").then_some(dlq_id);
        assert!(w.add_node("queue", "queue", Box::new(Queue::new(workers.clone(), dlq, retries, backoff, lease))) == queue_id, "nodes added in id order");
        assert!(w.add_node("smtp", "smtp", Box::new(Smtp::new(p.dist("task_time"), p.float("task_failure_rate")))) == smtp_id, "nodes added in id order");
        assert!(w.add_node("dlq", "dlq", Box::new(DeadLetters::default())) == dlq_id, "nodes added in id order");
        for (i, &id) in workers.iter().enumerate() {
            assert!(w.add_node(format!("worker-{}", i + 1), "worker", Box::new(Worker::new(queue_id, smtp_id, smtp_timeout))) == id, "nodes added in id order");
        }
        let users = Users::new(web_id, p.float("arrival_rate"), p.duration("client_timeout"), 1 << 40, w.stream("workload")).shaped(p);
        w.add_node("client", "client", Box::new(users));
        if !sync && dlq.is_some() {
            w.add_checker(Box::new(NoneVanish::new(queue_id, dlq_id, retries, lease)));
        }
        Box::new(AsyncProbe { web: web_id, queue: queue_id, smtp: smtp_id, dlq: dlq_id, sync, threads, last: RefCell::new((0, 0.0, 0, 0)) })
    }
}

impl Probe for AsyncProbe {
    fn metrics(&self, w: &World) -> Map<String, Json> {
        let (web, q, smtp) = (w.component::<Web>(self.web), w.component::<Queue>(self.queue), w.component::<Smtp>(self.smtp));
        let lat = w.latency();
        let jobs = if self.sync { &web.sent_latency } else { &q.job_latency };
        // Conservation, by the queue's own books: every job accepted is done, dead-lettered,
        // dropped, waiting (or waiting out a backoff), or leased to a worker.
        let accounted = q.completed + q.dead_lettered + q.discarded + (q.depth() + q.leased()) as u64;
        measures!{
            "response_latency": [ms(lat.quantile(0.5)), ms(lat.quantile(0.99))],
            "job_latency": [ms(jobs.quantile(0.5)), ms(jobs.quantile(0.99))],
            "web_busy": round3(web.busy_area(w.now()) / (self.threads as f64 * w.now().max(1) as f64)),
            "web_busy_max": web.busy_max,
            "queue_depth": q.depth(),
            "queue_depth_max": q.depth_max,
            "jobs": q.accepted,
            "sent": smtp.sent,
            "smtp_failures": smtp.failures,
            "retried": q.retried,
            "redelivered": q.redelivered,
            "dead_lettered": w.component::<DeadLetters>(self.dlq).held,
            "discarded": q.discarded,
            "duplicates": smtp.duplicates,
            "vanished": q.accepted.saturating_sub(accounted),
        }
    }

    fn series_names(&self, _w: &World) -> Vec<String> {
        ["web_busy", "queue_depth", "sent_rps", "dead_rps"].map(String::from).to_vec()
    }

    fn sample(&self, w: &World, out: &mut Vec<f64>) {
        let (web, q, smtp) = (w.component::<Web>(self.web), w.component::<Queue>(self.queue), w.component::<Smtp>(self.smtp));
        let mut last = self.last.borrow_mut();
        let dt = (w.now() - last.0) as f64;
        let area = web.busy_area(w.now());
        out.push(if dt > 0.0 { (area - last.1) / (dt * self.threads as f64) } else { 0.0 });
        out.push(q.depth() as f64);
        out.push(if dt > 0.0 { (smtp.sent - last.2) as f64 * 1e6 / dt } else { 0.0 });
        out.push(if dt > 0.0 { (q.dead_lettered - last.3) as f64 * 1e6 / dt } else { 0.0 });
        *last = (w.now(), area, smtp.sent, q.dead_lettered);
    }
}

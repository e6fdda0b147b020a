//! `clusterlab`: the scenes, headless. Lists and describes scenes, runs one to a report
//! (readable or JSON), and benchmarks the engine. Bad input exits 2 with one line.

mod args;

/// A line to stdout. A reader who closes the pipe early (`clusterlab run ... | head`) ends
/// the output, quietly: `println!` would panic on the broken pipe.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

use args::{Command, USAGE};
use clusterlab_sim::catalogue::{CATALOGUE, playable};
use clusterlab_sim::scene::find;
use clusterlab_sim::log::{EventLog, LogKind};
use clusterlab_sim::diagram::Diagram;
use clusterlab_sim::trace::{PAGE_RING_CAPACITY, Record, RingSink};
use clusterlab_sim::world::World;
use clusterlab_sim::{Limit, Report, RunSpec, Sim};
use std::process::ExitCode;
use std::time::Instant;

/// Past this many messages in its window, a diagram keeps one request in N.
const DIAGRAM_MAX_MESSAGES: usize = 400;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let result = args::parse(&argv).and_then(|cmd| match cmd {
        Command::Help => {
            out!("{USAGE}");
            Ok(())
        }
        Command::List => {
            list();
            Ok(())
        }
        Command::Describe(id) => describe(&id),
        Command::Run { spec, json, log, diagram } => run(&spec, json, log.as_ref(), diagram.as_ref()),
        Command::Bench { requests, json, peer, repeats } => {
            bench(requests, json, peer, repeats);
            Ok(())
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("clusterlab: {e}");
            ExitCode::from(2)
        }
    }
}

fn list() {
    for e in &CATALOGUE {
        let mark = if playable(e.id) { "playable" } else { "planned " };
        out!("{:>2}  {:<22} {mark}  {}", e.number, e.id, e.summary);
    }
}

fn describe(id: &str) -> Result<(), String> {
    let info = find(id).map_err(|e| e.0)?.info();
    out!("{} ({})\n\nknobs:", info.title, info.id);
    for k in &info.knobs {
        let unit = if k.unit.is_empty() { String::new() } else { format!(" [{}]", k.unit) };
        let live = if k.live { "  (live: can change while the run plays, with --at \"TIME set KNOB=VALUE\")" } else { "" };
        out!("  {:<20} default {:<12}{unit}{live}\n      {}\n      allowed: {}", k.name, k.default, k.help, k.allowed());
    }
    if !info.actions.is_empty() {
        out!("\nactions (--at \"TIME ACTION [ARG]\"):");
        for a in info.actions {
            out!("  {:<20} {}{}", a.name, a.help, a.arg.map(|w| format!(" (takes {w})")).unwrap_or_default());
        }
    }
    out!("\npresets:");
    for p in info.presets {
        let mut flags: Vec<String> = p.set.iter().map(|(k, v)| format!("--set {k}={v}")).collect();
        flags.extend(p.faults.iter().map(|f| format!("--fault \"{f}\"")));
        out!("  {:<30} {}\n      {}\n      clusterlab run {} {}", p.name, p.title, p.about, info.id, flags.join(" "));
    }
    Ok(())
}

fn run(spec: &RunSpec, json: bool, log: Option<&args::LogFilter>, diagram: Option<&args::DiagramTo>) -> Result<(), String> {
    let mut sim = Sim::new(spec).map_err(|e| e.0)?;
    let start = Instant::now();
    if log.is_none() && diagram.is_none() {
        sim.run();
    } else {
        let mut events = log.map(|_| EventLog::new(usize::MAX));
        let mut drawn = diagram.map(|d| Diagram::new(d.from, d.to, DIAGRAM_MAX_MESSAGES));
        run_traced(&mut sim, |w, r| match (r, &mut events) {
            (Some(r), events) => {
                if let Some(l) = events {
                    l.record(w, r);
                }
                if let Some(d) = &mut drawn {
                    d.record(r);
                }
            }
            (None, Some(l)) => l.check_violations(w),
            (None, None) => {}
        });
        if let (Some(filter), Some(events)) = (log, &events) {
            print_log(&sim, events, filter)?;
        }
        if let (Some(d), Some(to)) = (&drawn, diagram) {
            let names: Vec<&str> = sim.world.nodes().iter().map(|n| n.name.as_str()).collect();
            let title = format!("{} (seed {})", spec.scene, spec.seed);
            std::fs::write(&to.file, d.svg(&title, &names)).map_err(|e| format!("--diagram: writing '{}': {e}", to.file))?;
            let (shown, every) = d.shown();
            let sampled = if every > 1 { format!(", one request in {every}") } else { String::new() };
            eprintln!("clusterlab: wrote {}: {} of the {} messages sent in the window{sampled}", to.file, shown.len(), d.all.len());
        }
    }
    let wall_ms = start.elapsed().as_secs_f64() * 1e3;
    let report = Report::of(&sim, (wall_ms * 10.0).round() / 10.0);
    if json {
        out!("{}", report.to_json());
    } else {
        print_summary(&report);
    }
    Ok(())
}

/// Runs `sim` to its end slice by slice, handing every trace record to `visit` (with the
/// world as it stands at the end of the record's slice), then `None` after each slice.
fn run_traced(sim: &mut Sim, mut visit: impl FnMut(&World, Option<&Record>)) {
    const SLICE: u64 = 50_000;
    // Each slice's records fit: no event writes more than a few.
    *sim.world.ring_mut() = Some(RingSink::new(SLICE as usize * 8));
    loop {
        let done = sim.run_slice(SLICE);
        let mut ring = sim.world.ring_mut().take().expect("attached above");
        ring.drain_each(|r| visit(&sim.world, Some(&r)));
        *sim.world.ring_mut() = Some(ring);
        visit(&sim.world, None);
        if done {
            break;
        }
    }
}

/// Prints the entries of the run's event log that `filter` lets through.
fn print_log(sim: &Sim, log: &EventLog, filter: &args::LogFilter) -> Result<(), String> {
    let word = filter.0.as_deref();
    if let Some(w) = word
        && !LogKind::ALL.iter().any(|k| k.name() == w)
    {
        sim.world.node_id(w).map_err(|e| format!("--log-only '{w}': not a kind (fault, knob, action, state, violation) and {}", e.0))?;
    }
    let nodes = sim.world.nodes();
    for e in log.entries() {
        let node = e.node.map(|n| nodes[n as usize].name.as_str());
        if word.is_none_or(|w| w == e.kind.name() || Some(w) == node) {
            out!("{}", e.line());
        }
    }
    Ok(())
}

fn ms(us: f64) -> String {
    if us >= 1e6 { format!("{:.2}s", us / 1e6) } else { format!("{:.2}ms", us / 1e3) }
}

fn print_summary(r: &Report) {
    let c = &r.requests;
    out!(
        "{}  seed {}  virtual {:.1}s  {} events  {:.1} ms wall",
        r.pattern,
        r.seed,
        r.virtual_time_us as f64 / 1e6,
        r.events,
        r.wall_ms
    );
    out!(
        "requests    sent {}  completed {}  rejected {}  failed {}  timed out {}  in flight {}",
        c.sent, c.completed, c.rejected, c.failed, c.timed_out, c.in_flight
    );
    let l = &r.latency_us;
    out!("latency     mean {}  p50 {}  p95 {}  p99 {}  max {}", ms(l.mean), ms(l.p50), ms(l.p95), ms(l.p99), ms(l.max));
    out!("throughput  {:.1} req/s", r.throughput_rps);
    for (k, v) in &r.metrics {
        out!("  {k:<24} {v}");
    }
    for (k, v) in &r.theory {
        out!("theory      {k} = {v}");
    }
    let inv = &r.invariants;
    out!("invariants  {} checks of: {}", inv.checked, inv.names.join("; "));
    if inv.violation_count == 0 {
        out!("            no violations");
    } else {
        out!("            {} VIOLATIONS, e.g.:", inv.violation_count);
        for v in &inv.violations {
            out!("            [{}] at {}us: {}", v.invariant, v.at_us, v.detail);
        }
        out!("            reproduce: {}", inv.reproduce.as_deref().unwrap_or(""));
    }
}

/// Peak resident memory of this process, in KiB (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `spec` with the page's trace ring attached, untimed for 1.5 s to warm up (a
/// virtual CPU idle before runs slower at first), then `repeats` times: the best run, the
/// least disturbed, is the truest figure of the engine alone; the mean of all is what
/// compares with a peer measured over one long run (`--peer`). A single run has no
/// warm-up: it is for profilers, which count instructions rather than time.
///
/// With `frame`, the ring is drained every `frame` events as the page drains it every
/// frame, each record read; without, it is never drained and holds the latest 65,536
/// records, rolling through 4 MB of memory: the worst case for memory traffic.
/// Returns (best wall seconds, mean wall seconds, the best run).
fn best_of(spec: &RunSpec, repeats: u32, frame: Option<u64>) -> (f64, f64, Sim) {
    let build = |spec: &RunSpec| {
        let mut sim = Sim::new(spec).expect("bench specs are valid");
        *sim.world.ring_mut() = Some(RingSink::new(PAGE_RING_CAPACITY));
        sim
    };
    let play = |sim: &mut Sim| match frame {
        None => sim.run(),
        Some(events) => {
            let mut read = 0u64;
            loop {
                let done = sim.run_slice(events);
                if let Some(ring) = sim.world.ring_mut() {
                    ring.drain_each(|r| read = read.wrapping_add(r.time()));
                }
                if done {
                    break;
                }
            }
            std::hint::black_box(read);
        }
    };
    let warm_start = Instant::now();
    while repeats > 1 && warm_start.elapsed().as_secs_f64() < 1.5 {
        let mut warm = build(&spec.clone().limit(match spec.limit {
            Limit::Requests(n) => Limit::Requests(n.min(300_000)),
            other => other,
        }));
        play(&mut warm);
    }
    let mut best: Option<(f64, Sim)> = None;
    let mut total_s = 0.0;
    for _ in 0..repeats {
        let mut sim = build(spec);
        let start = Instant::now();
        play(&mut sim);
        let wall_s = start.elapsed().as_secs_f64();
        total_s += wall_s;
        if best.as_ref().is_none_or(|(b, _)| wall_s < *b) {
            best = Some((wall_s, sim));
        }
    }
    let (wall_s, sim) = best.expect("at least one run");
    (wall_s, total_s / f64::from(repeats), sim)
}

fn bench(requests: u64, json: bool, peer: bool, repeats: u32) {
    if peer {
        return bench_peer(requests, json, repeats);
    }
    let mut rows = Vec::new();
    for scene in clusterlab_sim::scene::SCENES.iter().map(|s| s.info().id) {
        let (wall_s, _, sim) = best_of(&RunSpec::new(scene).limit(Limit::Requests(requests)), repeats, None);
        let events = sim.world.events();
        rows.push(serde_json::json!({
            "scene": scene,
            "transactions": requests,
            "events": events,
            "wall_ms": (wall_s * 1e4).round() / 10.0,
            "events_per_s": (events as f64 / wall_s).round(),
            "transactions_per_s": (requests as f64 / wall_s).round(),
            "ledger_slots": sim.world.ledger_slots(),
            "repeats": repeats,
        }));
    }
    let out = serde_json::json!({ "runs": rows, "peak_rss_kib": peak_rss_kib() });
    if json {
        out!("{}", serde_json::to_string_pretty(&out).expect("json"));
    } else {
        for r in out["runs"].as_array().expect("runs") {
            out!(
                "{:<16} {} transactions  {} events  {} ms  {:.2} M events/s",
                r["scene"].as_str().unwrap_or(""),
                r["transactions"],
                r["events"],
                r["wall_ms"],
                r["events_per_s"].as_f64().unwrap_or(0.0) / 1e6
            );
        }
        out!("peak RSS {} KiB", out["peak_rss_kib"]);
    }
}

/// The events of the peer workload in one frame of the page at its top speed: 1000x plays
/// 16.7 s of virtual time a frame, 320 requests/s of 6 events each.
const PEER_FRAME_EVENTS: u64 = 32_000;

/// The workload SimPy runs too (`clusterlab_sim::peer_spec`): its request rate, and the
/// mean sojourn that shows both did the same work.
fn bench_peer(requests: u64, json: bool, repeats: u32) {
    let spec = clusterlab_sim::peer_spec(requests);
    let (wall_s, mean_s, sim) = best_of(&spec, repeats, Some(PEER_FRAME_EVENTS));
    // The worst case beside it, for the record (not for profilers' single runs).
    let undrained = (repeats > 1).then(|| best_of(&spec, repeats, None)).map(|(best, mean, _)| (best, mean));
    let report = Report::of(&sim, wall_s * 1e3);
    let rate = |s: f64| (requests as f64 / s).round();
    let ms = |s: f64| (s * 1e4).round() / 10.0;
    let out = serde_json::json!({
        "workload": "load-balancing, policy=random, 4 servers, exp:10ms service, 320 req/s, no network delay",
        "requests": requests,
        "events": report.events,
        "ring": format!("drained every {PEER_FRAME_EVENTS} events"),
        "wall_ms": ms(wall_s),
        "requests_per_s": rate(wall_s),
        "events_per_s": (report.events as f64 / wall_s).round(),
        "mean_wall_ms": ms(mean_s),
        "mean_requests_per_s": rate(mean_s),
        "undrained": undrained.map(|(best, mean)| serde_json::json!({
            "wall_ms": ms(best), "requests_per_s": rate(best), "mean_wall_ms": ms(mean), "mean_requests_per_s": rate(mean),
        })),
        "mean_sojourn_ms": (report.latency_us.mean / 1e1).round() / 1e2,
        "violations": report.invariants.violation_count,
        "repeats": repeats,
    });
    if json {
        out!("{}", serde_json::to_string(&out).expect("json"));
    } else {
        out!(
            "peer workload  {} requests  mean sojourn {} ms\n  ring drained every {PEER_FRAME_EVENTS} events: best {} ms ({:.0} requests/s), mean of {} runs {} ms",
            requests,
            out["mean_sojourn_ms"],
            out["wall_ms"],
            out["requests_per_s"].as_f64().unwrap_or(0.0),
            repeats,
            out["mean_wall_ms"]
        );
        if let Some((best, mean)) = undrained {
            out!("  ring never drained:             best {} ms ({:.0} requests/s), mean of {repeats} runs {} ms", ms(best), rate(best), ms(mean));
        }
    }
}

//! The engine against SimPy on one workload (`clusterlab_sim::peer_spec`, and the same
//! model in `crates/xtask/peer/simpy_random_routing.py`): both request rates, their ratio,
//! and the mean sojourn each measured, which must agree for the comparison to be of equal
//! work. Then where the engine's time goes, in instructions per event (callgrind), when
//! valgrind is installed.

use crate::sh::{Step, root, tmp_dir};
use serde_json::Value;
use std::fmt::Write as _;
use std::process::Command;

const REQUESTS: u64 = 1_000_000;
const SIMPY: &str = "simpy==4.1.2";
const SCRIPT: &str = "crates/xtask/peer/simpy_random_routing.py";
/// M/M/1 at utilisation 0.8 with 10 ms service: 10 ms / (1 - 0.8).
const THEORY_MS: f64 = 50.0;
const AGREE: f64 = 0.03;
/// Instructions per event of the peer workload before the work of issue 9 (commit
/// ea24e19, profile `native` with the engine at opt-level "s"), for the before/after line.
const BEFORE_IR_PER_EVENT: f64 = 879.0;

fn python() -> String {
    root().join("target/simpy-venv/bin/python").to_string_lossy().into_owned()
}

/// A virtual environment under target/ with SimPy, made once.
fn ensure_simpy() -> Result<(), String> {
    let has = Command::new(python()).args(["-c", "import simpy"]).output().is_ok_and(|o| o.status.success());
    if has {
        return Ok(());
    }
    Step::new("a Python virtual environment for SimPy (target/simpy-venv)").cmd("python3").args(["-m", "venv", "target/simpy-venv"]).run()?;
    Step::new("SimPy from PyPI").cmd(&python()).args(["-m", "pip", "install", "--quiet", SIMPY]).run()
}

fn last_json(text: &str, what: &str) -> Result<Value, String> {
    let line = text.lines().rev().find(|l| l.trim_start().starts_with('{')).unwrap_or(text);
    serde_json::from_str(line).map_err(|e| format!("{what}: unreadable output ({e}): {text}"))
}

/// One run of the workload in SimPy (about ten seconds).
fn simpy_once() -> Result<Value, String> {
    let out = Step::new("the workload in SimPy").cmd(&python()).args([SCRIPT, &REQUESTS.to_string()]).output()?;
    last_json(&out, "SimPy")
}

/// One `clusterlab bench --peer`: a warm-up, then five runs of the workload.
fn ours_once() -> Result<Value, String> {
    let out = Step::new("the workload in clusterlab").cmd(crate::bench::NATIVE).args(["bench", "--peer", "--requests", &REQUESTS.to_string(), "--json"]).output()?;
    last_json(&out, "clusterlab bench --peer")
}

/// Rounds of one SimPy run and one clusterlab run, side by side: this machine's speed
/// drifts by a fifth over hours (SimPy alone ran at 84,000 to 116,000 requests/s over two
/// days), so a ratio compares only runs made minutes apart.
const ROUNDS: usize = 5;

/// Instructions per event of one run of the workload (100,000 requests), inside `Sim::run_slice`
/// only, and the functions that spend the most of them.
fn callgrind() -> Option<(f64, Vec<String>)> {
    let out_file = tmp_dir().join("peer.callgrind");
    let run = Command::new("valgrind")
        .args(["--tool=callgrind", "--toggle-collect=*Sim*run_slice"])
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .args([crate::bench::NATIVE, "bench", "--peer", "--repeats", "1", "--requests", "100000", "--json"])
        .current_dir(root())
        .output()
        .ok()?;
    let stderr = String::from_utf8_lossy(&run.stderr);
    let collected: f64 = stderr.lines().find_map(|l| l.split("Collected :").nth(1)).and_then(|n| n.trim().parse().ok())?;
    let events = last_json(&String::from_utf8_lossy(&run.stdout), "callgrind run").ok()?["events"].as_f64()?;
    let annotate = Command::new("callgrind_annotate").arg(&out_file).output().ok()?;
    // Lines read "  12,345 ( 3.1%)  /path/file.rs:crate::module::function [binary]"; code
    // inlined from other files comes on lines of its own, so add up by function.
    let mut by_function: Vec<(String, f64)> = Vec::new();
    let text = String::from_utf8_lossy(&annotate.stdout);
    // The table of functions only: it ends where the annotated source listings begin.
    let table = text.split("-- Auto-annotated source").next().unwrap_or_default();
    for line in table.lines().filter(|l| l.contains("%)") && !l.contains("PROGRAM TOTALS")) {
        let Some(ir) = line.split_whitespace().next().and_then(|n| n.replace(',', "").parse::<f64>().ok()) else { continue };
        let Some(func) = line.split(".rs:").nth(1).or_else(|| line.split(".S:").nth(1)).map(|f| f.split(" [").next().unwrap_or(f).trim().to_string()) else { continue };
        match by_function.iter_mut().find(|(f, _)| *f == func) {
            Some((_, total)) => *total += ir,
            None => by_function.push((func, ir)),
        }
    }
    by_function.sort_by(|a, b| b.1.total_cmp(&a.1));
    let top = by_function.iter().take(10).map(|(f, ir)| format!("| {:.1}% | {:.0} | `{f}` |", 100.0 * ir / collected, ir / events)).collect();
    Some((collected / events, top))
}

/// The "Against SimPy" section of BENCHMARKS.md; an error if the two disagree on the result.
pub fn section() -> Result<String, String> {
    ensure_simpy()?;
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(0.0);
    let mut rounds: Vec<(Value, Value)> = Vec::new();
    for _ in 0..ROUNDS {
        let (peer, ours) = (simpy_once()?, ours_once()?);
        let (our_ms, peer_ms) = (f(&ours, "mean_sojourn_ms"), f(&peer, "mean_sojourn_ms"));
        let off = |a: f64, b: f64| (a / b - 1.0).abs();
        if off(our_ms, peer_ms) > AGREE || off(our_ms, THEORY_MS) > AGREE || off(peer_ms, THEORY_MS) > AGREE {
            return Err(format!(
                "clusterlab and SimPy disagree on the workload's mean sojourn ({our_ms} ms and {peer_ms} ms; M/M/1 says {THEORY_MS} ms): not the same work"
            ));
        }
        rounds.push((peer, ours));
    }
    let ratio = |(peer, ours): &(Value, Value)| f(ours, "mean_requests_per_s") / f(peer, "requests_per_s").max(1.0);
    let worst = |(peer, ours): &(Value, Value)| f(&ours["undrained"], "mean_requests_per_s") / f(peer, "requests_per_s").max(1.0);
    let median = |by: &dyn Fn(&(Value, Value)) -> f64| {
        let mut all: Vec<f64> = rounds.iter().map(by).collect();
        all.sort_by(f64::total_cmp);
        (all[ROUNDS / 2], all[0], all[ROUNDS - 1])
    };
    let (peer, ours) = &rounds[0];
    let mut md = String::new();
    writeln!(
        md,
        "## Against SimPy\n\nOne workload in both: Poisson arrivals at 320 requests/s sent at random to 4 one-worker FIFO servers, exponential 10 ms service, no network delay (four M/M/1 queues at utilisation 0.8). \
         SimPy {} on CPython {} runs `{SCRIPT}`; clusterlab (native) runs `clusterlab bench --peer --requests {REQUESTS}`: a warm-up, then 5 runs, with its checkers, ledger and the page's trace ring on. \
         Both measure the mean sojourn, which must agree within 3% with each other and with M/M/1's {THEORY_MS} ms in every run for the rates to compare equal work \
         (mean sojourn: SimPy {} ms, clusterlab {} ms in the first round).\n\n\
         The trace ring is drained every 32,000 events and each record read, as the page drains it every frame (32,000 events are one frame of this workload at the page's top speed, 1000x; at 1x a frame holds about 30). \
         Beside it, the worst case: the ring never drained, rolling through 4 MB of memory as no run on the page does (the setup of this comparison before 2026-11-29).\n\n\
         The machine's speed drifts by a fifth over hours, so the two run side by side, in {ROUNDS} rounds of one SimPy run of {REQUESTS} requests (about ten seconds) and one clusterlab bench. \
         A round's ratio is clusterlab's mean rate over its 5 runs to SimPy's rate over its run: both averages over what they ran.\n\n\
         | round | SimPy requests/s | clusterlab requests/s, mean | ratio | ring never drained: requests/s, mean | ratio |\n|---:|---:|---:|---:|---:|---:|",
        peer["simpy"].as_str().unwrap_or("?"),
        peer["python"].as_str().unwrap_or("?"),
        f(peer, "mean_sojourn_ms"),
        f(ours, "mean_sojourn_ms"),
    )
    .ok();
    for (i, r) in rounds.iter().enumerate() {
        let (peer, ours) = r;
        writeln!(
            md,
            "| {} | {:.0} | {:.0} | {:.1}x | {:.0} | {:.1}x |",
            i + 1,
            f(peer, "requests_per_s"),
            f(ours, "mean_requests_per_s"),
            ratio(r),
            f(&ours["undrained"], "mean_requests_per_s"),
            worst(r)
        )
        .ok();
    }
    let ((mid, lo, hi), (worst_mid, worst_lo, worst_hi)) = (median(&ratio), median(&worst));
    writeln!(
        md,
        "\n**Ratio: {mid:.1}x** on {}, the median of the rounds ({lo:.1}x to {hi:.1}x; target: 50x). With the ring never drained: {worst_mid:.1}x ({worst_lo:.1}x to {worst_hi:.1}x). \
         The ratio depends on the CPU: on an Intel Xeon this comparison gave 49.5x (BENCHMARKS.md at 81f7929), on an AMD EPYC 40.9x the same day with a slightly faster engine; SimPy ran as fast on both (100,000-108,000 requests/s).",
        crate::bench::cpu()
    )
    .ok();
    match callgrind() {
        Some((per_event, _)) if !(per_event > 0.0) => {
            return Err("callgrind counted nothing inside Sim::run_slice: the function was not found (inlined or renamed?); fix the toggle in crates/xtask/src/peer.rs".into());
        }
        Some((per_event, top)) => {
            writeln!(
                md,
                "\nWhere the engine's time goes: {per_event:.0} instructions per event now, {BEFORE_IR_PER_EVENT:.0} before the work of issue 9 \
                 (callgrind, inside `Sim::run_slice`, one run of 100,000 requests of the workload; repeatable where wall time is not). \
                 The functions with the largest share of them, inlined code counted where it lands:\n\n| share | per event | function |\n|---:|---:|---|\n{}",
                top.join("\n")
            )
            .ok();
        }
        None => writeln!(md, "\nInstructions per event: valgrind is not installed here, so not measured.").unwrap_or(()),
    }
    Ok(md)
}

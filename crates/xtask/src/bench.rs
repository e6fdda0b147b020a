//! `cargo xtask bench`: measures the engine natively and in headless Chromium, and writes
//! the figures, the machine and the commands to BENCHMARKS.md. Numbers, not assertions:
//! budgets are checked by reading them, never by a timed test that could flake.

use crate::sh::{Step, root};
use serde_json::Value;
use std::fmt::Write as _;

pub const NATIVE: &str = "target/native/clusterlab";

fn json(text: &str, what: &str) -> Result<Value, String> {
    let line = text.lines().rev().find(|l| l.trim_start().starts_with('{')).unwrap_or(text);
    serde_json::from_str(line).or_else(|_| serde_json::from_str(text)).map_err(|e| format!("{what}: unreadable output ({e}): {text}"))
}

fn native(requests: u64) -> Result<Value, String> {
    let out = Step::new(&format!("native engine bench, {requests} transactions"))
        .cmd(NATIVE)
        .args(["bench", "--requests", &requests.to_string(), "--json"])
        .output()?;
    json(&out, "clusterlab bench")
}

fn first_line(cmd: &str, args: &[&str]) -> String {
    Step::new(cmd).cmd(cmd).args(args.iter().copied()).output().unwrap_or_default().lines().next().unwrap_or("").trim().to_string()
}

/// The CPU's model name.
pub fn cpu() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into())
}

fn machine() -> String {
    let cpu = cpu();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<f64>().ok()))
        .map(|kib| format!("{:.0} GiB", kib / 1048576.0))
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, {mem}; {}; {}", first_line("rustc", &["--version"]), first_line("/usr/bin/chromium", &["--version"]))
}

fn runs(v: &Value) -> Vec<Value> {
    v["runs"].as_array().cloned().unwrap_or_default()
}

pub fn run() -> Result<(), String> {
    crate::setup::all()?;
    Step::new("build the CLI, tuned for speed").cmd("cargo").args(["build", "--profile", "native", "-p", "clusterlab-cli"]).run()?;
    let small = native(1_000_000)?;
    let large = native(10_000_000)?;
    let dist_gzip = crate::dist()?;
    let wasm_out = Step::new("engine bench in headless Chromium")
        .cmd("node")
        .args(["bench/engine.mjs", "1000000"])
        .dir(root().join("tests/e2e"))
        .env("CLUSTERLAB_DIST", root().join("dist").to_string_lossy().as_ref())
        .output()?;
    let wasm = json(&wasm_out, "bench/engine.mjs")?;
    let page_out = Step::new("page bench in headless Chromium (frame time, time to interactive)")
        .cmd("node")
        .args(["bench/page.mjs"])
        .dir(root().join("tests/e2e"))
        .env("CLUSTERLAB_DIST", root().join("dist").to_string_lossy().as_ref())
        .output()?;
    let page = json(&page_out, "bench/page.mjs")?;

    let mut md = String::new();
    let date = first_line("date", &["-u", "+%Y-%m-%d"]);
    writeln!(md, "# Benchmarks\n\nWritten by `cargo xtask bench` on {date}.\n\nMachine: {}\n", machine()).ok();
    writeln!(md, "## Engine, native (one core)\n\nCommand: `target/native/clusterlab bench --requests N --json` (profile `native`: the release profile at opt-level 3, the engine crate included). Each run has the page's trace ring attached (65,536 records) and never drains it: the worst case for memory traffic, since the page drains it every frame. Each figure is the best of 5 runs: wall times on this shared VM vary by up to a third between identical runs.\n").ok();
    writeln!(md, "| scene | transactions | events | wall ms | M events/s | transactions/s |\n|---|---:|---:|---:|---:|---:|").ok();
    for r in runs(&small).iter().chain(runs(&large).iter()) {
        writeln!(
            md,
            "| {} | {} | {} | {} | {:.2} | {:.0} |",
            r["scene"].as_str().unwrap_or(""),
            r["transactions"],
            r["events"],
            r["wall_ms"],
            r["events_per_s"].as_f64().unwrap_or(0.0) / 1e6,
            r["transactions_per_s"].as_f64().unwrap_or(0.0)
        )
        .ok();
    }
    let rss = |v: &Value| v["peak_rss_kib"].as_f64().unwrap_or(0.0);
    writeln!(
        md,
        "\nBudgets: ≥ 10 M events/s; 1,000,000 transactions in < 1 s.\n\n## Memory stays flat\n\nPeak RSS of the process that ran every scene in turn: {:.1} MiB at 1,000,000 transactions each, {:.1} MiB at 10,000,000 each: {:+.1}% (budget: within 10%).\n",
        rss(&small) / 1024.0,
        rss(&large) / 1024.0,
        (rss(&large) / rss(&small) - 1.0) * 100.0
    )
    .ok();
    writeln!(md, "## Engine in wasm, headless Chromium\n\nCommand: `node tests/e2e/bench/engine.mjs 1000000` against the release `dist/` (the page's `?bench=N` route; Chromium {}), the page's trace ring attached and never drained, as natively.\n", wasm["chromium"].as_str().unwrap_or("?")).ok();
    writeln!(md, "| scene | transactions | events | wall ms | M events/s | wasm / native time |\n|---|---:|---:|---:|---:|---:|").ok();
    for (w, n) in runs(&wasm["engine"]).iter().zip(runs(&small).iter()) {
        let ratio = w["wall_ms"].as_f64().unwrap_or(0.0) / n["wall_ms"].as_f64().unwrap_or(1.0);
        writeln!(
            md,
            "| {} | {} | {} | {} | {:.2} | {ratio:.2}x |",
            w["scene"].as_str().unwrap_or(""),
            w["transactions"],
            w["events"],
            w["wall_ms"],
            w["events_per_s"].as_f64().unwrap_or(0.0) / 1e6
        )
        .ok();
    }
    writeln!(md, "\nBudget: within 2x of native; best of 3 runs each. The release profile builds the whole page, the engine crate included, at opt-level \"z\" for size: any other level for the engine costs more bytes than the page can spend (on 2026-11-29 with twenty scenes: \"s\" 6.4 KB gzip more, 3 17.5 KB, for 18-25% less time in wasm); the hot path is written so that \"z\" builds it well (events and trace records written in place, not copied through the stack; no call on an event's path for a vector's index or push, which \"z\" keeps out of line), and \"s\" is then 2-11% faster, no longer 18-25%.").ok();
    let f = &page["frames"];
    writeln!(
        md,
        "\n## The page, headless Chromium\n\nCommand: `node tests/e2e/bench/page.mjs` against the release `dist/`, viewport 1280x800.\n\n\
         | what | measured | budget |\n|---|---:|---:|\n\
         | stage frame time p95 (our work per frame: simulate + draw), `{}` | {} ms with {} requests in flight, {} dots drawn | ≤ 16.7 ms |\n\
         | browser frame interval p95, same run | {} ms | 60 fps |\n\
         | time to interactive (navigation to first stage frame), 5 cold loads | median {} ms, max {} ms | ≤ 1 s |\n\
         | `dist/` total, gzip (`cargo xtask dist`) | {:.1} KB | ≤ 300 KB |",
        f["scenario"].as_str().unwrap_or(""),
        f["p95_ms"],
        f["requests_in_flight"],
        f["dots_drawn"],
        f["raf_interval_p95_ms"].as_f64().map(|x| format!("{x:.1}")).unwrap_or_default(),
        page["tti_ms"]["median"],
        page["tti_ms"]["max"],
        dist_gzip as f64 / 1000.0
    )
    .ok();
    writeln!(md, "\nEach scene on its busiest preset (1x speed, after 8 s), our work per frame:\n\n| scene | URL | frame p95 ms | dots drawn | budget |\n|---|---|---:|---:|---:|").ok();
    for s in page["scenes"].as_array().cloned().unwrap_or_default() {
        writeln!(md, "| {} | `{}` | {} | {} | ≤ 16.7 ms |", s["scene"].as_str().unwrap_or(""), s["query"].as_str().unwrap_or(""), s["p95_ms"], s["dots_drawn"]).ok();
    }
    writeln!(
        md,
        "\n## Run 1M in the tab\n\nThe page's \"Run 1M\" on each scene's defaults (a million transactions in frame-sized slices, the stage drawing a sample), same command. Budgets: under 2 s; no frame over 50 ms.\n\n| scene | wall ms | our longest frame ms | longest gap between frames ms |\n|---|---:|---:|---:|"
    )
    .ok();
    for m in page["million"].as_array().cloned().unwrap_or_default() {
        writeln!(md, "| {} | {} | {} | {} |", m["scene"].as_str().unwrap_or(""), m["wall_ms"], m["our_max_frame_ms"], m["raf_max_gap_ms"]).ok();
    }
    writeln!(
        md,
        "\n## Jumps on the timeline\n\nSame command, each scene's defaults. A link to `t=60s`: from the page's start to the stage drawn at 60 s (the run played on from 0 s, the page's start-up included). Then three jumps back (to 59.9 s, 59.5 s and 59 s), each once the runs parked every 15 s of the first minute are built: the run replays from the one parked nearest before. Budget: under 100 ms.\n\n| scene | link to 60 s ms | jump back ms, median | jump back ms, max |\n|---|---:|---:|---:|"
    )
    .ok();
    for m in page["seek"].as_array().cloned().unwrap_or_default() {
        writeln!(md, "| {} | {} | {} | {} |", m["scene"].as_str().unwrap_or(""), m["on_ms"], m["back_ms"], m["back_max_ms"]).ok();
    }
    writeln!(
        md,
        "\n## The space-time diagram\n\nSame command: the diagram open on each scene's busiest preset with a 1 s window, redrawn four times a second as the run plays; the longest redraw over 3 s (building the SVG and putting it in the page). Budget: within a frame (16.7 ms).\n\n| scene | longest redraw ms | messages drawn |\n|---|---:|---:|"
    )
    .ok();
    for m in page["diagram"].as_array().cloned().unwrap_or_default() {
        writeln!(md, "| {} | {} | {} |", m["scene"].as_str().unwrap_or(""), m["redraw_max_ms"], m["messages"]).ok();
    }
    writeln!(md, "\n{}", crate::peer::section()?).ok();
    writeln!(md, "\n{}", crate::bytes::per_scene()?).ok();
    std::fs::write(root().join("BENCHMARKS.md"), &md).map_err(|e| format!("writing BENCHMARKS.md: {e}"))?;
    println!("\n{md}");
    Ok(())
}

/// Writes `dist/`'s gzipped total into BENCHMARKS.md's page table, where the bench put
/// it, so that `cargo xtask dist` alone keeps the figure current.
pub fn put_dist_total(gzip: u64) -> Result<(), String> {
    let path = root().join("BENCHMARKS.md");
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let row = "| `dist/` total, gzip (`cargo xtask dist`) |";
    let new: Vec<String> = old
        .lines()
        .map(|l| if l.starts_with(row) { format!("{row} {:.1} KB | ≤ 300 KB |", gzip as f64 / 1000.0) } else { l.to_string() })
        .collect();
    std::fs::write(&path, new.join("\n") + "\n").map_err(|e| format!("writing BENCHMARKS.md: {e}"))
}

/// Puts `section` (a `## Heading` and its text) into BENCHMARKS.md in place of the section
/// of the same heading, or at the end.
pub fn put_section(section: &str) -> Result<(), String> {
    let path = root().join("BENCHMARKS.md");
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let heading = section.lines().next().unwrap_or_default();
    let new = match old.find(heading) {
        Some(start) => {
            let rest = &old[start + heading.len()..];
            let end = rest.find("\n## ").map_or(old.len(), |i| start + heading.len() + i + 1);
            // A blank line before the next section: a heading right under a table's last row
            // ran into it.
            let gap = if end < old.len() { "\n\n" } else { "\n" };
            format!("{}{}{gap}{}", &old[..start], section.trim_end(), &old[end..])
        }
        None => format!("{}\n\n{}\n", old.trim_end(), section.trim_end()),
    };
    std::fs::write(&path, new).map_err(|e| format!("writing BENCHMARKS.md: {e}"))
}

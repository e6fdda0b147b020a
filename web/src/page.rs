//! The playable page of one scene: state, the frame loop, the stage and the charts.
//! All state a reader can set lives in one `Scenario` signal, mirrored into the URL.

use crate::charts::{self, Line};
use crate::panels::{ComparePanel, CompareTable, Controls, Invariants, KnobPanel, NarrativePanel, NodeMenu, Notices, StatsBar};
use crate::runner::{Dot, Runner};
use crate::stage::{self, Layout};
use clusterlab_sim::ledger::Counts;
use clusterlab_sim::scenario::Scenario;
use clusterlab_sim::series::Series;
use leptos::html::Canvas;
use leptos::prelude::*;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::JsCast;

/// What the panels show, refreshed a few times a second from the runner.
#[derive(Clone, Default, PartialEq)]
pub struct Stats {
    pub now_s: f64,
    pub counts: Counts,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub throughput_rps: f64,
    /// (invariant, violations so far)
    pub invariants: Vec<(String, u64)>,
    pub violations: Vec<String>,
    pub sample_every: u32,
    pub behind: bool,
    pub flights: usize,
    pub log: Vec<String>,
    pub nodes: Vec<NodeRow>,
}

#[derive(Clone, Default, PartialEq)]
pub struct NodeRow {
    pub id: usize,
    pub name: String,
    pub role: &'static str,
    pub condition: &'static str,
    pub slow: f64,
    pub queue: u32,
    pub busy: u32,
    pub workers: u32,
    pub state: &'static str,
    pub completed: u64,
}

impl Stats {
    fn of(r: &Runner) -> Stats {
        let w = &r.sim.world;
        let (violations, _, _) = w.violations();
        Stats {
            now_s: w.now() as f64 / 1e6,
            counts: w.counts(),
            p50_ms: w.latency.quantile(0.5) / 1e3,
            p95_ms: w.latency.quantile(0.95) / 1e3,
            p99_ms: w.latency.quantile(0.99) / 1e3,
            throughput_rps: r.sim.series.column("throughput_rps").and_then(|c| c.last().copied()).unwrap_or(0.0),
            invariants: w.checker_names().into_iter().map(|n| (n.to_string(), w.violations_of(n))).collect(),
            violations: violations.iter().take(3).map(|v| format!("{:.3}s [{}] {}", v.at_us as f64 / 1e6, v.invariant, v.detail)).collect(),
            sample_every: r.sample_every,
            behind: r.behind,
            flights: r.flights.len(),
            log: r.log.clone(),
            nodes: w
                .nodes()
                .iter()
                .enumerate()
                .map(|(id, n)| {
                    let v = n.view();
                    NodeRow {
                        id,
                        name: n.name.clone(),
                        role: n.role,
                        condition: stage::condition(n).0,
                        slow: n.slow,
                        queue: v.queue,
                        busy: v.busy,
                        workers: v.workers,
                        state: v.state,
                        completed: v.completed,
                    }
                })
                .collect(),
        }
    }
}

/// Everything the page's parts share: arena handles, so it is `Copy`.
#[derive(Clone, Copy)]
pub struct Shared {
    pub scenario: RwSignal<Scenario>,
    pub playing: RwSignal<bool>,
    pub stats: RwSignal<Stats>,
    pub notices: RwSignal<Vec<String>>,
    pub hover: RwSignal<Option<usize>>,
    pub menu: RwSignal<Option<usize>>,
    pub runner: StoredValue<Option<Runner>, LocalStorage>,
    pub layout: StoredValue<Option<Layout>, LocalStorage>,
    /// The compare view's other side: same seed, same traffic, same faults, one knob changed.
    pub runner_b: StoredValue<Option<Runner>, LocalStorage>,
    pub stats_b: RwSignal<Option<Stats>>,
}

/// Whether two scenarios are the same run (speed and embedding change how it is shown, not what happens).
fn same_run(a: &Scenario, b: &Scenario) -> bool {
    a.scene.info().id == b.scene.info().id && a.params == b.params && a.seed == b.seed && a.faults == b.faults
}

impl Shared {
    /// Starts the run (and its comparison, if any) over from virtual time 0.
    pub fn rebuild(&self) {
        let s = self.scenario.get_untracked();
        let build = |s: &Scenario| match Runner::new(s) {
            Ok(mut r) => {
                let n = r.take_notices();
                if !n.is_empty() {
                    self.notices.update(|v| v.extend(n));
                }
                Some(r)
            }
            Err(e) => {
                self.notices.update(|v| v.push(e.0));
                None
            }
        };
        self.runner.set_value(build(&s));
        self.runner_b.set_value(s.compared().as_ref().and_then(build));
        self.stats_b.set(None);
    }

    /// Whether the runners still match the scenario (speed and embedding aside).
    fn up_to_date(&self, s: &Scenario) -> bool {
        let a = self.runner.with_value(|r| r.as_ref().is_some_and(|r| same_run(&r.scenario, s)));
        let b = self.runner_b.with_value(|r| match (r, s.compared()) {
            (None, None) => true,
            (Some(r), Some(other)) => same_run(&r.scenario, &other),
            _ => false,
        });
        a && b
    }
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}

fn write_url(s: &Scenario) {
    let Ok(params) = web_sys::UrlSearchParams::new() else { return };
    for (k, v) in s.to_pairs() {
        params.append(&k, &v);
    }
    let query = String::from(params.to_string());
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&format!("?{query}")));
    }
}

#[component]
pub fn Page(initial: Scenario, notices: Vec<String>) -> impl IntoView {
    let sh = Shared {
        scenario: RwSignal::new(initial),
        playing: RwSignal::new(true),
        stats: RwSignal::new(Stats::default()),
        notices: RwSignal::new(notices),
        hover: RwSignal::new(None),
        menu: RwSignal::new(None),
        runner: StoredValue::new_local(None),
        layout: StoredValue::new_local(None),
        runner_b: StoredValue::new_local(None),
        stats_b: RwSignal::new(None),
    };
    let canvas = NodeRef::<Canvas>::new();
    let canvas_b = NodeRef::<Canvas>::new();
    let charts = [NodeRef::<Canvas>::new(), NodeRef::<Canvas>::new(), NodeRef::<Canvas>::new()];

    // Rebuild the run whenever what determines it changes; mirror everything into the URL.
    let s2 = sh;
    Effect::new(move |_| {
        let s = s2.scenario.get();
        if !s2.up_to_date(&s) {
            s2.rebuild();
        }
        write_url(&s);
    });
    start_loop(sh, [canvas, canvas_b], charts);

    let at = move |ev: &web_sys::MouseEvent| sh.layout.with_value(|l| l.as_ref().and_then(|l| l.node_at(f64::from(ev.offset_x()), f64::from(ev.offset_y()))));
    let on_move = move |ev: web_sys::MouseEvent| sh.hover.set(at(&ev));
    let on_click = move |ev: web_sys::MouseEvent| sh.menu.set(at(&ev));
    let embed = sh.scenario.get_untracked().embed;
    let comparing = move || sh.scenario.with(|s| s.compare.is_some());
    let label_a = move || sh.scenario.with(|s| s.compare.as_ref().map(|(k, _)| format!("A: {k} = {}", s.params.get(k).to_text())));
    let label_b = move || sh.scenario.with(|s| s.compare.as_ref().map(|(k, v)| format!("B: {k} = {v}")));
    let title = move || sh.scenario.with(|s| s.scene.info().title);
    provide_context(sh);
    view! {
        <div class="page" class:embedded=embed>
            <Notices/>
            <div class="main-col">
                <div class="title-row">
                    <h1>{title}</h1>
                    <Controls/>
                </div>
                <div class="stage-pair" class:comparing=comparing>
                <div class="stage-wrap">
                    <div class="stage-label">{label_a}</div>
                    <canvas
                        node_ref=canvas
                        class="stage"
                        role="img"
                        aria-label="The virtual cluster: nodes and the requests flying between them"
                        on:mousemove=on_move
                        on:mouseleave=move |_| sh.hover.set(None)
                        on:click=on_click
                    ></canvas>
                    <NodeMenu/>
                </div>
                <Show when=comparing>
                    <div class="stage-wrap">
                        <div class="stage-label">{label_b}</div>
                        <canvas node_ref=canvas_b class="stage" role="img" aria-label="The compared run: same seed, same traffic, one knob changed"></canvas>
                    </div>
                </Show>
                </div>
                <CompareTable/>
                <Legend/>
                <StatsBar/>
                <div class="charts">
                    <canvas node_ref=charts[0] class="chart" role="img" aria-label="Latency percentiles over time"></canvas>
                    <canvas node_ref=charts[1] class="chart" role="img" aria-label="Throughput and errors over time"></canvas>
                    <canvas node_ref=charts[2] class="chart" role="img" aria-label="Scene measures over time"></canvas>
                </div>
            </div>
            <aside class="side-col">
                <KnobPanel/>
                <ComparePanel/>
                <Invariants/>
                <Show when=move || !embed>
                    <NarrativePanel/>
                </Show>
            </aside>
        </div>
    }
}

#[component]
fn Legend() -> impl IntoView {
    view! {
        <ul class="legend" aria-label="Legend">
            {Dot::ALL
                .iter()
                .map(|d| view! { <li><span class="swatch" style=format!("background:{}", d.colour())></span>{d.label()}</li> })
                .collect_view()}
        </ul>
    }
}

/// Sizes a canvas to its CSS box in device pixels; returns (css width, css height, ratio).
fn fit(canvas: &web_sys::HtmlCanvasElement) -> (f64, f64, f64) {
    let ratio = web_sys::window().map(|w| w.device_pixel_ratio()).unwrap_or(1.0).max(1.0);
    let (w, h) = (f64::from(canvas.client_width()), f64::from(canvas.client_height()));
    let (pw, ph) = ((w * ratio) as u32, (h * ratio) as u32);
    if canvas.width() != pw || canvas.height() != ph {
        canvas.set_width(pw);
        canvas.set_height(ph);
    }
    (w, h, ratio)
}

/// Our own work per frame (ms), the most recent `FRAMES_KEPT`: `cargo xtask bench` reads
/// its p95 from the stage's `data-frame-p95` attribute.
const FRAMES_KEPT: usize = 240;

thread_local! {
    static FRAME_MS: std::cell::RefCell<std::collections::VecDeque<f64>> = const { std::cell::RefCell::new(std::collections::VecDeque::new()) };
    static FIRST_FRAME: Cell<bool> = const { Cell::new(true) };
}

fn record_frame(ms: f64) {
    FRAME_MS.with_borrow_mut(|f| {
        if f.len() == FRAMES_KEPT {
            f.pop_front();
        }
        f.push_back(ms);
    });
}

fn frame_p95() -> f64 {
    FRAME_MS.with_borrow(|f| {
        let mut v: Vec<f64> = f.iter().copied().collect();
        v.sort_by(f64::total_cmp);
        v.get(((v.len() as f64 * 0.95) as usize).min(v.len().saturating_sub(1))).copied().unwrap_or(0.0)
    })
}

type Stages = [NodeRef<Canvas>; 2];

fn start_loop(sh: Shared, stage: Stages, charts: [NodeRef<Canvas>; 3]) {
    let last_frame = Rc::new(Cell::new(now_ms()));
    let last_stats = Rc::new(Cell::new(0.0));
    fn tick(sh: Shared, stage: Stages, charts: [NodeRef<Canvas>; 3], last_frame: Rc<Cell<f64>>, last_stats: Rc<Cell<f64>>) {
        let t = now_ms();
        let dt_ms = (t - last_frame.get()).clamp(0.0, 100.0);
        last_frame.set(t);
        frame(&sh, stage, &charts, dt_ms, t, &last_stats);
        record_frame(now_ms() - t);
        request_animation_frame(move || tick(sh, stage, charts, last_frame, last_stats));
    }
    request_animation_frame(move || tick(sh, stage, charts, last_frame, last_stats));
}

fn frame(sh: &Shared, stage: Stages, charts: &[NodeRef<Canvas>; 3], dt_ms: f64, t: f64, last_stats: &Cell<f64>) {
    sh.runner.update_value(|slot| {
        if let Some(r) = slot.as_mut() {
            sh.runner_b.update_value(|b| frame_with(sh, r, b.as_mut(), stage, charts, dt_ms, t, last_stats));
        }
    });
}

/// Draws one runner on one stage canvas; returns the layout used.
fn draw_stage(canvas: &web_sys::HtmlCanvasElement, r: &Runner, speed: f64, hover: Option<usize>) -> Option<Layout> {
    let (w, h, ratio) = fit(canvas);
    let ctx = canvas.get_context("2d").ok().flatten()?.dyn_into::<web_sys::CanvasRenderingContext2d>().ok()?;
    let _ = ctx.set_transform(ratio, 0.0, 0.0, ratio, 0.0, 0.0);
    Some(stage::draw(&ctx, r, w, h, speed, hover))
}

#[allow(clippy::too_many_arguments)]
fn frame_with(
    sh: &Shared,
    r: &mut Runner,
    mut b: Option<&mut Runner>,
    stage: Stages,
    charts: &[NodeRef<Canvas>; 3],
    dt_ms: f64,
    t: f64,
    last_stats: &Cell<f64>,
) {
    let speed = sh.scenario.with_untracked(|s| s.speed);
    if sh.playing.get_untracked() {
        let budget_ms = if b.is_some() { 5.0 } else { 10.0 };
        r.advance((dt_ms / 1e3 * speed * 1e6) as u64, budget_ms, &now_ms);
        // The other side follows A's clock, so both always show the same instant.
        if let Some(b) = b.as_deref_mut() {
            b.advance(r.now().saturating_sub(b.now()), budget_ms, &now_ms);
        }
    }
    r.prune(speed);
    if let Some(canvas) = stage[0].get_untracked() {
        sh.layout.set_value(draw_stage(&canvas, r, speed, sh.hover.get_untracked()));
    }
    if let (Some(b), Some(canvas)) = (b.as_deref_mut(), stage[1].get_untracked()) {
        b.prune(speed);
        draw_stage(&canvas, b, speed, None);
    }
    let stage = stage[0];
    if t - last_stats.get() > 250.0 {
        last_stats.set(t);
        sh.stats.set(Stats::of(r));
        sh.stats_b.set(b.as_deref().map(Stats::of));
        draw_charts(r, b.as_deref(), charts);
        if let Some(canvas) = stage.get_untracked() {
            let _ = canvas.set_attribute("data-frame-p95", &format!("{:.2}", frame_p95()));
            let _ = canvas.set_attribute("data-flights", &r.flights.len().to_string());
            let _ = canvas.set_attribute("data-in-flight", &r.sim.world.counts().in_flight.to_string());
        }
    }
    if FIRST_FRAME.replace(false)
        && let Some(canvas) = stage.get_untracked()
    {
        // Time to interactive: the first frame with the run on the stage.
        let _ = canvas.set_attribute("data-ready-ms", &format!("{t:.0}"));
    }
}

/// A time-series column as chart points: (virtual seconds at the end of each interval, value).
fn points(series: &Series, name: &str) -> Vec<(f64, f64)> {
    let dt = series.interval_us as f64 / 1e6;
    series.column(name).map(|c| c.iter().enumerate().map(|(i, v)| ((i as f64 + 1.0) * dt, *v)).collect()).unwrap_or_default()
}

fn draw_charts(r: &Runner, b: Option<&Runner>, charts: &[NodeRef<Canvas>; 3]) {
    let series = &r.sim.series;
    let dt = series.interval_us as f64 / 1e6;
    let col = |name: &str| points(series, name);
    let span = |v: f64| -> Vec<(f64, f64)> { vec![(0.0, v), ((series.len().max(1) as f64) * dt, v)] };
    let theory = r.sim.theory();
    let mut latency = vec![
        Line { label: "p50".into(), colour: charts::GREEN, points: col("p50_ms"), dashed: false },
        Line { label: "p95".into(), colour: charts::ORANGE, points: col("p95_ms"), dashed: false },
        Line { label: "p99".into(), colour: charts::RED, points: col("p99_ms"), dashed: false },
    ];
    for (name, label, colour) in [("latency_mean_us", "theory mean", charts::WHITE), ("latency_p99_us", "theory p99", charts::RED)] {
        if let Some((_, v)) = theory.iter().find(|(n, _)| *n == name) {
            latency.push(Line { label: label.into(), colour, points: span(v / 1e3), dashed: true });
        }
    }
    let mut traffic = vec![
        Line { label: "completed/s".into(), colour: charts::GREEN, points: col("throughput_rps"), dashed: false },
        Line { label: "errors/s".into(), colour: charts::RED, points: col("errors_rps"), dashed: false },
    ];
    if let Some((_, v)) = theory.iter().find(|(n, _)| *n == "a_capacity_when_b_hangs_rps") {
        traffic.push(Line { label: "A's capacity if B hangs".into(), colour: charts::YELLOW, points: span(*v), dashed: true });
    }
    if let Some(b) = b {
        let col_b = |name: &str| points(&b.sim.series, name);
        latency.push(Line { label: "B p99".into(), colour: charts::PALETTE[5], points: col_b("p99_ms"), dashed: false });
        traffic.push(Line { label: "B completed/s".into(), colour: charts::PALETTE[5], points: col_b("throughput_rps"), dashed: false });
        traffic.push(Line { label: "B errors/s".into(), colour: charts::YELLOW, points: col_b("errors_rps"), dashed: false });
    }
    let (scene_title, scene_lines) = scene_chart(r, &col);
    let ratio = web_sys::window().map(|w| w.device_pixel_ratio()).unwrap_or(1.0).max(1.0);
    for (i, (title, unit, lines)) in
        [("Latency (ms)", "ms", latency), ("Throughput and errors", "req/s", traffic), (scene_title, "", scene_lines)].into_iter().enumerate()
    {
        if let Some(c) = charts[i].get_untracked() {
            fit(&c);
            if let Err(e) = charts::draw(c, title, unit, &lines, ratio) {
                web_sys::console::warn_1(&e.into());
            }
        }
    }
}

/// The scene's own chart: per-server queues, or the breaker against A's busy workers.
fn scene_chart(r: &Runner, col: &dyn Fn(&str) -> Vec<(f64, f64)>) -> (&'static str, Vec<Line>) {
    let names = &r.sim.series.names;
    let queues: Vec<&String> = names.iter().filter(|n| n.starts_with("queue:")).collect();
    if !queues.is_empty() {
        let lines = queues
            .iter()
            .enumerate()
            .map(|(i, n)| Line { label: n.trim_start_matches("queue:").into(), colour: charts::PALETTE[i % charts::PALETTE.len()], points: col(n), dashed: false })
            .collect();
        return ("Queue depth per server", lines);
    }
    let workers = r.sim.params.int("workers") as f64;
    let state: Vec<(f64, f64)> = col("breaker_state").into_iter().map(|(x, s)| (x, if s == 1.0 { workers } else if s == 2.0 { workers / 2.0 } else { 0.0 })).collect();
    (
        "A's busy workers, and the breaker",
        vec![
            Line { label: "A workers busy".into(), colour: charts::BLUE, points: col("a_workers_busy"), dashed: false },
            Line { label: "breaker (top open, middle half-open)".into(), colour: charts::RED, points: state, dashed: false },
        ],
    )
}

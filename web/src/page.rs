//! The playable page of one scene: state, the frame loop, the stage and the charts.
//! All state a reader can set lives in one `Scenario` signal, mirrored into the URL.

use crate::charts::{self, Line};
use crate::million::Progress;
use crate::panels::{ComparePanel, CompareTable, Controls, Invariants, KnobPanel, NodeMenu, Notices, SideBySide, StatsBar};
use crate::story::NarrativePanel;
use crate::runner::{Dot, Runner};
use crate::stage::{self, Layout};
use clusterlab_sim::fault::{Fault, ScheduledFault};
use clusterlab_sim::ledger::Counts;
use clusterlab_sim::scenario::Scenario;
use clusterlab_sim::series::Series;
use clusterlab_sim::view;
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
    /// The event log, oldest first: (virtual µs, node, kind, words).
    pub events: Vec<(u64, Option<usize>, &'static str, String)>,
    pub events_dropped: u64,
    pub nodes: Vec<NodeRow>,
    /// The scene's own compare rows (`SceneView::compare`), as text.
    pub measures: Vec<String>,
    /// Every measure of the run, for the goals.
    pub metrics: serde_json::Map<String, serde_json::Value>,
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
    /// Four times a second: the run's numbers for the panels.
    pub(crate) fn of(r: &Runner) -> Stats {
        let w = &r.sim.world;
        let (violations, _, _) = w.violations();
        let metrics = r.sim.metrics();
        Stats {
            measures: r.sim.scene.info().view.compare.iter().map(|row| metrics.get(row.metric).map(show_measure).unwrap_or_default()).collect(),
            now_s: w.now() as f64 / 1e6,
            counts: w.counts(),
            p50_ms: w.latency().quantile(0.5) / 1e3,
            p95_ms: w.latency().quantile(0.95) / 1e3,
            p99_ms: w.latency().quantile(0.99) / 1e3,
            throughput_rps: r.sim.series.column("throughput_rps").and_then(|c| c.last().copied()).unwrap_or(0.0),
            invariants: w.checker_names().into_iter().map(|n| (n.to_string(), w.violations_of(n))).collect(),
            violations: violations.iter().take(3).map(|v| format!("{:.3}s [{}] {}", v.at_us as f64 / 1e6, v.invariant, v.detail)).collect(),
            sample_every: r.sample_every,
            behind: r.behind,
            flights: r.flights.len(),
            events: r.events.entries().map(|e| (e.t_us, e.node.map(|n| n as usize), e.kind.name(), e.text.clone())).collect(),
            events_dropped: r.events.dropped,
            metrics: r.sim.metrics(),
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

/// A measure as the compare table shows it: numbers as they are, lists joined.
pub(crate) fn show_measure(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Array(items) => items.iter().map(show_measure).collect::<Vec<_>>().join(" · "),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
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
    /// "Run 1M": the finite run under way, and its progress for the panel.
    pub million: StoredValue<Option<Runner>, LocalStorage>,
    pub progress: RwSignal<Option<Progress>>,
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

    /// Adds a schedule entry (a fault from a click, a knob moved while playing) at the
    /// current virtual time, to both sides of a comparison and to the URL.
    pub fn schedule(&self, fault: Fault) -> Result<ScheduledFault, String> {
        let added = self.runner.try_update_value(|r| {
            let r = r.as_mut()?;
            let f = ScheduledFault { at_us: r.now(), fault };
            Some(r.add_fault(f.clone()).map(|_| f))
        });
        let f = added.flatten().ok_or("the run has not started")?.map_err(|e| e.0)?;
        // The compared run gets the same entry at the same instant.
        self.runner_b.update_value(|b| {
            if let Some(b) = b.as_mut() {
                let _ = b.add_fault(f.clone());
            }
        });
        self.scenario.update(|s| s.faults.push(f.clone()));
        Ok(f)
    }

    /// Virtual time of the run now.
    pub fn now_us(&self) -> u64 {
        self.runner.with_value(|r| r.as_ref().map_or(0, Runner::now))
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

pub(crate) fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}

/// The URL query that holds everything of scenario `s`.
fn query(s: &Scenario) -> String {
    let Ok(params) = web_sys::UrlSearchParams::new() else { return String::new() };
    for (k, v) in s.to_pairs() {
        params.append(&k, &v);
    }
    String::from(params.to_string())
}

fn write_url(s: &Scenario) {
    let query = query(s);
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&format!("?{query}")));
    }
}

#[component]
pub fn Page(initial: Scenario, notices: Vec<String>) -> impl IntoView {
    let initial_scene = initial.scene;
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
        million: StoredValue::new_local(None),
        progress: RwSignal::new(None),
    };
    let canvas = NodeRef::<Canvas>::new();
    let canvas_b = NodeRef::<Canvas>::new();
    let chart_specs = &initial_scene.info().view.charts;
    let charts: Rc<[NodeRef<Canvas>]> = chart_specs.iter().map(|_| NodeRef::<Canvas>::new()).collect();

    // Rebuild the run whenever what determines it changes; mirror everything into the URL.
    let s2 = sh;
    Effect::new(move |_| {
        let s = s2.scenario.get();
        if !s2.up_to_date(&s) {
            s2.rebuild();
        }
        write_url(&s);
    });
    start_loop(sh, [canvas, canvas_b], charts.clone());

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
            <crate::keys::Shortcuts/>
            <div class="main-col">
                <div class="title-row">
                    <h1>{title}</h1>
                    <Controls/>
                    {embed.then(|| view! { <OpenFull/> })}
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
                <SideBySide/>
                <Legend/>
                <StatsBar/>
                <div class="charts">
                    {chart_specs
                        .iter()
                        .zip(charts.iter())
                        .map(|(spec, r)| view! { <canvas node_ref=*r class="chart" role="img" aria-label=format!("{} over time", spec.title)></canvas> })
                        .collect_view()}
                </div>
            </div>
            <aside class="side-col">
                <KnobPanel/>
                <ComparePanel/>
                <Invariants/>
                <crate::event_log::EventLogPanel/>
                <Show when=move || !embed>
                    <NarrativePanel/>
                </Show>
            </aside>
        </div>
    }
}

/// In an embed: a link that opens the very same run, knobs, seed, schedule and all, on
/// clusterlab's own page.
#[component]
fn OpenFull() -> impl IntoView {
    let sh = crate::panels::shared();
    let href = move || {
        let mut s = sh.scenario.get();
        s.embed = false;
        format!("./?{}", query(&s))
    };
    view! { <a class="open-full" href=href target="_blank" rel="noopener">"Open in clusterlab ↗"</a> }
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
        clusterlab_sim::sort::sort_by(&mut v, |a, b| a.total_cmp(b).is_lt());
        v.get(((v.len() as f64 * 0.95) as usize).min(v.len().saturating_sub(1))).copied().unwrap_or(0.0)
    })
}

pub(crate) type Stages = [NodeRef<Canvas>; 2];

type Charts = Rc<[NodeRef<Canvas>]>;

thread_local! {
    /// Whether the page is in view: false while an embedding host page has scrolled its
    /// iframe out of sight (an IntersectionObserver says so).
    static IN_VIEW: Cell<bool> = const { Cell::new(true) };
}

/// Watches whether this document is on screen; in an iframe the observer's implicit root
/// is the host page's viewport, so scrolling the iframe away reports it.
fn watch_visibility() {
    let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) else { return };
    let seen = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::js_sys::Array)>::new(|entries: web_sys::js_sys::Array| {
        if let Some(entry) = entries.iter().last() {
            IN_VIEW.set(entry.unchecked_into::<web_sys::IntersectionObserverEntry>().is_intersecting());
        }
    });
    if let Ok(observer) = web_sys::IntersectionObserver::new(seen.as_ref().unchecked_ref()) {
        observer.observe(&root);
    }
    // The observer lives as long as the page.
    seen.forget();
}

/// Whether frames should play: not while the tab is hidden or the page out of view.
fn on_screen() -> bool {
    let hidden = web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.hidden());
    !hidden && IN_VIEW.get()
}

fn start_loop(sh: Shared, stage: Stages, charts: Charts) {
    let last_frame = Rc::new(Cell::new(now_ms()));
    let last_stats = Rc::new(Cell::new(0.0));
    if sh.scenario.with_untracked(|s| s.embed) {
        watch_visibility();
    }
    fn tick(sh: Shared, stage: Stages, charts: Charts, last_frame: Rc<Cell<f64>>, last_stats: Rc<Cell<f64>>) {
        let t = now_ms();
        let dt_ms = (t - last_frame.get()).clamp(0.0, 100.0);
        last_frame.set(t);
        // Out of view, the run waits where it is: an embed scrolled away costs nothing.
        if on_screen() {
            frame(&sh, stage, &charts, dt_ms, t, &last_stats);
            record_frame(now_ms() - t);
        }
        request_animation_frame(move || tick(sh, stage, charts, last_frame, last_stats));
    }
    request_animation_frame(move || tick(sh, stage, charts, last_frame, last_stats));
}

fn frame(sh: &Shared, stage: Stages, charts: &[NodeRef<Canvas>], dt_ms: f64, t: f64, last_stats: &Cell<f64>) {
    if sh.progress.with_untracked(Option::is_some) {
        crate::million::frame(sh, stage, charts, t, last_stats);
        return;
    }
    sh.runner.update_value(|slot| {
        if let Some(r) = slot.as_mut() {
            sh.runner_b.update_value(|b| frame_with(sh, r, b.as_mut(), stage, charts, dt_ms, t, last_stats));
        }
    });
}

/// Draws one runner on one stage canvas; returns the layout used.
pub(crate) fn draw_stage(canvas: &web_sys::HtmlCanvasElement, r: &Runner, speed: f64, hover: Option<usize>) -> Option<Layout> {
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
    charts: &[NodeRef<Canvas>],
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

/// The lines of one chart of the scene's view for one run; `side_b` gives the compared
/// run's lines their own colours and a "B" in their labels.
fn chart_lines(spec: &view::Chart, r: &Runner, side_b: bool, out: &mut Vec<Line>) {
    let series = &r.sim.series;
    let theory = r.sim.theory();
    let end_s = (series.len().max(1) as f64) * series.interval_us as f64 / 1e6;
    let mut b_colours = [charts::PURPLE, charts::YELLOW, charts::WHITE].into_iter().cycle();
    for l in spec.lines.iter().filter(|l| !side_b || l.compared) {
        let colour = if side_b { b_colours.next().unwrap_or(charts::PURPLE) } else { charts::colour(l.colour) };
        let label = |text: &str| if side_b { format!("B {text}") } else { text.to_string() };
        match l.source {
            view::Source::Column(name) => out.push(Line { label: label(l.label), colour, points: points(series, name), dashed: l.dashed }),
            view::Source::Prefixed(prefix) => {
                for (i, name) in series.names.iter().filter(|n| n.starts_with(prefix)).enumerate() {
                    let colour = if side_b { colour } else { charts::colour(view::Colour::CYCLE[i % view::Colour::CYCLE.len()]) };
                    out.push(Line { label: label(&name[prefix.len()..]), colour, points: points(series, name), dashed: l.dashed });
                }
            }
            view::Source::Theory(name, scale) => {
                if let Some((_, v)) = theory.iter().find(|(n, _)| *n == name) {
                    out.push(Line { label: label(l.label), colour, points: vec![(0.0, v * scale), (end_s, v * scale)], dashed: true });
                }
            }
        }
    }
}

pub(crate) fn draw_charts(r: &Runner, b: Option<&Runner>, charts: &[NodeRef<Canvas>]) {
    let ratio = web_sys::window().map(|w| w.device_pixel_ratio()).unwrap_or(1.0).max(1.0);
    for (spec, canvas) in r.sim.scene.info().view.charts.iter().zip(charts) {
        let mut lines = Vec::new();
        chart_lines(spec, r, false, &mut lines);
        if let Some(b) = b {
            chart_lines(spec, b, true, &mut lines);
        }
        if let Some(c) = canvas.get_untracked() {
            fit(&c);
            if let Err(e) = charts::draw(c, spec.title, spec.unit, &lines, ratio) {
                web_sys::console::warn_1(&e.into());
            }
        }
    }
}

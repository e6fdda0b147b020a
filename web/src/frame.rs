//! The frame loop: each animation frame advances the run (and its comparison) by the
//! speed's share of virtual time and draws the stage; a few times a second it refreshes
//! the panels' numbers and the charts. It waits while the page is out of view.

use clusterlab_sim::num::Fixed;
use crate::charts::{self, Line};
use crate::dom;
use crate::page::{Stats, Ui, now_ms, with_ui};
use crate::runner::{Dot, Runner};
use crate::stage::{self, Layout};
use clusterlab_sim::series::Series;
use clusterlab_sim::view;
use std::cell::{Cell, RefCell};
use wasm_bindgen::JsCast;
use web_sys::HtmlCanvasElement;

/// Sizes a canvas to its CSS box in device pixels; returns (css width, css height, ratio).
fn fit(canvas: &HtmlCanvasElement) -> (f64, f64, f64) {
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
    static FRAME_MS: RefCell<std::collections::VecDeque<f64>> = const { RefCell::new(std::collections::VecDeque::new()) };
    static FIRST_FRAME: Cell<bool> = const { Cell::new(true) };
    /// Whether the page is in view: false while an embedding host page has scrolled its
    /// iframe out of sight (an IntersectionObserver says so).
    static IN_VIEW: Cell<bool> = const { Cell::new(true) };
    static LAST: Cell<(f64, f64)> = const { Cell::new((0.0, 0.0)) };
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

/// Watches whether this document is on screen; in an iframe the observer's implicit root
/// is the host page's viewport, so scrolling the iframe away reports it.
fn watch_visibility() {
    let Some(root) = dom::document().document_element() else { return };
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
    !dom::document().hidden() && IN_VIEW.get()
}

pub(crate) fn request_frame(f: impl FnOnce() + 'static) {
    let f = wasm_bindgen::closure::Closure::once_into_js(f);
    if let Some(w) = web_sys::window() {
        let _ = w.request_animation_frame(f.unchecked_ref());
    }
}

pub(crate) fn start_loop() {
    LAST.set((now_ms(), 0.0));
    if with_ui(|ui| ui.scenario.embed) == Some(true) {
        watch_visibility();
    }
    fn tick() {
        let t = now_ms();
        let (last_frame, _) = LAST.get();
        let dt_ms = (t - last_frame).clamp(0.0, 100.0);
        LAST.set((t, LAST.get().1));
        // Out of view, the run waits where it is: an embed scrolled away costs nothing.
        if on_screen() {
            with_ui(|ui| frame(ui, dt_ms, t));
            record_frame(now_ms() - t);
        }
        request_frame(tick);
    }
    request_frame(tick);
}

/// Whether the panels are due a refresh (four times a second, or every `every_ms`).
pub(crate) fn stats_due(t: f64, every_ms: f64) -> bool {
    let (frame, stats) = LAST.get();
    let due = t - stats > every_ms;
    if due {
        LAST.set((frame, t));
    }
    due
}

fn frame(ui: &mut Ui, dt_ms: f64, t: f64) {
    if ui.progress.is_some() {
        crate::million::frame(ui, t);
        return;
    }
    let Some(mut r) = ui.runner.take() else { return };
    let mut b = ui.runner_b.take();
    let speed = ui.scenario.speed;
    let mut landed = false;
    if let Some((target, asked)) = ui.seek {
        // A jump on the timeline: as fast as the engine goes, within the frame.
        let budget_ms = if b.is_some() { 20.0 } else { 40.0 };
        let tail = ui.tail_us();
        let mut there = r.seek(target, tail, speed, budget_ms, &now_ms);
        if let Some(b) = b.as_mut() {
            there &= b.seek(r.now(), tail, speed, budget_ms, &now_ms);
        }
        if there {
            ui.seek = None;
            landed = true;
            let _ = ui.stage.set_attribute("data-seek-ms", &Fixed(now_ms() - asked, 1).to_string());
        }
    } else if ui.playing {
        let budget_ms = if b.is_some() { 5.0 } else { 10.0 };
        r.advance((dt_ms / 1e3 * speed * 1e6) as u64, budget_ms, &now_ms);
        // The other side follows A's clock, so both always show the same instant.
        if let Some(b) = b.as_mut() {
            b.advance(r.now().saturating_sub(b.now()), budget_ms, &now_ms);
        }
    }
    r.prune(speed);
    ui.layout = draw_stage(&ui.stage, &r, speed, ui.hover);
    if let (Some(b), Some(canvas)) = (b.as_mut(), ui.stage_b.as_ref()) {
        b.prune(speed);
        draw_stage(canvas, b, speed, None);
    }
    ui.reached = ui.reached.max(r.now());
    // Spare time builds the runs parked for jumps back: none during a jump, nor in a frame
    // whose own work already took half of a refresh (a comparison catching up, say).
    if ui.seek.is_none() && now_ms() - t < 8.0 {
        let [pa, pb] = &mut ui.parked;
        let budget_ms = if ui.playing { 3.0 } else { 8.0 };
        pa.build(|| Some(ui.scenario.clone()), budget_ms, &now_ms);
        if b.is_some() {
            pb.build(|| ui.scenario.compared(), budget_ms, &now_ms);
        }
    }
    let (kept, _, _) = r.sim.world.violations();
    for v in kept.iter().take(crate::views::MARKS_KEPT) {
        if ui.found.len() < crate::views::MARKS_KEPT && ui.found.last().is_none_or(|&l| v.at_us > l) {
            ui.found.push(v.at_us);
        }
    }
    if stats_due(t, if landed { -1.0 } else { 250.0 }) {
        crate::theme::detect();
        ui.stats = Stats::of(&r);
        ui.stats_b = b.as_ref().map(Stats::of);
        draw_charts(&r, b.as_ref(), &ui.charts);
        let _ = ui.stage.set_attribute("data-frame-p95", &Fixed(frame_p95(), 2).to_string());
        let _ = ui.stage.set_attribute("data-flights", &r.flights.len().to_string());
        let _ = ui.stage.set_attribute("data-in-flight", &r.sim.world.counts().in_flight.to_string());
        let _ = ui.stage.set_attribute("data-parked", &ui.parked[0].len().to_string());
        ui.runner = Some(r);
        ui.runner_b = b;
        ui.render();
    } else {
        ui.runner = Some(r);
        ui.runner_b = b;
        crate::views::show_playhead(ui);
    }
    if FIRST_FRAME.replace(false) {
        // Time to interactive: the first frame with the run on the stage.
        let _ = ui.stage.set_attribute("data-ready-ms", &Fixed(t, 0).to_string());
    }
}

/// Draws one runner on one stage canvas; returns the layout used.
pub(crate) fn draw_stage(canvas: &HtmlCanvasElement, r: &Runner, speed: f64, hover: Option<usize>) -> Option<Layout> {
    let (w, h, ratio) = fit(canvas);
    let ctx = canvas.get_context("2d").ok().flatten()?.dyn_into::<web_sys::CanvasRenderingContext2d>().ok()?;
    let _ = ctx.set_transform(ratio, 0.0, 0.0, ratio, 0.0, 0.0);
    Some(stage::draw(&ctx, r, w, h, speed, hover))
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
                for (i, (name, rest)) in series.names.iter().filter_map(|n| Some((n, n.strip_prefix(prefix)?))).enumerate() {
                    let colour = if side_b { colour } else { charts::colour(view::Colour::CYCLE[i % view::Colour::CYCLE.len()]) };
                    out.push(Line { label: label(rest), colour, points: points(series, name), dashed: l.dashed });
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

pub(crate) fn draw_charts(r: &Runner, b: Option<&Runner>, charts: &[HtmlCanvasElement]) {
    let ratio = web_sys::window().map(|w| w.device_pixel_ratio()).unwrap_or(1.0).max(1.0);
    for (spec, canvas) in r.sim.scene.info().view.charts.iter().zip(charts) {
        let mut lines = Vec::new();
        chart_lines(spec, r, false, &mut lines);
        if let Some(b) = b {
            chart_lines(spec, b, true, &mut lines);
        }
        fit(canvas);
        if let Err(e) = charts::draw(canvas.clone(), spec.title, spec.unit, &lines, ratio) {
            web_sys::console::warn_1(&e.into());
        }
    }
}

/// The dots' colours and what they mean.
pub(crate) fn legend_items() -> impl Iterator<Item = (&'static str, &'static str)> {
    Dot::ALL.iter().map(|d| (d.colour(), d.label()))
}

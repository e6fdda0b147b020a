//! "Run 1M": a million transactions of the current setup, run in the tab a frame-sized
//! slice at a time, with its progress; at the end the finished run takes the live run's
//! place on the page.

use clusterlab_sim::num::Fixed;
use crate::dom::esc;
use crate::frame::{draw_charts, draw_stage, stats_due};
use crate::page::{Stats, Ui, now_ms};
use crate::runner::Runner;
use std::cell::Cell;

/// How far "Run 1M" has come.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
    pub started_ms: f64,
    pub now_ms: f64,
    /// The stage draws one request in this many.
    pub sample_every: u32,
}

impl Progress {
    /// Real seconds left at the pace so far.
    pub fn eta_s(&self) -> Option<f64> {
        (self.done > 0).then(|| (self.now_ms - self.started_ms) / 1e3 * (self.total - self.done.min(self.total)) as f64 / self.done as f64)
    }
}

/// Transactions "Run 1M" runs.
pub const MILLION: u64 = 1_000_000;
/// Real time a frame of "Run 1M" works (ms): two screen refreshes a frame, most of it
/// simulating, the rest for the numbers and drawing; the page still answers at 30 frames
/// a second.
const MILLION_FRAME_MS: f64 = 20.0;

impl Ui {
    pub fn start_million(&mut self) {
        match Runner::finite(&self.scenario, MILLION) {
            Ok(r) => {
                self.million = Some(r);
                self.playing = false;
                let t = now_ms();
                self.progress = Some(Progress { done: 0, total: MILLION, started_ms: t, now_ms: t, sample_every: 1 });
            }
            Err(e) => self.notice(e.0),
        }
    }

    /// Cancel, or the end: what was computed stays, on the stage and in the panels.
    pub fn end_million(&mut self) {
        let Some(r) = self.million.take() else { return };
        let sent = r.sim.world.counts().sent;
        let wall_s = self.progress.map_or(0.0, |p| (now_ms() - p.started_ms) / 1e3);
        let finished = sent >= MILLION && r.sim.world.quiescent();
        let wall = Fixed(wall_s, 2);
        let what = if finished { format!("Ran {sent} transactions of this setup in {wall} s") } else { format!("Stopped after {sent} transactions ({wall} s)") };
        self.notice(format!("{what}: the stage, charts, measures and report show that run. Reset to play live again."));
        self.stats = Stats::of(&r);
        draw_charts(&r, None, &self.charts);
        self.runner = Some(r);
        self.progress = None;
        let _ = self.stage.set_attribute("data-million-ms", &Fixed(wall_s * 1e3, 0).to_string());
        let _ = self.stage.set_attribute("data-million-max-frame-ms", &Fixed(MILLION_MAX_FRAME.get(), 1).to_string());
    }
}

fn progress_line(p: &Progress) -> String {
    let left = p.eta_s().map_or(String::new(), |s| format!(" · about {} s left", Fixed(s, 1)));
    format!("{} of {} transactions{left} · the stage draws 1 request in {}", p.done, p.total, p.sample_every)
}

/// "Run 1M" under way: how far, how long still, and that the stage shows a sample.
pub fn progress(p: &Progress) -> String {
    let line = progress_line(p);
    format!(
        "<div class=\"million\" role=\"status\" aria-label=\"Run 1M\"><progress max=\"{MILLION}\" value=\"{}\"></progress><span data-testid=\"million\">{}</span><button data-act=\"cancel-million\">Cancel</button></div>",
        p.done,
        esc(&line)
    )
}

thread_local! {
    static MILLION_MAX_FRAME: Cell<f64> = const { Cell::new(0.0) };
}

/// One frame of "Run 1M": a slice of the run that fits the frame, the stage drawn from
/// a sample of it, the panels a little less often.
pub(crate) fn frame(ui: &mut Ui, t: f64) {
    let Some(p) = ui.progress else { return };
    if p.done == 0 {
        MILLION_MAX_FRAME.set(0.0);
    }
    let Some(mut r) = ui.million.take() else { return };
    let mut budget = MILLION_FRAME_MS;
    let panels = stats_due(t, 500.0);
    if panels {
        ui.stats = Stats::of(&r);
        draw_charts(&r, None, &ui.charts);
        budget = MILLION_FRAME_MS / 4.0;
    }
    let over = r.run_for((budget - (now_ms() - t)).max(2.0), &now_ms);
    let pace = (r.now() as f64 / 1e6) / ((t - p.started_ms).max(1.0) / 1e3);
    r.prune(pace.max(1.0));
    ui.layout = draw_stage(&ui.stage, &r, pace.max(1.0), None);
    ui.progress = Some(Progress { done: r.sim.world.counts().sent, now_ms: t, sample_every: r.sample_every, ..p });
    ui.million = Some(r);
    MILLION_MAX_FRAME.set(MILLION_MAX_FRAME.get().max(now_ms() - t));
    if over {
        ui.end_million();
    }
    if panels || over {
        ui.render();
    } else {
        // The progress line moves every frame; the rest of the panels twice a second.
        show_progress(ui);
    }
}

/// The progress box: its bar and line updated in place (a button rebuilt every frame
/// could miss a click), built when it appears, gone when the run ends.
pub(crate) fn show_progress(ui: &Ui) {
    let region = &ui.r.million;
    let Some(p) = ui.progress else { return region.set(String::new()) };
    match (region.el.query_selector("progress").ok().flatten(), region.el.query_selector("[data-testid=million]").ok().flatten()) {
        (Some(bar), Some(line)) => {
            let _ = bar.set_attribute("value", &p.done.to_string());
            line.set_text_content(Some(&progress_line(&p)));
        }
        _ => region.set(progress(&p)),
    }
}

//! "Run 1M": a million transactions of the current setup, run in the tab a frame-sized
//! slice at a time, with its progress; at the end the finished run takes the live run's
//! place on the page.

use crate::page::{Shared, Stages, Stats, draw_charts, draw_stage, now_ms};
use crate::runner::Runner;
use leptos::html::Canvas;
use leptos::prelude::*;
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

impl Shared {
    /// Starts "Run 1M": the current setup (knobs, seed, schedule), to a million
    /// transactions, a frame-sized slice at a time; the live run pauses meanwhile.
    pub fn start_million(&self) {
        let s = self.scenario.get_untracked();
        match Runner::finite(&s, MILLION) {
            Ok(r) => {
                self.million.set_value(Some(r));
                self.playing.set(false);
                let t = now_ms();
                self.progress.set(Some(Progress { done: 0, total: MILLION, started_ms: t, now_ms: t, sample_every: 1 }));
            }
            Err(e) => self.notices.update(|v| v.push(e.0)),
        }
    }

    /// Ends "Run 1M", finished or cancelled: what it computed becomes the run on show
    /// (charts, measures, report), until the next change or Reset.
    pub fn end_million(&self) {
        let Some(r) = self.million.try_update_value(Option::take).flatten() else { return };
        let sent = r.sim.world.counts().sent;
        let wall_s = self.progress.get_untracked().map_or(0.0, |p| (now_ms() - p.started_ms) / 1e3);
        let finished = sent >= MILLION && r.sim.world.quiescent();
        let what = if finished { format!("Ran {sent} transactions of this setup in {wall_s:.2} s") } else { format!("Stopped after {sent} transactions ({wall_s:.2} s)") };
        self.notices.update(|v| v.push(format!("{what}: the stage, charts, measures and report show that run. Reset to play live again.")));
        self.stats.set(Stats::of(&r));
        self.runner.set_value(Some(r));
        self.progress.set(None);
        if let Some(canvas) = document().query_selector("canvas.stage").ok().flatten() {
            let _ = canvas.set_attribute("data-million-ms", &format!("{:.0}", wall_s * 1e3));
            let _ = canvas.set_attribute("data-million-max-frame-ms", &format!("{:.1}", MILLION_MAX_FRAME.get()));
        }
    }
}

thread_local! {
    /// Our longest frame (ms) during the last "Run 1M".
    static MILLION_MAX_FRAME: Cell<f64> = const { Cell::new(0.0) };
}

/// A frame of "Run 1M": a slice of the run within the frame's budget, its stage (sampled
/// dots), its progress; at the end, the run takes the live run's place.
pub(crate) fn frame(sh: &Shared, stage: Stages, charts: &[NodeRef<Canvas>], t: f64, last_stats: &Cell<f64>) {
    let Some(p) = sh.progress.get_untracked() else { return };
    if p.done == 0 {
        MILLION_MAX_FRAME.set(0.0);
    }
    let mut over = false;
    sh.million.update_value(|slot| {
        let Some(r) = slot.as_mut() else { return };
        // The numbers and charts follow the million as it runs, twice a second; the page
        // redraws its panels after this frame, so that frame simulates less.
        let mut budget = MILLION_FRAME_MS;
        if t - last_stats.get() > 500.0 {
            last_stats.set(t);
            sh.stats.set(Stats::of(r));
            draw_charts(r, None, charts);
            budget = MILLION_FRAME_MS / 4.0;
        }
        over = r.run_for((budget - (now_ms() - t)).max(2.0), &now_ms);
        // Virtual time flies: a dot stays on screen for the frame it appeared in.
        let pace = (r.now() as f64 / 1e6) / ((t - p.started_ms).max(1.0) / 1e3);
        r.prune(pace.max(1.0));
        if let Some(canvas) = stage[0].get_untracked() {
            sh.layout.set_value(draw_stage(&canvas, r, pace.max(1.0), None));
        }
        sh.progress.set(Some(Progress { done: r.sim.world.counts().sent, now_ms: t, sample_every: r.sample_every, ..p }));
    });
    MILLION_MAX_FRAME.set(MILLION_MAX_FRAME.get().max(now_ms() - t));
    if over {
        sh.end_million();
        sh.runner.with_value(|r| {
            if let Some(r) = r {
                draw_charts(r, None, charts);
            }
        });
    }
}

//! The playable page of one scene: its state, the frame loop, the stage and the charts,
//! and what the reader's clicks and keys do. All a reader can set lives in one
//! `Scenario`, mirrored into the URL; the panels are redrawn from the state (`views`).

use crate::checkpoints::Checkpoints;
use crate::dom::{self, Region, append, el, el_html, listen};
use crate::million::Progress;
use crate::runner::Runner;
use crate::stage::Layout;
use crate::views;
pub use crate::stats::Stats;
use clusterlab_sim::fault::{Fault, ScheduledFault};
use clusterlab_sim::scenario::{SPEED_MAX, SPEED_MIN, Scenario};
use std::cell::RefCell;
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, HtmlCanvasElement};

/// The parts of the page redrawn from the state.
pub struct Regions {
    pub notices: Region,
    pub play: Element,
    pub speed_out: Element,
    pub million_button: Element,
    pub clip: Element,
    pub million: Region,
    pub open_full: Option<Element>,
    pub label_a: Element,
    pub label_b: Element,
    pub menu: Region,
    pub compare: Region,
    pub side: Region,
    pub stats: Region,
    pub strip: Region,
    pub detail: Region,
    pub knob_errors: Vec<Element>,
    pub compare_error: Region,
    pub stop_compare: Element,
    pub invariants: Region,
    pub log_nodes: Region,
    pub log: Region,
    pub log_note: Region,
    pub announce: Region,
    pub goals: Vec<(Element, &'static clusterlab_sim::narrative::Goal, bool)>,
    pub shortcuts: Region,
    /// The timeline: its slider, the instant it reads, the schedule and violations on it.
    pub scrub: Element,
    pub playhead: Element,
    pub marks: Region,
    pub diagram: Region,
    pub legend: Region,
}

/// The page's state: the scenario, the runs that play it, and what the panels show.
pub struct Ui {
    pub scenario: Scenario,
    pub playing: bool,
    pub stats: Stats,
    pub stats_b: Option<Stats>,
    pub notices: Vec<String>,
    pub hover: Option<usize>,
    pub menu: Option<usize>,
    pub runner: Option<Runner>,
    pub layout: Option<Layout>,
    /// The compare view's other side: same seed, same traffic, same faults, one knob changed.
    pub runner_b: Option<Runner>,
    /// "Run 1M": the finite run under way, and its progress for the panel.
    pub million: Option<Runner>,
    pub progress: Option<Progress>,
    pub knob_errors: Vec<Option<String>>,
    pub compare_error: Option<String>,
    pub log_node: String,
    pub log_kind: String,
    pub shortcuts: bool,
    pub recording: bool,
    /// A jump on the timeline under way: the instant it goes to, and when it was asked for (ms).
    pub seek: Option<(u64, f64)>,
    /// The latest instant this run has been played or jumped to, and the instants of the
    /// violations found on the way (the timeline shows them after a jump back).
    pub reached: u64,
    pub found: Vec<u64>,
    /// Runs parked along the timeline, of each side, for jumps back.
    pub parked: [Checkpoints; 2],
    /// The space-time diagram: shown or not, its window (µs), the request it highlights.
    pub diagram_open: bool,
    pub diagram_window: u64,
    pub highlight: Option<u64>,
    /// The scenario changed since its values were last put into the form controls.
    scenario_shown: bool,
    pub(crate) focus_menu: bool,
    pub stage: HtmlCanvasElement,
    pub stage_b: Option<HtmlCanvasElement>,
    stage_pair: Element,
    pub charts: Vec<HtmlCanvasElement>,
    pub root: Element,
    pub r: Regions,
}

thread_local! {
    static UI: RefCell<Option<Ui>> = const { RefCell::new(None) };
}

/// Acts on the page's state, unless it is already being acted on (an event the browser
/// fires while the page redraws waits for the next one).
pub(crate) fn with_ui<R>(f: impl FnOnce(&mut Ui) -> R) -> Option<R> {
    UI.with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        slot.as_mut().map(f)
    })
}

/// Whether two scenarios are the same run (speed and embedding change how it is shown, not what happens).
fn same_run(a: &Scenario, b: &Scenario) -> bool {
    a.scene.info().id == b.scene.info().id && a.params == b.params && a.seed == b.seed && a.faults == b.faults
}

impl Ui {
    pub fn notice(&mut self, text: String) {
        self.notices.push(text);
    }

    /// Starts the run (and its comparison, if any) over from virtual time 0.
    pub fn rebuild(&mut self) {
        let mut build = |s: &Scenario| match Runner::new(s) {
            Ok(mut r) => {
                self.notices.extend(r.take_notices());
                Some(r)
            }
            Err(e) => {
                self.notices.push(e.0);
                None
            }
        };
        let (a, b) = (build(&self.scenario.clone()), self.scenario.compared().as_ref().and_then(&mut build));
        self.runner = a;
        self.runner_b = b;
        self.stats_b = None;
    }

    /// Adds a schedule entry (a fault from a click, a knob moved while playing) at the
    /// current virtual time, to both sides of a comparison and to the URL.
    pub fn schedule(&mut self, fault: Fault) -> Result<ScheduledFault, String> {
        let r = self.runner.as_mut().ok_or("the run has not started")?;
        let f = ScheduledFault { at_us: r.now(), fault };
        r.add_fault(f.clone()).map_err(|e| e.0)?;
        // The compared run gets the same entry at the same instant.
        if let Some(b) = self.runner_b.as_mut() {
            let _ = b.add_fault(f.clone());
        }
        self.parked.iter_mut().for_each(|p| p.schedule(&f));
        let mut next = self.scenario.clone();
        next.faults.push(f.clone());
        self.set_scenario(next);
        Ok(f)
    }

    /// Schedules `fault`, or says why not.
    pub fn act(&mut self, fault: Fault) {
        if let Err(e) = self.schedule(fault) {
            self.notice(e);
        }
    }

    pub fn now_us(&self) -> u64 {
        self.runner.as_ref().map_or(0, Runner::now)
    }

    /// Whether the runners still match the scenario (speed and embedding aside).
    fn up_to_date(&self) -> bool {
        let s = &self.scenario;
        let a = self.runner.as_ref().is_some_and(|r| same_run(&r.scenario, s));
        let b = match (&self.runner_b, s.compared()) {
            (None, None) => true,
            (Some(r), Some(other)) => same_run(&r.scenario, &other),
            _ => false,
        };
        a && b
    }

    /// The scenario becomes `next`: the run starts again if what it plays changed, and
    /// the URL holds it.
    pub fn set_scenario(&mut self, next: Scenario) {
        self.scenario = next;
        if !self.up_to_date() {
            self.rebuild();
            self.reached = 0;
            self.found.clear();
            self.parked.iter_mut().for_each(Checkpoints::clear);
            self.seek = None;
            self.scenario.at = None;
        }
        write_url(&self.scenario);
        self.scenario_shown = false;
    }

    /// Pauses and jumps to virtual time `t`: on from where the run is, or, to go back,
    /// the run replayed from its seed (it is deterministic, so this is the same run).
    /// The frame loop gets there.
    pub fn seek(&mut self, t: u64) {
        self.go_to(t, false);
    }

    /// `seek`, replaying the shown stretch before `t` even if the run is there already
    /// (`again`: the space-time diagram's window grew).
    pub(crate) fn go_to(&mut self, t: u64, again: bool) {
        self.playing = false;
        let t = t.min(clusterlab_sim::scenario::AT_MAX);
        let latest = t.saturating_sub(self.tail_us());
        let [a, b] = &mut self.parked;
        restart_for(&mut self.runner, a, Some(&self.scenario), t, latest, again);
        restart_for(&mut self.runner_b, b, self.scenario.compared().as_ref(), t, latest, again);
        self.seek = Some((t, now_ms()));
    }

    /// How much before the instant shown a jump replays with the messages kept: what the
    /// stage shows at this speed, or the space-time diagram's window if longer.
    pub fn tail_us(&self) -> u64 {
        Runner::visible_us(self.scenario.speed).max(if self.diagram_open { self.diagram_window } else { 0 })
    }

    /// Pauses, then advances both runs a quarter of a virtual second.
    pub fn step(&mut self) {
        self.playing = false;
        for r in [self.runner.as_mut(), self.runner_b.as_mut()].into_iter().flatten() {
            r.advance(250_000, 200.0, &|| 0.0);
        }
    }

    pub fn set_speed(&mut self, speed: f64) {
        let mut next = self.scenario.clone();
        next.speed = speed.clamp(SPEED_MIN, SPEED_MAX);
        self.set_scenario(next);
    }

    /// Sets up a "try this" step: its preset (or the defaults) and its comparison.
    pub(crate) fn try_step(&mut self, i: usize) {
        let Some(step) = self.scenario.scene.info().narrative.try_this.get(i) else { return };
        let next = match step.preset {
            Some(p) => self.scenario.with_preset(p),
            None => Some(self.scenario.with_defaults()),
        };
        if let Some(mut next) = next {
            next.compare = None;
            if let Some(c) = step.compare {
                next.set_compare(c).expect("narrative comparisons are valid");
            }
            self.set_scenario(next);
            self.playing = true;
        }
    }

    /// A knob set from its control: a live knob moved while the run plays joins the
    /// schedule at the current instant; any other change (or any change at time 0)
    /// starts the run again with it, and says so.
    pub(crate) fn set_knob(&mut self, i: usize, text: String) {
        let spec = &self.scenario.scene.info().knobs[i];
        let result = match spec.parse(&text) {
            Err(e) => Err(e.0),
            Ok(_) if spec.live && self.now_us() > 0 => self.schedule(Fault::Set(spec.name.to_string(), text.trim().to_string())).map(|_| ()),
            Ok(_) => {
                let mut next = self.scenario.clone();
                let restarted = self.now_us() > 0;
                next.params.set(spec.name, &text).and_then(|()| next.scene.check(&next.params)).map_err(|e| e.0).map(|()| {
                    self.set_scenario(next);
                    if restarted {
                        self.notice(format!("{} cannot change while a run plays: the run started again from 0 s with the new value", spec.name));
                    }
                })
            }
        };
        self.knob_errors[i] = result.err();
    }

    pub(crate) fn compare(&mut self) {
        let knob = self.root.query_selector("[data-ctl=compare-knob]").ok().flatten().map(|e| dom_value(&e)).unwrap_or_default();
        let value = self.root.query_selector("[data-ctl=compare-value]").ok().flatten().map(|e| dom_value(&e)).unwrap_or_default();
        let mut next = self.scenario.clone();
        match next.set_compare(&format!("{knob}:{}", value.trim())) {
            Ok(()) => {
                self.compare_error = None;
                self.set_scenario(next);
            }
            Err(e) => self.compare_error = Some(e.0),
        }
    }

    /// Redraws every panel whose content changed, and puts a changed scenario into the
    /// form controls.
    pub fn render(&mut self) {
        // A paused run's instant is in the URL, so that a link opens it there.
        let at = (!self.playing && self.seek.is_none() && self.now_us() > 0).then(|| self.now_us());
        if at != self.scenario.at && self.progress.is_none() {
            self.scenario.at = at;
            write_url(&self.scenario);
        }
        views::render(self);
        if !self.scenario_shown {
            self.scenario_shown = true;
            views::show_scenario(self);
            self.show_stage_b();
        }
        if std::mem::take(&mut self.focus_menu)
            && let Some(b) = self.root.query_selector(".node-menu button").ok().flatten()
        {
            dom::focus(&b);
        }
    }

    /// The compared run's canvas is on the page only while comparing.
    fn show_stage_b(&mut self) {
        let comparing = self.scenario.compare.is_some();
        let _ = self.stage_pair.class_list().toggle_with_force("comparing", comparing);
        match (comparing, self.stage_b.is_some()) {
            (true, false) => {
                let wrap = el("div", &[("class", "stage-wrap stage-b")]);
                append(&wrap, &self.r.label_b);
                let canvas = el("canvas", &[("class", "stage"), ("role", "img"), ("aria-label", "The compared run: same seed, same traffic, one knob changed")]);
                append(&wrap, &canvas);
                append(&self.stage_pair, &wrap);
                self.stage_b = canvas.dyn_into().ok();
            }
            (false, true) => {
                if let Some(w) = self.stage_pair.query_selector(".stage-b").ok().flatten() {
                    w.remove();
                }
                self.stage_b = None;
            }
            _ => {}
        }
    }
}

/// One side of the page, on its way to `t`: going on, from where it is or a run parked
/// nearer; going back (or `again`), from the run parked latest by `latest` (so that what
/// is shown before `t` is replayed), or else from 0 s.
fn restart_for(slot: &mut Option<Runner>, parked: &mut Checkpoints, scenario: Option<&Scenario>, t: u64, latest: u64, again: bool) {
    let Some(scenario) = scenario else { return };
    let now = slot.as_ref().map_or(0, Runner::now);
    let on = t >= now && !again;
    if let Some(r) = parked.take(latest, if on { now } else { 0 }) {
        *slot = Some(r);
    } else if !on {
        *slot = Runner::new(scenario).ok();
    }
}

fn dom_value(e: &Element) -> String {
    if let Some(i) = e.dyn_ref::<web_sys::HtmlInputElement>() {
        return i.value();
    }
    e.dyn_ref::<web_sys::HtmlSelectElement>().map(|s| s.value()).unwrap_or_default()
}

pub(crate) fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}

/// The URL query that holds everything of scenario `s`.
pub(crate) fn query(s: &Scenario) -> String {
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

/// Builds the page of `initial` inside `parent` and starts playing it.
pub fn mount_page(parent: &Element, initial: Scenario, notices: Vec<String>) {
    crate::theme::detect();
    let info = initial.scene.info();
    let embed = initial.embed;
    let root = el("div", &[("class", if embed { "page embedded" } else { "page" })]);
    append(parent, &root);
    let notices_region = Region::new(&root);
    let shortcuts = Region::new(&root);
    let main = el("div", &[("class", "main-col")]);
    append(&root, &main);
    let title = el("div", &[("class", "title-row")]);
    append(&main, &title);
    append(&title, &el_html("h1", &[], &dom::esc(info.title)));
    let controls = el_html("div", &[("class", "controls"), ("role", "toolbar"), ("aria-label", "Simulation controls")], &views::controls(&initial));
    append(&title, &controls);
    let q = |sel: &str| controls.query_selector(sel).ok().flatten().expect("the controls' markup has it");
    let (play, speed_out, million_button, clip) = (q("[data-act=play]"), q("output"), q("[data-act=million]"), q("[data-act=clip]"));
    let open_full = embed.then(|| {
        let a = el_html("a", &[("class", "open-full"), ("target", "_blank"), ("rel", "noopener")], "Open in clusterlab ↗");
        append(&title, &a);
        a
    });
    let million = Region::new(&main);
    let stage_pair = el("div", &[("class", "stage-pair")]);
    append(&main, &stage_pair);
    let wrap = el("div", &[("class", "stage-wrap")]);
    append(&stage_pair, &wrap);
    let label_a = el("div", &[("class", "stage-label")]);
    let label_b = el("div", &[("class", "stage-label")]);
    append(&wrap, &label_a);
    let stage = el("canvas", &[("class", "stage"), ("role", "img"), ("aria-label", "The virtual cluster: nodes and the requests flying between them")]);
    append(&wrap, &stage);
    let menu = Region::new(&wrap);
    let timeline = el_html("div", &[("class", "timeline"), ("role", "group"), ("aria-label", "Timeline")], views::TIMELINE);
    append(&main, &timeline);
    let tq = |sel: &str| timeline.query_selector(sel).ok().flatten().expect("the timeline's markup has it");
    let (scrub, playhead, marks) = (tq("input"), tq("output"), Region::inside(tq(".marks")));
    let compare = Region::new(&main);
    let side = Region::new(&main);
    let legend = Region::inside(el("ul", &[("class", "legend"), ("aria-label", "Legend")]));
    append(&main, &legend.el);
    let stats = el("div", &[("class", "stats"), ("aria-live", "off")]);
    append(&main, &stats);
    let strip = Region::inside(el("div", &[("class", "node-strip"), ("role", "group"), ("aria-label", "Nodes: choose one to kill, revive, slow or hang it")]));
    append(&main, &strip.el);
    let detail = Region::inside(el("div", &[("class", "node-detail"), ("role", "status")]));
    append(&main, &detail.el);
    let charts_div = el("div", &[("class", "charts")]);
    append(&main, &charts_div);
    let diagram_panel = el_html("details", &[("class", "diagram-panel")], views::DIAGRAM);
    append(&main, &diagram_panel);
    let diagram = Region::inside(diagram_panel.query_selector(".diagram").ok().flatten().expect("in the markup"));
    // Opened or closed: drawn only while open.
    listen(&diagram_panel, "toggle", |ev: Event| {
        let open = ev.target().and_then(|t| t.dyn_into::<Element>().ok()).is_some_and(|d| d.has_attribute("open"));
        with_ui(|ui| {
            ui.diagram_open = open;
            // Paused, the run replays the window so that the diagram has its messages.
            if open && !ui.playing && ui.now_us() > 0 {
                ui.go_to(ui.now_us(), true);
            }
            ui.render();
        });
    });
    let charts: Vec<HtmlCanvasElement> = info
        .view
        .charts
        .iter()
        .filter_map(|c| {
            let canvas = el("canvas", &[("class", "chart"), ("role", "img"), ("aria-label", &format!("{} over time", c.title))]);
            append(&charts_div, &canvas);
            canvas.dyn_into().ok()
        })
        .collect();

    let side_col = el("aside", &[("class", "side-col")]);
    append(&root, &side_col);
    let knobs = el_html("section", &[("class", "panel knobs"), ("aria-label", "Knobs")], &views::knob_panel(&initial));
    append(&side_col, &knobs);
    let knob_errors = info.knobs.iter().filter_map(|k| knobs.query_selector(&format!("#knob-{}-error", k.name)).ok().flatten()).collect();
    let compare_panel = el_html("section", &[("class", "panel compare-panel"), ("aria-label", "Compare")], &views::compare_panel(&initial));
    append(&side_col, &compare_panel);
    let stop_compare = compare_panel.query_selector("[data-act=stop-compare]").ok().flatten().expect("in the markup");
    let compare_error = Region::new(&compare_panel);
    let invariants = Region::inside(el("section", &[("class", "panel invariants"), ("aria-label", "Invariants")]));
    append(&side_col, &invariants.el);
    let log_panel = el_html("section", &[("class", "panel event-log"), ("aria-label", "Event log")], &views::event_log_panel());
    append(&side_col, &log_panel);
    let lq = |sel: &str| Region::inside(log_panel.query_selector(sel).ok().flatten().expect("in the markup"));
    let (log_nodes, log, log_note, announce) = (lq("[data-ctl=log-node]"), lq("ol.log"), lq(".stat-note"), lq("[data-testid=announce]"));
    let mut goals = Vec::new();
    if !embed {
        let story = el_html("section", &[("class", "panel narrative"), ("aria-label", "About this pattern")], &views::narrative(info.narrative));
        append(&side_col, &story);
        let spans = story.query_selector_all(".goal-state").ok();
        // In the order the markup has them: step by step.
        let n = info.narrative;
        let lines = n.try_this.iter().enumerate().flat_map(|(i, step)| n.goals.iter().filter(move |g| g.step == i).map(move |g| (g, step.compare.is_some())));
        for (i, (goal, compared)) in lines.enumerate() {
            if let Some(span) = spans.as_ref().and_then(|s| s.get(i as u32)).and_then(|n| n.dyn_into::<Element>().ok()) {
                goals.push((span, goal, compared));
            }
        }
    }
    let regions = Regions {
        notices: notices_region,
        play,
        speed_out,
        million_button,
        clip,
        million,
        open_full,
        label_a,
        label_b,
        menu,
        compare,
        side,
        stats: Region::inside(stats),
        strip,
        detail,
        knob_errors,
        compare_error,
        stop_compare,
        invariants,
        log_nodes,
        log,
        log_note,
        announce,
        goals,
        shortcuts,
        scrub,
        playhead,
        marks,
        diagram,
        legend,
    };
    let knobs_count = info.knobs.len();
    let ui = Ui {
        scenario: initial,
        playing: true,
        stats: Stats::default(),
        stats_b: None,
        notices,
        hover: None,
        menu: None,
        runner: None,
        layout: None,
        runner_b: None,
        million: None,
        progress: None,
        knob_errors: vec![None; knobs_count],
        compare_error: None,
        log_node: String::new(),
        log_kind: String::new(),
        shortcuts: false,
        recording: false,
        seek: None,
        reached: 0,
        found: Vec::new(),
        parked: Default::default(),
        diagram_open: false,
        diagram_window: 100_000,
        highlight: None,
        scenario_shown: false,
        focus_menu: false,
        stage: stage.clone().dyn_into().expect("a canvas"),
        stage_b: None,
        stage_pair,
        charts,
        root: root.clone(),
        r: regions,
    };
    UI.with(|cell| *cell.borrow_mut() = Some(ui));
    with_ui(|ui| {
        ui.rebuild();
        // A link to an instant opens the run paused there.
        if let Some(t) = ui.scenario.at {
            ui.seek(t);
        }
        write_url(&ui.scenario);
        ui.render();
    });
    crate::listen::wire(&root, &stage);
    crate::frame::start_loop();
}

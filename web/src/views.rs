//! What the page's panels show, as markup built from the state: the controls, the knob
//! panel generated from the scene's knob specs, the node menu (faults by direct
//! manipulation), the measures and compare tables, live invariants, the event log, the
//! story with its goals. Controls carry `data-act` (clicked) or `data-ctl` (changed),
//! which `page` dispatches on.

use clusterlab_sim::num::{Fixed, Short};
use crate::dom::{esc, set_value};
use crate::page::{Stats, Ui, query};
use clusterlab_sim::knob::{KnobKind, KnobSpec};
use clusterlab_sim::narrative::{GoalState, Narrative};
use clusterlab_sim::scenario::{SPEED_MAX, SPEED_MIN, Scenario};
use std::fmt::Write as _;

/// A button that does `act`.
fn button(act: &str, label: &str, extra: &str) -> String {
    format!("<button data-act=\"{act}\"{extra}>{}</button>", esc(label))
}

pub fn controls(s: &Scenario) -> String {
    let info = s.scene.info();
    let mut h = String::new();
    h += &button("play", "Pause", " aria-pressed=\"true\"");
    h += &button("step", "Step", " title=\"Advance a quarter of a virtual second\"");
    h += &button("reset", "Reset", " title=\"Start the run again from time 0\"");
    let _ = write!(
        h,
        "<label class=\"speed\">Speed <input type=\"range\" data-ctl=\"speed\" min=\"{}\" max=\"{}\" step=\"0.05\" aria-label=\"Speed of virtual time\"><output></output></label>",
        Short(SPEED_MIN.log10()),
        Short(SPEED_MAX.log10())
    );
    h += "<label>Seed <input type=\"number\" min=\"0\" class=\"seed\" data-ctl=\"seed\"></label>";
    h += "<select aria-label=\"Presets\" data-ctl=\"preset\"><option value=\"\">Presets…</option>";
    for p in info.presets {
        let _ = write!(h, "<option value=\"{}\">{}</option>", esc(p.name), esc(p.title));
    }
    h += "</select><span class=\"export\" role=\"group\" aria-label=\"Download\">";
    h += &button("report", "Report", " title=\"The report of the run so far (JSON)\"");
    h += &button("csv", "CSV", " title=\"The charts' data: one column per series, virtual time first (CSV)\"");
    h += &button("png", "PNG", " title=\"The stage as a picture (PNG)\"");
    h += &button("clip", "Clip", " title=\"Five seconds of the stage as a video (WebM)\"");
    h += "</span>";
    h += &button("million", "Run 1M", " title=\"Run a million transactions of this setup (knobs, seed, schedule) as fast as the tab can, then show that run\"");
    // A button for each of the scene's actions that take no argument (add a shard, flush
    // the cache); a click schedules it at the current virtual time, like a fault.
    for a in info.actions.iter().filter(|a| a.arg.is_none()) {
        let _ = write!(h, "<button class=\"action\" data-act=\"action\" data-name=\"{}\" title=\"{}\">{}</button>", esc(a.name), esc(a.help), esc(a.name));
    }
    h
}

/// The timeline under the stage: a slider over virtual time, with the schedule's entries
/// and the violations found marked on it (each mark a button that jumps there).
pub const TIMELINE: &str = "<div class=\"track\"><input type=\"range\" data-ctl=\"seek\" min=\"0\" max=\"60\" step=\"0.01\" value=\"0\" aria-label=\"Virtual time (seconds): drag to go back and forth\"><div class=\"marks\"></div></div><output class=\"playhead\" data-testid=\"playhead\"></output>";

/// Most violations marked on the timeline.
pub const MARKS_KEPT: usize = 20;

/// The timeline's length (µs): a minute, or more in half minutes to hold the run so
/// far, its schedule and a jump under way.
pub fn extent_us(ui: &Ui) -> u64 {
    let last = ui.scenario.faults.iter().map(|f| f.at_us).chain([ui.reached, ui.seek.map_or(0, |s| s.0), ui.now_us()]).max().unwrap_or(0);
    (last / 30_000_000 + 1).max(2) * 30_000_000
}

/// Puts the playhead where the run is (while no jump is under way).
pub fn show_playhead(ui: &Ui) {
    let (now, extent) = (ui.now_us(), extent_us(ui));
    let max = (extent / 1_000_000).to_string();
    if ui.r.scrub.get_attribute("max").as_deref() != Some(&max) {
        let _ = ui.r.scrub.set_attribute("max", &max);
    }
    if ui.seek.is_none() {
        set_value(&ui.r.scrub, &Fixed(now as f64 / 1e6, 2).to_string());
    }
    // "Run 1M" is a run of its own: the timeline waits for it.
    let _ = ui.r.scrub.toggle_attribute_with_force("disabled", ui.progress.is_some());
    let text = format!("{} s", Fixed(now as f64 / 1e6, 2));
    if ui.r.playhead.text_content().as_deref() != Some(&text) {
        ui.r.playhead.set_text_content(Some(&text));
    }
}

/// The marks on the timeline: each scheduled entry (fault, knob, action) and the first
/// violations found.
fn marks(ui: &Ui) -> String {
    let extent = extent_us(ui) as f64;
    let mark = |class: &str, t: u64, what: &str| format!("<button class=\"mark {class}\" style=\"left:{}%\" data-act=\"seek\" data-t=\"{t}\" title=\"{1}\" aria-label=\"Go to {1}\"></button>", Fixed(t as f64 / extent * 100.0, 2), esc(what));
    let faults = ui.scenario.faults.iter().map(|f| mark("fault", f.at_us, &f.to_string()));
    let found = ui.found.iter().map(|&t| mark("violation", t, &format!("{}s invariant violated", Fixed(t as f64 / 1e6, 3))));
    faults.chain(found).collect()
}

/// The space-time diagram's panel: closed until asked for, as drawing it costs a little.
pub const DIAGRAM: &str = "<summary>Space-time diagram</summary><div class=\"diagram-bar\"><label>Window up to the timeline's instant <select data-ctl=\"diagram-window\"><option value=\"10000\">10 ms</option><option value=\"100000\" selected>100 ms</option><option value=\"1000000\">1 s</option><option value=\"10000000\">10 s</option></select></label><button data-act=\"svg\" title=\"This diagram as a picture (SVG)\">SVG</button><span class=\"help\">Click a message to follow its request across the nodes.</span></div><div class=\"diagram\" data-testid=\"diagram\" tabindex=\"0\" role=\"region\" aria-label=\"Space-time diagram: one line per node, time running down\"></div>";

/// The space-time diagram of the window ending at the run's instant, from the messages
/// the stage sampled, highlighting the chosen request.
pub fn diagram_svg(ui: &Ui) -> Option<String> {
    let r = ui.runner.as_ref()?;
    let now = r.now();
    let mut from = now.saturating_sub(ui.diagram_window);
    // Past its bound the runner let the oldest go: the window starts where it kept them.
    if r.recent.len() == crate::runner::RECENT_KEPT {
        from = from.max(r.recent.front().map_or(0, |a| a.t0));
    }
    let mut d = clusterlab_sim::diagram::Diagram::new(from, now, 400);
    d.presampled = r.sample_every;
    d.highlight = ui.highlight;
    r.recent.iter().for_each(|&a| d.add(a));
    let names: Vec<&str> = r.sim.world.nodes().iter().map(|n| n.name.as_str()).collect();
    Some(d.svg(r.sim.scene.info().title, &names))
}

pub fn legend() -> String {
    crate::frame::legend_items().map(|(colour, label)| format!("<li><span class=\"swatch\" style=\"background:{}\"></span>{}</li>", crate::theme::ink(colour), esc(label))).collect()
}

pub fn knob_panel(s: &Scenario) -> String {
    let mut h = String::from("<h2>Knobs</h2><p class=\"help\">Knobs change the run as it plays, and the change joins its schedule; those marked ↺ start it again from 0 s.</p>");
    for spec in &s.scene.info().knobs {
        h += &knob(spec);
    }
    h
}

fn knob(spec: &KnobSpec) -> String {
    let (name, id) = (spec.name, format!("knob-{}", spec.name));
    let ctl = format!("data-ctl=\"knob:{name}\"");
    let control = match &spec.kind {
        KnobKind::Choice(choices) => {
            let options: String = choices.iter().map(|c| format!("<option value=\"{c}\">{c}</option>")).collect();
            format!("<select id=\"{id}\" {ctl}>{options}</select>")
        }
        KnobKind::Bool => format!("<input type=\"checkbox\" id=\"{id}\" {ctl}>"),
        KnobKind::Int { min, max } if max - min <= 256 => {
            format!("<span class=\"pair\"><input type=\"range\" min=\"{min}\" max=\"{max}\" step=\"1\" {ctl} aria-label=\"{name}\"><input type=\"number\" id=\"{id}\" min=\"{min}\" max=\"{max}\" {ctl}></span>")
        }
        KnobKind::Float { min, max } if *min >= 0.0 && *max <= 1.0 => {
            format!("<span class=\"pair\"><input type=\"range\" min=\"{min}\" max=\"{max}\" step=\"0.01\" {ctl} aria-label=\"{name}\"><input type=\"number\" id=\"{id}\" min=\"{min}\" max=\"{max}\" step=\"0.01\" {ctl}></span>", min = Short(*min), max = Short(*max))
        }
        KnobKind::Int { .. } | KnobKind::Float { .. } => format!("<input type=\"number\" id=\"{id}\" step=\"any\" {ctl}>"),
        _ => format!("<input type=\"text\" id=\"{id}\" spellcheck=\"false\" {ctl}>"),
    };
    let unit = if spec.unit.is_empty() { String::new() } else { format!(" ({})", spec.unit) };
    let restarts = if spec.live { "" } else { " ↺" };
    format!(
        "<div class=\"knob\"><label for=\"{id}\" title=\"{help}\">{name}{unit}{restarts}</label>{control}<div class=\"help\">{help} Allowed: {allowed}.</div><div id=\"{id}-error\"></div></div>",
        help = esc(spec.help),
        unit = esc(&unit),
        allowed = esc(&spec.allowed()),
    )
}

pub fn compare_panel(s: &Scenario) -> String {
    let options: String = s.params.specs().iter().map(|k| format!("<option value=\"{0}\">{0}</option>", k.name)).collect();
    format!(
        "<h2>Compare</h2><p class=\"help\">Run the same seeded traffic again with one knob changed, side by side.</p>\
         <div class=\"pair\"><select aria-label=\"Knob to change\" data-ctl=\"compare-knob\">{options}</select>\
         <input type=\"text\" aria-label=\"Value for the compared run\" placeholder=\"value\" data-ctl=\"compare-value\"></div>\
         <div class=\"pair\">{}{}</div>",
        button("compare", "Compare", ""),
        button("stop-compare", "Stop comparing", " class=\"ghost\" hidden"),
    )
}

pub fn event_log_panel() -> String {
    let kinds: String = clusterlab_sim::log::LogKind::ALL.iter().map(|k| format!("<option value=\"{0}\">{0}</option>", k.name())).collect();
    format!(
        "<h2>What happened</h2><div class=\"log-filters\"><select aria-label=\"Only the node\" data-ctl=\"log-node\"></select>\
         <select aria-label=\"Only the kind\" data-ctl=\"log-kind\"><option value=\"\">every kind</option>{kinds}</select></div>\
         <ol class=\"log\" data-testid=\"event-log\" reversed></ol><p class=\"stat-note\"></p>\
         <div class=\"sr-only\" aria-live=\"polite\" data-testid=\"announce\"></div>"
    )
}

/// The scene's story beside the stage: what it is, an analogy, when to use it, common
/// mistakes, and "try this" steps that set up each experiment in one click, with the
/// goals set to the reader (ticked as the run meets them).
pub fn narrative(n: &Narrative) -> String {
    let mut h = format!(
        "<h2>What it is</h2><p>{}</p><h3>Think of it as</h3><p>{}</p><h3>When to use it</h3><p>{}</p><h3>Common mistakes</h3><ul>",
        esc(n.what),
        esc(n.analogy),
        esc(n.when)
    );
    for m in n.mistakes {
        let _ = write!(h, "<li>{}</li>", esc(m));
    }
    h += "</ul><h3>Try this</h3><ol class=\"try-this\">";
    for (i, step) in n.try_this.iter().enumerate() {
        let _ = write!(h, "<li>{} ", esc(step.text));
        // A step sets up its preset (or the defaults) and its comparison, if it has either.
        if step.preset.is_some() || step.compare.is_some() {
            let _ = write!(h, "<button class=\"try\" data-act=\"try\" data-step=\"{i}\">Set it up</button>");
        }
        for goal in n.goals.iter().filter(|g| g.step == i) {
            let _ = write!(h, "<p class=\"goal\" data-testid=\"goal\">Goal: {} <span class=\"goal-state unknown\">waiting for the run's numbers</span></p>", esc(goal.text));
        }
        h += "</li>";
    }
    h + "</ol>"
}

/// Puts a changed scenario into the controls that show it.
pub fn show_scenario(ui: &Ui) {
    let s = &ui.scenario;
    let root = &ui.root;
    let set = |selector: &str, value: &str| {
        if let Ok(list) = root.query_selector_all(selector) {
            for i in 0..list.length() {
                if let Some(e) = list.get(i).and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(n).ok()) {
                    set_value(&e, value);
                }
            }
        }
    };
    set("[data-ctl=speed]", &Short(s.speed.log10()).to_string());
    ui.r.speed_out.set_text_content(Some(&format!("{}x", Fixed(s.speed, if s.speed < 10.0 { 2 } else { 0 }))));
    set("[data-ctl=seed]", &s.seed.to_string());
    for spec in &s.scene.info().knobs {
        set(&format!("[data-ctl=\"knob:{}\"]", spec.name), &s.knob_text(spec.name));
    }
    let (a, b) = match &s.compare {
        Some((k, v)) => (format!("A: {k} = {}", s.params.get(k).to_text()), format!("B: {k} = {v}")),
        None => (String::new(), String::new()),
    };
    ui.r.label_a.set_text_content(Some(&a));
    ui.r.label_b.set_text_content(Some(&b));
    let _ = ui.r.stop_compare.toggle_attribute_with_force("hidden", s.compare.is_none());
    if let Some(link) = &ui.r.open_full {
        // In an embed: a link that opens the very same run, knobs, seed, schedule and all.
        let mut full = s.clone();
        full.embed = false;
        let _ = link.set_attribute("href", &format!("./?{}", query(&full)));
    }
}

/// Redraws every region from the state; each is rewritten only if its markup changed.
pub fn render(ui: &Ui) {
    let r = &ui.r;
    r.notices.set(notices(&ui.notices));
    r.play.set_text_content(Some(if ui.playing { "Pause" } else { "Play" }));
    let _ = r.play.set_attribute("aria-pressed", if ui.playing { "true" } else { "false" });
    let _ = r.million_button.toggle_attribute_with_force("disabled", ui.progress.is_some() || ui.scenario.compare.is_some());
    let _ = r.clip.toggle_attribute_with_force("disabled", ui.recording);
    r.clip.set_text_content(Some(if ui.recording { "Recording…" } else { "Clip" }));
    crate::million::show_progress(ui);
    r.menu.set(node_menu(ui));
    r.compare.set(compare_table(ui));
    r.side.set(side_by_side(ui));
    r.stats.set(stats_lines(&ui.stats));
    r.strip.set(node_strip(&ui.stats));
    r.detail.set(node_detail(ui).unwrap_or_default());
    for (i, e) in r.knob_errors.iter().enumerate() {
        let error = ui.knob_errors.get(i).cloned().flatten();
        let _ = e.parent_element().map(|k| k.class_list().toggle_with_force("bad", error.is_some()));
        let html = error.map(|e| format!("<div class=\"knob-error\" role=\"alert\">{}</div>", esc(&e))).unwrap_or_default();
        if e.inner_html() != html {
            e.set_inner_html(&html);
        }
    }
    r.compare_error.set(ui.compare_error.as_ref().map(|e| format!("<div class=\"knob-error\" role=\"alert\">{}</div>", esc(e))).unwrap_or_default());
    r.invariants.set(invariants(&ui.stats));
    render_log(ui);
    for (span, goal, compared) in &r.goals {
        let b = if *compared { ui.stats_b.as_ref().map(|s| goal.check(&s.metrics)) } else { None };
        let (class, text) = match b.unwrap_or_else(|| goal.check(&ui.stats.metrics)) {
            GoalState::Met => ("met", "✓ met".to_string()),
            GoalState::Missed(m, got) => ("missed", format!("✗ not yet: {m} is {}", Short(got))),
            GoalState::Unknown => ("unknown", "waiting for the run's numbers".to_string()),
        };
        span.set_class_name(&format!("goal-state {class}"));
        if span.text_content().as_deref() != Some(&text) {
            span.set_text_content(Some(&text));
        }
    }
    r.shortcuts.set(if ui.shortcuts { crate::keys::dialog() } else { String::new() });
    r.marks.set(marks(ui));
    r.legend.set(legend());
    if ui.diagram_open {
        let t = crate::page::now_ms();
        r.diagram.set(diagram_svg(ui).unwrap_or_default());
        let _ = r.diagram.el.set_attribute("data-ms", &Fixed(crate::page::now_ms() - t, 1).to_string());
    }
    show_playhead(ui);
}

fn notices(list: &[String]) -> String {
    if list.is_empty() {
        return String::new();
    }
    let items: String = list.iter().map(|n| format!("<li>{}</li>", esc(n))).collect();
    format!("<div class=\"notices\" role=\"status\"><ul>{items}</ul>{}</div>", button("dismiss", "Dismiss", " class=\"ghost\""))
}

fn stats_lines(st: &Stats) -> String {
    let c = st.counts;
    let mut note = vec![];
    if st.sample_every > 1 {
        note.push(format!("animating 1 request in {} ({} dots); every request is simulated", st.sample_every, st.flights));
    }
    if st.behind {
        note.push("the engine is at full speed: virtual time runs slower than asked".to_string());
    }
    format!(
        "<div class=\"stat-line\" data-testid=\"counts\">t = {}s · sent {} · completed {} · rejected {} · failed {} · timed out {} · in flight {}</div>\
         <div class=\"stat-line\" data-testid=\"latency\">p50 {} ms · p95 {} ms · p99 {} ms · {} req/s</div><div class=\"stat-note\">{}</div>",
        Fixed(st.now_s, 1),
        c.sent,
        c.completed,
        c.rejected,
        c.failed,
        c.timed_out,
        c.in_flight,
        Fixed(st.p50_ms, 2),
        Fixed(st.p95_ms, 2),
        Fixed(st.p99_ms, 2),
        Fixed(st.throughput_rps, 0),
        note.join(" · ")
    )
}

/// The nodes as buttons: for keyboards, screen readers and fingers; focusing one shows its numbers.
fn node_strip(st: &Stats) -> String {
    st.nodes.iter().map(|n| format!("<button class=\"chip {}\" data-act=\"chip\" data-node=\"{}\">{}</button>", n.condition, n.id, esc(&n.name))).collect()
}

fn node_detail(ui: &Ui) -> Option<String> {
    let n = ui.stats.nodes.get(ui.hover?)?;
    let mut text = format!("{} ({}) — {}", n.name, n.role, n.condition);
    if n.slow != 1.0 {
        text += &format!(" x{}", Short(n.slow));
    }
    if n.workers > 0 {
        text += &format!(" · busy {}/{} · queued {} · completed {}", n.busy, n.workers, n.queue, n.completed);
    } else if n.busy > 0 {
        text += &format!(" · outstanding {}", n.busy);
    }
    if !n.state.is_empty() {
        text += &format!(" · {}", n.state);
    }
    Some(esc(&text))
}

/// Actions on one node; each joins the run's fault schedule at the current virtual time.
fn node_menu(ui: &Ui) -> String {
    let Some(node) = ui.menu.and_then(|id| ui.stats.nodes.get(id)) else { return String::new() };
    let pos = ui.layout.as_ref().and_then(|l| l.centres.get(node.id).copied()).unwrap_or((0.0, 0.0));
    let mut actions: Vec<&str> = if node.role == "client" { vec![] } else { vec!["Kill", "Revive", "Slow x4", "Hang"] };
    // The scene's own actions on a node of this role (remove this shard, ...).
    actions.extend(ui.scenario.scene.info().actions.iter().filter(|a| a.role == Some(node.role)).map(|a| a.name));
    let name = esc(&node.name);
    let mut h = format!("<div class=\"node-menu\" role=\"dialog\" aria-label=\"Actions on {name}\" style=\"left:{}px;top:{}px\"><strong>{name}</strong>", Fixed(pos.0, 1), Fixed(pos.1, 1));
    if actions.is_empty() {
        h += "<p>The clients are the workload; partition them off with a fault in the URL.</p>";
    }
    for a in actions {
        let _ = write!(h, "<button data-act=\"fault\" data-fault=\"{a}\" data-name=\"{name}\">{a}</button>");
    }
    h + &button("close-menu", "Close", " class=\"ghost\"") + "</div>"
}

/// The scene's own measures of the run; when comparing, A against B at the same instant
/// of the same traffic, with the common numbers first.
fn compare_table(ui: &Ui) -> String {
    let own = ui.scenario.scene.info().view.compare;
    let a = &ui.stats;
    let row = |name: &str, cells: &[&str]| -> String { format!("<tr><th scope=\"row\">{}</th>{}</tr>", esc(name), cells.iter().map(|c| format!("<td>{}</td>", esc(c))).collect::<String>()) };
    let Some(b) = &ui.stats_b else {
        if own.is_empty() {
            return String::new();
        }
        let rows: String = own.iter().zip(&a.measures).map(|(r, x)| row(r.label, &[x])).collect();
        return format!("<table class=\"compare measures\" data-testid=\"measures\"><caption>This run's measures</caption><tbody>{rows}</tbody></table>");
    };
    let s = &ui.scenario;
    let Some((k, v)) = &s.compare else { return String::new() };
    let (ka, kb) = (format!("A: {k} = {}", s.params.get(k).to_text()), format!("B: {k} = {v}"));
    let errors = |s: &Stats| (s.counts.rejected + s.counts.failed + s.counts.timed_out).to_string();
    let ms = |x: f64| format!("{} ms", Fixed(x, 2));
    let mut rows = String::new();
    rows += &row("virtual time", &[&format!("{} s", Fixed(a.now_s, 1)), &format!("{} s", Fixed(b.now_s, 1))]);
    rows += &row("sent", &[&a.counts.sent.to_string(), &b.counts.sent.to_string()]);
    rows += &row("completed", &[&a.counts.completed.to_string(), &b.counts.completed.to_string()]);
    rows += &row("errors (rejected + failed + timed out)", &[&errors(a), &errors(b)]);
    rows += &row("p50", &[&ms(a.p50_ms), &ms(b.p50_ms)]);
    rows += &row("p95", &[&ms(a.p95_ms), &ms(b.p95_ms)]);
    rows += &row("p99", &[&ms(a.p99_ms), &ms(b.p99_ms)]);
    for (r, (x, y)) in own.iter().zip(a.measures.iter().zip(&b.measures)) {
        rows += &row(r.label, &[x, y]);
    }
    format!("<table class=\"compare\" data-testid=\"compare\"><thead><tr><th></th><th>{}</th><th>{}</th></tr></thead><tbody>{rows}</tbody></table>", esc(&ka), esc(&kb))
}

/// The scene's tables of measures side by side (`SceneView::tables`): a column per item
/// of a list measure, a row per list measure, for the run on the stage.
fn side_by_side(ui: &Ui) -> String {
    let metrics = &ui.stats.metrics;
    let cells = |name: &str, open: &str, close: &str| match metrics.get(name) {
        Some(serde_json::Value::Array(items)) => items.iter().map(|x| format!("{open}{}{close}", esc(&crate::stats::show_measure(x)))).collect::<String>(),
        _ => String::new(),
    };
    let mut out = String::new();
    for t in ui.scenario.scene.info().view.tables {
        let _ = write!(
            out,
            "<div class=\"scroll-x\"><table class=\"compare side\" data-testid=\"side-by-side\"><caption>{}</caption><thead><tr><th></th>{}</tr></thead><tbody>",
            esc(t.caption),
            cells(t.columns, "<th scope=\"col\">", "</th>")
        );
        for row in t.rows {
            let _ = write!(out, "<tr><th scope=\"row\">{}</th>{}</tr>", esc(row.label), cells(row.metric, "<td>", "</td>"));
        }
        out += "</tbody></table></div>";
    }
    out
}

fn invariants(st: &Stats) -> String {
    let mut h = String::from("<h2>Invariants, checked live</h2><ul>");
    for (name, count) in &st.invariants {
        let ok = *count == 0;
        let _ = write!(
            h,
            "<li class=\"{}\"><span class=\"mark\">{}</span>{}{}</li>",
            if ok { "ok" } else { "violated" },
            if ok { "✓" } else { "✗" },
            esc(name),
            if ok { String::new() } else { format!(" — {count} violations") }
        );
    }
    h += "</ul>";
    if !st.violations.is_empty() {
        let url = esc(&web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default());
        h += "<div class=\"violation\" role=\"alert\">";
        for l in &st.violations {
            let _ = write!(h, "<p>{}</p>", esc(l));
        }
        let _ = write!(h, "<p>Reproduce with this link: <a href=\"{url}\">{url}</a></p></div>");
    }
    h
}

/// The event log: what happened, in words, newest first, filterable by node and by kind;
/// choosing an entry shows its node. Its newest line is what screen readers hear.
fn render_log(ui: &Ui) {
    let s = &ui.stats;
    let mut options = format!("<option value=\"\"{}>every node</option>", if ui.log_node.is_empty() { " selected" } else { "" });
    for n in &s.nodes {
        let _ = write!(options, "<option value=\"{0}\"{1}>{0}</option>", esc(&n.name), if n.name == ui.log_node { " selected" } else { "" });
    }
    ui.r.log_nodes.set(options);
    let name_of = |id: Option<usize>| id.and_then(|i| s.nodes.get(i)).map_or("", |n| n.name.as_str());
    let mut h = String::new();
    let shown = s.events.iter().rev().filter(|(_, n, k, _)| (ui.log_kind.is_empty() || *k == ui.log_kind) && (ui.log_node.is_empty() || name_of(*n) == ui.log_node));
    for (t, n, k, text) in shown.take(200) {
        // Entries about a node show it when chosen (click, or enter from the keyboard);
        // they are list items, not buttons, so that the page's controls keep names of their own.
        // Each moves the timeline to its instant.
        let node = n.map(|id| format!(" has-node\" data-log-node=\"{id}")).unwrap_or_default();
        let _ = write!(h, "<li class=\"log-entry log-{k}{node}\" tabindex=\"0\" data-act=\"log\" data-t=\"{t}\"><span class=\"log-t\">{}s</span> {}</li>", Fixed(*t as f64 / 1e6, 2), esc(text));
    }
    ui.r.log.set(h);
    ui.r.log_note.set(if s.events_dropped > 0 { format!("{} older entries let go", s.events_dropped) } else { String::new() });
    // Announced: the newest entry, once (at most four times a second, with the panels).
    ui.r.announce.set(s.events.last().map(|(t, _, _, text)| esc(&format!("At {} seconds: {text}", Fixed(*t as f64 / 1e6, 1)))).unwrap_or_default());
}

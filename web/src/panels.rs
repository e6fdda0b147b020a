//! The page's panels: notices, controls, the knob panel generated from the scene's knob
//! specs, the node menu (faults by direct manipulation), live invariants, the narrative.

use crate::million::MILLION;
use crate::page::{Shared, Stats};
use clusterlab_sim::fault::Fault;
use clusterlab_sim::knob::{KnobKind, KnobSpec};
use clusterlab_sim::scenario::{SPEED_MAX, SPEED_MIN};
use leptos::prelude::*;
use std::collections::BTreeMap;

pub(crate) fn shared() -> Shared {
    use_context::<Shared>().expect("panels live inside the page")
}

#[component]
pub fn Notices() -> impl IntoView {
    let sh = shared();
    view! {
        <Show when=move || !sh.notices.with(Vec::is_empty)>
            <div class="notices" role="status">
                <ul>{move || sh.notices.get().into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                <button class="ghost" on:click=move |_| sh.notices.set(Vec::new())>"Dismiss"</button>
            </div>
        </Show>
    }
}

/// Pauses, then advances both runs a quarter of a virtual second.
pub(crate) fn step(sh: Shared) {
    sh.playing.set(false);
    for runner in [sh.runner, sh.runner_b] {
        runner.update_value(|r| {
            if let Some(r) = r.as_mut() {
                r.advance(250_000, 200.0, &|| 0.0);
            }
        });
    }
}

#[component]
pub fn Controls() -> impl IntoView {
    let sh = shared();
    let (s1, s2, s3, s4, s5, s6, s7) = (sh, sh, sh, sh, sh, sh, sh);
    let presets = sh.scenario.with_untracked(|s| s.scene.info().presets.iter().map(|p| (p.name, p.title)).collect::<Vec<_>>());
    let speed_text = move || {
        let x = sh.scenario.with(|s| s.speed);
        if x < 10.0 { format!("{x:.2}x") } else { format!("{x:.0}x") }
    };
    view! {
        <div class="controls" role="toolbar" aria-label="Simulation controls">
            <button on:click=move |_| s1.playing.update(|p| *p = !*p) aria-pressed=move || s1.playing.get().to_string()>
                {move || if s2.playing.get() { "Pause" } else { "Play" }}
            </button>
            <button title="Advance a quarter of a virtual second" on:click=move |_| step(s3)>"Step"</button>
            <button title="Start the run again from time 0" on:click=move |_| s4.rebuild()>"Reset"</button>
            <label class="speed">
                "Speed "
                <input
                    type="range"
                    min={SPEED_MIN.log10()}
                    max={SPEED_MAX.log10()}
                    step="0.05"
                    prop:value=move || s5.scenario.with(|s| s.speed.log10())
                    on:input=move |ev| {
                        if let Ok(v) = event_target_value(&ev).parse::<f64>() {
                            let speed = (10f64.powf(v) * 100.0).round() / 100.0;
                            s5.scenario.update(|s| s.speed = speed.clamp(SPEED_MIN, SPEED_MAX));
                        }
                    }
                    aria-label="Speed of virtual time"
                />
                <output>{speed_text}</output>
            </label>
            <label>
                "Seed "
                <input
                    type="number"
                    min="0"
                    class="seed"
                    prop:value=move || s6.scenario.with(|s| s.seed.to_string())
                    on:change=move |ev| {
                        let text = event_target_value(&ev);
                        match text.trim().parse::<u64>() {
                            Ok(seed) => s6.scenario.update(|s| s.seed = seed),
                            Err(_) => {
                                let kept = s6.scenario.with_untracked(|s| s.seed);
                                s6.notices.update(|n| n.push(format!("seed: '{text}' is not a whole number from 0 to 2^64-1; kept {kept}")));
                            }
                        }
                    }
                />
            </label>
            <select
                aria-label="Presets"
                on:change=move |ev| {
                    let name = event_target_value(&ev);
                    if let Some(next) = s7.scenario.with_untracked(|s| s.with_preset(&name)) {
                        s7.scenario.set(next);
                    }
                }
            >
                <option value="">"Presets…"</option>
                {presets.into_iter().map(|(name, title)| view! { <option value=name>{title}</option> }).collect_view()}
            </select>
            <crate::export::Export/>
            <button
                title="Run a million transactions of this setup (knobs, seed, schedule) as fast as the tab can, then show that run"
                on:click=move |_| s6.start_million()
                disabled=move || s6.progress.with(Option::is_some) || s6.scenario.with(|s| s.compare.is_some())
            >"Run 1M"</button>
            <SceneActions/>
        </div>
        <MillionProgress/>
    }
}

/// "Run 1M" under way: how far, how long still, and that the stage shows a sample. Built
/// once per run, its text updated in place each frame.
#[component]
fn MillionProgress() -> impl IntoView {
    let sh = shared();
    let line = move || {
        sh.progress.get().map_or(String::new(), |p| {
            let left = p.eta_s().map_or(String::new(), |s| format!(" · about {s:.1} s left"));
            format!("{} of {} transactions{left} · the stage draws 1 request in {}", p.done, p.total, p.sample_every)
        })
    };
    view! {
        <Show when=move || sh.progress.with(Option::is_some)>
            <div class="million" role="status" aria-label="Run 1M">
                <progress max=MILLION value=move || sh.progress.get().map_or(0, |p| p.done)></progress>
                <span data-testid="million">{line}</span>
                <button on:click=move |_| sh.end_million()>"Cancel"</button>
            </div>
        </Show>
    }
}

/// A button for each of the scene's actions that take no argument (add a shard, flush the
/// cache); a click schedules it at the current virtual time, like a fault.
#[component]
fn SceneActions() -> impl IntoView {
    let sh = shared();
    let actions = sh.scenario.with_untracked(|s| s.scene.info().actions);
    actions
        .iter()
        .filter(|a| a.arg.is_none())
        .map(|a| {
            let run = move |_| {
                if let Err(e) = sh.schedule(Fault::Action(a.name.to_string(), None)) {
                    sh.notices.update(|n| n.push(e));
                }
            };
            view! { <button class="action" title=a.help on:click=run>{a.name}</button> }
        })
        .collect_view()
}

#[component]
pub fn StatsBar() -> impl IntoView {
    let sh = shared();
    let s = move || sh.stats.get();
    let line = move || {
        let st: Stats = s();
        let c = st.counts;
        format!(
            "t = {:.1}s · sent {} · completed {} · rejected {} · failed {} · timed out {} · in flight {}",
            st.now_s, c.sent, c.completed, c.rejected, c.failed, c.timed_out, c.in_flight
        )
    };
    let latency = move || {
        let st = s();
        format!("p50 {:.2} ms · p95 {:.2} ms · p99 {:.2} ms · {:.0} req/s", st.p50_ms, st.p95_ms, st.p99_ms, st.throughput_rps)
    };
    let note = move || {
        let st = s();
        let mut parts = vec![];
        if st.sample_every > 1 {
            parts.push(format!("animating 1 request in {} ({} dots); every request is simulated", st.sample_every, st.flights));
        }
        if st.behind {
            parts.push("the engine is at full speed: virtual time runs slower than asked".to_string());
        }
        parts.join(" · ")
    };
    view! {
        <div class="stats" aria-live="off">
            <div class="stat-line" data-testid="counts">{line}</div>
            <div class="stat-line" data-testid="latency">{latency}</div>
            <div class="stat-note">{note}</div>
        </div>
        <NodeStrip/>
    }
}

/// The nodes as buttons: for keyboards, screen readers and fingers; focusing one shows its numbers.
#[component]
fn NodeStrip() -> impl IntoView {
    let sh = shared();
    let s2 = sh;
    let detail = move || {
        let id = sh.hover.get()?;
        let st = sh.stats.get();
        let n = st.nodes.get(id)?.clone();
        let mut text = format!("{} ({}) — {}", n.name, n.role, n.condition);
        if n.slow != 1.0 {
            text += &format!(" x{}", n.slow);
        }
        if n.workers > 0 {
            text += &format!(" · busy {}/{} · queued {} · completed {}", n.busy, n.workers, n.queue, n.completed);
        } else if n.busy > 0 {
            text += &format!(" · outstanding {}", n.busy);
        }
        if !n.state.is_empty() {
            text += &format!(" · {}", n.state);
        }
        Some(text)
    };
    view! {
        <div class="node-strip" role="group" aria-label="Nodes: choose one to kill, revive, slow or hang it">
            {move || {
                s2.stats
                    .get()
                    .nodes
                    .into_iter()
                    .map(|n| {
                        let id = n.id;
                        view! {
                            <button
                                class=format!("chip {}", n.condition)
                                on:click=move |_| s2.menu.set(Some(id))
                                on:focus=move |_| s2.hover.set(Some(id))
                                on:mouseenter=move |_| s2.hover.set(Some(id))
                            >
                                {n.name.clone()}
                            </button>
                        }
                    })
                    .collect_view()
            }}
        </div>
        <div class="node-detail" role="status">{detail}</div>
    }
}

/// Actions on one node; each joins the run's fault schedule at the current virtual time.
#[component]
pub fn NodeMenu() -> impl IntoView {
    let sh = shared();
    let act = move |fault: Fault| {
        if let Err(e) = sh.schedule(fault) {
            sh.notices.update(|n| n.push(e));
        }
        sh.menu.set(None);
    };
    // Keyboard users land in the menu when it opens.
    Effect::new(move |_| {
        if sh.menu.get().is_some() {
            request_animation_frame(|| {
                if let Some(b) = document().query_selector(".node-menu button").ok().flatten() {
                    let _ = wasm_bindgen::JsCast::unchecked_into::<web_sys::HtmlElement>(b).focus();
                }
            });
        }
    });
    view! {
        {move || {
            let id = sh.menu.get()?;
            let node = sh.stats.with(|s| s.nodes.get(id).cloned())?;
            let name = node.name.clone();
            let close = sh;
            let pos = sh.layout.with_value(|l| l.as_ref().and_then(|l| l.centres.get(id).copied())).unwrap_or((0.0, 0.0));
            let mut actions: Vec<(&str, Fault)> = if node.role == "client" {
                vec![]
            } else {
                vec![
                    ("Kill", Fault::Kill(name.clone())),
                    ("Revive", Fault::Revive(name.clone())),
                    ("Slow x4", Fault::Slow(name.clone(), 4.0)),
                    ("Hang", Fault::Hang(name.clone())),
                ]
            };
            // The scene's own actions on a node of this role (remove this shard, ...).
            let scene_actions = sh.scenario.with_untracked(|s| s.scene.info().actions);
            for a in scene_actions.iter().filter(|a| a.role == Some(node.role)) {
                actions.push((a.name, Fault::Action(a.name.to_string(), Some(name.clone()))));
            }
            Some(view! {
                <div
                    class="node-menu"
                    role="dialog"
                    aria-label=format!("Actions on {name}")
                    style=format!("left:{}px;top:{}px", pos.0, pos.1)
                    on:keydown=move |ev: web_sys::KeyboardEvent| {
                        if ev.key() == "Escape" {
                            close.menu.set(None);
                        }
                    }
                >
                    <strong>{name.clone()}</strong>
                    {if actions.is_empty() { Some(view! { <p>"The clients are the workload; partition them off with a fault in the URL."</p> }) } else { None }}
                    {actions
                        .into_iter()
                        .map(|(label, fault)| {
                            view! { <button on:click=move |_| act(fault.clone())>{label}</button> }
                        })
                        .collect_view()}
                    <button class="ghost" on:click=move |_| close.menu.set(None)>"Close"</button>
                </div>
            })
        }}
    }
}

#[component]
pub fn KnobPanel() -> impl IntoView {
    let sh = shared();
    let errors = RwSignal::new(BTreeMap::<&'static str, String>::new());
    let specs = sh.scenario.with_untracked(|s| s.params.specs());
    view! {
        <section class="panel knobs" aria-label="Knobs">
            <h2>"Knobs"</h2>
            <p class="help">"Knobs change the run as it plays, and the change joins its schedule; those marked ↺ start it again from 0 s."</p>
            {specs.iter().map(|spec| knob(spec, sh, errors)).collect_view()}
        </section>
    }
}

fn knob(spec: &'static KnobSpec, sh: Shared, errors: RwSignal<BTreeMap<&'static str, String>>) -> impl IntoView {
    let id = format!("knob-{}", spec.name);
    let s_value = sh;
    let value = move || s_value.scenario.with(|s| s.knob_text(spec.name));
    // A live knob moved while the run plays joins the schedule at the current instant;
    // any other change (or any change at time 0) starts the run again with it, and says so.
    let set = move |text: String| {
        let result = match spec.parse(&text) {
            Err(e) => Err(e.0),
            Ok(_) if spec.live && sh.now_us() > 0 => sh.schedule(Fault::Set(spec.name.to_string(), text.trim().to_string())).map(|_| ()),
            Ok(_) => {
                let mut next = sh.scenario.get_untracked();
                let restarted = sh.now_us() > 0;
                next.params.set(spec.name, &text).and_then(|()| next.scene.check(&next.params)).map_err(|e| e.0).map(|()| {
                    sh.scenario.set(next);
                    if restarted {
                        sh.notices.update(|n| n.push(format!("{} cannot change while a run plays: the run started again from 0 s with the new value", spec.name)));
                    }
                })
            }
        };
        errors.update(|m| match result {
            Ok(()) => {
                m.remove(spec.name);
            }
            Err(e) => {
                m.insert(spec.name, e);
            }
        });
    };
    let unit = if spec.unit.is_empty() { String::new() } else { format!(" ({})", spec.unit) };
    let set2 = set;
    let control = match &spec.kind {
        KnobKind::Choice(choices) => view! {
            <select id=id.clone() on:change=move |ev| set(event_target_value(&ev)) prop:value=value>
                {choices.iter().map(|c| view! { <option value=*c>{*c}</option> }).collect_view()}
            </select>
        }
        .into_any(),
        KnobKind::Bool => view! {
            <input type="checkbox" id=id.clone() prop:checked=move || value() == "on" on:change=move |ev| set(if event_target_checked(&ev) { "on".into() } else { "off".into() }) />
        }
        .into_any(),
        KnobKind::Int { min, max } if max - min <= 256 => view! {
            <span class="pair">
                <input type="range" min=*min max=*max step="1" prop:value=value on:change=move |ev| set(event_target_value(&ev)) aria-label=spec.name />
                <input type="number" id=id.clone() min=*min max=*max prop:value=value on:change=move |ev| set2(event_target_value(&ev)) />
            </span>
        }
        .into_any(),
        KnobKind::Float { min, max } if *min >= 0.0 && *max <= 1.0 => view! {
            <span class="pair">
                <input type="range" min=*min max=*max step="0.01" prop:value=value on:change=move |ev| set(event_target_value(&ev)) aria-label=spec.name />
                <input type="number" id=id.clone() min=*min max=*max step="0.01" prop:value=value on:change=move |ev| set2(event_target_value(&ev)) />
            </span>
        }
        .into_any(),
        KnobKind::Int { .. } | KnobKind::Float { .. } => view! {
            <input type="number" id=id.clone() step="any" prop:value=value on:change=move |ev| set(event_target_value(&ev)) />
        }
        .into_any(),
        _ => view! { <input type="text" id=id.clone() spellcheck="false" prop:value=value on:change=move |ev| set(event_target_value(&ev)) /> }.into_any(),
    };
    let error = move || errors.with(|e| e.get(spec.name).cloned());
    view! {
        <div class="knob" class:bad=move || error().is_some()>
            <label for=id.clone() title=spec.help>{spec.name}{unit}{(!spec.live).then_some(" ↺")}</label>
            {control}
            <div class="help">{spec.help}" Allowed: "{spec.allowed()}"."</div>
            {move || error().map(|e| view! { <div class="knob-error" role="alert">{e}</div> })}
        </div>
    }
}

/// The scene's own measures of the run; when comparing, A against B at the same instant
/// of the same traffic, with the common numbers first.
#[component]
pub fn CompareTable() -> impl IntoView {
    let sh = shared();
    move || {
        let own = sh.scenario.with(|s| s.scene.info().view.compare);
        let Some(b) = sh.stats_b.get() else {
            let a = sh.stats.get();
            return (!own.is_empty()).then(|| {
                view! {
                    <table class="compare measures" data-testid="measures">
                        <caption>"This run's measures"</caption>
                        <tbody>
                            {own.iter().zip(a.measures).map(|(row, x)| view! { <tr><th scope="row">{row.label}</th><td>{x}</td></tr> }).collect_view()}
                        </tbody>
                    </table>
                }
                .into_any()
            });
        };
        let a = sh.stats.get();
        let (ka, kb) = sh.scenario.with(|s| {
            let (k, v) = s.compare.clone()?;
            Some((format!("A: {k} = {}", s.params.get(k).to_text()), format!("B: {k} = {v}")))
        })?;
        let errors = |s: &Stats| s.counts.rejected + s.counts.failed + s.counts.timed_out;
        let rows: Vec<(&str, String, String)> = vec![
            ("virtual time", format!("{:.1} s", a.now_s), format!("{:.1} s", b.now_s)),
            ("sent", a.counts.sent.to_string(), b.counts.sent.to_string()),
            ("completed", a.counts.completed.to_string(), b.counts.completed.to_string()),
            ("errors (rejected + failed + timed out)", errors(&a).to_string(), errors(&b).to_string()),
            ("p50", format!("{:.2} ms", a.p50_ms), format!("{:.2} ms", b.p50_ms)),
            ("p95", format!("{:.2} ms", a.p95_ms), format!("{:.2} ms", b.p95_ms)),
            ("p99", format!("{:.2} ms", a.p99_ms), format!("{:.2} ms", b.p99_ms)),
        ];
        let rows = rows.into_iter().chain(own.iter().zip(a.measures.iter().zip(&b.measures)).map(|(row, (x, y))| (row.label, x.clone(), y.clone())));
        Some(view! {
            <table class="compare" data-testid="compare">
                <thead><tr><th></th><th>{ka}</th><th>{kb}</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|(name, x, y)| view! { <tr><th scope="row">{name}</th><td>{x}</td><td>{y}</td></tr> }).collect_view()}
                </tbody>
            </table>
        }
        .into_any())
    }
}

/// The scene's tables of measures side by side (`SceneView::tables`): a column per item
/// of a list measure, a row per list measure, for the run on the stage. Read-only, so
/// written as markup: a view per cell would cost some 9 KB of wasm for nothing it needs.
#[component]
pub fn SideBySide() -> impl IntoView {
    let sh = shared();
    let html = move || {
        let tables = sh.scenario.with(|s| s.scene.info().view.tables);
        let stats = sh.stats.get();
        let cells = |name: &str, open: &str, close: &str| match stats.metrics.get(name) {
            Some(serde_json::Value::Array(items)) => items.iter().map(|x| format!("{open}{}{close}", escape(&crate::page::show_measure(x)))).collect::<String>(),
            _ => String::new(),
        };
        let mut out = String::new();
        for t in tables {
            out += &format!("<table class=\"compare side\" data-testid=\"side-by-side\"><caption>{}</caption><thead><tr><th></th>{}</tr></thead><tbody>", escape(t.caption), cells(t.columns, "<th scope=col>", "</th>"));
            for row in t.rows {
                out += &format!("<tr><th scope=row>{}</th>{}</tr>", escape(row.label), cells(row.metric, "<td>", "</td>"));
            }
            out += "</tbody></table>";
        }
        out
    };
    view! { <div inner_html=html></div> }
}

/// Text made safe to put in markup.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Sets up the compare view: the same seed and traffic, with one knob set otherwise.
#[component]
pub fn ComparePanel() -> impl IntoView {
    let sh = shared();
    let specs = sh.scenario.with_untracked(|s| s.params.specs());
    let knob = RwSignal::new(specs.iter().find(|k| k.name == "policy" || k.name == "breaker").unwrap_or(&specs[0]).name.to_string());
    let value = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let compare = move |_| {
        let text = format!("{}:{}", knob.get_untracked(), value.get_untracked().trim());
        let mut next = sh.scenario.get_untracked();
        match next.set_compare(&text) {
            Ok(()) => {
                error.set(None);
                sh.scenario.set(next);
            }
            Err(e) => error.set(Some(e.0)),
        }
    };
    view! {
        <section class="panel compare-panel" aria-label="Compare">
            <h2>"Compare"</h2>
            <p class="help">"Run the same seeded traffic again with one knob changed, side by side."</p>
            <div class="pair">
                <select aria-label="Knob to change" on:change=move |ev| knob.set(event_target_value(&ev)) prop:value=move || knob.get()>
                    {specs.iter().map(|k| view! { <option value=k.name>{k.name}</option> }).collect_view()}
                </select>
                <input type="text" aria-label="Value for the compared run" placeholder="value" prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
            </div>
            <div class="pair">
                <button on:click=compare>"Compare"</button>
                <Show when=move || sh.scenario.with(|s| s.compare.is_some())>
                    <button class="ghost" on:click=move |_| sh.scenario.update(|s| s.compare = None)>"Stop comparing"</button>
                </Show>
            </div>
            {move || error.get().map(|e| view! { <div class="knob-error" role="alert">{e}</div> })}
        </section>
    }
}

#[component]
pub fn Invariants() -> impl IntoView {
    let sh = shared();
    let s2 = sh;
    view! {
        <section class="panel invariants" aria-label="Invariants">
            <h2>"Invariants, checked live"</h2>
            <ul>
                {move || {
                    sh.stats
                        .get()
                        .invariants
                        .into_iter()
                        .map(|(name, count)| {
                            let ok = count == 0;
                            view! {
                                <li class:ok=ok class:violated=!ok>
                                    <span class="mark">{if ok { "✓" } else { "✗" }}</span>
                                    {name}
                                    {(!ok).then(|| format!(" — {count} violations"))}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            {move || {
                let v = s2.stats.get().violations;
                (!v.is_empty()).then(|| {
                    let url = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
                    view! {
                        <div class="violation" role="alert">
                            {v.into_iter().map(|l| view! { <p>{l}</p> }).collect_view()}
                            <p>"Reproduce with this link: "<a href=url.clone()>{url.clone()}</a></p>
                        </div>
                    }
                })
            }}
        </section>
    }
}

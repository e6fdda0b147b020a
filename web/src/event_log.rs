//! The event log beside the stage ("What happened"), read from the run's stats.

use crate::panels::shared;
use leptos::prelude::*;

/// The event log: what happened, in words, newest first, filterable by node and by kind;
/// choosing an entry shows its node. Its newest lines are what screen readers hear.
#[component]
pub fn EventLogPanel() -> impl IntoView {
    let sh = shared();
    let node = RwSignal::new(String::new());
    let kind = RwSignal::new(String::new());
    let names = move || sh.stats.with(|s| s.nodes.iter().map(|n| n.name.clone()).collect::<Vec<_>>());
    let shown = move || {
        let (node, kind) = (node.get(), kind.get());
        sh.stats.with(|s| {
            let name_of = |id: Option<usize>| id.and_then(|i| s.nodes.get(i)).map_or("", |n| n.name.as_str());
            s.events
                .iter()
                .rev()
                .filter(|(_, n, k, _)| (kind.is_empty() || *k == kind) && (node.is_empty() || name_of(*n) == node))
                .take(200)
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    // Announced: the newest entry, once (at most four times a second, with the panels).
    let announce = move || sh.stats.with(|s| s.events.last().map(|(t, _, _, text)| format!("At {:.1} seconds: {text}", *t as f64 / 1e6)).unwrap_or_default());
    view! {
        <section class="panel event-log" aria-label="Event log">
            <h2>"What happened"</h2>
            <div class="log-filters">
                <select aria-label="Only the node" on:change=move |ev| node.set(event_target_value(&ev))>
                    <option value="">"every node"</option>
                    {move || names().into_iter().map(|n| view! { <option value=n.clone()>{n.clone()}</option> }).collect_view()}
                </select>
                <select aria-label="Only the kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                    <option value="">"every kind"</option>
                    {clusterlab_sim::log::LogKind::ALL.iter().map(|k| view! { <option value=k.name()>{k.name()}</option> }).collect_view()}
                </select>
            </div>
            <ol class="log" data-testid="event-log" reversed>
                {move || {
                    shown()
                        .into_iter()
                        .map(|(t, n, k, text)| {
                            // Entries about a node show it when chosen (click, or enter from
                            // the keyboard); they are list items, not buttons, so that the
                            // page's controls keep names of their own.
                            let show = move || sh.hover.set(n);
                            view! {
                                <li
                                    class=format!("log-entry log-{k}")
                                    class:has-node=n.is_some()
                                    tabindex=if n.is_some() { "0" } else { "-1" }
                                    on:click=move |_| show()
                                    on:keydown=move |ev: web_sys::KeyboardEvent| if ev.key() == "Enter" { show() }
                                >
                                    <span class="log-t">{format!("{:.2}s", t as f64 / 1e6)}</span>" "{text}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ol>
            <p class="stat-note">{move || sh.stats.with(|s| if s.events_dropped > 0 { format!("{} older entries let go", s.events_dropped) } else { String::new() })}</p>
            <div class="sr-only" aria-live="polite" data-testid="announce">{announce}</div>
        </section>
    }
}

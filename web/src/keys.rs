//! The keyboard: shortcuts for the controls (space, arrows, + and -), and their list on `?`.

use crate::panels::{shared, step};
use clusterlab_sim::scenario::{SPEED_MAX, SPEED_MIN};
use leptos::ev;
use leptos::prelude::*;

const SHORTCUTS: [(&str, &str); 5] = [
    ("space", "play or pause"),
    ("→", "step a quarter of a virtual second"),
    ("+ / -", "double or halve the speed"),
    ("tab, enter", "move through the nodes; open a node's fault menu"),
    ("?", "show or hide this list"),
];

/// Keys typed into a field belong to the field, and space or enter on a button to it.
fn for_the_page(ev: &web_sys::KeyboardEvent) -> bool {
    if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
        return false;
    }
    let tag = ev.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok()).map(|e| e.tag_name());
    match tag.as_deref() {
        Some("INPUT" | "TEXTAREA" | "SELECT") => false,
        Some("BUTTON") => !matches!(ev.key().as_str(), " " | "Enter"),
        _ => true,
    }
}

#[component]
pub fn Shortcuts() -> impl IntoView {
    let sh = shared();
    let open = RwSignal::new(false);
    let handle = window_event_listener(ev::keydown, move |ev: web_sys::KeyboardEvent| {
        let key = ev.key();
        if key == "Escape" {
            open.set(false);
            return;
        }
        if !for_the_page(&ev) {
            return;
        }
        let speed = |factor: f64| sh.scenario.update(|s| s.speed = (s.speed * factor).clamp(SPEED_MIN, SPEED_MAX));
        match key.as_str() {
            " " => sh.playing.update(|p| *p = !*p),
            "ArrowRight" => step(sh),
            "+" | "=" => speed(2.0),
            "-" => speed(0.5),
            "?" => open.update(|o| *o = !*o),
            _ => return,
        }
        ev.prevent_default();
    });
    on_cleanup(move || handle.remove());
    view! {
        <Show when=move || open.get()>
            <div class="shortcuts" role="dialog" aria-label="Keyboard shortcuts">
                <h2>"Keyboard"</h2>
                <dl>
                    {SHORTCUTS.iter().map(|(k, what)| view! { <dt><kbd>{*k}</kbd></dt><dd>{*what}</dd> }).collect_view()}
                </dl>
                <button on:click=move |_| open.set(false)>"Close"</button>
            </div>
        </Show>
    }
}

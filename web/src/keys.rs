//! The keyboard: shortcuts for the controls (space, arrows, + and -), and their list on `?`.

use crate::dom::{esc, listen};
use crate::page::with_ui;
use std::fmt::Write as _;
use wasm_bindgen::JsCast;

const SHORTCUTS: [(&str, &str); 6] = [
    ("space", "play or pause"),
    ("→", "step a quarter of a virtual second"),
    ("←", "step back a quarter of a virtual second (the run replayed to there)"),
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

/// The page's keys, for as long as it lives.
pub fn listen_for_shortcuts() {
    let Some(window) = web_sys::window() else { return };
    listen(&window, "keydown", |ev| {
        let Some(ev) = ev.dyn_ref::<web_sys::KeyboardEvent>() else { return };
        let key = ev.key();
        if key == "Escape" {
            with_ui(|ui| {
                ui.shortcuts = false;
                ui.render();
            });
            return;
        }
        if !for_the_page(ev) {
            return;
        }
        let handled = with_ui(|ui| {
            let speed = ui.scenario.speed;
            match key.as_str() {
                " " => ui.playing = !ui.playing,
                "ArrowRight" => ui.step(),
                "ArrowLeft" => ui.seek(ui.now_us().saturating_sub(250_000)),
                "+" | "=" => ui.set_speed(speed * 2.0),
                "-" => ui.set_speed(speed * 0.5),
                "?" => ui.shortcuts = !ui.shortcuts,
                _ => return false,
            }
            ui.render();
            true
        });
        if handled == Some(true) {
            ev.prevent_default();
        }
    });
}

/// The list of shortcuts, shown on `?`.
pub fn dialog() -> String {
    let mut h = String::from("<div class=\"shortcuts\" role=\"dialog\" aria-label=\"Keyboard shortcuts\"><h2>Keyboard</h2><dl>");
    for (k, what) in SHORTCUTS {
        let _ = write!(h, "<dt><kbd>{}</kbd></dt><dd>{}</dd>", esc(k), esc(what));
    }
    h + "</dl><button data-act=\"close-shortcuts\">Close</button></div>"
}

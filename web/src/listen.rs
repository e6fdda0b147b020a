//! The page's listeners: clicks, changes, input and keys on the whole page, dispatched by
//! the `data-act` and `data-ctl` attributes of the controls, and pointer moves on the
//! stage; each acts on the page's state (`page::Ui`) and redraws it.

use crate::dom::{closest_with, listen, value_of};
use crate::page::{Ui, with_ui};
use clusterlab_sim::fault::Fault;
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, KeyboardEvent, MouseEvent};

/// The page's listeners: clicks, changes and keys on the whole page, dispatched by the
/// `data-act` and `data-ctl` attributes of the controls; pointer moves on the stage.
pub(crate) fn wire(root: &Element, stage: &Element) {
    listen(root, "click", |ev: Event| {
        // A message of the space-time diagram carries its request, not an act.
        let Some((e, act)) = closest_with(&ev, "data-act").or_else(|| Some((closest_with(&ev, "data-req")?.0, "req".to_string()))) else { return };
        with_ui(|ui| {
            on_click(ui, &act, &e);
            ui.render();
        });
    });
    listen(root, "change", |ev: Event| {
        let Some((_, ctl)) = closest_with(&ev, "data-ctl") else { return };
        let value = value_of(&ev);
        with_ui(|ui| {
            on_change(ui, &ctl, value);
            ui.render();
        });
    });
    listen(root, "input", |ev: Event| {
        let Some((_, ctl)) = closest_with(&ev, "data-ctl") else { return };
        let Some(v) = clusterlab_sim::num::parse_f64(&value_of(&ev)) else { return };
        with_ui(|ui| {
            match ctl.as_str() {
                "speed" => ui.set_speed((libm::pow(10.0, v) * 100.0).round() / 100.0),
                "seek" => ui.seek((v * 1e6) as u64),
                _ => return,
            }
            ui.render();
        });
    });
    // Nodes of the strip and the log show their numbers on focus or hover.
    let show = |ev: Event| {
        if let Some((_, id)) = closest_with(&ev, "data-node") {
            with_ui(|ui| {
                ui.hover = id.parse().ok();
                ui.render();
            });
        }
    };
    listen(root, "focusin", show);
    listen(root, "mouseover", show);
    listen(root, "keydown", |ev: Event| {
        let Some(k) = ev.dyn_ref::<KeyboardEvent>() else { return };
        match k.key().as_str() {
            "Escape" => {
                with_ui(|ui| {
                    ui.menu = None;
                    ui.render();
                });
            }
            // Log entries are list items: enter does what a click does.
            "Enter" => {
                if let Some((e, act)) = closest_with(&ev, "data-act").filter(|(_, a)| a == "log") {
                    with_ui(|ui| {
                        on_click(ui, &act, &e);
                        ui.render();
                    });
                }
            }
            _ => {}
        }
    });
    let at = |ev: &Event, ui: &Ui| {
        let m = ev.dyn_ref::<MouseEvent>()?;
        ui.layout.as_ref()?.node_at(f64::from(m.offset_x()), f64::from(m.offset_y()))
    };
    listen(stage, "mousemove", move |ev: Event| {
        with_ui(|ui| ui.hover = at(&ev, ui));
    });
    listen(stage, "mouseleave", |_| {
        with_ui(|ui| ui.hover = None);
    });
    listen(stage, "click", move |ev: Event| {
        with_ui(|ui| {
            ui.menu = at(&ev, ui);
            ui.focus_menu = ui.menu.is_some();
            ui.render();
        });
    });
    crate::keys::listen_for_shortcuts();
}

fn on_click(ui: &mut Ui, act: &str, e: &Element) {
    let arg = |name: &str| e.get_attribute(name).unwrap_or_default();
    match act {
        "play" => ui.playing = !ui.playing,
        "step" => ui.step(),
        "reset" => ui.rebuild(),
        "dismiss" => ui.notices.clear(),
        "million" => ui.start_million(),
        "cancel-million" => ui.end_million(),
        "report" | "csv" | "png" | "clip" | "svg" => crate::export::export(ui, act),
        // A message of the space-time diagram: its request's path stands out (again: not).
        "req" => {
            let req = arg("data-req").parse().ok();
            ui.highlight = if ui.highlight == req { None } else { req };
        }
        "action" => ui.act(Fault::Action(arg("data-name"), None)),
        "chip" => {
            ui.menu = arg("data-node").parse().ok();
            ui.focus_menu = true;
        }
        "fault" => {
            let name = arg("data-name");
            let fault = match arg("data-fault").as_str() {
                "Kill" => Fault::Kill(name),
                "Revive" => Fault::Revive(name),
                "Slow x4" => Fault::Slow(name, 4.0),
                "Hang" => Fault::Hang(name),
                action => Fault::Action(action.to_string(), Some(name)),
            };
            ui.act(fault);
            ui.menu = None;
        }
        "close-menu" => ui.menu = None,
        "compare" => ui.compare(),
        "stop-compare" => {
            let mut next = ui.scenario.clone();
            next.compare = None;
            ui.set_scenario(next);
        }
        "try" => ui.try_step(arg("data-step").parse().unwrap_or(usize::MAX)),
        // An entry of the log: its node is shown, and the timeline goes to its instant.
        "log" | "seek" => {
            if let Ok(node) = arg("data-log-node").parse() {
                ui.hover = Some(node);
            }
            if let Ok(t) = arg("data-t").parse() {
                ui.seek(t);
            }
        }
        "close-shortcuts" => ui.shortcuts = false,
        _ => {}
    }
}

fn on_change(ui: &mut Ui, ctl: &str, value: String) {
    match ctl {
        "seed" => match value.trim().parse::<u64>() {
            Ok(seed) => {
                let mut next = ui.scenario.clone();
                next.seed = seed;
                ui.set_scenario(next);
            }
            Err(_) => {
                let kept = ui.scenario.seed;
                ui.notice(format!("seed: '{value}' is not a whole number from 0 to 2^64-1; kept {kept}"));
            }
        },
        "preset" => {
            if let Some(next) = ui.scenario.with_preset(&value) {
                ui.set_scenario(next);
            }
        }
        "log-node" => ui.log_node = value,
        "diagram-window" => {
            ui.diagram_window = value.parse().unwrap_or(100_000);
            // Paused, the run replays the new window to fill it; playing, it fills as it goes.
            if !ui.playing && ui.now_us() > 0 {
                ui.go_to(ui.now_us(), true);
            }
        }
        "log-kind" => ui.log_kind = value,
        knob => {
            if let Some(i) = knob.strip_prefix("knob:").and_then(|name| ui.scenario.scene.info().knobs.iter().position(|k| k.name == name)) {
                ui.set_knob(i, value);
            }
        }
    }
}

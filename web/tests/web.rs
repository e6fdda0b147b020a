//! Component tests in a real headless Chromium (wasm-bindgen-test).
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn container() -> web_sys::HtmlElement {
    let doc = web_sys::window().unwrap().document().unwrap();
    let div = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&div).unwrap();
    div.unchecked_into()
}

#[wasm_bindgen_test]
fn catalogue_lists_every_pattern_and_links_the_playable_ones() {
    let root = container();
    clusterlab_web::mount_catalogue(&root);
    let items = root.query_selector_all("li").unwrap();
    assert_eq!(items.length(), 21);
    let link = root.query_selector("a[href='?p=load-balancing']").unwrap().expect("load balancing is playable");
    assert_eq!(link.text_content().unwrap(), "Load balancing");
    // Every scene built in is linked, and only those.
    assert_eq!(root.query_selector_all("a[href^='?p=']").unwrap().length() as usize, clusterlab_sim::scene::SCENES.len());
    assert!(root.query_selector("a[href='?p=cap']").unwrap().is_some(), "cap is playable");
    assert!(root.query_selector("a[href='?p=rate-limiting']").unwrap().is_some(), "rate limiting is playable");
    assert!(root.query_selector("a[href='?p=architecture']").unwrap().is_none(), "the capstone is not built yet");
    root.remove();
}

/// The engine in Chromium gives the very trace the native engine gives.
#[wasm_bindgen_test]
fn trace_hash_in_wasm_equals_native() {
    let (hash, _) = clusterlab_sim::trace_hash(&clusterlab_sim::golden_spec()).unwrap();
    assert_eq!(format!("{hash:016x}"), clusterlab_sim::GOLDEN_TRACE_HASH.trim());
}

#[wasm_bindgen_test]
fn a_fatal_error_shows_a_visible_panel_with_the_message_and_the_url() {
    clusterlab_web::fatal::show("boom: engine invariant");
    let doc = web_sys::window().unwrap().document().unwrap();
    let panel: web_sys::HtmlElement = doc.get_element_by_id("fatal").expect("panel created").unchecked_into();
    assert!(!panel.hidden());
    let text = panel.text_content().unwrap();
    assert!(text.contains("boom: engine invariant"), "{text}");
    assert!(text.contains("Reproduce: http"), "{text}");
    panel.set_hidden(true);
}

#[wasm_bindgen_test]
fn the_knob_panel_is_generated_from_the_specs_and_refuses_bad_values() {
    use clusterlab_sim::scenario::Scenario;
    let scene = clusterlab_sim::scene::find("load-balancing").unwrap();
    let root = container();
    clusterlab_web::mount_page(&root, Scenario::new(scene), vec![]);
    assert_eq!(root.query_selector_all(".knob").unwrap().length() as usize, scene.info().knobs.len());
    let servers: web_sys::HtmlInputElement = root.query_selector("#knob-servers").unwrap().unwrap().unchecked_into();
    assert_eq!(servers.value(), "4");
    servers.set_value("99");
    // As a browser's change does, it bubbles up to the page's listener.
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    servers.dispatch_event(&web_sys::Event::new_with_event_init_dict("change", &init).unwrap()).unwrap();
    let error = root.query_selector(".knob-error").unwrap().expect("an error is shown");
    assert!(error.text_content().unwrap().contains("'servers'"));
    let policy: web_sys::HtmlSelectElement = root.query_selector("#knob-policy").unwrap().unwrap().unchecked_into();
    assert_eq!(policy.length() as usize, clusterlab_sim::components::balancer::Policy::NAMES.len());
    root.remove();
}

/// Every "try this" step of every scene names a preset that exists and a valid comparison.
#[wasm_bindgen_test]
fn every_narrative_step_sets_up_something_valid() {
    use clusterlab_sim::scenario::Scenario;
    for scene in clusterlab_sim::scene::SCENES {
        let n = scene.info().narrative;
        assert!(!n.mistakes.is_empty() && !n.try_this.is_empty());
        for step in n.try_this {
            let mut s = Scenario::new(*scene);
            if let Some(p) = step.preset {
                s = s.with_preset(p).unwrap_or_else(|| panic!("{}: no preset {p}", scene.info().id));
            }
            if let Some(c) = step.compare {
                s.set_compare(c).unwrap_or_else(|e| panic!("{}: {c}: {e}", scene.info().id));
                assert!(s.compared().is_some());
            }
        }
    }
}

/// A chart's value axis: round ticks above the highest value; with nothing above zero
/// (a count still at 0, a theory of 1e-127) 0 to 1, not ticks that all read 0.0.
#[wasm_bindgen_test]
fn a_chart_of_zeros_has_an_axis_from_0_to_1() {
    use clusterlab_web::charts::y_axis;
    assert_eq!(y_axis([0.0, 0.0, f64::NAN].into_iter()), (1.0, 0.5));
    assert_eq!(y_axis([0.0, 1e-127].into_iter()), (1.0, 0.5));
    assert_eq!(y_axis([0.0, 2500.0, f64::INFINITY].into_iter()), (3000.0, 1000.0));
    assert_eq!(y_axis([0.0, 4.0].into_iter()), (6.0, 2.0));
}

/// WCAG's contrast ratio of two `#rrggbb` colours.
fn contrast(a: &str, b: &str) -> f64 {
    let lum = |c: &str| {
        let ch = |i: usize| {
            let v = f64::from(u8::from_str_radix(&c[i..i + 2], 16).unwrap()) / 255.0;
            if v <= 0.03928 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * ch(1) + 0.7152 * ch(3) + 0.0722 * ch(5)
    };
    let (x, y) = (lum(a), lum(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// Every word the stage writes on a node's fill is at least 4.5:1, every dot, chart line
/// and shard colour at least 3:1 against the ground, in the dark and the light theme (WCAG
/// AA; the light theme's colours are the dark ones swapped by `theme::PAIRS`).
#[wasm_bindgen_test]
fn the_canvas_colours_meet_wcag_aa_in_both_themes() {
    use clusterlab_web::{stage, theme};
    let light = |c: &str| theme::PAIRS.iter().find(|(d, _)| *d == c).map(|(_, l)| *l).unwrap_or_else(|| panic!("{c} has no light counterpart"));
    let mut worst_text = f64::MAX;
    for fill in stage::FILLS {
        for word in stage::WORDS {
            for (ratio, theme) in [(contrast(word, fill), "dark"), (contrast(light(word), light(fill)), "light")] {
                assert!(ratio >= 4.5, "{word} on {fill} ({theme}): {ratio:.2}");
                worst_text = worst_text.min(ratio);
            }
        }
    }
    let dots = clusterlab_sim::diagram::Dot::ALL.map(|d| d.colour());
    for c in dots.iter().chain(&stage::OWNERS).chain(&[clusterlab_web::charts::PURPLE, clusterlab_web::charts::WHITE]) {
        for (ratio, theme) in [(contrast(c, stage::GROUND), "dark"), (contrast(light(c), light(stage::GROUND)), "light")] {
            assert!(ratio >= 3.0, "{c} on the ground ({theme}): {ratio:.2}");
        }
    }
    assert!(worst_text >= 4.5);
}

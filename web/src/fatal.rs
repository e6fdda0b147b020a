//! The last line of defence: a panic shows a visible panel with the message and the URL
//! that reproduces it, never a blank page.

use wasm_bindgen::JsCast;

/// Shows `message` in the page's `#fatal` panel (created if missing).
pub fn show(message: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let panel = match doc.get_element_by_id("fatal") {
        Some(p) => p,
        None => {
            let Ok(p) = doc.create_element("div") else { return };
            p.set_id("fatal");
            p.set_class_name("fatal");
            let _ = p.set_attribute("role", "alert");
            if let Some(body) = doc.body() {
                let _ = body.append_child(&p);
            }
            p
        }
    };
    let href = doc.location().and_then(|l| l.href().ok()).unwrap_or_default();
    panel.set_text_content(Some(&format!(
        "clusterlab stopped with an error. Please report it with this message and link.\n\n{message}\n\nReproduce: {href}"
    )));
    if let Some(el) = panel.dyn_ref::<web_sys::HtmlElement>() {
        el.set_hidden(false);
    }
}

/// Routes panics to the console and to the visible panel.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let text = info.to_string();
        web_sys::console::error_1(&text.clone().into());
        show(&text);
    }));
}

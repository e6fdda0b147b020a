//! The shell: header, the catalogue of scenes (read from clusterlab-sim), and the stage
//! area, which holds the chosen scene's page. `&embed` drops the chrome for an iframe.

use crate::dom::{append, document, el, el_html, esc, listen};
use clusterlab_sim::catalogue::{CATALOGUE, GROUPS, playable};
use clusterlab_sim::scenario::Scenario;
use std::fmt::Write as _;
use web_sys::Element;

/// The URL's parameters, decoded.
fn url_pairs() -> Vec<(String, String)> {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    let mut pairs = Vec::new();
    if let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) {
        let entries = web_sys::js_sys::try_iter(&params).ok().flatten();
        for entry in entries.into_iter().flatten().flatten() {
            let pair = web_sys::js_sys::Array::from(&entry);
            pairs.push((pair.get(0).as_string().unwrap_or_default(), pair.get(1).as_string().unwrap_or_default()));
        }
    }
    pairs
}

/// Builds the whole app in the document's body, from the URL.
pub fn mount_app() {
    let Some(body) = document().body() else { return };
    let pairs = url_pairs();
    let chosen = pairs.iter().any(|(k, _)| k == "p");
    let (scenario, notices) = Scenario::from_pairs(&pairs);
    let embed = scenario.embed;
    if !embed {
        let header = el_html(
            "header",
            &[("class", "top")],
            "<a class=\"brand\" href=\"./\">clusterlab</a><span class=\"tagline\">system-design patterns on a virtual cluster, in your browser</span>",
        );
        if chosen {
            embed_snippet(&header);
        }
        theme_toggle(&header);
        append(&body, &header);
    }
    let layout = el("div", &[("class", if embed { "layout embedded" } else { "layout" })]);
    append(&body, &layout);
    if !embed {
        mount_catalogue(&layout);
    }
    let main = el("main", &[("class", "stage-area"), ("aria-label", "Stage")]);
    append(&layout, &main);
    if chosen {
        crate::page::mount_page(&main, scenario, notices);
    } else {
        main.set_inner_html(
            "<div class=\"landing\"><p class=\"empty\">Pick a pattern to put it on the stage.</p><p>Each pattern runs on a virtual cluster simulated in this tab: \
             requests fly between nodes, queues fill, circuits open. Turn the knobs, click a node to kill or slow it, and watch latency, throughput and errors move. \
             The same seed always replays the same run, and the address bar always holds everything you set.</p></div>",
        );
    }
}

/// Whether a media query holds (`(prefers-color-scheme: light)`).
pub fn media(query: &str) -> bool {
    web_sys::window().and_then(|w| w.match_media(query).ok().flatten()).is_some_and(|m| m.matches())
}

/// The light or dark theme: the system's, unless the reader picked one here (kept on this
/// device). An embed always follows the system.
fn theme_toggle(header: &Element) {
    const KEY: &str = "clusterlab-theme";
    let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten());
    let Some(root) = document().document_element() else { return };
    if let Some(t) = storage.as_ref().and_then(|s| s.get_item(KEY).ok().flatten()).filter(|t| t == "light" || t == "dark") {
        let _ = root.set_attribute("data-theme", &t);
    }
    let light = move |root: &Element| root.get_attribute("data-theme").map_or_else(|| media("(prefers-color-scheme: light)"), |t| t == "light");
    let label = |light: bool| if light { "Dark theme" } else { "Light theme" };
    let button = el_html("button", &[("class", "ghost theme-toggle"), ("title", "Switch between the light and dark themes")], label(light(&root)));
    append(header, &button);
    let b = button.clone();
    listen(&button, "click", move |_| {
        let next = if light(&root) { "dark" } else { "light" };
        let _ = root.set_attribute("data-theme", next);
        if let Some(s) = &storage {
            let _ = s.set_item(KEY, next);
        }
        b.set_text_content(Some(label(next == "light")));
        crate::theme::detect();
    });
}

/// Offers the `<iframe>` that embeds the current view in a blog post.
fn embed_snippet(header: &Element) {
    let button = el_html("button", &[("class", "ghost embed-button"), ("aria-expanded", "false")], "Embed");
    append(header, &button);
    let b = button.clone();
    let h = header.clone();
    listen(&button, "click", move |_| {
        let open = b.get_attribute("aria-expanded").as_deref() != Some("true");
        let _ = b.set_attribute("aria-expanded", if open { "true" } else { "false" });
        match h.query_selector(".embed-box").ok().flatten() {
            Some(box_) if !open => box_.remove(),
            None if open => {
                let href = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
                let sep = if href.contains('?') { "&" } else { "?" };
                let snippet = format!(r#"<iframe src="{href}{sep}embed" width="100%" height="720" style="border:0" loading="lazy" title="clusterlab"></iframe>"#);
                let html = format!("<label for=\"embed-code\">Paste this into your post:</label><textarea id=\"embed-code\" readonly rows=\"3\">{}</textarea>", esc(&snippet));
                append(&h, &el_html("div", &[("class", "embed-box")], &html));
            }
            _ => {}
        }
    });
}

/// Every pattern of the catalogue, by group; the playable ones are links.
pub fn mount_catalogue(parent: &Element) {
    let mut h = String::new();
    for group in GROUPS {
        let _ = write!(h, "<section><h2>{}</h2><ul>", esc(group));
        for e in CATALOGUE.iter().filter(|e| e.group == group) {
            if playable(e.id) {
                let _ = write!(h, "<li><a href=\"?p={}\" title=\"{}\">{}</a></li>", e.id, esc(e.summary), esc(e.title));
            } else {
                let _ = write!(h, "<li class=\"planned\" title=\"{}\">{}<span class=\"soon\"> soon</span></li>", esc(e.summary), esc(e.title));
            }
        }
        h += "</ul></section>";
    }
    append(parent, &el_html("nav", &[("class", "catalogue"), ("aria-label", "Patterns")], &h));
}

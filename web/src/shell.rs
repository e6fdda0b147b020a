//! The shell: header, the catalogue of scenes (read from clusterlab-sim), and the stage
//! area, which holds the chosen scene's page. `&embed` drops the chrome for an iframe.

use crate::page::Page;
use clusterlab_sim::catalogue::{CATALOGUE, GROUPS, playable};
use clusterlab_sim::scenario::Scenario;
use leptos::prelude::*;

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

#[component]
pub fn App() -> impl IntoView {
    let pairs = url_pairs();
    let chosen = pairs.iter().any(|(k, _)| k == "p");
    let (scenario, notices) = Scenario::from_pairs(&pairs);
    let embed = scenario.embed;
    view! {
        <Show when=move || !embed>
            <header class="top">
                <a class="brand" href="./">"clusterlab"</a>
                <span class="tagline">"system-design patterns on a virtual cluster, in your browser"</span>
                {chosen.then(|| view! { <EmbedSnippet/> })}
            </header>
        </Show>
        <div class="layout" class:embedded=embed>
            <Show when=move || !embed>
                <Catalogue/>
            </Show>
            <main class="stage-area" aria-label="Stage">
                {if chosen {
                    view! { <Page initial=scenario.clone() notices=notices.clone()/> }.into_any()
                } else {
                    view! {
                        <div class="landing">
                            <p class="empty">"Pick a pattern to put it on the stage."</p>
                            <p>
                                "Each pattern runs on a virtual cluster simulated in this tab: requests fly between nodes, queues fill, circuits open. "
                                "Turn the knobs, click a node to kill or slow it, and watch latency, throughput and errors move. "
                                "The same seed always replays the same run, and the address bar always holds everything you set."
                            </p>
                        </div>
                    }
                    .into_any()
                }}
            </main>
        </div>
    }
}

/// Offers the `<iframe>` that embeds the current view in a blog post.
#[component]
fn EmbedSnippet() -> impl IntoView {
    let open = RwSignal::new(false);
    let snippet = move || {
        let href = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
        let sep = if href.contains('?') { "&" } else { "?" };
        format!(r#"<iframe src="{href}{sep}embed" width="100%" height="720" style="border:0" loading="lazy" title="clusterlab"></iframe>"#)
    };
    view! {
        <button class="ghost embed-button" on:click=move |_| open.update(|o| *o = !*o) aria-expanded=move || open.get().to_string()>"Embed"</button>
        <Show when=move || open.get()>
            <div class="embed-box">
                <label for="embed-code">"Paste this into your post:"</label>
                <textarea id="embed-code" readonly rows="3">{snippet}</textarea>
            </div>
        </Show>
    }
}

/// Every pattern of the catalogue, by group; the playable ones are links.
#[component]
pub fn Catalogue() -> impl IntoView {
    view! {
        <nav class="catalogue" aria-label="Patterns">
            {GROUPS
                .iter()
                .map(|group| {
                    let items = CATALOGUE
                        .iter()
                        .filter(|e| e.group == *group)
                        .map(|e| {
                            let title = e.title;
                            if playable(e.id) {
                                view! { <li><a href=format!("?p={}", e.id) title=e.summary>{title}</a></li> }.into_any()
                            } else {
                                view! { <li class="planned" title=e.summary>{title}<span class="soon">" soon"</span></li> }.into_any()
                            }
                        })
                        .collect_view();
                    view! {
                        <section>
                            <h2>{*group}</h2>
                            <ul>{items}</ul>
                        </section>
                    }
                })
                .collect_view()}
        </nav>
    }
}

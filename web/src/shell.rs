//! The shell: header, the catalogue of scenes (read from clusterlab-sim), the stage.

use clusterlab_sim::catalogue::{CATALOGUE, GROUPS, playable};
use leptos::prelude::*;

#[component]
pub fn App() -> impl IntoView {
    view! {
        <header class="top">
            <a class="brand" href="./">"clusterlab"</a>
            <span class="tagline">"system-design patterns on a virtual cluster, in your browser"</span>
        </header>
        <div class="layout">
            <Catalogue/>
            <main class="stage-area" aria-label="Stage">
                <p class="empty">"Pick a pattern to put it on the stage."</p>
            </main>
        </div>
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
